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
                                                          density: o.inputDensity, seed: o.seed))),
                Projection(name: "w_rec", from: "lsm", to: "lsm", delay: 1,
                           weights: .random(RandomWeights(distribution: .normal, a: 0, b: 1, gain: o.recurrentGain,
                                                          density: o.recurrentDensity, seed: o.seed, noSelf: true))),
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
