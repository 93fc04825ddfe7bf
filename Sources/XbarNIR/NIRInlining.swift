import XbarCore

/// A NIR graph with every nested `NIRGraph` node inlined (docs/nir.md, "Nested graphs"): node names are qualified
/// (`parent.child`), a nested graph's Input and Output nodes are identity pass-throughs, and every edge joins two
/// qualified nodes.
struct FlatNIRGraph {
    /// One node after inlining.
    struct Node {
        /// Qualified name (`parent.child` for a node of nested graph `parent`).
        var name: String
        /// The node, with `name` replaced by the qualified name.
        var node: NIRNode
        /// HDF5 path of the node group, for errors (`node/nodes/parent/nodes/child`).
        var field: String
        /// A nested graph's Input or Output node: passes its input through unchanged.
        var passThrough: Bool
    }

    var nodes: [Node]
    var edges: [NIREdge]
    /// One line per repaired dangling edge end.
    var warnings: [String]
}

/// Inlines nested graphs and, on request, repairs dangling edge ends.
enum NIRInliner {
    /// Flattens `g`. With `repair`, an edge end that names no node of its graph is rebound to the only node of that graph
    /// without an edge on that side (an Input never counts as a target, an Output never as a source), with a warning;
    /// without it, or when no single such node exists, the dangling edge is an error.
    static func inline(_ g: NIRGraph, file: String, repair: Bool) throws -> FlatNIRGraph {
        var state = State(file: file, repair: repair)
        try state.inline(g, prefix: "", field: "node", top: true)
        var seen = Set<String>()
        for n in state.nodes where !seen.insert(n.name).inserted {
            throw XbarError(file: file, field: n.field, "two nodes are called '\(n.name)' once nested graphs are inlined "
                            + "(a node name with a dot collides with a nested graph's node)")
        }
        return FlatNIRGraph(nodes: state.nodes, edges: state.edges, warnings: state.warnings)
    }

    private struct State {
        let file: String
        let repair: Bool
        var nodes: [FlatNIRGraph.Node] = []
        var edges: [NIREdge] = []
        var warnings: [String] = []
        /// Qualified names of non-graph nodes.
        var flatNames = Set<String>()
        /// Qualified nested-graph name -> (its Input nodes, its Output nodes), qualified.
        var graphEnds: [String: (inputs: [String], outputs: [String])] = [:]

        mutating func inline(_ g: NIRGraph, prefix: String, field: String, top: Bool) throws {
            var inputs: [String] = [], outputs: [String] = []
            for n in g.nodes {
                let q = prefix + n.name, f = field + "/nodes/" + n.name
                if n.type == .graph {
                    try inline(n.subgraph ?? NIRGraph(nodes: [], edges: []), prefix: q + ".", field: f, top: false)
                    continue
                }
                var copy = n
                copy.name = q
                nodes.append(FlatNIRGraph.Node(name: q, node: copy, field: f,
                                               passThrough: !top && (n.type == .input || n.type == .output)))
                flatNames.insert(q)
                if n.type == .input { inputs.append(q) }
                if n.type == .output { outputs.append(q) }
            }
            if !top { graphEnds[String(prefix.dropLast())] = (inputs, outputs) }

            var es = g.edges
            let dangling = es.enumerated().flatMap { i, e in
                [(i, e.source, true), (i, e.target, false)].filter { resolve($0.1, prefix: prefix) == nil }
            }
            if let (i, name, _) = dangling.first {
                let e = es[i]
                guard repair else {
                    throw XbarError(file: file, field: "\(field)/edges[\(i)]", "edge \(e.source) -> \(e.target) names node "
                                    + "'\(name)', which is not in the graph (--repair-dangling rebinds such an edge end "
                                    + "to the only node of the graph without an edge on that side)")
                }
                es = try repaired(es, dangling: dangling, in: g, prefix: prefix, field: field)
            }
            for (i, e) in es.enumerated() {
                let f = "\(field)/edges[\(i)]"
                edges.append(NIREdge(try end(e.source, asSource: true, prefix: prefix, edge: e, field: f),
                                     try end(e.target, asSource: false, prefix: prefix, edge: e, field: f)))
            }
        }

        /// The qualified name `name` (written inside the graph with `prefix`) refers to, or nil if it names nothing.
        func resolve(_ name: String, prefix: String) -> String? {
            let q = prefix + name
            return flatNames.contains(q) || graphEnds[q] != nil ? q : nil
        }

        /// The flat node an edge end names: a node, or the single Input (as a target) / Output (as a source) of a
        /// nested graph.
        func end(_ name: String, asSource: Bool, prefix: String, edge e: NIREdge, field: String) throws -> String {
            guard let q = resolve(name, prefix: prefix) else {
                throw XbarError(file: file, field: field, "edge \(e.source) -> \(e.target) names node '\(name)', which is not in the graph")
            }
            guard let ends = graphEnds[q] else { return q }
            let list = asSource ? ends.outputs : ends.inputs
            guard list.count == 1 else {
                let kind = asSource ? "Output" : "Input"
                throw XbarError(file: file, field: field, "edge \(e.source) -> \(e.target) names nested graph '\(name)', "
                                + "which has \(list.count) \(kind) nodes: name one of them as '\(name).<\(kind.lowercased())>'")
            }
            return list[0]
        }

        /// `es` with every dangling end rebound (one warning per rebound name).
        mutating func repaired(_ es: [NIREdge], dangling: [(Int, String, Bool)], in g: NIRGraph, prefix: String,
                               field: String) throws -> [NIREdge] {
            var rebound: [String: String] = [:]
            for (i, name, _) in dangling where rebound[name] == nil {
                let asSource = dangling.contains { $0.1 == name && $0.2 }
                let asTarget = dangling.contains { $0.1 == name && !$0.2 }
                let candidates = g.nodes.filter { n in
                    (!asTarget || (n.type != .input && !es.contains { $0.target == n.name }))
                        && (!asSource || (n.type != .output && !es.contains { $0.source == n.name }))
                }
                let sides = asSource && asTarget ? "incoming and outgoing" : asSource ? "outgoing" : "incoming"
                guard candidates.count == 1 else {
                    throw XbarError(file: file, field: "\(field)/edges[\(i)]", "edge end '\(name)' names no node, and "
                                    + "\(candidates.count) nodes of this graph have no \(sides) edge, so --repair-dangling "
                                    + "cannot tell which one it means")
                }
                rebound[name] = candidates[0].name
                let count = es.reduce(0) { $0 + ($1.source == name ? 1 : 0) + ($1.target == name ? 1 : 0) }
                warnings.append("\(file): \(field)/edges: edge end '\(name)' (\(count) edge ends) names no node; "
                                + "rebound to '\(candidates[0].name)', the only node of this graph without \(sides) edges")
            }
            return es.map { NIREdge(rebound[$0.source] ?? $0.source, rebound[$0.target] ?? $0.target) }
        }
    }
}
