import ArgumentParser
import Foundation
import XbarCompiler
import XbarCore
import XbarEvents
import XbarGraph
import XbarLearn
import XbarTarget

/// `xbar experiment`: the software-vs-chip LSM classification experiment (docs/experiment.md).
struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Train and evaluate an LSM readout in software and on emulated chip instances (docs/experiment.md).",
        subcommands: [Run.self, MakeDigitsNMNIST.self],
        defaultSubcommand: Run.self)

    /// Options of the saccade conversion of the digits.
    struct SaccadeArgs: ParsableArguments {
        @Option(help: "Digits CSV converted by simulated saccades.") var csv = "examples/digits/digits.csv"
        @Option(help: "Seed of the saccade conversion (thresholds, jitter, noise).") var saccadeSeed: UInt64 = 1
        @Option(help: "Seed of the fixed train/test split of the digits (20% test).") var splitSeed: UInt64 = 1
        @Option(help: "Sensor pixels per digit pixel.") var scale: Double = 2.0
        @Option(help: "Saccade triangle side in pixels.") var amplitude: Double = 3.0
        @Option(help: "Log-intensity contrast threshold of a pixel.") var contrast: Double = 0.25
        @Option(help: "Background-activity noise events per pixel per second.") var noiseHz: Double = 1.0

        var options: SaccadeOptions {
            var o = SaccadeOptions()
            o.seed = saccadeSeed
            o.scale = scale
            o.amplitude = amplitude
            o.contrast = contrast
            o.noiseHz = noiseHz
            return o
        }

        func validate() throws {
            guard scale > 0 && scale <= 4 else { throw ValidationError("--scale must be in (0, 4]") }
            guard amplitude >= 0 && amplitude <= 10 else { throw ValidationError("--amplitude must be in 0...10") }
            guard contrast > 0.01 && contrast < 10 else { throw ValidationError("--contrast must be in (0.01, 10)") }
            guard noiseHz >= 0 && noiseHz <= 1000 else { throw ValidationError("--noise-hz must be in 0...1000") }
        }

        func recordings(threads: Int) throws -> [LabelledRecording] {
            let rows = try Digits.loadCSV(csv)
            return DigitsEvents.recordings(rows, options: options, splitSeed: splitSeed, threads: threads,
                                           progress: progressLine("converting digits"))
        }
    }

    enum Config: String, ExpressibleByArgument, CaseIterable {
        case paper, nalsm
        /// NALSM with astrocyte-modulated STDP: plain LSM, LSM + STDP and NALSM, learning in software and on the chip.
        case nalsmStdp = "nalsm-stdp"
        /// Adaptive E/I balance: a spiking E/I reservoir globally tuned vs adapted on the chip (time-series tasks).
        case adaptiveEI = "adaptive-ei"
        /// A heterogeneous Izhikevich reservoir whose readout learns cue -> event timing and probability online (in
        /// progress: the readout does not learn the paradigm yet; docs/experiment.md).
        case izhikevichWhatWhen = "izhikevich-what-when"
        /// Heterogeneous synaptic delays (HD-SNN): spiking motifs and moving-texture directions, pruned, on the chip.
        case hdSnn = "hd-snn"
        /// Zero-shot multimodal learning: image and audio LSM encoders (software or chip) with contrastive heads.
        case lsmClip = "lsm-clip"
    }

    enum FeatureScaling: String, ExpressibleByArgument, CaseIterable {
        case perNeuron = "per-neuron", common
    }

    enum BadFileChoice: String, ExpressibleByArgument, CaseIterable {
        case skip, stop
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Software LSM vs chip instances: accuracy, confusion, ops per sample (mean +- std over seeds).")

        @Option(help: "Events: `digits` (the digits by simulated saccades, in memory, as make-digits-nmnist writes them), `digits-rate` (rate-coded digits: first 1597 train, last 200 test, as examples/digits/digits-test.xev), or an N-MNIST folder (Train/<label>/*.bin, Test/<label>/*.bin).")
        var data = "digits"
        @Option(help: "LSM: paper (256 -> 200, 16x16 centre crop, ON events), nalsm (2312 -> 1000 3-D reservoir, 34x34 x 2 polarities) nalsm-stdp (that liquid plain, with STDP and with astrocyte-modulated STDP, learning on the chip) or adaptive-ei (a spiking E/I reservoir on time-series tasks, globally tuned vs adapted on the chip); docs/experiment.md.")
        var config: Config = .paper
        @Option(help: "Use this graph JSON as the LSM instead of --config (its input size sets the crop: 256 = centre16 ON, 2312 = full field both polarities, 1156 = full ON).")
        var graph: String?
        @Option(name: .shortAndLong, help: "Target (default: rram-40nm-256kb for paper, neurram-130nm for nalsm).")
        var target: String?
        @Option(help: "Chip instances (comma-separated seeds).") var seeds = "1,2,3,4,5"
        @Option(help: "Models (comma-separated): software, chip-float, chip.") var models = "software,chip-float,chip"
        @Option(help: "Input weight gain (std of the Gaussian input weights; default: the config's).") var inputGain: Double?
        @Option(help: "Recurrent weight gain (default: the config's).") var recurrentGain: Double?
        @Option(help: "Input connection density (default: the config's).") var inputDensity: Double?
        @Option(help: "Recurrent connection density (paper config; default 1).") var recurrentDensity: Double?
        @Option(name: .customLong("timesteps"), help: "Timesteps per sample (default: 50, or the --graph's).")
        var timestepsOption: Int?
        @Option(help: "Recording length mapped onto the timesteps, microseconds (default: each recording's last timestamp + 1).")
        var durationUS: UInt32?
        @Option(help: "Fraction of the training split held out to choose the ridge penalty.") var validationFraction = 0.2
        @Option(help: "Seed of the validation split.") var validationSeed: UInt64 = 1
        @Option(help: "Readout feature scaling before ridge: per-neuron (unit variance) or common (one factor for all).")
        var featureScaling: FeatureScaling = .common
        @Option(help: "Candidate weight clips before int quantisation, fractions of max |w| (chosen on validation).")
        var clips = "1"
        @Option(help: "A corrupt or truncated .bin file: skip (warn, leave it out, count) or stop (error naming it).")
        var onBadFile: BadFileChoice = .skip
        @Option(help: "Use at most N training samples (evenly spaced), for quick runs.") var trainMax: Int?
        @Option(help: "Use at most N test samples (evenly spaced).") var testMax: Int?
        @Option(help: "Threads (0 = OMP_NUM_THREADS or all cores).") var threads = 0
        @Flag(help: "Allow more macros than the target has.") var replicateMacros = false
        @Option(help: "Compiler placement of the chip models: identity, spatial or metis (docs/compiler.md).") var placement: PlacementMode = .identity
        @Option(help: "Write results.json, results.md and confusion CSVs here (results.json is rewritten after every model).")
        var out: String?
        @Option(help: "Write the graph with the readout trained on chip instance --export-seed here.") var exportGraph: String?
        @Option(help: "Chip instance whose readout --export-graph writes.") var exportSeed: UInt64?
        @Option(help: "example_input written into the exported graph.") var exampleInput: String?
        @OptionGroup var saccades: SaccadeArgs
        @OptionGroup var plastic: PlasticArgs
        @OptionGroup var adaptive: AdaptiveArgs
        @OptionGroup var whatWhen: WhatWhenArgs
        @OptionGroup var delays: DelayArgs
        @OptionGroup var lsmClip: LSMCLIPArgs

        func validate() throws {
            if let t = timestepsOption { guard t >= 1 && t <= 10_000 else { throw ValidationError("--timesteps must be in 1...10000") } }
            guard validationFraction > 0 && validationFraction < 1 else { throw ValidationError("--validation-fraction must be in (0, 1)") }
            guard !seedList.isEmpty else { throw ValidationError("--seeds: give comma-separated non-negative integers") }
            guard modelList != nil else { throw ValidationError("--models: comma-separated from software, chip-float, chip") }
            if exportGraph != nil { guard modelList!.contains(.chip) else { throw ValidationError("--export-graph needs the chip model") } }
        }

        var clipList: [Double] { clips.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 && $0 <= 1 } }
        /// Steps per sample: --timesteps, else the --graph's, else 50 (set by `run` before the graph is built).
        var timesteps: Int { timestepsOption ?? loadedGraphSteps ?? 50 }
        var loadedGraphSteps: Int? { graph.flatMap { try? GraphJSON.load($0).timesteps } }
        var seedList: [UInt64] { seeds.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) } }
        var modelList: [ModelKind]? {
            let m = models.split(separator: ",").map { ModelKind(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
            return m.contains(where: { $0 == nil }) || m.isEmpty ? nil : m.map { $0! }
        }

        func buildGraph() throws -> Graph {
            if let path = graph { return try GraphJSON.load(path) }
            switch config {
            case .paper, .lsmClip:
                var o = ExperimentConfigs.paper
                o.timesteps = timesteps
                if let v = inputGain { o.inputGain = v }
                if let v = recurrentGain { o.recurrentGain = v }
                if let v = inputDensity { o.inputDensity = v }
                if let v = recurrentDensity { o.recurrentDensity = v }
                return LSMBuilder.paper(o)
            case .nalsm, .nalsmStdp, .adaptiveEI, .izhikevichWhatWhen, .hdSnn:
                var o = ExperimentConfigs.nalsm
                o.timesteps = timesteps
                if let v = inputGain { o.inputGain = v }
                if let v = recurrentGain { o.recurrentGain = v }
                if let v = inputDensity { o.inputDensity = v }
                return LSMBuilder.nalsm(o)
            }
        }

        func binOptions(inputs: Int) throws -> BinOptions {
            var b = BinOptions()
            b.timesteps = timesteps
            b.durationUS = durationUS
            switch inputs {
            case 256: b.crop = Crop.paperCentre16; b.polarity = .on
            case 1156: b.crop = nil; b.polarity = .on
            case 2312: b.crop = nil; b.polarity = .both
            case 512: b.crop = Crop.paperCentre16; b.polarity = .both
            default:
                throw XbarError(file: graph ?? "<config>", field: "populations",
                                "\(inputs) input channels: N-MNIST events give 256 (16x16 centre, ON), 512 (centre, both), 1156 (34x34, ON) or 2312 (34x34, both)")
            }
            return b
        }

        func loadData(inputs: Int, err: @escaping @Sendable (String) -> Void) throws -> LabelledSet {
            switch data {
            case "digits":
                return LabelledSet.binning(try saccades.recordings(threads: threads), try binOptions(inputs: inputs))
            case "digits-rate":
                guard inputs == 256 else {
                    throw XbarError(file: "<command line>", field: "--data", "digits-rate gives 256 channels; the LSM has \(inputs) inputs")
                }
                let rows = try Digits.loadCSV(saccades.csv)
                let nTest = min(200, rows.count / 2)
                let tr = Digits.encode(rows, indices: 0..<(rows.count - nTest), seed: 1, timesteps: timesteps)
                let te = Digits.encode(rows, indices: (rows.count - nTest)..<rows.count, seed: 1, timesteps: timesteps)
                return LabelledSet(channels: 256, timesteps: timesteps, train: tr.samples, test: te.samples,
                                   trainNames: (0..<tr.samples.count).map { "row \($0)" },
                                   testNames: (0..<te.samples.count).map { "row \(rows.count - nTest + $0)" })
            default:
                let set = try NMNISTFolder.load(data, bin: try binOptions(inputs: inputs),
                                                onBadFile: onBadFile == .skip ? .skip : .stop, threads: threads, warn: err,
                                                progress: progressLine("reading \(data)"))
                if !set.badFiles.isEmpty {
                    err("warning: \(set.badFiles.count) bad file\(set.badFiles.count == 1 ? "" : "s") skipped (see above)")
                }
                return set
            }
        }

        func run() throws {
            try reportingErrors {
                let start = Date()
                let err: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
                if config == .adaptiveEI { return try runAdaptive(err: err) }
                if config == .izhikevichWhatWhen { return try runWhatWhen(err: err) }
                if config == .hdSnn { return try runDelays(err: err) }
                var g = try buildGraph()
                let inputs = g.populations.filter { $0.kind == .input }.reduce(0) { $0 + $1.size }
                g.timesteps = timesteps
                let tname = target ?? (config == .nalsmStdp ? "rram-plastic-130nm"
                    : config == .nalsm && graph == nil ? "neurram-130nm" : "rram-40nm-256kb")
                let t = try TargetLoader.resolve(tname, searchDirs: targetSearchDirs())
                var set = try loadData(inputs: inputs, err: err).thinned(trainMax: trainMax, testMax: testMax)
                set.timesteps = timesteps
                let loaded = Date().timeIntervalSince(start)
                err(String(format: "data: %d train + %d test samples, %d channels x %d steps (%.1f s)", set.train.count, set.test.count,
                           set.channels, set.timesteps, loaded))
                if config == .nalsmStdp && graph == nil {
                    return try runPlastic(target: t, data: set, start: start, err: err)
                }
                if config == .lsmClip { return try runLSMCLIP(images: set, err: err) }
                var spec = ExperimentSpec(name: graph ?? config.rawValue, graph: g, target: t, seeds: seedList)
                spec.models = modelList!
                spec.validationFraction = validationFraction
                spec.splitSeed = validationSeed
                spec.trainer.standardise = featureScaling == .perNeuron
                spec.trainer.clips = clipList
                spec.threads = threads
                spec.replicateMacros = replicateMacros || (config == .nalsm && graph == nil)
                spec.placement = placement
                var hooks = ExperimentHooks()
                let bars = ProgressBars()
                hooks.progress = { label, done, total in bars.update(label, done, total) }
                hooks.log = err
                let meta = ExperimentReport.Meta(command: CommandLine.arguments.dropFirst().joined(separator: " "), data: data,
                                                 config: graph ?? config.rawValue, target: t.name, graph: g, set: set,
                                                 validationFraction: validationFraction, badFiles: set.badFiles.count)
                let outDir = out
                if let o = outDir {
                    try FileManager.default.createDirectory(atPath: o, withIntermediateDirectories: true)
                }
                hooks.checkpoint = { results in
                    if let o = outDir {
                        try ExperimentReport.write(meta: meta, results: results, seconds: Date().timeIntervalSince(start), to: o, final: false)
                    }
                }
                let results = try Experiment.run(spec, data: set, hooks: hooks)
                let seconds = Date().timeIntervalSince(start)
                if let o = outDir {
                    try ExperimentReport.write(meta: meta, results: results, seconds: seconds, to: o, final: true)
                }
                if let path = exportGraph {
                    let s = exportSeed ?? seedList[0]
                    guard let r = results.first(where: { $0.kind == .chip && $0.seed == s }) else {
                        throw XbarError(file: "<command line>", field: "--export-seed", "\(s) is not among --seeds")
                    }
                    var eg = spec.reseed ? Experiment.reseeded(g, seed: s) : g
                    eg.readout = Readout(from: eg.readout!.from, classes: r.readout.classes, weights: r.readout.weights,
                                         bias: r.readout.bias)
                    if let e = exampleInput { eg.exampleInput = e }
                    let text = GraphWriter.json(eg)
                    _ = try GraphJSON.parse(Data(text.utf8), file: path)
                    try AtomicFile.write(text, to: path)
                    err("wrote \(path): readout trained on chip instance \(s) (run it with xbar emulate --seed \(s))")
                }
                print(ExperimentReport.table(meta: meta, results: results, seconds: seconds))
            }
        }
    }

    struct MakeDigitsNMNIST: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "make-digits-nmnist",
            abstract: "Write the 8x8 digits as an N-MNIST-format folder (simulated saccades): OUT/Train|Test/<label>/NNNNN.bin.")

        @Option(help: "Output folder.") var out: String
        @Option(help: "Threads (0 = all cores).") var threads = 0
        @OptionGroup var saccades: SaccadeArgs

        func run() throws {
            try reportingErrors {
                let recs = try saccades.recordings(threads: threads)
                try NMNISTFolder.write(recs, to: out)
                let train = recs.filter { $0.split == .train }.count
                let events = recs.reduce(0) { $0 + $1.events.count }
                print("wrote \(out): \(train) Train + \(recs.count - train) Test recordings, \(events) events "
                      + String(format: "(%.0f per recording), digest %016llx", Double(events) / Double(max(1, recs.count)),
                               ExperimentReport.digest(recs)))
            }
        }
    }
}

/// Preset LSM configurations of the experiment (docs/experiment.md explains the choices).
enum ExperimentConfigs {
    /// The paper's LSM (256 -> 200, decay 0.9, threshold 5.0, 50 steps) with the gains tuned for the saccade digits.
    static var paper: LSMBuilder.PaperOptions {
        var o = LSMBuilder.PaperOptions()
        o.inputGain = 1.0
        o.recurrentGain = 0.25
        return o
    }

    /// NALSM-style 1000-neuron 3-D reservoir with 2312 inputs (34x34 x 2 polarities).
    static var nalsm: LSMBuilder.NALSMOptions {
        LSMBuilder.NALSMOptions()
    }
}

/// One progress line on stderr (terminals only) naming the running phase.
final class ProgressBars: @unchecked Sendable {
    private var current: (String, @Sendable (Int, Int) -> Void)? = nil
    private let lock = NSLock()

    func update(_ label: String, _ done: Int, _ total: Int) {
        lock.lock()
        if current?.0 != label { current = (label, progressLine(label)) }
        let f = current!.1
        lock.unlock()
        f(done, total)
    }
}

/// Options of `--config nalsm-stdp`.
struct PlasticArgs: ParsableArguments {
    @Option(help: "nalsm-stdp: training samples the plasticity runs over, in order, before the liquid is frozen.") var learnSamples = 100
    @Option(help: "nalsm-stdp: steps between two cell updates of a rule.") var every = 5
    @Option(help: "nalsm-stdp: the astrocyte's weight per spike (NALSM1000: 0.015).") var wAstro = 0.015
    @Option(help: "nalsm-stdp: liquids (comma-separated): lsm, lsm-stdp, nalsm.") var variants = "lsm,lsm-stdp,nalsm"
    @Flag(help: "nalsm-stdp: a small run (seeds 1,2; 300 train and 100 test samples; 30 learning samples) for tests; adaptive-ei: seed 1, 100 + 600 + 300 steps, g in 1, 2, target rates 0.15, 0.25, one adaptation sequence, 15 delays; hd-snn: seed 1, small motifs and textures, pruning 0 and 0.9.") var quick = false
}

extension ExperimentCommand.Run {
    /// `--config nalsm-stdp` (docs/experiment.md, "NALSM with astrocyte-modulated STDP").
    func runPlastic(target t: Target, data set0: LabelledSet, start: Date, err: @escaping @Sendable (String) -> Void) throws {
        var o = ExperimentConfigs.nalsm
        o.timesteps = timesteps
        if let v = inputGain { o.inputGain = v }
        if let v = recurrentGain { o.recurrentGain = v }
        if let v = inputDensity { o.inputDensity = v }
        let set = plastic.quick ? set0.thinned(trainMax: 300, testMax: 100) : set0
        var spec = PlasticExperimentSpec(options: o, target: t, seeds: plastic.quick ? [1, 2] : seedList)
        spec.learnSamples = plastic.quick ? 30 : plastic.learnSamples
        spec.every = plastic.every
        spec.wAstro = plastic.wAstro
        spec.variants = try plastic.variants.split(separator: ",").map { v in
            guard let x = LSMBuilder.NALSMLearning(rawValue: v.trimmingCharacters(in: .whitespaces)) else {
                throw XbarError(file: "<command line>", field: "--variants", "unknown liquid \"\(v)\" (expected lsm, lsm-stdp, nalsm)")
            }
            return x
        }
        spec.models = (modelList ?? [.software, .chip]).filter { $0 != .chipFloat }
        spec.validationFraction = validationFraction
        spec.splitSeed = validationSeed
        spec.trainer.standardise = featureScaling == .perNeuron
        spec.trainer.clips = clipList
        spec.threads = threads
        var hooks = ExperimentHooks()
        let bars = ProgressBars()
        hooks.progress = { label, done, total in bars.update(label, done, total) }
        hooks.log = err
        let results = try PlasticExperiment.run(spec, data: set, hooks: hooks)
        let seconds = Date().timeIntervalSince(start)
        let header = String(format: "NALSM with astrocyte-modulated STDP on %@: %d train + %d test samples (%@), %d learning samples, cells written every %d steps, %.0f s",
                            t.name, set.train.count, set.test.count, data, spec.learnSamples, spec.every, seconds)
        let table = PlasticReport.table(results, header: header)
        if let dir = out {
            let meta: [(String, JSONValue)] = [("command", .string(CommandLine.arguments.dropFirst().joined(separator: " "))),
                                               ("target", .string(t.name)), ("learn_samples", .int(Int64(spec.learnSamples))),
                                               ("every", .int(Int64(spec.every))), ("seconds", .double(seconds))]
            try ExperimentOutput.write(to: dir, table: table, json: PlasticReport.json(results, meta: meta))
        }
        print(table)
    }
}
