import XbarCore

/// A projection's learning rule (docs/graph.md, "Plasticity"), in graph units: pair-based STDP with exponential
/// traces (optionally modulated, three-factor or gated by a modulator), or homeostasis toward target rates. The
/// compiler lowers it to the IR's `trace`, `stdp`, `homeostasis` ops (docs/compiler.md, section 9), and the chip
/// programs the projection's cells with it while the network runs.
public struct PlasticityRule: Equatable, Sendable {
    /// The rule's family.
    public enum Kind: String, CaseIterable, Sendable { case stdp, homeostasis }
    /// How a weight update scales with the weight (IR `bound`).
    public enum Bound: String, CaseIterable, Sendable { case additive, soft }
    /// Whether a pairing sees its own step's spikes (IR `same_step`).
    public enum SameStep: String, CaseIterable, Sendable { case include, exclude }
    /// What the modulator changes: the potentiation or the depression amplitude, or the update (three-factor: the
    /// eligibility of STDP pairings, or `delta`: a presynaptic eligibility, a_plus x pre trace every step, the delta rule).
    public enum Modulates: String, CaseIterable, Sendable {
        case aPlus = "a_plus", aMinus = "a_minus", update, delta

        /// The update's pulses are eligibility x modulator, and the eligibility is a trace, not consumed.
        public var isThreeFactor: Bool { self == .update || self == .delta }
    }

    public var kind: Kind = .stdp
    /// Trace time constants in timesteps (decay per step exp(-1 / tau)); homeostasis: `tauPost` is the rate trace's.
    public var tauPre: Double = 1
    public var tauPost: Double = 1
    /// Weight change per pairing with a unit trace (graph weight units, signed: a negative a_plus depresses on a post
    /// spike, as NALSM's rule for inhibitory synapses): + a_plus x pre trace on a post spike, - a_minus x post trace on
    /// a pre spike. Modulated: the amplitude is a x the modulator's value.
    public var aPlus: Double = 0
    public var aMinus: Double = 0
    public var bound: Bound = .additive
    /// How the cells are written: `verify` (the pair read before each pulse) or `open_loop` (no reads; one-signed clip).
    public var write: String = "verify"
    public var sameStep: SameStep = .include
    /// The weights' allowed range (graph units); it contains 0.
    public var clip: (low: Double, high: Double) = (0, 0)
    /// Cells are programmed every `every` steps (0: at the end of each sample).
    public var every: Int = 1
    /// Pulses per synapse and update, at most.
    public var maxPulses: Int = 15
    /// A modulator (graph `modulators`) and what it changes; a gate modulator (pairing only while it is > 0).
    public var modulator: String? = nil
    public var modulates: Modulates = .aMinus
    public var gate: String? = nil
    /// Eligibility time constant in steps (three-factor rules; nil: no decay).
    public var eligibilityTau: Double? = nil
    /// Homeostasis: target rate (spikes per step) per neuron, or one for all; eta = weight change per step per unit of
    /// rate-trace error.
    public var targetRates: [Double] = []
    public var eta: Double = 0

    public init(kind: Kind = .stdp) { self.kind = kind }

    public init(tauPre: Double, tauPost: Double, aPlus: Double, aMinus: Double, clip: (Double, Double)) {
        self.tauPre = tauPre
        self.tauPost = tauPost
        self.aPlus = aPlus
        self.aMinus = aMinus
        self.clip = clip
    }

    public static func == (a: PlasticityRule, b: PlasticityRule) -> Bool { a.json == b.json }

    static let stdpKeys: Set<String> = ["rule", "tau_pre", "tau_post", "a_plus", "a_minus", "bound", "same_step", "clip", "every",
                                        "max_pulses", "modulator", "modulates", "gate", "eligibility_tau", "write"]
    static let homeostasisKeys: Set<String> = ["rule", "tau_rate", "target_rate", "eta", "bound", "clip", "every", "max_pulses", "write"]

    /// Reads a projection's `plasticity` object; every error names its field (`projections[i].plasticity.KEY`).
    public static func read(_ r: JSONReader) throws -> PlasticityRule {
        var rule = PlasticityRule(kind: try r.field("rule").enumValue(Kind.self))
        try r.onlyKeys(rule.kind == .stdp ? stdpKeys : homeostasisKeys)
        func tau(_ k: String) throws -> Double {
            let f = try r.field(k)
            let v = try f.double()
            guard v > 0, v <= 1e6 else { throw f.fail("time constant must be > 0 steps (at most 1e6), found \(v)") }
            return v
        }
        func amplitude(_ k: String) throws -> Double { try r.field(k).double(min: -1e6, max: 1e6) }
        let cf = try r.field("clip")
        let c = try cf.doubles(maxCount: 2)
        guard c.count == 2 else { throw cf.fail("expected [low, high]") }
        guard c[0] <= 0, c[1] >= 0, c[0] < c[1] else { throw cf.fail("clip range [\(c[0]), \(c[1])] must contain 0 and be non-empty") }
        rule.clip = (c[0], c[1])
        rule.bound = try r.optionalField("bound")?.enumValue(Bound.self) ?? .additive
        rule.every = try r.optionalField("every")?.int(min: 0, max: 1 << 20) ?? 1
        rule.maxPulses = try r.optionalField("max_pulses")?.int(min: 1, max: 65535) ?? 15
        if let wf = try r.optionalField("write") {
            rule.write = try wf.string()
            guard ["verify", "open_loop"].contains(rule.write) else { throw wf.fail("expected \"verify\" or \"open_loop\", found \"\(rule.write)\"") }
            guard rule.write == "verify" || ((c[0] == 0 || c[1] == 0) && rule.bound == .additive) else {
                throw wf.fail("open_loop writes one cell per synapse without reading it: it needs a one-signed clip ([0, high] or [low, 0]) and additive bounds")
            }
        }
        switch rule.kind {
        case .stdp:
            rule.tauPre = try tau("tau_pre")
            rule.tauPost = try tau("tau_post")
            rule.aPlus = try amplitude("a_plus")
            rule.aMinus = try amplitude("a_minus")
            rule.sameStep = try r.optionalField("same_step")?.enumValue(SameStep.self) ?? .include
            rule.modulator = try r.optionalField("modulator")?.string()
            rule.modulates = try r.optionalField("modulates")?.enumValue(Modulates.self) ?? .aMinus
            rule.gate = try r.optionalField("gate")?.string()
            rule.eligibilityTau = try r.optionalField("eligibility_tau").map { _ in try tau("eligibility_tau") }
            if rule.modulates == .delta {
                guard rule.modulator != nil else { throw try r.field("modulates").fail("\"delta\" needs a modulator (the error signal)") }
                guard rule.aMinus == 0, rule.sameStep == .include else {
                    throw try r.field("a_minus").fail("the delta rule pairs nothing: a_minus must be 0 (and same_step include)")
                }
            }
        case .homeostasis:
            rule.tauPost = try tau("tau_rate")
            let tf = try r.field("target_rate")
            rule.targetRates = tf.isArray ? try tf.doubles() : [try tf.double()]
            guard rule.targetRates.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { throw tf.fail("target rates are spikes per step, in 0...1") }
            rule.eta = try r.field("eta").double(min: 0, max: 1e6)
        }
        return rule
    }

    /// The rule as graph JSON (`GraphWriter`).
    public var json: String {
        var s = "{\"rule\": \"\(kind.rawValue)\", "
        switch kind {
        case .stdp:
            s += "\"tau_pre\": \(tauPre), \"tau_post\": \(tauPost), \"a_plus\": \(aPlus), \"a_minus\": \(aMinus), "
            s += "\"same_step\": \"\(sameStep.rawValue)\", "
            if let m = modulator { s += "\"modulator\": \"\(m)\", \"modulates\": \"\(modulates.rawValue)\", " }
            if let g = gate { s += "\"gate\": \"\(g)\", " }
            if let e = eligibilityTau { s += "\"eligibility_tau\": \(e), " }
        case .homeostasis:
            s += "\"tau_rate\": \(tauPost), \"target_rate\": [\(targetRates.map { "\($0)" }.joined(separator: ", "))], \"eta\": \(eta), "
        }
        if write != "verify" { s += "\"write\": \"\(write)\", " }
        return s + "\"bound\": \"\(bound.rawValue)\", \"clip\": [\(clip.low), \(clip.high)], \"every\": \(every), \"max_pulses\": \(maxPulses)}"
    }
}

/// A global neuromodulatory signal computed on the chip (docs/graph.md, "Modulators"): a leaky integrator of weighted
/// spike counts, A(t) = A(t-1) + (sum_k weight_k x spikes_k(t - delay_k) + bias - A(t-1)) / tau, A = init before the
/// first step of every sample. NALSM's astrocyte: liquid spikes weighted +w, input spikes -w, bias b, tau 100.
public struct Modulator: Equatable, Sendable {
    /// One weighted source.
    public struct Source: Equatable, Sendable {
        public var from: String
        public var weight: Double
        public var delay: Int
        public init(from: String, weight: Double, delay: Int = 0) {
            self.from = from
            self.weight = weight
            self.delay = delay
        }
    }
    public var name: String
    public var tau: Double
    public var sources: [Source]
    public var bias: Double
    public var initial: Double

    public init(name: String, tau: Double, sources: [Source], bias: Double = 0, initial: Double = 0) {
        self.name = name
        self.tau = tau
        self.sources = sources
        self.bias = bias
        self.initial = initial
    }

    /// Reads one entry of the graph's `modulators`; errors name the field.
    public static func read(_ r: JSONReader) throws -> Modulator {
        try r.onlyKeys(["name", "tau", "sources", "bias", "init"])
        let tf = try r.field("tau")
        let tau = try tf.double()
        guard tau >= 1, tau <= 1e6 else { throw tf.fail("time constant must be >= 1 step (1: no memory), found \(tau)") }
        let sf = try r.field("sources")
        let list = try sf.array()
        guard !list.isEmpty else { throw sf.fail("a modulator needs at least one source (a population whose spikes it integrates)") }
        let sources = try list.map { s in
            try s.onlyKeys(["from", "weight", "delay"])
            return Source(from: try s.field("from").string(), weight: try s.field("weight").double(min: -1e6, max: 1e6),
                          delay: try s.optionalField("delay")?.int(min: 0, max: maxProjectionDelay) ?? 0)
        }
        return Modulator(name: try r.field("name").string(), tau: tau, sources: sources,
                         bias: try r.optionalField("bias")?.double(min: -1e6, max: 1e6) ?? 0,
                         initial: try r.optionalField("init")?.double(min: -1e6, max: 1e6) ?? 0)
    }

    /// The modulator as graph JSON.
    public var json: String {
        "{\"name\": \"\(name)\", \"tau\": \(tau), \"sources\": ["
            + sources.map { "{\"from\": \"\($0.from)\", \"weight\": \($0.weight), \"delay\": \($0.delay)}" }.joined(separator: ", ")
            + "], \"bias\": \(bias), \"init\": \(initial)}"
    }
}
