/// Writes a `NIRGraph` in the layout `NIRReader` and Python `nir.read` read (NIR 0.x/1.x: parameters as datasets of
/// the node group, an E x 2 string `edges` dataset, variable-length UTF-8 strings, float64 numbers, int64 for the
/// integer parameters in `integerParameters`, node metadata as datasets of a `metadata` group).
public enum NIRWriter {
    /// Parameters written as int64 datasets when all their values are integral (Python nir uses them as shapes,
    /// strides and indices).
    public static let integerParameters: Set<String> = ["shape", "stride", "padding", "dilation", "groups", "kernel_size",
                                                        "input_shape", "start_dim", "end_dim", "input_type"]

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
                if integerParameters.contains(k), a.values.allSatisfy({ $0 == $0.rounded() && abs($0) < 9e15 }) {
                    try w.write(np + "/" + k, integers: a.values.map { Int64($0) }, shape: a.shape)
                } else {
                    try w.write(np + "/" + k, a.values, shape: a.shape, gzip: gzip)
                }
            }
            for (k, s) in n.textParameters.sorted(by: { $0.key < $1.key }) {
                try w.write(np + "/" + k, strings: s)
            }
            if !n.metadata.isEmpty {
                try w.group(np + "/metadata")
                for (k, v) in n.metadata.sorted(by: { $0.key < $1.key }) {
                    switch v {
                    case let .numbers(a): try w.write(np + "/metadata/" + k, a.values, shape: a.shape)
                    case let .text(s): try w.write(np + "/metadata/" + k, strings: s, shape: s.count == 1 ? [] : nil)
                    }
                }
            }
        }
        try w.write(p + "/edges", strings: g.edges.flatMap { [$0.source, $0.target] }, shape: [g.edges.count, 2])
    }
}
