import ArgumentParser
import Foundation
import XbarCompiler
import XbarCore
import XbarCost
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarTarget

/// Options shared by `run` and `emulate`.
struct EngineOptions: ParsableArguments {
    @Option(help: "Engine: fast (native, event-driven), exact (GMP oracle, reports saturations) or cycle (steps every clock cycle).")
    var engine: EngineKind = .fast
    @Option(help: "Seed of the chip instance (device randomness).") var seed: UInt64 = 1
    @Option(help: "Threads (0 = OMP_NUM_THREADS or all cores).") var threads: Int = 0
    @Option(help: "Run only the first N samples of the input.") var samples: Int?
    @Flag(help: "Print the report as JSON (deterministic except the `timing` object).") var json = false
    @Option(help: "Write the spike raster of every sample as CSV (sample,population,step,neuron).") var raster: String?
    @Option(help: "Write the JSON report to this file as well.") var jsonOut: String?
    @Option(help: "Extra report sections in the table: energy (per component, per sample and per step, latency, TOPS/W, area).")
    var report: [ReportSection] = []
    @Option(help: "Write Accelergy-style action counts (YAML) to this file.") var actions: String?
    @Option(help: "Seconds since programming at which the chip is read (relaxation; default: the target's drift.age_s).")
    var age: Double?
    @Flag(help: "Read the programmed conductances exactly (no device effects), whatever the target says.")
    var idealDevice = false
    @Option(help: "A plastic program (with stdp ops): write the learned program (IR, its cells as the run left them) to this file; a later run continues from it.")
    var learned: String?
    @Flag(help: "Also run the same program on an ideal chip and compare spike statistics side by side.")
    var compareIdeal = false
    @OptionGroup(title: "Pictures") var plots: PlotOptions
}

extension EngineKind: ExpressibleByArgument {}

/// Optional sections of the table report.
enum ReportSection: String, ExpressibleByArgument, CaseIterable {
    case energy
}

/// `xbar run PROG --input EVENTS`
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a compiled IR program on event input.")

    @Argument(help: "IR program file.") var program: String
    @Option(name: .shortAndLong, help: "Event input (.xev).") var input: String
    @Option(name: .shortAndLong, help: "Target whose device physics the chip has (default: the program's target, from targets/).")
    var target: String?
    @Option(help: "The placement file `compile --placement -o PROG` wrote (PROG.placement.json): the input events are in graph order and are moved to the program's physical channels.")
    var placement: String?
    @OptionGroup var engineOptions: EngineOptions

    func run() throws {
        try reportingErrors {
            let p = try ProgramFile.read(program)
            try IRVerifier.verify(p, file: program)
            let t = try TargetLoader.resolve(target ?? p.target, searchDirs: targetSearchDirs())
            var map: [Int]?
            if let f = placement {
                var sizes: [String: Int] = [:]
                for i in p.inputs { sizes[i.name] = i.size }
                for n in p.neurons { sizes[n.name] = n.size }
                map = try Placement.read(f, sizes: sizes).inputChannelMap(inputs: p.inputs.map { ($0.name, $0.size) })
            }
            try Emulation.execute(program: p, target: t, inputPath: input, options: engineOptions, stats: nil, channelMap: map)
        }
    }
}

/// `xbar emulate GRAPH [--input EVENTS]`: compile and run; without --input, the graph's bundled example.
struct EmulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "emulate", abstract: "Compile a graph and run it on event input (default: its bundled example).")

    @Argument(help: "Graph JSON file, or a .nir file (imported with --dt/--reset, docs/nir.md).") var graph: String
    @Option(name: .shortAndLong, help: "Event input (.xev); default: the graph's example_input.") var input: String?
    @OptionGroup var targetOptions: TargetOptions
    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup(title: "NIR input") var nir: NIRImportFlags

    func run() throws {
        try reportingErrors {
            // A .nir graph takes its timesteps from the input: read it first, once.
            let given = GraphInput.isNIR(graph) ? try input.map { try EventFile.read($0) } : nil
            let g = try GraphInput.load(graph, nir: nir, defaultTimesteps: given?.timesteps ?? 100)
            let t = try targetOptions.load()
            let c = try Compiler.compile(g, target: t, options: targetOptions.compileOptions(seed: engineOptions.seed), file: graph)
            var path = input
            if path == nil, let ex = g.exampleInput {
                path = URL(fileURLWithPath: graph).deletingLastPathComponent().appendingPathComponent(ex).path
            }
            guard let inputPath = path else {
                throw XbarError(file: graph, field: "example_input", "no --input given and the graph has no example_input")
            }
            try Emulation.execute(program: c.program, target: t, inputPath: inputPath, data: given, options: engineOptions,
                                  stats: c.stats, channelMap: c.stats.placement.isIdentity ? nil : c.stats.placement.inputChannelMap(g))
        }
    }
}

/// Loads input, runs, prints the report.
enum Emulation {
    /// `data` is the input already read from `inputPath`, if the caller has it.
    static func execute(program p: Program, target: Target, inputPath: String, data given: EventDataset? = nil,
                        options o: EngineOptions, stats: CompileStats?, channelMap: [Int]? = nil) throws {
        var data = try given ?? EventFile.read(inputPath)
        // A placed program's inputs are in physical order (docs/compiler.md, "Placement").
        if let m = channelMap, m.count == data.channels { data = data.remapped(channels: m) }
        if let n = o.samples {
            guard n >= 1 else { throw XbarError(file: "<command line>", field: "--samples", "expected >= 1") }
            data.samples = Array(data.samples.prefix(n))
        }
        let chip = o.idealDevice ? Chip(program: p, seed: o.seed, timing: target.timing)
            : try Chip(program: p, target: target, seed: o.seed, ageS: o.age)
        try o.plots.validate(program: p, samples: data.samples.count)
        // Traces only for the membrane picture, and only of its samples.
        let traced = o.plots.wantsTraces ? Set(try o.plots.samples(count: data.samples.count)) : nil
        let runner = Runner(chip: chip, engine: o.engine,
                            options: RunOptions(seed: o.seed, threads: o.threads, trace: traced != nil, traceSamples: traced))
        let outcome = try runner.run(data, file: inputPath, progress: progressLine("emulating"))
        var report = EmulationReport.json(program: p, input: inputPath, data: data, outcome: outcome, options: o, chip: chip, target: target)
        var comparison: SpikeComparison? = nil
        if o.compareIdeal {
            let ideal = try Runner(chip: Chip(program: p, seed: o.seed, timing: target.timing), engine: o.engine, options: RunOptions(seed: o.seed, threads: o.threads))
                .run(data, file: inputPath, progress: progressLine("ideal chip"))
            let cmp = SpikeComparison(program: p, data: data, ideal: ideal, device: outcome)
            comparison = cmp
            report = report.inserting(("comparison_with_ideal", cmp.json), before: "per_sample")
        }
        var learning: LearningReport? = nil
        if let state = outcome.learned {
            let l = LearningReport(counters: outcome.totals.learning, state: state, target: target, program: p)
            learning = l
            report = report.inserting(("learning", l.json), before: "per_sample")
            if let path = o.learned { try AtomicFile.write(IRPrinter.print(state.learnedProgram(p)), to: path) }
        } else if o.learned != nil {
            throw XbarError(file: "<command line>", field: "--learned", "program \"\(p.name)\" has no stdp op: nothing is learned")
        }
        let cost = CostModel.report(counters: outcome.totals, program: p, target: target, samples: outcome.samples.count,
                                    programmingPulses: chip.programmingPulses)
        report = report.inserting(("energy", EnergyReport.json(cost)), before: "per_sample")
        if let a = o.actions {
            try AtomicFile.write(AccelergyExport.yaml(counters: outcome.totals, program: p, target: target, samples: outcome.samples.count), to: a)
        }
        if let r = o.jsonOut { try AtomicFile.write(report.serialized() + "\n", to: r) }
        if let r = o.raster { try AtomicFile.write(EmulationReport.rasterCSV(outcome), to: r) }
        try o.plots.write(program: p, data: data, outcome: outcome, engine: o.engine.rawValue)
        if o.json {
            print(report.serialized())
        } else {
            print(EmulationReport.table(program: p, input: inputPath, data: data, outcome: outcome, options: o, stats: stats, chip: chip,
                                        target: target))
            if let l = learning { print("\n" + l.table, terminator: "") }
            if o.report.contains(.energy) { print("\n" + EnergyReport.table(cost, target: target)) }
            if let c = comparison { print("\n" + c.table) }
        }
    }
}
