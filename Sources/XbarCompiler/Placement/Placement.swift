import XbarCore
import XbarGraph

/// How the `order` pass numbers each population's neurons and input channels before tiling (docs/compiler.md,
/// "Placement"): `identity` keeps the graph's order; `spatial` puts grid neurons in Morton (Z-curve) order and every
/// other population in the order of its synapses' barycentres; `metis` partitions the whole synapse graph with METIS
/// into parts of one column tile each and numbers part by part.
public enum PlacementMode: String, CaseIterable, Sendable {
    case identity, spatial, metis
}

/// The physical order of populations: `order[name][k]` is the graph index of the neuron (or input channel) placed at
/// physical position k. A population absent from `order` keeps the graph's order. The compiled program is the graph
/// renumbered this way (`apply(to:)`); its inputs, spikes, counts and states are in physical order.
public struct Placement: Equatable, Sendable {
    public var mode: PlacementMode
    public var order: [String: [Int]]

    public init(mode: PlacementMode, order: [String: [Int]] = [:]) {
        self.mode = mode
        self.order = order.filter { !$0.value.enumerated().allSatisfy { $0.offset == $0.element } }
    }

    public var isIdentity: Bool { order.isEmpty }

    /// `position[g]`: the physical position of graph index g of population `name` (identity when not reordered).
    public func position(_ name: String, size: Int) -> [Int] {
        guard let o = order[name] else { return Array(0..<size) }
        var p = [Int](repeating: 0, count: o.count)
        for (k, gi) in o.enumerated() { p[gi] = k }
        return p
    }

    /// For the concatenated input channels of graph `g` (its input populations in declaration order, as the event
    /// file holds them): `map[c]` is the physical channel of graph channel c.
    public func inputChannelMap(_ g: Graph) -> [Int] {
        inputChannelMap(inputs: g.populations.filter { $0.kind == .input }.map { ($0.name, $0.size) })
    }

    /// The same for input populations given as (name, size), in the order the event file holds them.
    public func inputChannelMap(inputs: [(String, Int)]) -> [Int] {
        var map: [Int] = []
        for (name, size) in inputs {
            let base = map.count
            map += position(name, size: size).map { base + $0 }
        }
        return map
    }

    /// Reads a placement file (`json`'s format), checking every order against `sizes` (population name -> size).
    public static func read(_ path: String, sizes: [String: Int]) throws -> Placement {
        let r = try JSONReader.parse(try AtomicFile.read(path), file: path)
        try r.onlyKeys(["format", "version", "mode", "order"])
        guard try r.field("format").string() == "neuroxbar-placement" else { throw r.fail("expected format \"neuroxbar-placement\"") }
        _ = try r.field("version").int(min: 1, max: 1)
        let mode = try r.field("mode").enumValue(PlacementMode.self)
        let o = try r.field("order")
        var order: [String: [Int]] = [:]
        for name in try o.keys() {
            let f = try o.field(name)
            guard let n = sizes[name] else { throw f.fail("no population \(name) in the program") }
            guard try f.count() == n else { throw f.fail("expected \(n) entries (the population's size)") }
            let v = try f.array().map { try $0.int(min: 0, max: n - 1) }
            guard isPermutation(v, of: n) else { throw f.fail("expected a permutation of 0..<\(n)") }
            order[name] = v
        }
        return Placement(mode: mode, order: order)
    }

    /// Whether every order is a permutation of its population's indices.
    public func check(_ g: Graph) -> String? {
        for (name, o) in order.sorted(by: { $0.key < $1.key }) {
            guard let p = g.population(named: name) else { return "population \(name) is not in the graph" }
            guard Self.isPermutation(o, of: p.size) else { return "order of \(name) is not a permutation of 0..<\(p.size)" }
        }
        return nil
    }

    /// Whether `o` holds each of 0..<n exactly once.
    static func isPermutation(_ o: [Int], of n: Int) -> Bool {
        o.count == n && Set(o).count == n && o.allSatisfy { (0..<n).contains($0) }
    }

    /// The graph renumbered: every reordered population's per-neuron parameters, the projections from and to it (as
    /// sparse non-zero entries, values unchanged), its readout columns and per-neuron plasticity targets.
    public func apply(to g: Graph) -> Graph {
        guard !isIdentity else { return g }
        var out = g
        for (i, p) in g.populations.enumerated() {
            guard let o = order[p.name] else { continue }
            out.populations[i].lif = p.lif.map { Self.permuted($0, o) }
            if var m = p.model {
                for (k, v) in m.perNeuron { m.perNeuron[k] = o.map { v[$0] } }
                out.populations[i].model = m
            }
        }
        for (j, pr) in g.projections.enumerated() where order[pr.from] != nil || order[pr.to] != nil {
            let pre = g.population(named: pr.from)!.size, post = g.population(named: pr.to)!.size
            let ip = position(pr.from, size: pre), jp = position(pr.to, size: post)
            var entries: [SparseEntry] = []
            if case let .sparse(es) = pr.weights {
                entries = es.map { SparseEntry(pre: ip[$0.pre], post: jp[$0.post], weight: $0.weight) }
            } else {
                Materialize.forEachNonZero(pr, pre: pre, post: post) { a, b, w in entries.append(SparseEntry(pre: ip[a], post: jp[b], weight: w)) }
            }
            entries.sort { ($0.pre, $0.post) < ($1.pre, $1.post) }
            out.projections[j].weights = .sparse(entries)
            if let o = order[pr.to], var rule = pr.plasticity, rule.targetRates.count == post {
                rule.targetRates = o.map { rule.targetRates[$0] }
                out.projections[j].plasticity = rule
            }
        }
        if var r = g.readout, let o = order[r.from], let w = r.weights {
            let n = o.count
            r.weights = (0..<r.classes).flatMap { c in o.map { w[c * n + $0] } }
            out.readout = r
        }
        return out
    }

    static func permuted(_ l: LIFParameters, _ o: [Int]) -> LIFParameters {
        var l = l
        l.neuronBias = l.neuronBias.map { v in o.map { v[$0] } }
        if var s = l.synapse {
            s.neuronBias = s.neuronBias.map { v in o.map { v[$0] } }
            l.synapse = s
        }
        return l
    }

    /// The placement as JSON (docs/compiler.md, "Placement"): `{"mode": ..., "order": {"POP": [graph index of each
    /// physical position], ...}}`, populations sorted by name.
    public var json: String {
        let pops = order.keys.sorted().map { "\"\($0)\": [" + order[$0]!.map(String.init).joined(separator: ",") + "]" }
        return "{\"format\": \"neuroxbar-placement\", \"version\": 1, \"mode\": \"\(mode.rawValue)\", \"order\": {"
            + pops.joined(separator: ", ") + "}}\n"
    }
}
