import XbarCore

/// Builders for the reference liquid state machines.
public enum LSMBuilder {
    /// Options of the paper's LSM (Lin et al., arXiv 2307.00771): inputs -> LIF reservoir, random input and
    /// recurrent weights, one [x; h] crossbar read per step.
    public struct PaperOptions: Sendable {
        public var inputs = 256
        public var neurons = 200
        public var timesteps = 50
        public var decay = 0.9
        public var threshold = 5.0
        public var inputGain = 1.0
        public var recurrentGain = 0.5
        public var inputDensity = 1.0
        public var recurrentDensity = 1.0
        /// Fixed fan-outs instead of the densities (each input / neuron drives exactly this many neurons): the
        /// O(synapses) form for large sparse reservoirs.
        public var inputFanout: Int? = nil
        public var recurrentFanout: Int? = nil
        public var classes = 10
        public var seed: UInt64 = 1
        public init() {}
    }

    public static func paper(_ o: PaperOptions) -> Graph {
        Graph(
            name: "lsm-paper",
            timesteps: o.timesteps,
            populations: [
                Population(name: "in", kind: .input, size: o.inputs),
                Population(name: "lsm", kind: .lif, size: o.neurons,
                           lif: LIFParameters(decay: o.decay, threshold: o.threshold, reset: .zero)),
            ],
            projections: [
                Projection(name: "w_in", from: "in", to: "lsm", delay: 0,
                           weights: .random(RandomWeights(distribution: .normal, a: 0, b: 1, gain: o.inputGain,
                                                          density: o.inputDensity, seed: o.seed, fanout: o.inputFanout))),
                Projection(name: "w_rec", from: "lsm", to: "lsm", delay: 1,
                           weights: .random(RandomWeights(distribution: .normal, a: 0, b: 1, gain: o.recurrentGain,
                                                          density: o.recurrentDensity, seed: o.seed, noSelf: true,
                                                          fanout: o.recurrentFanout))),
            ],
            readout: Readout(from: "lsm", classes: o.classes))
    }

    /// Options of a NALSM-style 3-D reservoir (Maass 2002 connectivity; 80/20 E/I).
    public struct NALSMOptions: Sendable {
        public var inputs = 2312
        public var neurons = 1000
        public var timesteps = 50
        public var decay = 0.9
        public var threshold = 5.0
        public var lambda = 2.0
        public var c = [0.3, 0.2, 0.4, 0.1]
        public var w = [1.0, 2.0, 2.0, 1.0]
        public var inhibitoryFraction = 0.2
        public var inputGain = 1.0
        public var inputDensity = 0.1
        public var recurrentGain = 1.0
        public var classes = 10
        public var seed: UInt64 = 1
        public init() {}
    }

    /// The most cube-like grid X >= Y >= Z with X*Y*Z == n.
    public static func grid(for n: Int) -> [Int] {
        var best = [n, 1, 1]
        var bestScore = Int.max
        var z = 1
        while z * z * z <= n {
            if n % z == 0 {
                let m = n / z
                var y = z
                while y * y <= m {
                    if m % y == 0 {
                        let x = m / y
                        let score = x - z
                        if score < bestScore { bestScore = score; best = [x, y, z] }
                    }
                    y += 1
                }
            }
            z += 1
        }
        return best
    }

    public static func nalsm(_ o: NALSMOptions) -> Graph {
        Graph(
            name: "lsm-nalsm",
            timesteps: o.timesteps,
            populations: [
                Population(name: "in", kind: .input, size: o.inputs),
                Population(name: "res", kind: .lif, size: o.neurons,
                           lif: LIFParameters(decay: o.decay, threshold: o.threshold, reset: .zero)),
            ],
            projections: [
                Projection(name: "w_in", from: "in", to: "res", delay: 0,
                           weights: .random(RandomWeights(distribution: .normal, a: 0, b: 1, gain: o.inputGain,
                                                          density: o.inputDensity, seed: o.seed))),
                Projection(name: "w_rec", from: "res", to: "res", delay: 1,
                           weights: .spatial(SpatialWeights(grid: grid(for: o.neurons), lambda: o.lambda, c: o.c, w: o.w,
                                                            inhibitoryFraction: o.inhibitoryFraction,
                                                            gain: o.recurrentGain, seed: o.seed))),
            ],
            readout: Readout(from: "res", classes: o.classes))
    }
}

extension LSMBuilder {
    /// Which learning the NALSM-style liquid gets (docs/experiment.md, "NALSM with astrocyte-modulated STDP").
    public enum NALSMLearning: String, CaseIterable, Sendable {
        /// Fixed random weights.
        case lsm
        /// STDP with fixed rates on every synapse (NALSM's LSM+STDP baseline).
        case stdp = "lsm-stdp"
        /// STDP whose depression rate is an astrocyte's leaky integral of liquid minus input activity (NALSM).
        case nalsm
    }

    /// The NALSM-style liquid of `nalsm(_:)` with its neurons ordered excitatory first (so excitatory and inhibitory
    /// presynaptic rows are two runs), the recurrence split into an excitatory-row and an inhibitory-row projection,
    /// and, unless `learning` is `.lsm`, Ivanov & Michmizos' rules (docs/nalsm-reference.md): traces tau 10, pairing
    /// without same-step spikes, excitatory and input synapses +0.015 x pre trace on a post spike and -a_minus x post
    /// trace on a pre spike, inhibitory synapses mirrored, clips [0, 3], [-3, 0] and [-3, 3]; a_minus 0.015 (LSM+STDP)
    /// or 0.1 x A(t) with A the astrocyte (tau 100, +w_astro per liquid spike, -w_astro per input spike, bias and start
    /// 0.15). Cells are written every `every` steps.
    public static func nalsmPlastic(_ o: NALSMOptions, learning: NALSMLearning, wAstro: Double = 0.015, every: Int = 5) -> Graph {
        var g = nalsm(o)
        let n = o.neurons
        guard case let .spatial(sp) = g.projections[1].weights else { return g }
        let salt = Materialize.salt(g.projections[1].name)
        let inh = Materialize.inhibitory(sp, salt: salt, n: n)
        let w = Materialize.weights(g.projections[1], pre: n, post: n)
        // New index: excitatory neurons first (in their order), then inhibitory.
        let order = (0..<n).filter { !inh[$0] } + (0..<n).filter { inh[$0] }
        var newIndex = [Int](repeating: 0, count: n)
        for (k, i) in order.enumerated() { newIndex[i] = k }
        var exc: [SparseEntry] = [], inhib: [SparseEntry] = []
        for i in 0..<n {
            for j in 0..<n where w[i * n + j] != 0 {
                let e = SparseEntry(pre: newIndex[i], post: newIndex[j], weight: w[i * n + j])
                if inh[i] { inhib.append(e) } else { exc.append(e) }
            }
        }
        // The input projection's columns follow the neurons to their new places.
        let win = Materialize.weights(g.projections[0], pre: o.inputs, post: n)
        var input: [SparseEntry] = []
        for a in 0..<o.inputs { for j in 0..<n where win[a * n + j] != 0 { input.append(SparseEntry(pre: a, post: newIndex[j], weight: win[a * n + j])) } }
        func rule(_ sign: Double, clip: (Double, Double)) -> PlasticityRule? {
            guard learning != .lsm else { return nil }
            var r = PlasticityRule(tauPre: 10, tauPost: 10, aPlus: 0.015 * sign, aMinus: 0.015 * sign, clip: clip)
            r.sameStep = .exclude
            r.every = every
            if learning == .nalsm {
                r.modulator = "astro"
                // Excitatory: A sets the depression; inhibitory (mirrored): A sets the (negative) potentiation.
                r.modulates = sign > 0 ? .aMinus : .aPlus
                if sign > 0 { r.aMinus = 0.1 } else { r.aPlus = -0.1 }
            }
            return r
        }
        var pin = Projection(name: "w_in", from: "in", to: "res", delay: 0, weights: .sparse(input))
        pin.plasticity = rule(1, clip: (-3, 3))
        var pe = Projection(name: "w_rec_e", from: "res", to: "res", delay: 1, weights: .sparse(exc))
        pe.plasticity = rule(1, clip: (0, 3))
        var pi = Projection(name: "w_rec_i", from: "res", to: "res", delay: 1, weights: .sparse(inhib))
        pi.plasticity = rule(-1, clip: (-3, 0))
        g.projections = [pin, pe, pi]
        g.name = "nalsm-\(learning.rawValue)"
        if learning == .nalsm {
            g.modulators = [Modulator(name: "astro", tau: 100, sources: [Modulator.Source(from: "res", weight: wAstro),
                                                                          Modulator.Source(from: "in", weight: -wAstro)],
                                      bias: 0.15, initial: 0.15)]
        }
        return g
    }
}
