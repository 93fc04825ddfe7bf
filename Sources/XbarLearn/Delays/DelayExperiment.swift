import Foundation
import XbarCompiler
import XbarCore
import XbarCost
import XbarEmulator
import XbarEvents
import XbarTarget

/// The two data sets of the heterogeneous-delay experiment.
public enum DelayDataset: String, CaseIterable, Sendable {
    /// Spiking motifs in Poisson noise (`SpikeMotifSet`): detect each motif at the step it ends.
    case motifs
    /// Moving textures through the change detector (`MovingTextures`): classify the direction.
    case textures
}

/// What the heterogeneous-delay experiment runs (docs/experiment.md, "Heterogeneous delays").
public struct DelaySpec: Sendable {
    public var datasets: [DelayDataset] = DelayDataset.allCases
    public var motifs = SpikeMotifSet.Options()
    public var textures = MovingTextures.Options()
    /// The texture detector's delays 0 ... D-1, its patch radius and the stride of its positions (pixels).
    public var textureDelays = 6
    public var textureRadius = 2
    public var textureStride = 2
    public var target: Target
    public var seeds: [UInt64]
    /// Fractions of the weights pruned (smallest |W| first).
    public var pruning: [Double] = [0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99]
    public var motifTrain = 128
    public var motifTest = 16
    public var textureTrain = 400
    public var textureTest = 80
    public var motifTraining = DelayDetector.Training()
    public var textureTraining = DelayDetector.Training()
    /// Textures: the fraction of steps each direction neuron fires on (its threshold is that quantile of V on the
    /// training steps; the paper's decision averages the top 15 % of its evidence).
    public var textureFiringRate = 0.15
    public var models: [ModelKind] = [.software, .chip]
    /// Workers over the (data set, seed) jobs (0 = OMP_NUM_THREADS or all cores).
    public var threads = 0

    public init(target: Target, seeds: [UInt64]) {
        self.target = target
        self.seeds = seeds
        motifTraining.epochs = 30
        motifTraining.learningRate = 0.02
        textureTraining.epochs = 20
        textureTraining.batch = 8
        textureTraining.learningRate = 0.01
    }
}

/// One (data set, seed, pruning, model) of the experiment.
public struct DelayResult: Sendable {
    public var dataset: DelayDataset
    public var seed: UInt64
    public var pruned: Double
    public var model: ModelKind
    /// Motifs: the fraction of motif occurrences detected at their exact end step by their own neuron; textures: the
    /// fraction of test samples whose direction is the one with the most spikes.
    public var score: Double
    /// Motifs: the fraction of detections that are hits.
    public var precision: Double? = nil
    /// Weights left (non-zero).
    public var weights: Int
    /// Chip: crossbar rows placed, arrays, energy per sample (pJ), rows driven and spikes of the detectors per step.
    public var rows: Int? = nil
    public var arrays: Int? = nil
    public var energyPerSamplePJ: Double? = nil
    public var rowsDrivenPerStep: Double? = nil
    public var seconds: Double = 0
}

/// Heterogeneous-delay detectors (HD-SNN) trained in float, pruned, and run in float and on the chip with one crossbar
/// row per (channel, delay).
public enum DelayExperiment {
    /// A data set's training and test samples, how to train on them and how to score a detector's firing.
    struct Data {
        var train: [DelayDetector.Sample]
        var test: [DelayDetector.Sample]
        var geometry: DelayGeometry
        var delays: Int
        var classes: Int
        var steps: Int
        var loss: DelayDetector.Loss
        var training: DelayDetector.Training
        /// Firing rate per neuron the thresholds are calibrated to.
        var rates: [Double]
        var from: Int
    }

    /// Jobs (data set, seed) run on `threads` workers; results come back in (data set, seed, pruning, model) order.
    public static func run(_ spec: DelaySpec, hooks: ExperimentHooks = ExperimentHooks()) throws -> [DelayResult] {
        let jobs = spec.datasets.flatMap { d in spec.seeds.map { (d, $0) } }
        let box = Slots<Result<[DelayResult], Error>>(jobs.count)
        parallelFor(jobs.count, threads: spec.threads) { j in
            box.set(j, Result { try job(jobs[j].0, seed: jobs[j].1, spec: spec, hooks: hooks) })
        }
        return try box.values.flatMap { try $0.get() }
    }

    static func data(_ dataset: DelayDataset, seed: UInt64, spec: DelaySpec) -> Data {
        switch dataset {
        case .motifs:
            var o = spec.motifs
            o.seed = seed
            let set = SpikeMotifSet(o)
            let samples = (0..<(spec.motifTrain + spec.motifTest)).map { i -> DelayDetector.Sample in
                let t = set.trial(i)
                return DelayDetector.Sample(raster: t.raster, events: t.ends(delays: o.delays))
            }
            let train = Array(samples.prefix(spec.motifTrain))
            let steps = Double(spec.motifTrain * o.steps)
            let rates = (0..<o.motifs).map { k in max(1, Double(train.reduce(0) { $0 + $1.events[k].count })) / steps }
            return Data(train: train, test: Array(samples.dropFirst(spec.motifTrain)), geometry: .dense(channels: o.channels), delays: o.delays,
                        classes: o.motifs, steps: o.steps, loss: .binary, training: spec.motifTraining, rates: rates, from: 0)
        case .textures:
            var o = spec.textures
            o.seed = seed
            let set = MovingTextures(o)
            let from = spec.textureDelays - 1
            let samples = (0..<(spec.textureTrain + spec.textureTest)).map { i in
                let r = set.sample(i)
                return DelayDetector.Sample(raster: r, label: r.label!, from: from)
            }
            return Data(train: Array(samples.prefix(spec.textureTrain)), test: Array(samples.dropFirst(spec.textureTrain)),
                        geometry: .patches(side: o.side, polarities: 2, radius: spec.textureRadius, stride: spec.textureStride,
                                           polarityInvariant: true),
                        delays: spec.textureDelays, classes: o.directions, steps: o.steps, loss: .softmax,
                        training: spec.textureTraining, rates: [Double](repeating: spec.textureFiringRate, count: o.directions), from: from)
        }
    }

    static func job(_ dataset: DelayDataset, seed: UInt64, spec: DelaySpec, hooks: ExperimentHooks) throws -> [DelayResult] {
        let label = "\(dataset.rawValue) seed \(seed)"
        let d = data(dataset, seed: seed, spec: spec)
        var detector = DelayDetector(geometry: d.geometry, delays: d.delays, classes: d.classes)
        if dataset == .textures {
            // The paper's start: the centre tap at the last delay, +4 ON and -4 OFF (taps (polarity, dy, dx)).
            let w = 2 * spec.textureRadius + 1, centre = spec.textureRadius * w + spec.textureRadius
            detector.setTap(centre, delay: d.delays - 1, to: 4)
            detector.setTap(w * w + centre, delay: d.delays - 1, to: -4)
        }
        detector.train(d.train, loss: d.loss, options: d.training) { hooks.progress(label + " training", $0, $1) }
        var results: [DelayResult] = []
        for (i, fraction) in spec.pruning.enumerated() {
            var p = detector.pruned(fraction: fraction)
            p.calibrate(d.train.map { $0.raster }, rate: d.rates, from: d.from)
            for model in spec.models where model != .chipFloat {
                let start = Date()
                var r = try evaluate(p, model: model, data: d, seed: seed, spec: spec)
                r.dataset = dataset
                r.pruned = fraction
                r.seconds = Date().timeIntervalSince(start)
                hooks.log(String(format: "%@ pruned %.3f %@: %.4f (%d weights)", label, fraction, model.rawValue, r.score, r.weights))
                results.append(r)
            }
            hooks.progress(label + " pruning", i + 1, spec.pruning.count)
        }
        return results
    }

    /// The detector's firing on every test sample in float (V > theta) or on the chip (spikes of `det`), scored.
    static func evaluate(_ p: DelayDetector, model: ModelKind, data d: Data, seed: UInt64, spec: DelaySpec) throws -> DelayResult {
        var r = DelayResult(dataset: .motifs, seed: seed, pruned: 0, model: model, score: 0, weights: p.nonZeroWeights)
        var fired: [[[Int]]]
        if model == .software {
            fired = d.test.map { p.firing($0.raster) }
        } else {
            let g = p.graph(name: "hd-snn", timesteps: d.steps)
            let compiled = try Compiler.compile(g, target: spec.target, options: CompileOptions(replicateMacros: true, seed: seed, skipZeroRows: true))
            let chip = try Chip(program: compiled.program, target: spec.target, seed: seed)
            let binding = try InputBinding(program: compiled.program, channels: p.channels, file: "<\(d.loss == .binary ? "motifs" : "textures")>")
            let engine = FastEngine(chip: chip)
            var energy = 0.0, driven: Int64 = 0
            fired = []
            for (i, s) in d.test.enumerated() {
                let res = engine.run(s.raster, index: i, binding: binding)
                var perNeuron = [[Int]](repeating: [], count: p.neurons)
                for (t, row) in res.spikeTrains("det", steps: d.steps).enumerated() { for n in row { perNeuron[Int(n)].append(t) } }
                fired.append(perNeuron)
                energy += CostModel.report(counters: res.counters, program: compiled.program, target: spec.target, samples: 1).perSamplePJ
                driven += res.counters.wlActivations
            }
            let n = Double(max(1, d.test.count))
            r.energyPerSamplePJ = energy / n
            r.rowsDrivenPerStep = Double(driven) / (n * Double(d.steps))
            r.rows = compiled.stats.tiles.reduce(0) { $0 + $1.rowsUsed } / max(1, Set(compiled.stats.tiles.map { $0.neurons }).count)
            r.arrays = compiled.program.arrays.count
        }
        if d.loss == .binary {
            var hits = 0, truth = 0, detections = 0
            for (s, f) in zip(d.test, fired) {
                for k in 0..<d.classes {
                    let ends = Set(s.events[k])
                    hits += f[k].filter { ends.contains($0) }.count
                    truth += ends.count
                    detections += f[k].count
                }
            }
            r.score = Double(hits) / Double(max(1, truth))
            r.precision = Double(hits) / Double(max(1, detections))
        } else {
            // The direction with the most spikes over the steps from `from` on, summed over the positions.
            let correct = zip(d.test, fired).filter { s, f in
                var counts = [Int](repeating: 0, count: d.classes)
                for (i, steps) in f.enumerated() { counts[i % d.classes] += steps.filter { $0 >= d.from }.count }
                return counts.firstIndex(of: counts.max()!)! == s.label
            }.count
            r.score = Double(correct) / Double(max(1, d.test.count))
        }
        return r
    }
}

extension DelayExperiment {
    /// The `--quick` variant for tests: seed 1, 32 channels x 4 motifs x 15 delays in 400-step trials (24 + 4), 8 x 8
    /// textures in 4 directions over 24 steps (96 + 32 samples), pruning 0 and 0.9.
    public static func quick(_ spec: inout DelaySpec) {
        spec.seeds = [1]
        spec.motifs.channels = 32
        spec.motifs.motifs = 4
        spec.motifs.delays = 15
        spec.motifs.steps = 400
        spec.motifs.onsetRate = 0.004
        spec.motifTrain = 24
        spec.motifTest = 4
        spec.textures.side = 8
        spec.textures.directions = 4
        spec.textures.steps = 24
        spec.textureDelays = 4
        spec.textureTrain = 96
        spec.textureTest = 32
        spec.pruning = [0, 0.9]
    }
}
