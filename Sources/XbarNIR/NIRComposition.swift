import XbarCore

/// A linear combination of source nodes' outputs (Input and neuron nodes): y = sum over sources s of M_s x_s + bias,
/// where M_s's entries carry delays in steps.
struct LinearExpression {
    var rows: Int
    /// (source node, map) in the order the sources were first met.
    var terms: [(source: String, map: DelayedMatrix)]
    var bias: [Double]?

    static func identity(_ source: String, size: Int) -> LinearExpression {
        LinearExpression(rows: size, terms: [(source, DelayedMatrix(.identity(size)))], bias: nil)
    }

    static func + (a: LinearExpression, b: LinearExpression) -> LinearExpression {
        var out = a
        for (s, m) in b.terms {
            if let i = out.terms.firstIndex(where: { $0.source == s }) { out.terms[i].map = out.terms[i].map + m } else { out.terms.append((s, m)) }
        }
        if let bb = b.bias { out.bias = zip(out.bias ?? [Double](repeating: 0, count: a.rows), bb).map { $0 + $1 } }
        return out
    }

    /// True when y is exactly one source passed through unchanged (no delay, no bias).
    var isDirect: Bool {
        terms.count == 1 && bias == nil && terms[0].map.delays == [0] && terms[0].map.terms[0]!.isIdentity
    }
}

/// Walks the flattened NIR graph backwards from each consumer and composes the linear nodes on every path into one
/// `LinearExpression` (docs/nir.md, "Linear nodes"). Shapes are inferred on the way.
struct NIRComposer {
    enum Role { case input, output, neuron, linear }

    let flat: FlatNIRGraph
    let options: NIRImportOptions
    let file: String
    private(set) var roles: [String: Role] = [:]
    private var nodes: [String: FlatNIRGraph.Node] = [:]
    private var incoming: [String: [String]] = [:]
    private var shapes: [String: [Int]] = [:]
    private var operators: [String: LinearOperator] = [:]
    private var expressions: [String: LinearExpression] = [:]
    private var visiting = Set<String>()

    init(_ flat: FlatNIRGraph, options: NIRImportOptions, file: String) throws {
        self.flat = flat
        self.options = options
        self.file = file
        for n in flat.nodes {
            nodes[n.name] = n
            let t = n.node.type
            roles[n.name] = n.passThrough ? .linear : t == .input ? .input : t == .output ? .output
                : NIRNeurons.types.contains(t) ? .neuron : .linear
        }
        for e in flat.edges {
            if roles[e.target] == .input {
                throw fail(e.target, "Input node '\(e.target)' has an incoming edge from '\(e.source)'")
            }
            if roles[e.source] == .output {
                throw fail(e.source, "Output node '\(e.source)' has an outgoing edge to '\(e.target)'")
            }
            incoming[e.target, default: []].append(e.source)
        }
    }

    func fail(_ node: String, _ message: String) -> XbarError {
        XbarError(file: file, field: nodes[node]?.field ?? node, message)
    }

    func node(_ name: String) -> FlatNIRGraph.Node { nodes[name]! }

    /// Shape inference reached a node whose own shape is still being inferred: a cycle. `inputShape(of:)` skips such a
    /// source when another incoming edge gives the size; otherwise `error` is what the caller sees.
    private struct ShapeCycle: Error { let error: XbarError }

    /// The output shape of a node (row-major; a neuron node's shape is its parameters' or else its input's).
    mutating func shape(of name: String) throws -> [Int] {
        do { return try inferShape(of: name) } catch let c as ShapeCycle { throw c.error }
    }

    private mutating func inferShape(of name: String) throws -> [Int] {
        if let s = shapes[name] { return s }
        let n = node(name)
        guard !visiting.contains(name) else {
            if roles[name] == .neuron {
                throw ShapeCycle(error: fail(name, "cannot infer the size of \(n.node.type.rawValue) node '\(name)': its "
                                             + "parameters are scalars and its only input depends on itself"))
            }
            throw ShapeCycle(error: fail(name, "a cycle of linear nodes not broken by a neuron node passes through "
                                         + "\(n.node.type.rawValue) node '\(name)'"))
        }
        visiting.insert(name)
        defer { visiting.remove(name) }
        let s: [Int]
        switch roles[name]! {
        case .input:
            guard let a = n.node.parameters["shape"] else { throw fail(name, "Input node '\(name)' has no 'shape'") }
            s = try NodeParameters(n, file: file).shape("shape", a.values)
            guard NIRLinearMaps.count(s) <= 1 << 22 else {
                throw fail(name, "Input node '\(name)' has \(NIRLinearMaps.count(s)) channels, more than a population may hold (2^22)")
            }
        case .neuron:
            if let own = try NIRNeurons.shape(of: n, file: file) {
                s = own
            } else {
                s = try inputShape(of: name) ?? [1]
            }
            guard NIRLinearMaps.count(s) <= 1 << 22 else {
                throw fail(name, "\(n.node.type.rawValue) node '\(name)' has \(NIRLinearMaps.count(s)) neurons, more than a population may hold (2^22)")
            }
        case .linear:
            let op = try NIRLinearMaps.make(n, input: try inputShape(of: name), options: options, file: file)
            operators[name] = op
            s = op.outputShape
        case .output:
            s = try inputShape(of: name) ?? []
        }
        shapes[name] = s
        return s
    }

    /// The shape of what arrives at `name` (all incoming edges must carry the same number of values), nil if nothing does.
    /// A source whose shape depends on `name` itself (a cycle) is skipped when another incoming edge gives the size;
    /// `checkEdgeSizes()` compares it once every shape is known.
    private mutating func inputShape(of name: String) throws -> [Int]? {
        var first: (String, [Int])?
        var cycle: ShapeCycle?
        for src in incoming[name] ?? [] {
            let s: [Int]
            do { s = try inferShape(of: src) } catch let c as ShapeCycle {
                cycle = cycle ?? c
                continue
            }
            if let (f, fs) = first, NIRLinearMaps.count(fs) != NIRLinearMaps.count(s) {
                throw fail(name, "size mismatch between edge ends: '\(f)' gives \(NIRLinearMaps.count(fs)) values and '\(src)' "
                           + "gives \(NIRLinearMaps.count(s)) to '\(name)'")
            }
            if first == nil { first = (src, s) }
        }
        if first == nil, let cycle { throw cycle }
        return first?.1
    }

    /// The edges into each node carry the same number of values (the check that
    /// `inputShape(of:)` deferred for sources on a cycle).
    mutating func checkEdgeSizes() throws {
        for n in flat.nodes where incoming[n.name] != nil {
            do { _ = try inputShape(of: n.name) } catch let c as ShapeCycle { throw c.error }
        }
    }

    /// The sum of everything arriving at `name` over its incoming edges, or nil if nothing does.
    mutating func input(of name: String) throws -> LinearExpression? {
        var sum: LinearExpression?
        for src in incoming[name] ?? [] {
            let e = try output(of: src)
            sum = sum.map { $0 + e } ?? e
        }
        return sum
    }

    /// A node's output as an expression of source nodes.
    mutating func output(of name: String) throws -> LinearExpression {
        if let e = expressions[name] { return e }
        let size = NIRLinearMaps.count(try shape(of: name))
        switch roles[name]! {
        case .input, .neuron: return .identity(name, size: size)
        case .output: throw fail(name, "Output node '\(name)' has an outgoing edge")
        case .linear: break
        }
        guard !visiting.contains(name) else {
            throw fail(name, "a cycle of linear nodes not broken by a neuron node passes through \(node(name).node.type.rawValue) node '\(name)'")
        }
        visiting.insert(name)
        defer { visiting.remove(name) }
        let op = operators[name]!
        let upstream = try input(of: name) ?? LinearExpression(rows: size, terms: [], bias: nil)
        var out = LinearExpression(rows: size, terms: [], bias: op.bias)
        if let m = op.map {
            for (s, u) in upstream.terms {
                let bound = m.productBound(u)
                guard bound <= NIRLinearMaps.maxEntries else {
                    throw fail(name, "composing \(node(name).node.type.rawValue) node '\(name)' with the paths from '\(s)' "
                               + "needs up to \(bound) synapses, more than the limit \(NIRLinearMaps.maxEntries)")
                }
                out.terms.append((s, m.product(u)))
            }
            if let b = upstream.bias {
                let carried = m.timesConstant(b)
                out.bias = zip(out.bias ?? [Double](repeating: 0, count: size), carried).map { $0 + $1 }
            }
        } else {
            out.terms = upstream.terms
            out.bias = [op.bias, upstream.bias].compactMap { $0 }.reduce(nil) { acc, b in
                acc.map { zip($0, b).map { $0 + $1 } } ?? b
            }
        }
        out.terms.removeAll { $0.map.nonzeros == 0 }
        expressions[name] = out
        return out
    }
}
