import Foundation

/// A plain binary form of a `NIRGraph` (little-endian counts, UTF-8 strings, IEEE doubles), the way an isolated reader
/// process hands its result back (`NIRIsolatedReader`). Decoding checks every count against the bytes left, so a
/// truncated or foreign buffer is an error, never a crash.
public enum NIRGraphCoding {
    struct Malformed: Error {}

    public static func encode(_ g: NIRGraph) -> Data {
        var w = Writer()
        w.graph(g)
        return w.data
    }

    public static func decode(_ d: Data) throws -> NIRGraph {
        var r = Reader(bytes: [UInt8](d))
        let g = try r.graph()
        guard r.at == r.bytes.count else { throw Malformed() }
        return g
    }

    struct Writer {
        var data = Data()

        mutating func int(_ v: Int) { withUnsafeBytes(of: Int64(v).littleEndian) { data.append(contentsOf: $0) } }
        mutating func double(_ v: Double) { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        mutating func string(_ s: String) {
            let u = Array(s.utf8)
            int(u.count)
            data.append(contentsOf: u)
        }
        mutating func strings(_ s: [String]) {
            int(s.count)
            for x in s { string(x) }
        }
        mutating func array(_ a: NIRArray) {
            int(a.shape.count)
            for x in a.shape { int(x) }
            int(a.values.count)
            for v in a.values { double(v) }
        }
        mutating func metadata(_ m: [String: NIRValue]) {
            int(m.count)
            for (k, v) in m.sorted(by: { $0.key < $1.key }) {
                string(k)
                switch v {
                case let .numbers(a): int(0); array(a)
                case let .text(t): int(1); strings(t)
                }
            }
        }
        mutating func graph(_ g: NIRGraph) {
            int(g.version == nil ? 0 : 1)
            if let v = g.version { string(v) }
            int(g.nodes.count)
            for n in g.nodes { node(n) }
            int(g.edges.count)
            for e in g.edges { string(e.source); string(e.target) }
            metadata(g.metadata)
        }
        mutating func node(_ n: NIRNode) {
            string(n.name)
            string(n.type.rawValue)
            int(n.parameters.count)
            for (k, a) in n.parameters.sorted(by: { $0.key < $1.key }) { string(k); array(a) }
            int(n.textParameters.count)
            for (k, t) in n.textParameters.sorted(by: { $0.key < $1.key }) { string(k); strings(t) }
            metadata(n.metadata)
            int(n.subgraph == nil ? 0 : 1)
            if let s = n.subgraph { graph(s) }
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var at = 0

        mutating func int() throws -> Int {
            guard bytes.count - at >= 8 else { throw Malformed() }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[at + k]) << (8 * k) }
            at += 8
            return Int(Int64(bitPattern: v))
        }
        /// A count of items that each take at least `unit` bytes.
        mutating func count(_ unit: Int) throws -> Int {
            let n = try int()
            guard n >= 0, n <= (bytes.count - at) / max(unit, 1) else { throw Malformed() }
            return n
        }
        mutating func double() throws -> Double { Double(bitPattern: UInt64(bitPattern: Int64(try int()))) }
        mutating func string() throws -> String {
            let n = try count(1)
            defer { at += n }
            return String(decoding: bytes[at..<(at + n)], as: UTF8.self)
        }
        mutating func strings() throws -> [String] { try (0..<count(8)).map { _ in try string() } }
        mutating func array() throws -> NIRArray {
            let shape = try (0..<count(8)).map { _ in try int() }
            let values = try (0..<count(8)).map { _ in try double() }
            // What HDF5 gives: a shape whose product is the number of values.
            var n = 1
            for d in shape {
                let (m, overflow) = n.multipliedReportingOverflow(by: d)
                guard d >= 0, !overflow else { throw Malformed() }
                n = m
            }
            guard n == values.count else { throw Malformed() }
            return NIRArray(shape: shape, values: values)
        }
        mutating func metadata() throws -> [String: NIRValue] {
            var m: [String: NIRValue] = [:]
            for _ in 0..<(try count(16)) {
                let k = try string()
                switch try int() {
                case 0: m[k] = .numbers(try array())
                case 1: m[k] = .text(try strings())
                default: throw Malformed()
                }
            }
            return m
        }
        mutating func graph() throws -> NIRGraph {
            let version = try int() == 1 ? try string() : nil
            let nodes = try (0..<count(40)).map { _ in try node() }
            let edges = try (0..<count(16)).map { _ in NIREdge(try string(), try string()) }
            return NIRGraph(version: version, nodes: nodes, edges: edges, metadata: try metadata())
        }
        mutating func node() throws -> NIRNode {
            let name = try string()
            guard let type = NIRNodeType(rawValue: try string()) else { throw Malformed() }
            var parameters: [String: NIRArray] = [:], text: [String: [String]] = [:]
            for _ in 0..<(try count(24)) { parameters[try string()] = try array() }
            for _ in 0..<(try count(16)) { text[try string()] = try strings() }
            let metadata = try metadata()
            let sub = try int() == 1 ? try graph() : nil
            return NIRNode(name: name, type: type, parameters: parameters, textParameters: text, metadata: metadata, subgraph: sub)
        }
    }
}
