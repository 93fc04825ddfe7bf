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
    @OptionGroup(title: "Discretisation") var flags: NIRImportFlags
    @Option(help: "Graph name (default: the file's base name).") var name: String?
    @Option(name: .shortAndLong, help: "Output graph JSON (default: stdout).") var output: String?
    @Flag(help: "Print the parsed NIR graph (nodes, parameter shapes, edges) and what it lowers to, instead of the JSON.")
    var summary = false

    func run() throws {
        try reportingErrors {
            let nir = try NIRIsolatedReader.read(path: file, allowDanglingEdges: flags.repairDangling)
            if summary { print(Self.describe(nir, indent: ""), terminator: "") }
            let result = try GraphInput.lower(file, flags: flags, name: name, parsed: nir)
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
