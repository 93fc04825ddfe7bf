import Foundation
import XbarCore
import XbarEvents
import XbarGraph

/// A spiking E/I reservoir after Srinivasan, Plenz & Girvan, "Boosting Reservoir Computing with Brain-inspired Adaptive
/// Dynamics" (arXiv:2504.12480, 2025), on the chip (docs/experiment.md, "Adaptive E/I reservoir"): Dale's law, 80 %
/// excitatory, every neuron receiving k f_E excitatory and k f_I inhibitory synapses with |N(mu, 0.2 mu_E)| weights,
/// mu_E = J / (k f_E) and mu_I = g (f_E / f_I) mu_E (g = 1: equal mean excitatory and inhibitory drive, the paper's
/// balance; g is the global E/I ratio swept by the baseline). The paper's sigmoid rate units become LIF neurons
/// (subtractive reset, so a neuron's spike train is a rate code of its input), its scalar analog input a DAC word.
/// Adaptation is an on-chip homeostatic rule on the inhibitory synapses toward per-neuron target rates.
public enum AdaptiveReservoir {
    /// The reservoir's sizes and gains.
    public struct Options: Sendable, Equatable {
        public var neurons = 200
        public var excitatoryFraction = 0.8
        /// Synapses onto each neuron (k f_E excitatory, k f_I inhibitory).
        public var inDegree = 50
        /// Total mean excitatory weight onto a neuron, J (threshold units).
        public var recurrentGain = 3.0
        /// Global inhibition scale g (1: balanced).
        public var inhibition = 1.0
        public var decay = 0.9
        /// Per-neuron bias uniform in [0, biasMax] (threshold units).
        public var biasMax = 0.2
        /// Input weight of neuron i uniform in [-inputScale, inputScale] (per unit of input).
        public var inputScale = 1.0
        /// DAC magnitude bits of the analog input (plus a sign).
        public var dacBits = 4
        /// Readout feature: each neuron's spike trace x(t) = traceDecay x(t-1) + s(t).
        public var traceDecay = 0.7
        public var seed: UInt64 = 1
        public init() {}

        public var excitatory: Int { Int((Double(neurons) * excitatoryFraction).rounded()) }
    }

    /// How the inhibitory synapses adapt.
    public enum Adaptation: String, CaseIterable, Sendable {
        /// Fixed weights (the globally tuned baseline).
        case none = "global"
        /// Homeostasis toward one target rate for every neuron.
        case homogeneous = "adapted"
        /// Homeostasis toward heterogeneous target rates (Beta(2, 2) x 2 x the mean, as the paper's Beta(2, 2) targets).
        case heterogeneous = "adapted-heterogeneous"
    }

    /// The homeostatic rule's parameters (graph units).
    public struct Rule: Sendable, Equatable {
        /// Mean target rate, spikes per step.
        public var targetRate = 0.15
        public var tauRate = 20.0
        /// Inhibitory weight change per step per unit of rate error, in units of the rate (spikes per step); the graph's
        /// eta (per unit of rate-trace error) is this x (1 - exp(-1 / tau_rate)).
        public var etaPerRate = 6e-3
        public var every = 10
        /// Inhibitory weights stay in [-clipFactor x mu_I(g = 1), 0].
        public var clipFactor = 4.0
        public init() {}
    }

    /// Mean inhibitory weight at g = 1.
    static func muI(_ o: Options) -> Double {
        let fE = o.excitatoryFraction, fI = 1 - fE
        return (fE / fI) * o.recurrentGain / (Double(o.inDegree) * fE)
    }

    /// Per-neuron target rates: all `rule.targetRate`, or 2 x mean x Beta(2, 2) (the median of three uniforms).
    public static func targets(_ o: Options, rule: Rule, heterogeneous: Bool) -> [Double] {
        guard heterogeneous else { return [Double](repeating: rule.targetRate, count: o.neurons) }
        let rng = Philox(seed: o.seed)
        return (0..<o.neurons).map { i in
            let u = (0..<3).map { rng.uniform(purpose: RandomPurpose.reservoirBuild.rawValue, 3, UInt32(i), UInt32($0)) }.sorted()
            return 2 * rule.targetRate * u[1]
        }
    }

    /// The reservoir graph: input `u` (the DAC rows), LIF population `res` (excitatory neurons first), projections
    /// `w_in`, `w_e` (excitatory rows) and `w_i` (inhibitory rows, plastic unless `adaptation` is `.none`).
    public static func graph(_ o: Options, adaptation: Adaptation, rule: Rule = Rule(), timesteps: Int) -> Graph {
        let n = o.neurons, ne = o.excitatory
        let rng = Philox(seed: o.seed)
        let purpose = RandomPurpose.reservoirBuild.rawValue
        let kE = Int((Double(o.inDegree) * o.excitatoryFraction).rounded()), kI = o.inDegree - kE
        let muE = o.recurrentGain / Double(kE)
        let muI = o.inhibition * muI(o)
        var exc: [SparseEntry] = [], inh: [SparseEntry] = []
        for post in 0..<n {
            // k distinct presynaptic neurons of each kind (partial Fisher-Yates, no self-connection).
            func choose(_ range: Range<Int>, _ k: Int, _ salt: UInt32) -> [Int] {
                var pool = range.filter { $0 != post }
                for m in 0..<Swift.min(k, pool.count) {
                    let r = m + Int(rng.uniform(purpose: purpose, salt, UInt32(post), UInt32(m)) * Double(pool.count - m))
                    pool.swapAt(m, Swift.min(r, pool.count - 1))
                }
                return Array(pool.prefix(k)).sorted()
            }
            for (m, pre) in choose(0..<ne, kE, 0).enumerated() {
                let w = abs(muE + 0.2 * muE * rng.normal(purpose: purpose, 10, UInt32(post), UInt32(m)))
                exc.append(SparseEntry(pre: pre, post: post, weight: w))
            }
            for (m, pre) in choose(ne..<n, kI, 1).enumerated() {
                let w = abs(muI + 0.2 * muE * rng.normal(purpose: purpose, 11, UInt32(post), UInt32(m)))
                inh.append(SparseEntry(pre: pre, post: post, weight: -w))
            }
        }
        let win = (0..<n).map { o.inputScale * (2 * rng.uniform(purpose: purpose, 2, UInt32($0), 0) - 1) }
        let bias = (0..<n).map { o.biasMax * rng.uniform(purpose: purpose, 4, UInt32($0), 0) }
        var wi = Projection(name: "w_i", from: "res", to: "res", delay: 1, weights: .sparse(inh.sorted { ($0.pre, $0.post) < ($1.pre, $1.post) }))
        if adaptation != .none {
            var r = PlasticityRule(kind: .homeostasis)
            r.tauPost = rule.tauRate
            r.targetRates = targets(o, rule: rule, heterogeneous: adaptation == .heterogeneous)
            r.eta = rule.etaPerRate * (1 - exp(-1 / rule.tauRate))
            r.every = rule.every
            r.clip = (-rule.clipFactor * Self.muI(o), 0)
            wi.plasticity = r
        }
        return Graph(
            name: "adaptive-ei-\(adaptation.rawValue)",
            timesteps: timesteps,
            populations: [
                Population(name: "u", kind: .input, size: 2 * o.dacBits),
                Population(name: "res", kind: .lif, size: n,
                           lif: LIFParameters(decay: o.decay, threshold: 1, reset: .subtract, neuronBias: bias)),
            ],
            projections: [
                Projection(name: "w_in", from: "u", to: "res", delay: 0, weights: .dense(DACInput.rowWeights(win, bits: o.dacBits))),
                Projection(name: "w_e", from: "res", to: "res", delay: 1, weights: .sparse(exc.sorted { ($0.pre, $0.post) < ($1.pre, $1.post) })),
                wi,
            ])
    }
}

/// How an analog input drives the crossbar (docs/experiment.md, "Analog inputs"): a sign-magnitude DAC word of `bits`
/// magnitude bits, each bit a word line of its own whose cells hold the input weight x 2^b / (2^bits - 1), for the
/// positive and the negative sign (2 x bits rows per analog input). At each step the rows of the word's set bits are
/// driven together (binary spikes), so one crossbar read applies w x q(u) with q(u) = round(|u| (2^bits - 1)) /
/// (2^bits - 1) x sign(u): an `bits`-bit DAC made of binary-weighted rows.
public enum DACInput {
    /// The input projection (2 x bits rows, then `weights.count` columns): row b is the positive sign's bit b, row
    /// bits + b the negative sign's.
    public static func rowWeights(_ weights: [Double], bits: Int) -> [Double] {
        let full = Double((1 << bits) - 1)
        var m = [Double](repeating: 0, count: 2 * bits * weights.count)
        for b in 0..<bits {
            for (j, w) in weights.enumerated() {
                m[b * weights.count + j] = w * Double(1 << b) / full
                m[(bits + b) * weights.count + j] = -w * Double(1 << b) / full
            }
        }
        return m
    }

    /// The DAC word of u (clamped to [-1, 1]): the rows driven.
    public static func rows(_ u: Double, bits: Int) -> [Int32] {
        let full = Double((1 << bits) - 1)
        let q = Int((Swift.min(1, abs(u)) * full).rounded(.toNearestOrEven))
        let base = u < 0 ? bits : 0
        return (0..<bits).filter { q >> $0 & 1 == 1 }.map { Int32(base + $0) }
    }

    /// The quantised value the rows apply.
    public static func quantised(_ u: Double, bits: Int) -> Double {
        let full = Double((1 << bits) - 1)
        return (Swift.min(1, abs(u)) * full).rounded(.toNearestOrEven) / full * (u < 0 ? -1 : 1)
    }

    /// A sequence as one sample's input raster.
    public static func raster(_ u: [Double], bits: Int) -> SpikeRaster {
        SpikeRaster(channels: 2 * bits, timesteps: u.count, active: u.map { rows($0, bits: bits) })
    }
}
