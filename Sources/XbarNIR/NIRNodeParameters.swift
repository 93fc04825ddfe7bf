import XbarCore

/// Typed access to one node's parameters, with one-line errors naming the file, the node and the parameter.
struct NodeParameters {
    let node: NIRNode
    let field: String
    let file: String

    init(_ n: FlatNIRGraph.Node, file: String) {
        node = n.node
        field = n.field
        self.file = file
    }

    func fail(_ key: String, _ message: String) -> XbarError {
        XbarError(file: file, field: key.isEmpty ? field : field + "/" + key, "\(node.type.rawValue) node '\(node.name)': \(message)")
    }

    func array(_ key: String) throws -> NIRArray {
        guard let a = node.parameters[key] else { throw fail("", "has no '\(key)'") }
        guard a.values.allSatisfy(\.isFinite) else { throw fail(key, "holds a value that is not finite") }
        // An array read from HDF5 always holds shape's product of values; one built otherwise may not.
        var expected = 1
        for d in a.shape {
            let (m, overflow) = expected.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow else { throw fail(key, "has an invalid shape \(a.shape)") }
            expected = m
        }
        guard expected == a.values.count else {
            throw fail(key, "holds \(a.values.count) values but its shape \(a.shape) needs \(expected)")
        }
        return a
    }

    /// The node's input size must be `count` (when something feeds it).
    func checkInput(_ input: [Int]?, count n: Int, what: String) throws {
        if let input, NIRLinearMaps.count(input) != n {
            throw fail("", "size mismatch: its input \(input) holds \(NIRLinearMaps.count(input)) values but \(what)")
        }
    }

    /// The input shape, which this node needs to know.
    func known(_ input: [Int]?) throws -> [Int] {
        guard let input else { throw fail("", "input shape unknown: nothing feeds it and its parameters do not give one") }
        return input
    }

    /// `values` as integers >= `min`.
    func integers(_ key: String, _ values: [Double], min: Int) throws -> [Int] {
        try values.map { v in
            guard v == v.rounded(), v >= Double(min), v < 1e9 else { throw fail(key, "expected integers >= \(min), found \(values)") }
            return Int(v)
        }
    }

    /// `values` as a tensor shape: integers >= `min` holding at most `NIRLinearMaps.maxElements` elements (an empty
    /// shape is a 0-d tensor of one element, as in numpy).
    func shape(_ key: String, _ values: [Double], min: Int = 1) throws -> [Int] {
        let s = try integers(key, values, min: min)
        try checkSize(s, limit: NIRLinearMaps.maxElements, key, what: "shape \(s)")
        return s
    }

    /// Throws unless the product of `factors` is at most `limit` (checked multiplication: never traps).
    func checkSize(_ factors: [Int], limit: Int, _ key: String, what: String) throws {
        guard NIRLinearMaps.checkedCount(factors, limit: limit) != nil else {
            throw fail(key, "\(what) holds more than \(limit) values (\(factors.map(String.init).joined(separator: " x ")))")
        }
    }

    /// A parameter of 1 or `n` values (broadcast to `n`), for `what` (for example "scale").
    func oneOrN(_ key: String, _ a: NIRArray, n: Int) throws -> [Double] {
        if a.count == n { return a.values }
        guard a.count == 1 else { throw fail(key, "expected 1 or \(n) values (one per element), found \(a.count)") }
        return [Double](repeating: a.values[0], count: n)
    }

    /// `count` integers from a parameter of 1 or `count` values; `default` (or `fallback`) when absent.
    func intVector(_ key: String, count: Int, default def: Int?, min: Int, fallback: [Int]? = nil) throws -> [Int] {
        guard let a = node.parameters[key] else {
            if let fallback { return fallback }
            if let def { return [Int](repeating: def, count: count) }
            throw fail("", "has no '\(key)'")
        }
        let v = try integers(key, a.values, min: min)
        if v.count == count { return v }
        if v.count == 1 { return [Int](repeating: v[0], count: count) }
        throw fail(key, "expected 1 or \(count) values, found \(v.count)")
    }

    /// `count` numbers from a parameter of 1 or `count` values; `default` when absent (nil default: required).
    func perElement(_ key: String, count: Int, default def: Double?) throws -> [Double] {
        guard let a = node.parameters[key] else {
            if let def { return [Double](repeating: def, count: count) }
            throw fail("", "has no '\(key)'")
        }
        guard a.values.allSatisfy(\.isFinite) else { throw fail(key, "holds a value that is not finite") }
        if a.count == count { return a.values }
        if a.count == 1 { return [Double](repeating: a.values[0], count: count) }
        throw fail(key, "size mismatch: \(a.count) values for \(count) elements")
    }
}
