import XbarCore
import XbarIR

/// The text of `xbar compile --print-after PASS`: `#` comment lines naming the passes run and summarising each
/// population's work items so far (blocks, format, tiles, reads, scales), then the partial program in IR text
/// (`IRPrinter`; the IR parser skips the comments). After the last pass the IR text is the compiled program.
public enum PipelineDump {
    public static func text(_ s: CompilationState, pipeline: PassManager = .standard) -> String {
        let run = s.passesRun, rest = pipeline.names.filter { !run.contains($0) }
        var out = "# the program after pass \(run.count) of \(pipeline.names.count) (\(run.last ?? "none")); run: "
            + run.joined(separator: ", ") + (rest.isEmpty ? "\n" : "; not yet run: \(rest.joined(separator: ", "))\n")
        for w in s.populations { out += summary(w, s).map { "# " + $0 + "\n" }.joined() }
        return out + IRPrinter.print(s.program)
    }

    /// Lines describing what the passes run so far derived for population `w`.
    static func summary(_ w: PopulationWork, _ s: CompilationState) -> [String] {
        var lines = ["population \(w.name) (\(w.size) neurons)"]
        if !w.blocks.isEmpty {
            lines.append("  blocks: " + w.blocks.map { "@\($0.source)@\($0.delay) x\($0.size)" }.joined(separator: ", ")
                         + " (\(w.stacked.count) stacked rows)")
        }
        if let f = w.format {
            lines.append("  format: weight step \(f.weightScale), |q| <= \(f.qMax), threshold \(f.threshold), bias \(f.bias), decay \(f.decayMul)/2^\(f.decayShift)")
        }
        for tile in w.tiles {
            let at = tile.slot.map { "slot \($0)" } ?? "skipped as empty"
            lines.append("  tile \(tile.name): rows \(tile.rows), neurons \(tile.neurons), \(at)")
        }
        for (i, rd) in w.reads.enumerated() {
            let rows = rd.sources.map { "\($0.rowStart):@\($0.source)[\($0.srcStart):\($0.count)]@\($0.delay)" }
            lines.append("  read \(i): row tile \(rd.rowTile) rows [\(rows.joined(separator: ", "))] scale group \(rd.scaleGroup)")
        }
        for (g, ms) in w.scales.enumerated() {
            lines.append("  scale group \(g): " + ms.enumerated().map { "s\($0.offset) mul \($0.element.mul) shr \($0.element.shift)" }.joined(separator: ", "))
        }
        if s.passesRun.contains("scales") { lines.append("  pre-activation bound \(w.preBound)") }
        return lines
    }
}
