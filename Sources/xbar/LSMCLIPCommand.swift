import ArgumentParser
import Foundation
import XbarCore
import XbarEvents
import XbarLearn
import XbarNIR
import XbarTarget

/// Options of `--config lsm-clip`.
struct LSMCLIPArgs: ParsableArguments {
    @Option(help: "lsm-clip: projection dimensions (comma-separated).") var dims = "64,128"
    @Option(help: "lsm-clip: training epochs of the heads.") var epochs = 100
    @Option(help: "lsm-clip: InfoNCE temperature.") var temperature = 0.2
    @Option(help: "lsm-clip: audio from this N-TIDIGITS .hdf5 file (single-digit utterances 1-9) instead of the synthesised spoken digits.")
    var ntidigits: String?
}

extension ExperimentCommand.Run {
    /// `--config lsm-clip` (docs/experiment.md, "LSM-CLIP").
    func runLSMCLIP(images: LabelledSet, err: @escaping @Sendable (String) -> Void) throws {
        let start = Date()
        let t = try TargetLoader.resolve(target ?? "rram-40nm-256kb", searchDirs: targetSearchDirs())
        var spec = LSMCLIPSpec(target: t, seeds: plastic.quick ? [1] : seedList)
        spec.dims = try list(lsmClip.dims, "--dims") { Int($0).flatMap { (1...1024).contains($0) ? $0 : nil } }
        guard (1...10_000).contains(lsmClip.epochs) else { throw XbarError(file: "<command line>", field: "--epochs", "expected 1 ... 10000, found \(lsmClip.epochs)") }
        guard lsmClip.temperature > 0 && lsmClip.temperature <= 100 else { throw XbarError(file: "<command line>", field: "--temperature", "expected (0, 100], found \(lsmClip.temperature)") }
        spec.epochs = lsmClip.epochs
        spec.temperature = lsmClip.temperature
        spec.threads = threads
        spec.models = (modelList ?? [.software, .chip]).filter { $0 != .chipFloat }
        if plastic.quick { LSMCLIPExperiment.quick(&spec) }
        var hooks = ExperimentHooks()
        let bars = ProgressBars()
        hooks.progress = { label, done, total in bars.update(label, done, total) }
        hooks.log = err
        let digits = Set(spec.seen + spec.unseen)
        let audio = try lsmClip.ntidigits.map {
            LSMCLIPData.audio(try NTIDIGITSReader.read(path: $0, worker: IsolatedWorker.currentExecutable), digits: digits, channels: spec.cochlea.channels,
                              timesteps: spec.audio.timesteps)
        } ?? LSMCLIPData.audio(spec.speech, cochlea: spec.cochlea, digits: digits.sorted(), timesteps: spec.audio.timesteps,
                               threads: threads, progress: progressLine("synthesising spoken digits"))
        let data = LSMCLIPData(image: LSMCLIPData.only(images, digits), audio: audio)
        let results = try LSMCLIPExperiment.run(spec, data: data, hooks: hooks)
        let seconds = Date().timeIntervalSince(start)
        let pairs = LSMCLIPExperiment.pairCount(data, classes: spec.seen)
        let header = String(format: "LSM-CLIP on %@: image LSM %d -> %d (%d steps), audio LSM %d -> %d (%d steps); %d image + %d audio training samples (%d seen-class pairs), %d + %d test; seeds %@; %.0f s",
                            t.name, spec.image.inputs, spec.image.neurons, spec.image.timesteps, spec.audio.inputs, spec.audio.neurons,
                            spec.audio.timesteps, data.image.train.count, data.audio.train.count, pairs, data.image.test.count,
                            data.audio.test.count, spec.seeds.map { "\($0)" }.joined(separator: ","), seconds)
        let table = LSMCLIPReport.table(results, spec: spec, pairs: pairs, encoderSamples: data.image.train.count + data.audio.train.count, header: header)
        if let dir = out {
            let meta: [(String, JSONValue)] = [("command", .string(CommandLine.arguments.dropFirst().joined(separator: " "))),
                                               ("target", .string(t.name)), ("seconds", .double(seconds))]
            try ExperimentOutput.write(to: dir, table: table, json: LSMCLIPReport.json(results, meta: meta))
        }
        print(table)
    }
}
