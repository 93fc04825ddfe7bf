import Foundation
import XbarCompiler
import XbarCore
import XbarGraph
import XbarIR
import XbarTarget

/// `xbar bench --workload compile-nalsm-8000` (docs/bench.md, "Compiling at scale"): compiles the 8000-neuron NALSM
/// onto `rram-40nm-256kb` with write-verify programming under every placement and reports compile time (best of the
/// repeats), arrays against the two lower bounds, the sizes of the text and binary program, and the peak RSS so far.
enum BenchCompile {
    static let name = "compile-nalsm-8000"

    static func run(repeats: Int, json: Bool, targets dirs: [String]) throws -> [JSONValue] {
        var o = LSMBuilder.NALSMOptions()
        o.neurons = 8000
        let g = LSMBuilder.nalsm(o)
        let t = try TargetLoader.resolve("rram-40nm-256kb", searchDirs: dirs, overrides: ["device.programming=\"write_verify\""])
        var rows: [JSONValue] = []
        for mode in PlacementMode.allCases {
            var best = Double.infinity
            var compiled: Compiled?
            for _ in 0..<max(1, repeats) {
                let start = Date()
                let c = try Compiler.compile(g, target: t, options: CompileOptions(replicateMacros: true, placement: mode))
                best = min(best, Date().timeIntervalSince(start))
                compiled = c
            }
            let c = compiled!, s = c.stats
            var textBytes = 0
            IRPrinter.write(c.program) { textBytes += $0.utf8.count }
            let binaryBytes = ProgramFile.encode(c.program).count
            let rss = BenchCommand.peakResidentMB()
            rows.append(.object([
                ("workload", .string(name)), ("variant", .string(mode.rawValue)), ("compile_seconds", .double(best)),
                ("arrays", .int(Int64(s.tiles.count))), ("arrays_cell_bound", .int(Int64(s.arraysLowerBound))),
                ("arrays_row_slot_bound", .int(Int64(s.arraysRowBound))), ("non_zero_cells", .int(Int64(s.nonZeroCells))),
                ("cells_used", .int(Int64(s.cellsUsed))), ("text_bytes", .int(Int64(textBytes))),
                ("binary_bytes", .int(Int64(binaryBytes))), ("peak_resident_mb", .double(rss)),
            ]))
            if !json {
                print(String(format: "%@ | placement %@: compile %.2f s, %d arrays (%.1fx cell bound %d, %.1fx row-slot bound %d), text %.1f MB, binary %.1f MB, peak RSS %.0f MB",
                             name, mode.rawValue, best, s.tiles.count, Double(s.tiles.count) / Double(max(1, s.arraysLowerBound)), s.arraysLowerBound,
                             Double(s.tiles.count) / Double(max(1, s.arraysRowBound)), s.arraysRowBound, Double(textBytes) / 1e6,
                             Double(binaryBytes) / 1e6, rss))
            }
        }
        return rows
    }
}
