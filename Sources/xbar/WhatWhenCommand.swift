import ArgumentParser
import Foundation
import XbarCore
import XbarLearn
import XbarTarget

/// Options of `--config izhikevich-what-when`.
struct WhatWhenArgs: ParsableArguments {
    @Option(help: "izhikevich-what-when: p(A) of the learning runs (comma-separated; the last run also switches t_A).") var probabilities = "0.2,0.5,0.8"
    @Option(help: "izhikevich-what-when: trials per learning block.") var learnTrials = 100
    @Option(help: "izhikevich-what-when: test trials (cue only, learning off).") var testTrials = 20
}

extension ExperimentCommand.Run {
    /// `--config izhikevich-what-when` (docs/experiment.md, "What and when").
    func runWhatWhen(err: @escaping @Sendable (String) -> Void) throws {
        let start = Date()
        let t = try TargetLoader.resolve(target ?? "rram-plastic-130nm", searchDirs: targetSearchDirs())
        let a = whatWhen
        var spec = WhatWhenSpec(target: t, seeds: plastic.quick ? [1] : seedList)
        spec.probabilities = try list(a.probabilities, "--probabilities") { Double($0).flatMap { (0...1).contains($0) ? $0 : nil } }
        guard (10...100_000).contains(a.learnTrials) else { throw XbarError(file: "<command line>", field: "--learn-trials", "expected 10 ... 100000, found \(a.learnTrials)") }
        guard (1...10_000).contains(a.testTrials) else { throw XbarError(file: "<command line>", field: "--test-trials", "expected 1 ... 10000, found \(a.testTrials)") }
        spec.learnTrials = a.learnTrials
        spec.testTrials = a.testTrials
        spec.threads = threads
        spec.models = (modelList ?? [.software, .chip]).filter { $0 != .chipFloat }
        if plastic.quick {
            spec.probabilities = [0.2, 0.8]
            spec.learnTrials = 60
            spec.testTrials = 10
        }
        var hooks = ExperimentHooks()
        let bars = ProgressBars()
        hooks.progress = { label, done, total in bars.update(label, done, total) }
        hooks.log = err
        let results = try WhatWhenExperiment.run(spec, hooks: hooks)
        let seconds = Date().timeIntervalSince(start)
        let r = spec.network.reservoir
        let header = String(format: "What and when on %@: %d + %d Izhikevich neurons, readout pools of %d, t_A %d, t_B %d (then t_A %d), %d learning trials per block, %d test trials; seeds %@; %.0f s",
                            t.name, r.excitatory, r.inhibitory, spec.network.pool, spec.latencyA, spec.latencyB, spec.switchLatencyA,
                            spec.learnTrials, spec.testTrials, spec.seeds.map { "\($0)" }.joined(separator: ","), seconds)
        let table = WhatWhenReport.table(results, header: header)
        if let dir = out {
            let meta: [(String, JSONValue)] = [("command", .string(CommandLine.arguments.dropFirst().joined(separator: " "))),
                                               ("target", .string(t.name)), ("seconds", .double(seconds))]
            let svg = WhatWhenReport.responseSVG(results, pA: spec.probabilities.last!, subtitle: "\(t.name), mean over seeds; solid: software, dashed: chip")
            try ExperimentOutput.write(to: dir, table: table, json: WhatWhenReport.json(results, meta: meta), extra: [("response.svg", svg)])
        }
        print(table)
    }
}
