import XbarCore

/// A projection's learning rule (docs/graph.md, "Plasticity"): pair-based STDP with exponential traces, in graph units.
/// The compiler lowers it to the IR's `trace` and `stdp` ops (docs/compiler.md, section 9), and the chip programs the
/// projection's cells with it while the network runs.
public struct PlasticityRule: Equatable, Sendable {
    /// The rule's family; `stdp` is the one so far.
    public enum Kind: String, CaseIterable, Sendable { case stdp }
    /// How a weight update scales with the weight (IR `bound`).
    public enum Bound: String, CaseIterable, Sendable { case additive, soft }
    /// Whether a pairing sees its own step's spikes (IR `same_step`).
    public enum SameStep: String, CaseIterable, Sendable { case include, exclude }

    public var kind: Kind = .stdp
    /// Trace time constants in timesteps (decay per step exp(-1 / tau)).
    public var tauPre: Double
    public var tauPost: Double
    /// Weight change per pairing with a unit trace (graph weight units): potentiation on a post spike (x a_plus x
    /// pre trace), depression on a pre spike (x a_minus x post trace).
    public var aPlus: Double
    public var aMinus: Double
    public var bound: Bound = .additive
    public var sameStep: SameStep = .include
    /// The weights' allowed range (graph units); it contains 0.
    public var clip: (low: Double, high: Double)
    /// Cells are programmed every `every` steps (0: at the end of each sample).
    public var every: Int = 1
    /// Pulses per synapse and update, at most.
    public var maxPulses: Int = 15

    public init(tauPre: Double, tauPost: Double, aPlus: Double, aMinus: Double, clip: (Double, Double)) {
        self.tauPre = tauPre
        self.tauPost = tauPost
        self.aPlus = aPlus
        self.aMinus = aMinus
        self.clip = clip
    }

    public static func == (a: PlasticityRule, b: PlasticityRule) -> Bool {
        a.kind == b.kind && a.tauPre == b.tauPre && a.tauPost == b.tauPost && a.aPlus == b.aPlus && a.aMinus == b.aMinus
            && a.bound == b.bound && a.sameStep == b.sameStep && a.clip == b.clip && a.every == b.every && a.maxPulses == b.maxPulses
    }

    /// Reads a projection's `plasticity` object; every error names its field (`projections.NAME.plasticity.KEY`).
    public static func read(_ r: JSONReader) throws -> PlasticityRule {
        try r.onlyKeys(["rule", "tau_pre", "tau_post", "a_plus", "a_minus", "bound", "same_step", "clip", "every", "max_pulses"])
        _ = try r.field("rule").enumValue(Kind.self)
        func tau(_ k: String) throws -> Double {
            let f = try r.field(k)
            let v = try f.double()
            guard v > 0, v <= 1e6 else { throw f.fail("time constant must be > 0 steps (at most 1e6), found \(v)") }
            return v
        }
        func amplitude(_ k: String) throws -> Double {
            let f = try r.field(k)
            let v = try f.double()
            guard v >= 0, v <= 1e6 else { throw f.fail("amplitude must be >= 0 (the sign is the rule's), found \(v)") }
            return v
        }
        let cf = try r.field("clip")
        let c = try cf.doubles(maxCount: 2)
        guard c.count == 2 else { throw cf.fail("expected [low, high]") }
        guard c[0] <= 0, c[1] >= 0, c[0] < c[1] else { throw cf.fail("clip range [\(c[0]), \(c[1])] must contain 0 and be non-empty") }
        var rule = PlasticityRule(tauPre: try tau("tau_pre"), tauPost: try tau("tau_post"), aPlus: try amplitude("a_plus"),
                                  aMinus: try amplitude("a_minus"), clip: (c[0], c[1]))
        rule.bound = try r.optionalField("bound")?.enumValue(Bound.self) ?? .additive
        rule.sameStep = try r.optionalField("same_step")?.enumValue(SameStep.self) ?? .include
        rule.every = try r.optionalField("every")?.int(min: 0, max: 1 << 20) ?? 1
        rule.maxPulses = try r.optionalField("max_pulses")?.int(min: 1, max: 65535) ?? 15
        return rule
    }

    /// The rule as graph JSON (`GraphWriter`).
    public var json: String {
        "{\"rule\": \"\(kind.rawValue)\", \"tau_pre\": \(tauPre), \"tau_post\": \(tauPost), \"a_plus\": \(aPlus), \"a_minus\": \(aMinus), "
            + "\"bound\": \"\(bound.rawValue)\", \"same_step\": \"\(sameStep.rawValue)\", \"clip\": [\(clip.low), \(clip.high)], "
            + "\"every\": \(every), \"max_pulses\": \(maxPulses)}"
    }
}
