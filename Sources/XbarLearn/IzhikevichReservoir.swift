import XbarCompiler
import XbarCore
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarTarget

/// The heterogeneous Izhikevich reservoir of Izhikevich (2003) on a chip (docs/izhikevich.md, "Reservoir"): 800
/// excitatory and 200 inhibitory neurons with the paper's parameter spread, all-to-all recurrent weights drawn as in
/// the paper (excitatory uniform [0, 0.5], inhibitory uniform [-1, 0], delay 1 step), driven instead of the paper's
/// Gaussian thalamic current by Poisson spike channels through random excitatory weights. It compiles onto a target,
/// runs on the fast engine and on the graph's float twin with the same input spikes, and compares firing rates.
public enum IzhikevichReservoir {
    /// The network's sizes and drive.
    public struct Options: Sendable {
        public var excitatory = 800
        public var inhibitory = 200
        public var inputs = 400
        public var inputRateHz = 25.0
        /// Input weights uniform in [0, inputWeight] mV/ms at this density (the range of the inhibitory weights, so
        /// every block of a population shares one weight step well).
        public var inputWeight = 1.0
        public var inputDensity = 1.0
        /// Recurrent weights are the paper's (excitatory uniform [0, 0.5], inhibitory [-1, 0]) times this.
        public var recurrentScale = 0.25
        public var timesteps = 1000
        public var samples = 2
        public var seed: UInt64 = 1
        public init() {}
    }

    /// The reservoir as a graph.
    public static func graph(_ o: Options) -> Graph {
        let n = o.excitatory + o.inhibitory
        let all = IzhikevichModel.heterogeneous(size: n, excitatory: o.excitatory, seed: o.seed)
        func part(_ r: Range<Int>) -> ModelParameterSet {
            var m = ModelParameterSet(model: IzhikevichModel.keyword, scalars: all.scalars)
            for (k, v) in all.perNeuron { m.perNeuron[k] = Array(v[r]) }
            return m
        }
        func uniform(_ lo: Double, _ hi: Double, density: Double, seed: UInt64, noSelf: Bool = false) -> WeightSpec {
            .random(RandomWeights(distribution: .uniform, a: lo, b: hi, gain: 1, density: density, seed: seed, noSelf: noSelf))
        }
        let pops = [
            Population(name: "in", kind: .input, size: o.inputs),
            Population(name: "exc", kind: .izhikevich, size: o.excitatory, model: part(0..<o.excitatory)),
            Population(name: "inh", kind: .izhikevich, size: o.inhibitory, model: part(o.excitatory..<n)),
        ]
        var projs: [Projection] = []
        for (k, dst) in ["exc", "inh"].enumerated() {
            projs.append(Projection(name: "in->\(dst)", from: "in", to: dst, delay: 0,
                                    weights: uniform(0, o.inputWeight, density: o.inputDensity, seed: o.seed &+ UInt64(10 + k))))
            projs.append(Projection(name: "exc->\(dst)", from: "exc", to: dst, delay: 1,
                                    weights: uniform(0, 0.5 * o.recurrentScale, density: 1, seed: o.seed &+ UInt64(20 + k), noSelf: dst == "exc")))
            projs.append(Projection(name: "inh->\(dst)", from: "inh", to: dst, delay: 1,
                                    weights: uniform(-o.recurrentScale, 0, density: 1, seed: o.seed &+ UInt64(30 + k), noSelf: dst == "inh")))
        }
        return Graph(name: "izhikevich-reservoir", timesteps: o.timesteps, populations: pops, projections: projs)
    }

    /// Poisson input spikes: every channel fires with probability rate x 1 ms per step.
    public static func input(_ o: Options) -> EventDataset {
        let rng = Philox(seed: o.seed)
        let p = o.inputRateHz / 1000
        let samples = (0..<o.samples).map { s in
            SpikeRaster(channels: o.inputs, timesteps: o.timesteps, active: (0..<o.timesteps).map { t in
                (0..<o.inputs).compactMap { c in
                    rng.uniform(purpose: RandomPurpose.modelInput.rawValue, UInt32(s), UInt32(t), UInt32(c)) < p ? Int32(c) : nil
                }
            })
        }
        return EventDataset(channels: o.inputs, timesteps: o.timesteps, samples: samples)
    }

    /// Firing statistics of one population over every sample.
    public struct Rates: Sendable, Equatable {
        /// Mean rate, Hz.
        public var meanHz: Double
        /// Standard deviation across neurons of the per-neuron rate, Hz.
        public var sdHz: Double
        /// Fraction of neurons that fired at least once.
        public var activeFraction: Double
    }

    /// The comparison of the chip and the float twin.
    public struct Comparison: Sendable {
        public var target: String
        public var arrays: Int
        /// The compiled program.
        public var program: Program
        public var chip: [String: Rates]
        public var twin: [String: Rates]
        /// |chip - twin| / twin of the mean rate, per population.
        public func meanRateError(_ pop: String) -> Double { abs(chip[pop]!.meanHz - twin[pop]!.meanHz) / twin[pop]!.meanHz }
    }

    public static func rates(_ counts: [[Int64]], seconds: Double) -> Rates {
        let n = counts.first?.count ?? 0
        let per = (0..<n).map { i in Double(counts.reduce(0) { $0 + $1[i] }) / seconds }
        let mean = per.reduce(0, +) / Double(max(n, 1))
        let sd = (per.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(n, 1))).squareRoot()
        return Rates(meanHz: mean, sdHz: sd, activeFraction: Double(per.filter { $0 > 0 }.count) / Double(max(n, 1)))
    }

    /// Compiles the reservoir onto `target`, runs it on the fast engine (seed `o.seed`) and on the graph's float twin
    /// with the same input, and returns both populations' rate statistics.
    public static func compare(_ o: Options, target t: Target, idealDevice: Bool = false) throws -> Comparison {
        let g = graph(o)
        let data = input(o)
        let compiled = try Compiler.compile(g, target: t, options: CompileOptions(replicateMacros: true, seed: o.seed))
        let p = compiled.program
        let chip = idealDevice ? Chip(program: p, seed: o.seed, timing: t.timing) : try Chip(program: p, target: t, seed: o.seed)
        let binding = try InputBinding(program: p, channels: data.channels, file: "<reservoir>")
        let engine = FastEngine(chip: chip)
        var chipCounts: [String: [[Int64]]] = [:]
        for (s, x) in data.samples.enumerated() {
            let r = engine.run(x, index: s, binding: binding)
            for pop in ["exc", "inh"] { chipCounts[pop, default: []].append(r.counts[pop]!) }
        }
        let twin = try FloatNetwork(graph: g)
        var twinCounts: [String: [[Int64]]] = [:]
        for x in data.samples {
            let r = twin.run(x)
            for pop in ["exc", "inh"] { twinCounts[pop, default: []].append(r.counts[twin.neuronIndex(pop)!]) }
        }
        let seconds = Double(o.samples * o.timesteps) / 1000
        return Comparison(target: t.name, arrays: p.arrays.count, program: p,
                          chip: chipCounts.mapValues { rates($0, seconds: seconds) },
                          twin: twinCounts.mapValues { rates($0, seconds: seconds) })
    }
}
