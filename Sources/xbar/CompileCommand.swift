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

    @Option(help: "Number neurons and input channels before tiling: identity (graph order), spatial (Morton order of grid neurons, barycentres for the rest) or metis (METIS partitions of one column tile). Inputs, spikes and counts are in physical order; compile -o also writes OUTPUT.placement.json (docs/compiler.md).")
    var placement: PlacementMode = .identity

    @Option(name: .customLong("set"), help: ArgumentHelp("Change one target value, e.g. --set device.programming=write_verify (repeatable).", valueName: "TABLE.KEY=VALUE"))
    var overrides: [String] = []

    /// The compile options these flags ask for, with the chip seed `seed`.
    func compileOptions(seed: UInt64) -> CompileOptions {
        CompileOptions(replicateMacros: replicateMacros, seed: seed, skipZeroRows: skipZeroRows, placement: placement)
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
    @Option(name: .shortAndLong, help: "Output IR file (default: stdout); a name ending in .xbir gets the compact binary form (docs/ir.md).") var output: String?
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
            if let o = output {
                try ProgramFile.write(c.program, to: o)
                if !c.stats.placement.isIdentity { try AtomicFile.write(c.stats.placement.json, to: o + ".placement.json") }
            } else if !stats { IRPrinter.write(c.program) { print($0, terminator: "") } }
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
            let p = try ProgramFile.read(program)
            try IRVerifier.verify(p, file: program)
            print("program \"\(p.name)\"  IR version \(p.version)  target \"\(p.target)\"  timesteps \(p.timesteps)  (verified)")
            for i in p.inputs { print("  input  @\(i.name)  \(i.size) channels") }
            for n in p.neurons {
                print("  neuron @\(n.name)  \(n.size) x LIF  mem \(n.memType) \(n.memOverflow.rawValue)  decay \(n.decayMul)/2^\(n.decayShift) \(n.decayRounding.rawValue)  threshold \(n.threshold) (\(n.compare.rawValue))  reset \(n.reset.rawValue)  refractory \(n.refractory)  bias \(n.bias)")
            }
            for a in p.arrays {
                var used = 0
                if let fill = a.codes.last { a.codes.forEachCell(differingFrom: fill) { _, _ in used += 1 } }
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

extension PlacementMode: ExpressibleByArgument {}

/// Text for `--stats`.
enum StatsReport {
    /// The sparsity lines: non-zero cells, arrays against their lower bound, tile fill, zero-cell read share, placement.
    static func sparsity(_ s: CompileStats) -> String {
        let fills = s.tiles.map(\.fill).sorted()
        var o = String(format: "non-zero cells: %d (%.1f%% of used cells); arrays %d, lower bound ceil(non-zero cells / %d) = %d (%.2fx)\n",
                       s.nonZeroCells, 100 * Double(s.nonZeroCells) / Double(max(s.cellsUsed, 1)), s.tiles.count, s.arrayCells,
                       s.arraysLowerBound, Double(s.tiles.count) / Double(max(s.arraysLowerBound, 1)))
        o += String(format: "row slots: %d (a row with d non-zeros needs ceil(d / neurons per column tile)); arrays lower bound ceil(row slots / %d) = %d (%.2fx)\n",
                    s.rowSlots, s.arrayRows, s.arraysRowBound, Double(s.tiles.count) / Double(max(s.arraysRowBound, 1)))
        if let lo = fills.first, let hi = fills.last {
            o += String(format: "tile fill (non-zero / used cells): min %.1f%%, median %.1f%%, max %.1f%%; cell reads on zero cells: %.1f%% (every used row driven alike)\n",
                        100 * lo, 100 * fills[fills.count / 2], 100 * hi, 100 * s.zeroCellReadShare)
        }
        if !s.placement.isIdentity {
            o += "placement \(s.placement.mode.rawValue): reordered " + s.placement.order.keys.sorted().joined(separator: ", ") + "\n"
        }
        return o
    }

    static func text(_ c: Compiled, target t: Target) -> String {
        let s = c.stats
        var o = "target \(t.name): \(t.macro.count) macro(s) x \(t.macro.arrays) array(s) of \(t.macro.rows)x\(t.macro.cols)\n"
        o += "tiles: \(s.tiles.count) on \(s.macrosUsed) macro(s)" + (s.macrosUsed > t.macro.count ? " (replicated beyond the target's \(t.macro.count))" : "") + "\n"
        for tile in s.tiles {
            o += String(format: "  %@  macro %d array %d  rows %d  cols %d  neurons %d..<%d  utilisation %.1f%%  fill %.1f%%\n",
                        tile.array, tile.macro, tile.index, tile.rowsUsed, tile.colsUsed, tile.neurons.lowerBound,
                        tile.neurons.upperBound, tile.utilisation * 100, tile.fill * 100)
        }
        o += String(format: "cells used: %d of %d (%.1f%%)\n", s.cellsUsed, s.cellsTotal, 100 * Double(s.cellsUsed) / Double(max(s.cellsTotal, 1)))
        o += sparsity(s)
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
