import Foundation
import XbarCompiler
import XbarCore
import XbarCost
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarTarget

/// The models an experiment compares for every chip instance (seed).
public enum ModelKind: String, CaseIterable, Sendable {
    /// The graph's own Gaussian weights (Materialize, graph seed = instance seed) simulated in Double, float readout:
    /// the paper's software LSM.
    case software
    /// The chip instance's realised conductances (same sampled weights) simulated in Double, float readout.
    case chipFloat = "chip-float"
    /// The emulated chip (device physics, read and ADC noise, fixed point) with the int readout running on it.
    case chip
}

/// Per-sample operation counts averaged over the test samples.
public struct OpsPerSample: Sendable {
    public var values: [(String, Double)]
}

/// The outcome of one model on one chip instance.
public struct ModelResult: Sendable {
    public var kind: ModelKind
    public var seed: UInt64
    /// Test accuracy of the model as deployed: float readout for the float models, the chip's integer readout for `chip`.
    public var testAccuracy: Double
    /// Test accuracy of the other readout form (int readout on float counts; float readout on chip counts).
    public var otherReadoutAccuracy: Double
    public var validationAccuracy: Double
    public var trainAccuracy: Double
    public var lambda: Double
    /// confusion[true][predicted] over the test split.
    public var confusion: [[Int]]
    public var meanSpikesPerSample: Double
    public var ops: OpsPerSample
    /// Chip only: energy (J) and latency (s) per test sample from the target's energy and timing model (XbarCost).
    public var energyPerSampleJ: Double? = nil
    public var latencyPerSampleS: Double? = nil
    /// Chip only: energy per component (pJ per sample).
    public var energyComponentsPJ: [(String, Double)] = []
    public var seconds: Double
    /// The trained real-valued readout (classes x neurons) — for `chip`, the one quantised onto the chip.
    public var readout: LinearReadout
}

/// Everything an experiment needs. See docs/experiment.md.
public struct ExperimentSpec: Sendable {
    public var name: String
    /// The LSM with an untrained readout; its random projections are re-seeded per instance (see `reseed`).
    public var graph: Graph
    public var target: Target
    public var seeds: [UInt64]
    public var models: [ModelKind] = ModelKind.allCases
    /// Fraction of the training split held out to choose the ridge penalty.
    public var validationFraction = 0.2
    /// Seed of the validation split (fixed across instances and models).
    public var splitSeed: UInt64 = 1
    public var trainer = RidgeTrainer.Options()
    public var threads = 0
    public var replicateMacros = false
    /// The compiler's placement for the chip models (docs/compiler.md, "Placement"): inputs are moved to their physical
    /// channels, and the readout trained on physical-order counts goes back to graph order before it is compiled.
    public var placement = PlacementMode.identity
    /// Give the graph's random projections the instance seed (software LSM s and chip s share their connectivity).
    public var reseed = true

    public init(name: String, graph: Graph, target: Target, seeds: [UInt64]) {
        self.name = name
        self.graph = graph
        self.target = target
        self.seeds = seeds
    }
}

/// Progress and log sinks of a run.
public struct ExperimentHooks: Sendable {
    /// (label, done, total) while a phase runs.
    public var progress: @Sendable (String, Int, Int) -> Void = { _, _, _ in }
    /// One line per finished phase.
    public var log: @Sendable (String) -> Void = { _ in }
    /// Called after every finished model with all results so far (write them out: nothing computed is lost).
    public var checkpoint: @Sendable ([ModelResult]) throws -> Void = { _ in }
    public init() {}
}

/// The LSM experiment driver: software, float-twin and chip models over chip instances (docs/experiment.md).
public enum Experiment {
    /// The training rows held out for validation: round(fraction * n) rows with the smallest Philox(splitSeed) draw
    /// (purpose dataSplit, 2, i, 0).
    public static func validationRows(count n: Int, fraction: Double, splitSeed: UInt64) -> Set<Int> {
        let rng = Philox(seed: splitSeed)
        let p = RandomPurpose.dataSplit.rawValue
        let order = (0..<n).sorted {
            let a = rng.uniform(purpose: p, 2, UInt32($0), 0), b = rng.uniform(purpose: p, 2, UInt32($1), 0)
            return a != b ? a < b : $0 < $1
        }
        return Set(order.prefix(Int((fraction * Double(n)).rounded())))
    }

    /// The graph with every random or spatial projection seeded `seed`.
    public static func reseeded(_ g: Graph, seed: UInt64) -> Graph {
        var g = g
        for i in g.projections.indices {
            switch g.projections[i].weights {
            case var .random(r):
                r.seed = seed
                g.projections[i].weights = .random(r)
            case var .spatial(s):
                s.seed = seed
                g.projections[i].weights = .spatial(s)
            default: break
            }
        }
        return g
    }

    static func labels(_ s: [SpikeRaster]) -> [Int] { s.map { $0.label ?? -1 } }

    static func confusion(_ truth: [Int], _ pred: [Int], classes k: Int) -> [[Int]] {
        var m = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (t, p) in zip(truth, pred) where t >= 0 && t < k && p >= 0 && p < k { m[t][p] += 1 }
        return m
    }

    /// Splits training features into (fit, validation) by `validationRows`.
    static func split(_ f: Features, _ val: Set<Int>) -> (Features, Features) {
        let fitIdx = (0..<f.rows).filter { !val.contains($0) }
        let valIdx = (0..<f.rows).filter { val.contains($0) }
        return (f.subset(fitIdx), f.subset(valIdx))
    }

    /// Runs a float network over samples (parallel), returning counts of `population` and synaptic ops per sample.
    static func floatCounts(_ net: FloatNetwork, population: String, samples: [SpikeRaster], threads: Int, label: String,
                            hooks: ExperimentHooks) throws -> (counts: [[Int64]], ops: [Int64]) {
        guard let pi = net.neuronIndex(population) else {
            throw XbarError(file: "<graph>", field: "readout.from", "no lif population \"\(population)\"")
        }
        let box = Slots<([Int64], Int64)>(samples.count)
        parallelFor(samples.count, threads: threads) { i in
            let r = net.run(samples[i])
            box.set(i, (r.counts[pi], r.synapticOps))
            hooks.progress(label, box.done, samples.count)
        }
        let v = box.values
        return (v.map { $0.0 }, v.map { $0.1 })
    }

    /// Runs the chip over samples (parallel) with sample indices `indexBase + i` (the per-read noise counter). Each split
    /// is indexed from 0, as `xbar run` indexes the samples of a file, so the test split run here gives the same
    /// predictions as `xbar emulate` of the exported graph on the test split written as one .xev file.
    static func chipRun(_ chip: Chip, samples: [SpikeRaster], indexBase: Int, channels: Int, threads: Int, label: String,
                        hooks: ExperimentHooks) throws -> [SampleResult] {
        let binding = try InputBinding(program: chip.program, channels: channels, file: "<events>")
        guard samples.first.map({ $0.timesteps == chip.program.timesteps }) ?? true else {
            throw XbarError(file: "<events>", field: "timesteps",
                            "events have \(samples[0].timesteps) steps, program \"\(chip.program.name)\" runs \(chip.program.timesteps)")
        }
        let engine = FastEngine(chip: chip)
        let box = Slots<SampleResult>(samples.count)
        parallelFor(samples.count, threads: threads) { i in
            box.set(i, engine.run(samples[i], index: indexBase + i, binding: binding))
            hooks.progress(label, box.done, samples.count)
        }
        return box.values
    }

    /// Trains and evaluates every model of `spec` on every seed. Results arrive in order (seed, model).
    public static func run(_ spec: ExperimentSpec, data: LabelledSet, hooks: ExperimentHooks = ExperimentHooks()) throws -> [ModelResult] {
        guard let ro = spec.graph.readout else {
            throw XbarError(file: "<graph>", field: "readout", "the graph has no readout (give it {\"from\": POP, \"classes\": K})")
        }
        let k = ro.classes
        let pop = ro.from
        let trainLabels = labels(data.train), testLabels = labels(data.test)
        for (i, l) in (trainLabels + testLabels).enumerated() where l < 0 || l >= k {
            let name = i < trainLabels.count ? data.trainNames[i] : data.testNames[i - trainLabels.count]
            throw XbarError(file: name, field: "label", "\(l) outside 0..<\(k) (the readout has \(k) classes)")
        }
        let valRows = validationRows(count: data.train.count, fraction: spec.validationFraction, splitSeed: spec.splitSeed)
        var trainer = spec.trainer
        trainer.weightBits = spec.target.readout.weightBits
        trainer.accBits = spec.target.readout.accBits
        var results: [ModelResult] = []

        func finish(_ kind: ModelKind, _ seed: UInt64, trainCounts: [[Int64]], testCounts: [[Int64]], start: Date,
                    chipPredictions: [Int]?, ops: OpsPerSample) throws -> ModelResult {
            let all = Features(counts: trainCounts, labels: trainLabels)
            let (fit, val) = split(all, valRows)
            let f = try RidgeTrainer.train(train: fit, val: val, classes: k, options: trainer)
            let test = Features(counts: testCounts, labels: testLabels)
            let floatPred = (0..<test.rows).map { f.readout.predict(test.row($0)) }
            let intPred = testCounts.map { f.quantised.predict($0) }
            let deployed = chipPredictions ?? floatPred
            let other = chipPredictions == nil ? intPred : floatPred
            func acc(_ p: [Int]) -> Double {
                Double(zip(p, testLabels).filter { $0 == $1 }.count) / Double(max(1, testLabels.count))
            }
            let spikes = testCounts.reduce(0.0) { $0 + Double($1.reduce(0, +)) } / Double(max(1, testCounts.count))
            let r = ModelResult(kind: kind, seed: seed, testAccuracy: acc(deployed), otherReadoutAccuracy: acc(other),
                                validationAccuracy: f.validationAccuracy, trainAccuracy: f.trainAccuracy, lambda: f.lambda,
                                confusion: confusion(testLabels, deployed, classes: k), meanSpikesPerSample: spikes, ops: ops,
                                seconds: Date().timeIntervalSince(start), readout: f.readout)
            hooks.log(String(format: "seed %llu %@: test %.2f%% (%@ readout), val %.2f%%, lambda %g, %.1f s", seed, kind.rawValue,
                             100 * r.testAccuracy, kind == .chip ? "int8 on chip" : "float", 100 * r.validationAccuracy, r.lambda, r.seconds))
            return r
        }

        for seed in spec.seeds {
            let g = spec.reseed ? reseeded(spec.graph, seed: seed) : spec.graph
            if spec.models.contains(.software) {
                let start = Date()
                let net = try FloatNetwork(graph: g)
                let tr = try floatCounts(net, population: pop, samples: data.train, threads: spec.threads,
                                         label: "seed \(seed) software train", hooks: hooks)
                let te = try floatCounts(net, population: pop, samples: data.test, threads: spec.threads,
                                         label: "seed \(seed) software test", hooks: hooks)
                let n = Double(max(1, te.ops.count))
                let neurons = g.population(named: pop)?.size ?? 0
                let ops = OpsPerSample(values: [
                    ("synaptic_ops", Double(te.ops.reduce(0, +)) / n),
                    ("neuron_updates", Double(g.timesteps * g.populations.filter { $0.kind == .lif }.reduce(0) { $0 + $1.size })),
                    ("readout_macs", Double(k * neurons)),
                ])
                results.append(try finish(.software, seed, trainCounts: tr.counts, testCounts: te.counts, start: start,
                                          chipPredictions: nil, ops: ops))
                try hooks.checkpoint(results)
            }
            guard spec.models.contains(.chip) || spec.models.contains(.chipFloat) else { continue }
            let opts = CompileOptions(replicateMacros: spec.replicateMacros, seed: seed, placement: spec.placement)
            var untrained = g
            untrained.readout?.weights = nil
            untrained.readout?.bias = nil
            let compiled = try Compiler.compile(untrained, target: spec.target, options: opts)
            let placement = compiled.stats.placement, channelMap = placement.inputChannelMap(g)
            var chipData = data
            if !placement.isIdentity {
                chipData.train = data.train.map { $0.remapped(channels: channelMap) }
                chipData.test = data.test.map { $0.remapped(channels: channelMap) }
            }
            let chip = try Chip(program: compiled.program, target: spec.target, seed: seed)
            if spec.models.contains(.chipFloat) {
                let start = Date()
                let net = try FloatNetwork(program: compiled.program, codes: chip.codes)
                let tr = try floatCounts(net, population: pop, samples: chipData.train, threads: spec.threads,
                                         label: "seed \(seed) chip-float train", hooks: hooks)
                let te = try floatCounts(net, population: pop, samples: chipData.test, threads: spec.threads,
                                         label: "seed \(seed) chip-float test", hooks: hooks)
                let n = Double(max(1, te.ops.count))
                let ops = OpsPerSample(values: [("synaptic_ops", Double(te.ops.reduce(0, +)) / n)])
                results.append(try finish(.chipFloat, seed, trainCounts: tr.counts, testCounts: te.counts, start: start,
                                          chipPredictions: nil, ops: ops))
                try hooks.checkpoint(results)
            }
            if spec.models.contains(.chip) {
                let start = Date()
                let trainRes = try chipRun(chip, samples: chipData.train, indexBase: 0, channels: chipData.channels, threads: spec.threads,
                                           label: "seed \(seed) chip train", hooks: hooks)
                let trainCounts = trainRes.map { $0.counts[pop] ?? [] }
                // Train the readout on the chip's own spike counts, put it into the graph, compile again (same instance:
                // the arrays are identical) and run the test split on the chip with the integer readout.
                let all = Features(counts: trainCounts, labels: trainLabels)
                let (fit, val) = split(all, valRows)
                let f = try RidgeTrainer.train(train: fit, val: val, classes: k, options: trainer)
                var trained = g
                trained.readout = Readout(from: pop, classes: k, weights: Self.graphOrder(f.readout.weights, placement.order[pop]), bias: f.readout.bias)
                let withReadout = try Compiler.compile(trained, target: spec.target, options: opts)
                guard withReadout.program.arrays == compiled.program.arrays else {
                    throw XbarError(file: "<compiler>", field: "arrays", "recompiling with the readout changed the arrays (instance \(seed))")
                }
                let chip2 = try chip.running(withReadout.program, target: spec.target)
                let testRes = try chipRun(chip2, samples: chipData.test, indexBase: 0, channels: chipData.channels,
                                          threads: spec.threads, label: "seed \(seed) chip test", hooks: hooks)
                let rname = withReadout.program.readouts.first!.name
                let pred = testRes.map { $0.prediction(rname) ?? -1 }
                var tot = Counters()
                for r in testRes { tot.add(r.counters) }
                let n = Double(max(1, testRes.count))
                let ops = OpsPerSample(values: [
                    ("wl_activations", Double(tot.wlActivations) / n),
                    ("cell_reads", Double(tot.cellReads) / n),
                    ("adc_conversions", Double(tot.totalADCConversions) / n),
                    ("synaptic_ops", Double(tot.synapticEvents) / n),
                    ("dense_synaptic_ops", Double(tot.denseSynapticOps) / n),
                    ("neuron_updates", Double(tot.neuronUpdates) / n),
                    ("readout_macs", Double(tot.readoutMACs) / n),
                ])
                var r = try finish(.chip, seed, trainCounts: trainCounts, testCounts: testRes.map { $0.counts[pop] ?? [] },
                                   start: start, chipPredictions: pred, ops: ops)
                r.readout = f.readout
                let cost = CostModel.report(counters: tot, program: withReadout.program, target: spec.target, samples: testRes.count)
                r.energyPerSampleJ = cost.perSamplePJ * 1e-12
                r.latencyPerSampleS = cost.latencySecondsPerSample
                r.energyComponentsPJ = cost.components.map { ($0.name, $0.pJ / n) }
                results.append(r)
                try hooks.checkpoint(results)
            }
        }
        return results
    }

    /// Readout weights (classes x neurons) trained on physical-order counts, in graph order: column k goes to
    /// neuron order[k] (nil order: unchanged).
    public static func graphOrder(_ w: [Double], _ order: [Int]?) -> [Double] {
        guard let o = order, !o.isEmpty else { return w }
        var out = w
        let n = o.count
        for c in 0..<(w.count / n) { for (k, gi) in o.enumerated() { out[c * n + gi] = w[c * n + k] } }
        return out
    }

    /// Mean and sample standard deviation (n - 1; 0 for one value).
    public static func meanStd(_ v: [Double]) -> (mean: Double, std: Double) {
        guard !v.isEmpty else { return (0, 0) }
        let m = v.reduce(0, +) / Double(v.count)
        guard v.count > 1 else { return (m, 0) }
        let s = (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
        return (m, s)
    }
}
