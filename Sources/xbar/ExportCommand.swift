import ArgumentParser
import Foundation
import XbarCore
import XbarGraph
import XbarNIR

/// `xbar export GRAPH -o FILE.nir --dt S`: write a graph as NIR (docs/nir.md, "Export").
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a graph JSON as a NIR (.nir, HDF5) file.",
        discussion: """
        Each population becomes an Input, LIF, IF, CubaLIF, Threshold, LI, I or CubaLI node, each projection a Linear \
        (or an Affine carrying the target's biases), each delay a Delay node. Time constants come from --dt and \
        --discretisation; `xbar import` with the same values gives the same network back. See docs/nir.md.
        """)

    @Argument(help: "Graph JSON file.") var graph: String
    @Option(name: .shortAndLong, help: "Output .nir file.") var output: String
    @Option(help: "Timestep in seconds that the graph's decays correspond to.") var dt: Double
    @Option(help: "Discretisation to invert: exact or euler.") var discretisation: String = "exact"
    @Flag(help: "Compress the weight datasets (gzip).") var gzip = false

    func validate() throws {
        if NIRImportOptions.Discretisation(rawValue: discretisation) == nil {
            throw ValidationError("--discretisation must be exact or euler (got '\(discretisation)')")
        }
        if !(dt > 0 && dt.isFinite) { throw ValidationError("--dt must be a positive number of seconds (got \(dt))") }
    }

    func run() throws {
        try reportingErrors {
            let g = try GraphJSON.load(graph)
            let opts = NIRExportOptions(dt: dt, discretisation: NIRImportOptions.Discretisation(rawValue: discretisation)!)
            let (nir, notes) = try NIRExporter.nir(from: g, options: opts, file: graph)
            try AtomicFile.write(to: output) { tmp in try NIRWriter.write(nir, to: tmp, gzip: gzip) }
            for n in notes { FileHandle.standardError.write(Data("note: \(n)\n".utf8)) }
            print("wrote \(output): \(nir.nodes.count) NIR nodes, \(nir.edges.count) edges")
        }
    }
}
