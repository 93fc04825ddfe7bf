import ArgumentParser
import Foundation
import XbarCompiler
import XbarCore
import XbarGraph
import XbarIR
import XbarTarget

/// Shared options naming a target and how to compile onto it.
struct TargetOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Target name (in targets/) or path to a target .toml.")
    var target: String = "rram-40nm-256kb"

    @Flag(help: "Allow the graph to use more macros than the target provides (reported in --stats).")
    var replicateMacros = false

    @Flag(help: "Leave out crossbar rows whose weights are all zero (pruned (source, delay) rows get no cells and are never driven).")
    var skipZeroRows = false

    @Option(name: .customLong("set"), help: ArgumentHelp("Change one target value, e.g. --set device.programming=write_verify (repeatable).", valueName: "TABLE.KEY=VALUE"))
    var overrides: [String] = []

    /// The compile options these flags ask for, with the chip seed `seed`.
    func compileOptions(seed: UInt64) -> CompileOptions {
        CompileOptions(replicateMacros: replicateMacros, seed: seed, skipZeroRows: skipZeroRows)
    }

    func load() throws -> Target { try TargetLoader.resolve(target, searchDirs: targetSearchDirs(), overrides: overrides) }
}

/// `xbar compile GRAPH --target T -o PROG`; `--passes` lists the pass pipeline, `--print-after PASS` prints the
/// program after one pass.
struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compile", abstract: "Compile a graph JSON to crossbar IR text.")

    @Argument(help: "Graph JSON file, or a .nir file (imported with --dt/--reset, docs/nir.md).") var graph: String?
    @OptionGroup var targetOptions: TargetOptions
    @OptionGroup(title: "NIR input") var nir: NIRImportFlags
    @Option(name: .shortAndLong, help: "Output IR file (default: stdout).") var output: String?
    @Flag(help: "Print tiles, utilisation and formats.") var stats = false
    @Option(help: "Chip instance whose cells are electroformed (forming targets).") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Print the program after this pass to stdout and stop (see --passes); -o and --stats are not written.", valueName: "PASS"))
    var printAfter: String?
    @Flag(help: "List the compiler's passes, one per line, and exit.") var passes = false

    func validate() throws {
        if graph == nil && !passes { throw ValidationError("Missing expected argument '<graph>'") }
    }

    func run() throws {
        try reportingErrors {
            if passes { return print(PassManager.standard.listing, terminator: "") }
            if let p = printAfter { _ = try PassManager.standard.pass(named: p) }
            let file = graph!
            let g = try GraphInput.load(file, nir: nir)
            let t = try targetOptions.load()
            let options = targetOptions.compileOptions(seed: seed)
            if let p = printAfter {
                return print(PipelineDump.text(try Compiler.state(after: p, g, target: t, options: options, file: file)), terminator: "")
            }
            let c = try Compiler.compile(g, target: t, options: options, file: file)
            let text = IRPrinter.print(c.program)
            if let o = output { try AtomicFile.write(text, to: o) } else if !stats { print(text, terminator: "") }
            if stats { print(StatsReport.text(c, target: t)) }
        }
    }
}

/// `xbar inspect PROG`: verify a program and summarise it.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Verify an IR program and summarise it.")

    @Argument(help: "IR program file.") var program: String
    @Flag(help: "Also print every op of the step block.") var ops = false

    func run() throws {
        try reportingErrors {
            let p = try IRParser.parse(try AtomicFile.readText(program), file: program)
            try IRVerifier.verify(p, file: program)
            print("program \"\(p.name)\"  IR version \(p.version)  target \"\(p.target)\"  timesteps \(p.timesteps)  (verified)")
            for i in p.inputs { print("  input  @\(i.name)  \(i.size) channels") }
            for n in p.neurons {
                print("  neuron @\(n.name)  \(n.size) x LIF  mem \(n.memType) \(n.memOverflow.rawValue)  decay \(n.decayMul)/2^\(n.decayShift) \(n.decayRounding.rawValue)  threshold \(n.threshold) (\(n.compare.rawValue))  reset \(n.reset.rawValue)  refractory \(n.refractory)  bias \(n.bias)")
            }
            for a in p.arrays {
                let used = a.codes.filter { $0 != a.codes.last }.count
                print("  array  %\(a.name)  macro \(a.macro) index \(a.index)  \(a.rows)x\(a.cols)  code \(a.codeType) x \(a.gUnitNS) nS  (\(used) cells differ from the fill code)")
            }
            for r in p.readouts { print("  readout @\(r.name) from @\(r.source)  \(r.classes) classes  weights \(r.weightType)  acc \(r.accType)") }
            var hist: [String: Int] = [:]
            for op in p.step { hist[op.kind.mnemonic, default: 0] += 1 }
            print("  step: \(p.step.count) ops (" + hist.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")")
            if ops { for op in p.step { print("    " + IRPrinter.opLine(op)) } }
        }
    }
}

/// Text for `--stats`.
enum StatsReport {
    static func text(_ c: Compiled, target t: Target) -> String {
        let s = c.stats
        var o = "target \(t.name): \(t.macro.count) macro(s) x \(t.macro.arrays) array(s) of \(t.macro.rows)x\(t.macro.cols)\n"
        o += "tiles: \(s.tiles.count) on \(s.macrosUsed) macro(s)" + (s.macrosUsed > t.macro.count ? " (replicated beyond the target's \(t.macro.count))" : "") + "\n"
        for tile in s.tiles {
            o += String(format: "  %@  macro %d array %d  rows %d  cols %d  neurons %d..<%d  utilisation %.1f%%\n",
                        tile.array, tile.macro, tile.index, tile.rowsUsed, tile.colsUsed, tile.neurons.lowerBound,
                        tile.neurons.upperBound, tile.utilisation * 100)
        }
        o += String(format: "cells used: %d of %d (%.1f%%)\n", s.cellsUsed, s.cellsTotal, 100 * Double(s.cellsUsed) / Double(max(s.cellsTotal, 1)))
        if let u = s.unformedFraction {
            o += String(format: "electroformed cells (seed-dependent): %.2f%% of used cells left unformed\n", 100 * u)
        } else {
            o += "conductance levels (codes of \(t.cell.gUnitNS) nS): \(s.conductanceCodes.map(String.init).joined(separator: " "))\n"
        }
        o += "ADC: \(t.adc.bits) bits, LSB \(s.adcLSBCodes) codes (\(Double(s.adcLSBCodes) * t.cell.gUnitNS / 1000) uS)\n"
        for f in s.formats where s.unformedFraction != nil {
            o += String(format: "population %@: real weight per uS of G+ - G- %.6g, membrane i%d with %d fraction bits, threshold %lld, bias %lld, decay %lld/2^%d\n",
                        f.population, f.weightScale, t.neuron.memBits, f.fracBits, f.threshold, f.bias, f.decayMul, f.decayShift)
        }
        for f in s.formats where s.unformedFraction == nil {
            o += String(format: "population %@: weight step %.6g (|q| <= %lld, max error %.3f%% of max|w|), membrane i%d with %d fraction bits, threshold %lld, bias %lld, decay %lld/2^%d\n",
                        f.population, f.weightScale, f.qMax, f.maxWeightError * 100, t.neuron.memBits, f.fracBits, f.threshold,
                        f.bias, f.decayMul, f.decayShift)
        }
        for f in s.formats {
            guard let y = f.synapse else { continue }
            o += "population \(f.population): synapse decay \(y.decayMul)/2^\(f.decayShift), bias \(y.bias)\n"
        }
        if s.skippedRows > 0 { o += "rows skipped as zero (--skip-zero-rows): \(s.skippedRows)\n" }
        if s.arraysSkipped > 0 { o += "arrays skipped as empty (all-zero tiles): \(s.arraysSkipped)\n" }
        if let r = s.readoutScale { o += String(format: "readout: int%d weights, step %.6g\n", t.readout.weightBits, r) }
        return o
    }
}
