import ArgumentParser
import Foundation
import XbarCore
import XbarGraph
import XbarNIR

/// `xbar import FILE.nir`: lower a NIR graph to the graph JSON format (docs/nir.md).
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert a NIR (.nir, HDF5) graph to graph JSON.",
        discussion: """
        Lowers Input -> Affine/Linear -> LIF -> Output chains (and recurrent Affine/Linear projections, delay 1) to \
        input and lif populations with dense projections. LIF is discretised with step --dt: exact (decay = \
        exp(-dt/tau), inputs scaled by r*(1-decay)) or euler (decay = 1-dt/tau, inputs scaled by r*dt/tau). NIR stores \
        no reset, so --reset chooses it. Other node types are reported as not lowerable yet. See docs/nir.md.
        """)

    @Argument(help: "The .nir file.") var file: String
    @Option(help: "Timestep in seconds.") var dt: Double
    @Option(help: "Reset after a spike: zero or subtract.") var reset: String
    @Option(help: "LIF discretisation: exact or euler.") var discretisation: String = "exact"
    @Option(help: "Timesteps of the written graph.") var timesteps: Int = 100
    @Option(help: "Graph name (default: the file's base name).") var name: String?
    @Option(name: .shortAndLong, help: "Output graph JSON (default: stdout).") var output: String?
    @Flag(help: "Print the parsed NIR graph (nodes, parameter shapes, edges) instead of converting.") var summary = false

    func validate() throws {
        if LIFParameters.Reset(rawValue: reset) == nil { throw ValidationError("--reset must be zero or subtract (got '\(reset)')") }
        if NIRImportOptions.Discretisation(rawValue: discretisation) == nil {
            throw ValidationError("--discretisation must be exact or euler (got '\(discretisation)')")
        }
        if !(dt > 0 && dt.isFinite) { throw ValidationError("--dt must be a positive number of seconds (got \(dt))") }
        if timesteps < 1 { throw ValidationError("--timesteps must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            let nir = try NIRReader.read(path: file)
            if summary {
                print(Self.describe(nir, indent: ""), terminator: "")
                return
            }
            let base = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            let opts = NIRImportOptions(dt: dt, reset: LIFParameters.Reset(rawValue: reset)!,
                                        discretisation: NIRImportOptions.Discretisation(rawValue: discretisation)!,
                                        timesteps: timesteps, name: name ?? base)
            let g = try NIRImporter.graph(from: nir, options: opts, file: file)
            let text = GraphWriter.json(g)
            if let output {
                try AtomicFile.write(Data(text.utf8), to: output)
            } else {
                print(text, terminator: "")
            }
        }
    }

    static func describe(_ g: NIRGraph, indent: String) -> String {
        var s = ""
        if let v = g.version { s += "\(indent)version \(v)\n" }
        for n in g.nodes {
            let ps = n.parameters.keys.sorted().map { "\($0)\(n.parameters[$0]!.shape)" }
                + n.textParameters.keys.sorted().map { "\($0)=\(n.textParameters[$0]!.joined(separator: ","))" }
            s += "\(indent)\(n.name): \(n.type.rawValue) \(ps.joined(separator: " "))\n"
            if let sub = n.subgraph { s += describe(sub, indent: indent + "  ") }
        }
        for e in g.edges { s += "\(indent)\(e.source) -> \(e.target)\n" }
        return s
    }
}
