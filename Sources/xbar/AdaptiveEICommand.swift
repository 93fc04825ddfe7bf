import ArgumentParser
import Foundation
import XbarCore
import XbarLearn
import XbarTarget

/// Options of `--config adaptive-ei`.
struct AdaptiveArgs: ParsableArguments {
    @Option(help: "adaptive-ei: tasks (comma-separated): memory-capacity, narma10, mackey-glass.") var tasks = "memory-capacity,narma10,mackey-glass"
    @Option(help: "adaptive-ei: reservoirs (comma-separated): global, adapted, adapted-heterogeneous.") var reservoirs = "global,adapted,adapted-heterogeneous"
    @Option(help: "adaptive-ei: the global baseline's inhibition scales g (comma-separated).") var inhibitions = "0.5,0.75,1,1.25,1.5,2,3"
    @Option(help: "adaptive-ei: reservoir neurons (80% excitatory).") var neurons = 200
    @Option(help: "adaptive-ei: the adapted reservoirs' mean target rates (spikes per step, comma-separated; the best on validation is kept).") var targetRates = "0.1,0.2,0.3"
}

extension ExperimentCommand.Run {
    /// `--config adaptive-ei` (docs/experiment.md, "Adaptive E/I reservoir").
    func runAdaptive(err: @escaping @Sendable (String) -> Void) throws {
        let start = Date()
        let t = try TargetLoader.resolve(target ?? "rram-plastic-130nm", searchDirs: targetSearchDirs())
        let a = adaptive
        var spec = AdaptiveEISpec(target: t, seeds: plastic.quick ? [1] : seedList)
        spec.options.neurons = a.neurons
        spec.targetRates = try list(a.targetRates, "--target-rates") { Double($0).flatMap { $0 > 0 && $0 < 0.5 ? $0 : nil } }
        spec.tasks = try list(a.tasks, "--tasks") { TimeSeriesTask(rawValue: $0) }
        spec.conditions = try list(a.reservoirs, "--reservoirs") { AdaptiveReservoir.Adaptation(rawValue: $0) }
        spec.inhibitions = try list(a.inhibitions, "--inhibitions") { Double($0).flatMap { $0 > 0 && $0 <= 100 ? $0 : nil } }
        spec.threads = threads
        spec.models = (modelList ?? [.software, .chip]).filter { $0 != .chipFloat }
        if plastic.quick {
            (spec.washout, spec.trainLength, spec.testLength) = (100, 600, 300)
            spec.inhibitions = [1, 2]
            spec.targetRates = [0.1, 0.2]
            spec.adaptSequences = 1
            spec.maxDelay = 15
        }
        guard (10...100_000).contains(a.neurons) else { throw XbarError(file: "<command line>", field: "--neurons", "expected 10 ... 100000, found \(a.neurons)") }
        var hooks = ExperimentHooks()
        let bars = ProgressBars()
        hooks.progress = { label, done, total in bars.update(label, done, total) }
        hooks.log = err
        let results = try AdaptiveEIExperiment.run(spec, hooks: hooks)
        let seconds = Date().timeIntervalSince(start)
        let o = spec.options
        let header = String(format: "Adaptive E/I reservoir on %@: %d LIF neurons (%d E), in-degree %d, J %.1f, %d-bit DAC input; %d washout + %d train + %d test steps; seeds %@; %.0f s",
                            t.name, o.neurons, o.excitatory, o.inDegree, o.recurrentGain, o.dacBits, spec.washout, spec.trainLength,
                            spec.testLength, spec.seeds.map { "\($0)" }.joined(separator: ","), seconds)
        let table = AdaptiveReport.table(results, header: header)
        if let dir = out {
            let meta: [(String, JSONValue)] = [("command", .string(CommandLine.arguments.dropFirst().joined(separator: " "))),
                                               ("target", .string(t.name)), ("seconds", .double(seconds))]
            let svg = results.contains { $0.task == .memory }
                ? [("memory-capacity.svg", AdaptiveReport.memorySVG(results, subtitle: "\(t.name), seeds \(spec.seeds.map { "\($0)" }.joined(separator: ",")); solid: software, dashed: chip"))]
                : []
            try ExperimentOutput.write(to: dir, table: table, json: AdaptiveReport.json(results, meta: meta), extra: svg)
        }
        print(table)
    }

    func list<T>(_ s: String, _ field: String, _ parse: (String) -> T?) throws -> [T] {
        let v = try s.split(separator: ",").map { x -> T in
            let w = x.trimmingCharacters(in: .whitespaces)
            guard let t = parse(w) else { throw XbarError(file: "<command line>", field: field, "unknown or invalid value \"\(w)\"") }
            return t
        }
        guard !v.isEmpty else { throw XbarError(file: "<command line>", field: field, "give at least one value") }
        return v
    }
}
