/// Writes a `NIRGraph` in the layout `NIRReader` reads (NIR 0.x: parameters as datasets of the node group,
/// E x 2 string `edges`, variable-length UTF-8 strings, float64 numbers). Used for round-trip tests and fixtures.
public enum NIRWriter {
    /// Writes `graph` to `path` with root `version` `graph.version ?? "0.1.1"`. `typeOverride` maps node names to
    /// a raw type string written instead of the node's type (to make deliberately invalid test files).
    public static func write(_ graph: NIRGraph, to path: String, gzip: Bool = false,
                             typeOverride: [String: String] = [:]) throws {
        let w = try HDF5Writer(path: path)
        defer { w.close() }
        try w.write("version", strings: [graph.version ?? "0.1.1"], shape: [])
        try writeGraph(graph, at: "node", w, gzip: gzip, typeOverride: typeOverride)
    }

    private static func writeGraph(_ g: NIRGraph, at p: String, _ w: HDF5Writer, gzip: Bool,
                                   typeOverride: [String: String]) throws {
        try w.group(p)
        try w.write(p + "/type", strings: ["NIRGraph"], shape: [])
        try w.group(p + "/nodes")
        for n in g.nodes {
            let np = p + "/nodes/" + n.name
            if let sub = n.subgraph {
                try writeGraph(sub, at: np, w, gzip: gzip, typeOverride: typeOverride)
                continue
            }
            try w.group(np)
            try w.write(np + "/type", strings: [typeOverride[n.name] ?? n.type.rawValue], shape: [])
            for (k, a) in n.parameters.sorted(by: { $0.key < $1.key }) {
                try w.write(np + "/" + k, a.values, shape: a.shape, gzip: gzip)
            }
            for (k, s) in n.textParameters.sorted(by: { $0.key < $1.key }) {
                try w.write(np + "/" + k, strings: s)
            }
        }
        try w.write(p + "/edges", strings: g.edges.flatMap { [$0.source, $0.target] }, shape: [g.edges.count, 2])
    }
}
