import ArgumentParser
import Foundation
import XbarCore
import XbarLearn
import XbarTarget

/// Options of `--config hd-snn`.
struct DelayArgs: ParsableArguments {
    @Option(help: "hd-snn: data sets (comma-separated): motifs, textures.") var datasets = "motifs,textures"
    @Option(help: "hd-snn: fractions of the weights pruned (comma-separated, 0 ... 0.999).") var pruning = "0,0.5,0.8,0.9,0.95,0.98,0.99"
}

extension ExperimentCommand.Run {
    /// `--config hd-snn` (docs/experiment.md, "Heterogeneous delays").
    func runDelays(err: @escaping @Sendable (String) -> Void) throws {
        let start = Date()
        let t = try TargetLoader.resolve(target ?? "neurram-130nm", searchDirs: targetSearchDirs())
        var spec = DelaySpec(target: t, seeds: plastic.quick ? [1] : seedList)
        spec.datasets = try list(delays.datasets, "--datasets") { DelayDataset(rawValue: $0) }
        spec.pruning = try list(delays.pruning, "--pruning") { Double($0).flatMap { (0...0.999).contains($0) ? $0 : nil } }
        spec.threads = threads
        spec.models = (modelList ?? [.software, .chip]).filter { $0 != .chipFloat }
        if plastic.quick { DelayExperiment.quick(&spec) }
        var hooks = ExperimentHooks()
        let bars = ProgressBars()
        hooks.progress = { label, done, total in bars.update(label, done, total) }
        hooks.log = err
        let results = try DelayExperiment.run(spec, hooks: hooks)
        let seconds = Date().timeIntervalSince(start)
        let header = String(format: "Heterogeneous delays on %@: seeds %@; %.0f s", t.name, spec.seeds.map { "\($0)" }.joined(separator: ","), seconds)
        let table = DelayReport.table(results, spec: spec, header: header)
        if let dir = out {
            let meta: [(String, JSONValue)] = [("command", .string(CommandLine.arguments.dropFirst().joined(separator: " "))),
                                               ("target", .string(t.name)), ("seconds", .double(seconds))]
            try ExperimentOutput.write(to: dir, table: table, json: DelayReport.json(results, meta: meta),
                                       extra: [("pruning.svg", DelayReport.pruningSVG(results, subtitle: "\(t.name), mean over seeds; solid: software, dashed: chip"))])
        }
        print(table)
    }
}
