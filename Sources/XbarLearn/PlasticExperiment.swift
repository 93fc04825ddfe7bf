import Foundation
import XbarCompiler
import XbarCore
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarTarget

/// One (learning variant, model, seed) of the NALSM experiment (docs/experiment.md, "NALSM with astrocyte-modulated
/// STDP").
public struct PlasticResult: Sendable {
    public var variant: LSMBuilder.NALSMLearning
    /// `software` (the float twin, learning in Double) or `chip` (the emulated chip, learning by writing its cells).
    public var model: ModelKind
    public var seed: UInt64
    public var testAccuracy: Double
    public var validationAccuracy: Double
    public var meanSpikesPerSample: Double
    /// Chip: NALSM's branching factor of the frozen liquid over the first test samples; learning pulses, their write
    /// energy (pJ), cells written more than the device's endurance, and the largest write count of a cell.
    public var branchingFactor: Double? = nil
    public var pulses: Int64 = 0
    public var writeEnergyPJ: Double = 0
    public var wornCells: Int64 = 0
    public var maxWrites: UInt32 = 0
    public var seconds: Double
}

/// What the NALSM experiment runs.
public struct PlasticExperimentSpec: Sendable {
    public var options: LSMBuilder.NALSMOptions
    public var target: Target
    public var seeds: [UInt64]
    public var variants: [LSMBuilder.NALSMLearning] = LSMBuilder.NALSMLearning.allCases
    public var models: [ModelKind] = [.software, .chip]
    /// Training samples the plasticity runs over, in order, before the liquid is frozen.
    public var learnSamples = 100
    /// Steps between two cell updates of a rule.
    public var every = 5
    public var wAstro = 0.015
    public var validationFraction = 0.2
    public var splitSeed: UInt64 = 1
    public var trainer = RidgeTrainer.Options()
    public var threads = 0
    /// Test samples the branching factor is measured on.
    public var branchingSamples = 20

    public init(options: LSMBuilder.NALSMOptions, target: Target, seeds: [UInt64]) {
        self.options = options
        self.target = target
        self.seeds = seeds
    }
}

/// NALSM (Ivanov & Michmizos 2021) on the chip: plain LSM, LSM + STDP and astrocyte-modulated STDP, each learning in
/// software (Double) and on the chip (cells written by the rules), then frozen, with a ridge readout on spike counts.
public enum PlasticExperiment {
    public static func run(_ spec: PlasticExperimentSpec, data: LabelledSet, hooks: ExperimentHooks = ExperimentHooks()) throws -> [PlasticResult] {
        let trainLabels = Experiment.labels(data.train), testLabels = Experiment.labels(data.test)
        let valRows = Experiment.validationRows(count: data.train.count, fraction: spec.validationFraction, splitSeed: spec.splitSeed)
        let learnSet = Array(data.train.prefix(spec.learnSamples))
        var results: [PlasticResult] = []
        func readout(_ train: [[Int64]], _ test: [[Int64]]) throws -> (test: Double, val: Double) {
            let all = Features(counts: train, labels: trainLabels)
            let (fit, val) = Experiment.split(all, valRows)
            let f = try RidgeTrainer.train(train: fit, val: val, classes: spec.options.classes, options: spec.trainer)
            let pred = test.map { f.quantised.predict($0) }
            let acc = Double(zip(pred, testLabels).filter { $0 == $1 }.count) / Double(max(1, testLabels.count))
            return (acc, f.validationAccuracy)
        }
        for seed in spec.seeds {
            var o = spec.options
            o.seed = seed
            for v in spec.variants {
                let g = LSMBuilder.nalsmPlastic(o, learning: v, wAstro: spec.wAstro, every: spec.every)
                if spec.models.contains(.software) {
                    let start = Date()
                    var net = try FloatNetwork(graph: g)
                    if v != .lsm {
                        net = FloatPlasticity(graph: g, network: net).learn(net, samples: learnSet) { hooks.progress("seed \(seed) \(v.rawValue) software learning", $0, learnSet.count) }
                    }
                    let tr = try Experiment.floatCounts(net, population: "res", samples: data.train, threads: spec.threads,
                                                        label: "seed \(seed) \(v.rawValue) software train", hooks: hooks)
                    let te = try Experiment.floatCounts(net, population: "res", samples: data.test, threads: spec.threads,
                                                        label: "seed \(seed) \(v.rawValue) software test", hooks: hooks)
                    let (acc, val) = try readout(tr.counts, te.counts)
                    results.append(PlasticResult(variant: v, model: .software, seed: seed, testAccuracy: acc, validationAccuracy: val,
                                                 meanSpikesPerSample: meanSpikes(te.counts), seconds: Date().timeIntervalSince(start)))
                    hooks.log(String(format: "seed %llu %@ software: test %.2f%%", seed, v.rawValue, 100 * acc))
                }
                if spec.models.contains(.chip) {
                    results.append(try chipModel(g, variant: v, seed: seed, spec: spec, data: data, learnSet: learnSet, hooks: hooks,
                                                 readout: readout))
                }
            }
        }
        return results
    }

    /// The chip: compile the plastic graph, run the learning samples in order on one chip state, freeze the learned
    /// cells (the learned program without its learning ops), and read out its spike counts.
    static func chipModel(_ g: Graph, variant v: LSMBuilder.NALSMLearning, seed: UInt64, spec: PlasticExperimentSpec, data: LabelledSet,
                          learnSet: [SpikeRaster], hooks: ExperimentHooks,
                          readout: ([[Int64]], [[Int64]]) throws -> (test: Double, val: Double)) throws -> PlasticResult {
        let start = Date()
        var untrained = g
        untrained.readout?.weights = nil
        let compiled = try Compiler.compile(untrained, target: spec.target, options: CompileOptions(replicateMacros: true, seed: seed))
        let chip = try Chip(program: compiled.program, target: spec.target, seed: seed)
        var frozen = compiled.program
        var r = PlasticResult(variant: v, model: .chip, seed: seed, testAccuracy: 0, validationAccuracy: 0, meanSpikesPerSample: 0, seconds: 0)
        if compiled.program.isPlastic {
            let learnData = EventDataset(channels: data.channels, timesteps: data.timesteps, samples: learnSet)
            let outcome = try Runner(chip: chip, engine: .fast, options: RunOptions(seed: seed, threads: spec.threads))
                .run(learnData, file: "<learning samples>") { hooks.progress("seed \(seed) \(v.rawValue) chip learning", $0, $1) }
            let state = outcome.learned!
            frozen = Self.frozen(state.learnedProgram(compiled.program))
            let w = LearningWear(outcome.totals.learning, state: state, target: spec.target)
            r.pulses = w.pulses
            r.writeEnergyPJ = w.writeEnergyPJ
            r.wornCells = w.wornCells
            r.maxWrites = w.maxWrites
        }
        let fixed = try Chip(program: frozen, target: spec.target, seed: seed)
        let tr = try Experiment.chipRun(fixed, samples: data.train, indexBase: 0, channels: data.channels, threads: spec.threads,
                                        label: "seed \(seed) \(v.rawValue) chip train", hooks: hooks)
        let te = try Experiment.chipRun(fixed, samples: data.test, indexBase: 0, channels: data.channels, threads: spec.threads,
                                        label: "seed \(seed) \(v.rawValue) chip test", hooks: hooks)
        let trc = tr.map { $0.counts["res"] ?? [] }, tec = te.map { $0.counts["res"] ?? [] }
        (r.testAccuracy, r.validationAccuracy) = try readout(trc, tec)
        r.meanSpikesPerSample = meanSpikes(tec)
        r.branchingFactor = BranchingFactor.measure(te.prefix(spec.branchingSamples).map { $0.spikes["res"] ?? [] }, graph: g,
                                                    population: "res", timesteps: data.timesteps)
        r.seconds = Date().timeIntervalSince(start)
        hooks.log(String(format: "seed %llu %@ chip: test %.2f%%, branching %.3f, %lld pulses", seed, v.rawValue, 100 * r.testAccuracy,
                         r.branchingFactor ?? .nan, r.pulses))
        return r
    }

    /// A learned program without its learning ops: the cells as learned, read by a fixed network.
    public static func frozen(_ p: Program) -> Program {
        var f = p
        f.step = p.step.filter { !OpDefinition.plasticity.contains($0.kind.mnemonic) }
        f.version = f.requiredVersion
        return f
    }

    static func meanSpikes(_ c: [[Int64]]) -> Double { c.reduce(0.0) { $0 + Double($1.reduce(0, +)) } / Double(max(1, c.count)) }
}

/// NALSM's branching factor (Ivanov & Michmizos 2021; docs/nalsm-reference.md, section 5): for every spike of a liquid
/// neuron at step t (away from the sample's edges), the spikes of its postsynaptic liquid neurons in [t+1, t+4] over
/// the spikes of its presynaptic liquid neurons in [t-4, t-1] (at least 1); averaged per neuron, then over the neurons
/// that spiked, then over samples. Connectivity is the graph's recurrent projections (non-zero weights).
public enum BranchingFactor {
    public static func measure(_ samples: [[Spike]], graph g: Graph, population pop: String, timesteps: Int, window: Int = 4) -> Double {
        guard let n = g.population(named: pop)?.size else { return .nan }
        var post = [[Int]](repeating: [], count: n), pre = [[Int]](repeating: [], count: n)
        for pr in g.projections where pr.from == pop && pr.to == pop {
            let w = Materialize.weights(pr, pre: n, post: n)
            for i in 0..<n { for j in 0..<n where w[i * n + j] != 0 { post[i].append(j); pre[j].append(i) } }
        }
        var perSample: [Double] = []
        for spikes in samples {
            var raster = [[Bool]](repeating: [Bool](repeating: false, count: n), count: timesteps)
            for s in spikes where Int(s.step) < timesteps { raster[Int(s.step)][Int(s.neuron)] = true }
            func count(_ ns: [Int], _ lo: Int, _ hi: Int) -> Int {
                (max(0, lo)...min(timesteps - 1, hi)).reduce(0) { acc, t in acc + ns.filter { raster[t][$0] }.count }
            }
            var sum = 0.0, neurons = 0
            for i in 0..<n {
                var ratios: [Double] = []
                for t in window..<max(window, timesteps - window) where raster[t][i] {
                    ratios.append(Double(count(post[i], t + 1, t + window)) / Double(max(1, count(pre[i], t - window, t - 1))))
                }
                if !ratios.isEmpty { sum += ratios.reduce(0, +) / Double(ratios.count); neurons += 1 }
            }
            if neurons > 0 { perSample.append(sum / Double(neurons)) }
        }
        return perSample.isEmpty ? .nan : perSample.reduce(0, +) / Double(perSample.count)
    }
}
