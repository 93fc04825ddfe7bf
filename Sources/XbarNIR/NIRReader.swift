import CHDF5
import Foundation
import XbarCore

/// Reads `.nir` files (NIR's HDF5 serialisation, nir/serialization.py) into a `NIRGraph`.
///
/// Layout: an optional root `version` (dataset or attribute); the top graph in group `node`. A node group holds
/// `type` (string), its parameters as datasets (or in a `parameters` subgroup), an optional `metadata` group, and
/// for `NIRGraph` a `nodes` group (one subgroup per node) and `edges` (an E x 2 string dataset, or a group with
/// `src` and `dst` string datasets). Every error is one line naming the file and the offending path.
public enum NIRReader {
    /// Reads and checks the file at `path`. An edge naming a missing node is an error unless `allowDanglingEdges`
    /// (then it is kept as written; the reference Python `nir` 1.0.8 rejects such files too).
    public static func read(path: String, allowDanglingEdges: Bool = false) throws -> NIRGraph {
        _ = H5.silenced
        guard FileManager.default.fileExists(atPath: path) else { throw fail(path, "", "no such file") }
        if H5Fis_hdf5(path) <= 0 {
            throw fail(path, "", "not an HDF5 file (or truncated/corrupt); expected a .nir file written by NIR")
        }
        let file = H5Fopen(path, xbar_h5f_acc_rdonly(), xbar_h5p_default())
        if file < 0 { throw fail(path, "", "cannot open HDF5 file (truncated or corrupt?)") }
        defer { H5Fclose(file) }
        guard H5.exists(file, "node") else {
            throw fail(path, "node", "no top-level 'node' group: this HDF5 file is not a NIR graph")
        }
        var version: String?
        if H5.exists(file, "version") {
            version = try readText(file, "version", path: path, field: "version").first
        } else if let a = H5.readAttribute(file, "version"), case let .text(_, s) = a {
            version = s.first
        }
        let top = try readNode(file, "node", name: "node", path: path, field: "node", lenient: allowDanglingEdges)
        guard top.type == .graph, var g = top.subgraph else {
            throw fail(path, "node/type", "the top node is '\(top.type.rawValue)', expected 'NIRGraph'")
        }
        g.version = version
        return g
    }

    static func fail(_ file: String, _ field: String, _ message: String) -> XbarError {
        XbarError(file: file, field: field, message)
    }

    /// `d`, unless it is a dataset or attribute too large to read (refused by name before any allocation).
    private static func checked(_ d: H5Data?, path: String, field: String) throws -> H5Data? {
        guard case let .tooLarge(points, bytes)? = d else { return d }
        let size = bytes > 0 ? "\(points) values (\(bytes == .max ? "over 2^64" : "\(bytes)") bytes)" : "\(points) values"
        throw fail(path, field, "dataset holds \(size), more than the reader accepts (\(H5.maxPoints) values, "
                   + "\(H5.maxBytes) bytes of strings)")
    }

    private static func open(_ loc: hid_t, _ name: String, path: String, field: String) throws -> (hid_t, H5I_type_t) {
        let o = H5Oopen(loc, name, xbar_h5p_default())
        if o < 0 { throw fail(path, field, "cannot open (truncated or corrupt file?)") }
        return (o, H5Iget_type(o))
    }

    private static func readText(_ loc: hid_t, _ name: String, path: String, field: String) throws -> [String] {
        let (o, kind) = try open(loc, name, path: path, field: field)
        defer { H5Oclose(o) }
        guard kind == H5I_DATASET, let d = try checked(H5.readDataset(o), path: path, field: field) else {
            throw fail(path, field, "cannot read dataset")
        }
        guard case let .text(_, s) = d else { throw fail(path, field, "expected a string") }
        return s
    }

    /// Reads the node group `name` inside `loc`.
    private static func readNode(_ loc: hid_t, _ name: String, name nodeName: String, path: String, field: String,
                                 lenient: Bool) throws -> NIRNode {
        let (g, kind) = try open(loc, name, path: path, field: field)
        defer { H5Oclose(g) }
        guard kind == H5I_GROUP else { throw fail(path, field, "expected a group for node '\(nodeName)'") }
        guard let children = H5.children(of: g) else { throw fail(path, field, "cannot list group (truncated or corrupt file?)") }

        // The type: a string dataset or attribute.
        var typeName: String?
        if children.contains("type") {
            typeName = try readText(g, "type", path: path, field: field + "/type").first
        } else if let a = H5.readAttribute(g, "type"), case let .text(_, s) = a {
            typeName = s.first
        }
        guard let typeName else { throw fail(path, field, "node '\(nodeName)' has no 'type'") }
        guard let type = NIRNodeType(rawValue: typeName) else {
            throw fail(path, field + "/type", "node '\(nodeName)' has unknown NIR type '\(typeName)' (known: "
                       + NIRNodeType.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }

        var node = NIRNode(name: nodeName, type: type)
        var params: [(String, H5Data)] = []
        for c in children where c != "type" {
            let f = field + "/" + c
            let (o, k) = try open(g, c, path: path, field: f)
            defer { H5Oclose(o) }
            if k == H5I_DATASET {
                guard let d = try checked(H5.readDataset(o), path: path, field: f) else {
                    throw fail(path, f, "cannot read dataset (truncated or corrupt file?)")
                }
                params.append((c, d))
            } else if k == H5I_GROUP {
                switch c {
                case "metadata": node.metadata = try readValues(o, path: path, field: f)
                case "parameters":
                    for (k2, v) in try readValues(o, path: path, field: f) {
                        switch v {
                        case let .numbers(a): params.append((k2, .numbers(a)))
                        case let .text(s): params.append((k2, .text(shape: [s.count], s)))
                        }
                    }
                case "nodes", "edges": break  // NIRGraph; read below
                default: throw fail(path, f, "unexpected group in node '\(nodeName)'")
                }
            }
        }
        if type == .graph {
            node.subgraph = try readGraph(g, children: children, path: path, field: field, lenient: lenient)
            node.subgraph?.metadata = node.metadata
        } else {
            for (k, d) in params {
                switch d {
                case let .numbers(a): node.parameters[k] = a
                case let .text(_, s): node.textParameters[k] = s
                case .unsupported, .tooLarge: break  // for example h5py booleans; no primitive we lower needs them
                }
            }
        }
        return node
    }

    /// Datasets and attributes of a group (nested groups flattened with "/"), for metadata.
    private static func readValues(_ g: hid_t, path: String, field: String) throws -> [String: NIRValue] {
        var out: [String: NIRValue] = [:]
        func put(_ k: String, _ d: H5Data) {
            switch d {
            case let .numbers(a): out[k] = .numbers(a)
            case let .text(_, s): out[k] = .text(s)
            case .unsupported, .tooLarge: break
            }
        }
        for a in H5.attributeNames(of: g) {
            if let d = try checked(H5.readAttribute(g, a), path: path, field: field + "/" + a) { put(a, d) }
        }
        guard let children = H5.children(of: g) else { throw fail(path, field, "cannot list group") }
        for c in children {
            let (o, k) = try open(g, c, path: path, field: field + "/" + c)
            defer { H5Oclose(o) }
            if k == H5I_DATASET, let d = try checked(H5.readDataset(o), path: path, field: field + "/" + c) { put(c, d) }
            if k == H5I_GROUP {
                for (k2, v) in try readValues(o, path: path, field: field + "/" + c) { out[c + "/" + k2] = v }
            }
        }
        return out
    }

    private static func readGraph(_ g: hid_t, children: [String], path: String, field: String, lenient: Bool) throws -> NIRGraph {
        var nodes: [NIRNode] = []
        if children.contains("nodes") {
            let (ng, k) = try open(g, "nodes", path: path, field: field + "/nodes")
            defer { H5Oclose(ng) }
            guard k == H5I_GROUP, let names = H5.children(of: ng) else {
                throw fail(path, field + "/nodes", "expected a group of nodes")
            }
            for n in names {
                nodes.append(try readNode(ng, n, name: n, path: path, field: field + "/nodes/" + n, lenient: lenient))
            }
        }
        var edges: [NIREdge] = []
        if children.contains("edges") {
            let f = field + "/edges"
            let (eg, k) = try open(g, "edges", path: path, field: f)
            defer { H5Oclose(eg) }
            if k == H5I_DATASET {
                guard let d = try checked(H5.readDataset(eg), path: path, field: f) else {
                    throw fail(path, f, "cannot read dataset (truncated or corrupt file?)")
                }
                guard case let .text(shape, s) = d else { throw fail(path, f, "expected an E x 2 array of node names") }
                if !s.isEmpty {
                    guard shape.count == 2, shape[1] == 2 else {
                        throw fail(path, f, "expected shape E x 2, found \(shape)")
                    }
                    edges = stride(from: 0, to: s.count, by: 2).map { NIREdge(s[$0], s[$0 + 1]) }
                }
            } else {
                let src = try readText(eg, "src", path: path, field: f + "/src")
                let dst = try readText(eg, "dst", path: path, field: f + "/dst")
                guard src.count == dst.count else {
                    throw fail(path, f, "src has \(src.count) names but dst has \(dst.count)")
                }
                edges = zip(src, dst).map { NIREdge($0, $1) }
            }
        }
        let graph = NIRGraph(nodes: nodes, edges: edges)
        for (i, e) in edges.enumerated() where !lenient {
            for end in [e.source, e.target] where !resolves(end, in: graph) {
                throw fail(path, "\(field)/edges[\(i)]",
                           "edge \(e.source) -> \(e.target) names node '\(end)', which is not in the graph")
            }
        }
        return graph
    }

    /// True if `name` is a node, or "sub.child" with `sub` a nested graph holding `child`.
    static func resolves(_ name: String, in g: NIRGraph) -> Bool {
        if g.node(named: name) != nil { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for i in stride(from: parts.count - 1, through: 1, by: -1) {
            let head = parts[..<i].joined(separator: "."), rest = parts[i...].joined(separator: ".")
            if let sub = g.node(named: head)?.subgraph, resolves(rest, in: sub) { return true }
        }
        return false
    }
}
