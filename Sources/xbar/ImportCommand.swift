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
        Inlines nested graphs, composes every chain of linear nodes (Affine, Linear, Scale, Conv1d/2d, Sum/AvgPool2d, \
        Flatten, Delay) into one sparse or dense projection per (source, target, delay), and turns every neuron node \
        (LIF, IF, I, LI, CubaLIF, CubaLI, Threshold) into lif populations, split by decay, threshold and synapse decay. \
        Neurons are discretised with step --dt: exact (decay = exp(-dt/tau), inputs scaled by 1-decay) or euler \
        (decay = 1-dt/tau, inputs scaled by dt/tau); IF and I integrate with gain r*dt. NIR stores no reset, so --reset \
        chooses it. An edge closing a cycle gets one more step of delay. What feeds each Output node is printed on \
        stderr (the graph format has no outputs). See docs/nir.md.
        """)

    @Argument(help: "The .nir file.") var file: String
    @Option(help: "Timestep in seconds.") var dt: Double
    @Option(help: "Reset after a spike: zero or subtract.") var reset: String
    @Option(help: "Neuron discretisation: exact or euler.") var discretisation: String = "exact"
    @Option(help: "Timesteps of the written graph.") var timesteps: Int = 100
    @Option(help: "Graph name (default: the file's base name).") var name: String?
    @Option(name: .shortAndLong, help: "Output graph JSON (default: stdout).") var output: String?
    @Flag(help: "Rebind an edge end naming no node to the only node of its (nested) graph without an edge on that side, with a warning.")
    var repairDangling = false
    @Flag(help: "Print the parsed NIR graph (nodes, parameter shapes, edges) and what it lowers to, instead of the JSON.")
    var summary = false

    func validate() throws {
        if LIFParameters.Reset(rawValue: reset) == nil { throw ValidationError("--reset must be zero or subtract (got '\(reset)')") }
        if NIRImportOptions.Discretisation(rawValue: discretisation) == nil {
            throw ValidationError("--discretisation must be exact or euler (got '\(discretisation)')")
        }
        if !(dt > 0 && dt.isFinite) { throw ValidationError("--dt must be a positive number of seconds (got \(dt))") }
        if timesteps < 1 || timesteps > 1_000_000 { throw ValidationError("--timesteps must be 1...1000000") }
    }

    func run() throws {
        try reportingErrors {
            let nir = try NIRReader.read(path: file, allowDanglingEdges: repairDangling)
            if summary { print(Self.describe(nir, indent: ""), terminator: "") }
            let base = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            let opts = NIRImportOptions(dt: dt, reset: LIFParameters.Reset(rawValue: reset)!,
                                        discretisation: NIRImportOptions.Discretisation(rawValue: discretisation)!,
                                        timesteps: timesteps, name: name ?? base, repairDanglingEdges: repairDangling)
            let result = try NIRImporter.lower(nir, options: opts, file: file)
            for w in result.warnings { FileHandle.standardError.write(Data(("warning: " + w + "\n").utf8)) }
            if summary {
                print(Self.describe(result), terminator: "")
                return
            }
            for o in result.outputs { FileHandle.standardError.write(Data("note: \(file): \(Self.describe(o))\n".utf8)) }
            let text = GraphWriter.json(result.graph)
            if let output {
                try AtomicFile.write(Data(text.utf8), to: output)
            } else {
                print(text, terminator: "")
            }
        }
    }

    static func describe(_ o: NIROutputBinding) -> String {
        let how = o.direct ? "directly" : "through linear nodes the graph cannot express"
        return "output '\(o.output)' (\(o.size) values) is fed \(how) by "
            + (o.populations.isEmpty ? "nothing" : o.populations.joined(separator: ", "))
    }

    /// The lowered graph, one line per population, projection, split node and output.
    static func describe(_ r: NIRImportResult) -> String {
        var s = "lowered graph '\(r.graph.name)':\n"
        for p in r.graph.populations {
            s += "  population \(p.name): \(p.kind.rawValue) \(p.size)"
            if let l = p.lif {
                s += " decay \(l.decay)"
                s += l.spiking ? " threshold \(l.threshold) reset \(l.reset.rawValue)" : " non-spiking"
                if let y = l.synapse { s += " synapse decay \(y.decay)" + (y.neuronBias != nil ? " (per-neuron synapse bias)" : "") }
                if l.bias != 0 { s += " bias \(l.bias)" }
                if l.neuronBias != nil { s += " (per-neuron bias)" }
            }
            if let o = r.origins[p.name], o.node != p.name || o.neurons != Array(0..<p.size) { s += " [neurons of NIR node '\(o.node)']" }
            s += "\n"
        }
        for p in r.graph.projections {
            let kind: String
            switch p.weights {
            case let .dense(v): kind = "dense (\(v.filter { $0 != 0 }.count) nonzero)"
            case let .sparse(e): kind = "sparse (\(e.count) entries)"
            default: kind = "generated"
            }
            s += "  projection \(p.name): delay \(p.delay), \(kind)\n"
        }
        for o in r.outputs { s += "  \(describe(o))\n" }
        return s
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
