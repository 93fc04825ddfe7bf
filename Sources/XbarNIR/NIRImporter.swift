import Foundation
import XbarCore
import XbarGraph

/// Lowers a NIR graph to the graph format (docs/nir.md, "Lowering"): nested graphs are inlined; every Input node becomes
/// an `input` population; every neuron node (LIF, IF, I, LI, CubaLIF, CubaLI, Threshold) one `lif` population per
/// distinct (decay, threshold, synapse decay); all linear nodes between them (Affine, Linear, Scale, Conv1d, Conv2d,
/// SumPool2d, AvgPool2d, Flatten, Delay) are composed into one projection per (source, target, delay).
public enum NIRImporter {
    /// The lowered graph, checked by `GraphValidator`. `file` names the source in errors.
    public static func graph(from nir: NIRGraph, options: NIRImportOptions, file: String) throws -> Graph {
        try lower(nir, options: options, file: file).graph
    }

    /// The lowered graph with what the graph format does not record (outputs, neuron origins) and warnings.
    public static func lower(_ nir: NIRGraph, options o: NIRImportOptions, file: String) throws -> NIRImportResult {
        guard o.dt > 0, o.dt.isFinite else {
            throw XbarError(file: file, field: "dt", "expected a positive timestep in seconds, got \(o.dt)")
        }
        let flat = try NIRInliner.inline(nir, file: file, repair: o.repairDanglingEdges)
        var c = try NIRComposer(flat, options: o, file: file)
        let order = populationOrder(flat, roles: c.roles)

        // Shapes and neuron models; split each neuron node by its (decay, threshold, synapse decay).
        var plans: [String: NeuronPlan] = [:]
        var populations: [Population] = []
        var origins: [String: NIRPopulationOrigin] = [:]
        var usedNames = Set<String>()
        func claim(_ name: String, node: String) throws -> String {
            let clean = String(name.map { $0.isLetter || $0.isNumber || "_-.".contains($0) ? $0 : "_" })
            guard !clean.isEmpty, usedNames.insert(clean).inserted else {
                throw c.fail(node, "node '\(node)' would become population '\(clean)', which another population already uses")
            }
            return clean
        }
        for name in order {
            let size = NIRLinearMaps.count(try c.shape(of: name))
            if c.roles[name] == .input {
                let pop = try claim(name, node: name)
                populations.append(Population(name: pop, kind: .input, size: size))
                plans[name] = NeuronPlan(model: nil, groups: [pop], groupOf: [Int](repeating: 0, count: size), localIndex: Array(0..<size))
                continue
            }
            let model = try NIRNeurons.model(c.node(name), count: size, options: o, file: file)
            var keyGroups: [NeuronModel.Key: Int] = [:]
            var plan = NeuronPlan(model: model, groups: [], groupOf: [], localIndex: [])
            var members: [[Int]] = []
            for (i, k) in model.keys.enumerated() {
                let g = keyGroups[k] ?? {
                    keyGroups[k] = members.count
                    members.append([])
                    return members.count - 1
                }()
                plan.groupOf.append(g)
                plan.localIndex.append(members[g].count)
                members[g].append(i)
            }
            for g in members.indices {
                let pop = try claim(g == 0 ? name : "\(name).\(g)", node: name)
                plan.groups.append(pop)
                plan.firstMember.append(members[g][0])
                plan.groupSize.append(members[g].count)
                origins[pop] = NIRPopulationOrigin(node: name, neurons: members[g])
            }
            plans[name] = plan
        }
        try c.checkEdgeSizes()
        // Each neuron node's composed input; a delay-0 (source node, target node) pair that closes a cycle gets one step
        // more, for every population the two nodes were split into.
        var inputs: [String: LinearExpression] = [:]
        for target in order where c.roles[target] == .neuron {
            if let e = try c.input(of: target) { inputs[target] = e }
        }
        let bumped = recurrentPairs(order: order, inputs: inputs)

        // Projections per (source population, target population, delay) and biases.
        var buckets: [ProjectionKey: [SparseEntry]] = [:]
        var bucketOrder: [ProjectionKey] = []
        var membraneBias: [String: [Double]] = [:], synapseBias: [String: [Double]] = [:]
        for target in order where c.roles[target] == .neuron {
            let plan = plans[target]!, model = plan.model!
            for (i, pop) in plan.groups.enumerated() {
                let n = plan.groupSize[i]
                membraneBias[pop] = [Double](repeating: 0, count: n)
                synapseBias[pop] = [Double](repeating: 0, count: n)
            }
            for t in 0..<model.keys.count {
                membraneBias[plan.groups[plan.groupOf[t]]]![plan.localIndex[t]] += model.leak[t]
            }
            guard let input = inputs[target] else { continue }
            let size = model.keys.count
            guard input.rows == size else {
                throw c.fail(target, "size mismatch between edge ends: \(input.rows) values arrive at \(c.node(target).node.type.rawValue) "
                             + "node '\(target)', which has \(size) neurons")
            }
            if let b = input.bias {
                for t in 0..<size where b[t] != 0 {
                    let pop = plan.groups[plan.groupOf[t]], v = b[t] * model.inputScale[t]
                    if model.hasSynapse { synapseBias[pop]![plan.localIndex[t]] += v } else { membraneBias[pop]![plan.localIndex[t]] += v }
                }
            }
            for (source, map) in input.terms {
                let src = plans[source]!
                if let m = src.model, !m.spiking {
                    throw nonSpiking(source, feeds: target, c)
                }
                for d0 in map.delays {
                    let m = map.terms[d0]!, d = d0 == 0 && bumped.contains(NodePair(source: source, target: target)) ? 1 : d0
                    for t in 0..<size {
                        for (s, w) in m.row(t) {
                            let key = ProjectionKey(from: src.groups[src.groupOf[s]], to: plan.groups[plan.groupOf[t]], delay: d)
                            if buckets[key] == nil { bucketOrder.append(key) }
                            buckets[key, default: []].append(SparseEntry(pre: src.localIndex[s], post: plan.localIndex[t],
                                                                         weight: w * model.inputScale[t]))
                        }
                    }
                }
            }
        }
        // A non-spiking node may only feed Output nodes (possibly through pass-throughs).
        for n in flat.nodes where c.roles[n.name] == .neuron && plans[n.name]?.model?.spiking == false {
            try checkFeedsOnlyOutputs(n.name, flat: flat, c)
        }

        for name in order where c.roles[name] == .neuron {
            let plan = plans[name]!, model = plan.model!
            for (g, pop) in plan.groups.enumerated() {
                let key = model.keys[plan.firstMember[g]]
                let (b, nb) = split(membraneBias[pop]!)
                var lif = LIFParameters(decay: key.decay, threshold: key.threshold ?? 1, reset: model.reset, bias: b,
                                        neuronBias: nb, spiking: model.spiking)
                if model.hasSynapse {
                    let (sb, snb) = split(synapseBias[pop]!)
                    lif.synapse = SynapseParameters(decay: key.synapseDecay!, bias: sb, neuronBias: snb)
                }
                populations.append(Population(name: pop, kind: .lif, size: membraneBias[pop]!.count, lif: lif))
            }
        }

        let projections = try assemble(buckets, order: bucketOrder, populations: populations, c)
        let outputs = try bindOutputs(flat, plans: plans, &c)
        let g = Graph(name: o.name, timesteps: o.timesteps, populations: populations, projections: projections)
        try GraphValidator.validate(g, file: file)
        return NIRImportResult(graph: g, outputs: outputs, origins: origins, warnings: flat.warnings)
    }

    /// How one NIR node maps onto graph populations.
    struct NeuronPlan {
        /// nil for an Input node.
        var model: NeuronModel?
        /// Population names, one per distinct parameter key.
        var groups: [String]
        /// Per NIR neuron: its group and its index inside the group's population.
        var groupOf: [Int]
        var localIndex: [Int]
        /// Per group: its first NIR neuron and its number of neurons (neuron nodes only).
        var firstMember: [Int] = []
        var groupSize: [Int] = []
    }

    /// One graph projection: populations and delay.
    struct ProjectionKey: Hashable {
        var from: String
        var to: String
        var delay: Int
    }

    /// (uniform bias, nil) when all values are equal, else (0, per-neuron values).
    static func split(_ b: [Double]) -> (Double, [Double]?) {
        guard let first = b.first else { return (0, nil) }
        return b.allSatisfy({ $0 == first }) ? (first, nil) : (0, b)
    }

    /// Inputs in node order, then neuron nodes in breadth-first order from the inputs along the edges, then the rest in
    /// node order.
    static func populationOrder(_ flat: FlatNIRGraph, roles: [String: NIRComposer.Role]) -> [String] {
        var order = flat.nodes.filter { roles[$0.name] == .input }.map(\.name)
        var seen = Set(order), queue = order, head = 0
        var out: [String: [String]] = [:]
        for e in flat.edges { out[e.source, default: []].append(e.target) }
        var neurons: [String] = []
        while head < queue.count {
            let n = queue[head]
            head += 1
            for t in out[n] ?? [] where seen.insert(t).inserted {
                queue.append(t)
                if roles[t] == .neuron { neurons.append(t) }
            }
        }
        for n in flat.nodes where roles[n.name] == .neuron && !seen.contains(n.name) { neurons.append(n.name) }
        order += neurons
        return order
    }

    static func nonSpiking(_ source: String, feeds target: String, _ c: NIRComposer) -> XbarError {
        let t = c.node(source).node.type.rawValue
        return c.fail(source, "\(t) node '\(source)' feeds '\(target)': it does not spike (its output is a graded voltage) and "
                      + "crossbar rows take 1-bit spikes, so a non-spiking node may only feed Output nodes")
    }

    /// Follows `name`'s edges through pass-through nodes; anything but an Output is an error.
    static func checkFeedsOnlyOutputs(_ name: String, flat: FlatNIRGraph, _ c: NIRComposer) throws {
        var stack = [name], seen = Set<String>()
        while let n = stack.popLast() {
            for e in flat.edges where e.source == n && seen.insert(e.target).inserted {
                if c.roles[e.target] == .output { continue }
                if c.node(e.target).passThrough { stack.append(e.target); continue }
                throw nonSpiking(name, feeds: e.target, c)
            }
        }
    }

    /// A (source node, target node) pair of NIR neuron/Input nodes.
    struct NodePair: Hashable {
        var source: String
        var target: String
    }

    /// The (source node, target node) pairs with a delay-0 path that closes a cycle: depth-first from the Input nodes
    /// (then any unvisited node) in population order, over delay-0 pairs in target order; a pair reaching a node still on
    /// the stack is a back edge (a self-loop always is).
    static func recurrentPairs(order: [String], inputs: [String: LinearExpression]) -> Set<NodePair> {
        var out: [String: [String]] = [:]
        for target in order {
            for (s, m) in inputs[target]?.terms ?? [] where m.terms[0] != nil { out[s, default: []].append(target) }
        }
        var state: [String: Int] = [:]  // 1 on the stack, 2 done
        var bumped = Set<NodePair>()
        func visit(_ n: String) {
            state[n] = 1
            for t in out[n] ?? [] {
                if state[t] == 1 { bumped.insert(NodePair(source: n, target: t)) } else if state[t] == nil { visit(t) }
            }
            state[n] = 2
        }
        for n in order where state[n] == nil { visit(n) }
        return bumped
    }

    /// Projections from the entry buckets: naming, dense or sparse weights.
    static func assemble(_ buckets: [ProjectionKey: [SparseEntry]], order: [ProjectionKey], populations: [Population],
                         _ c: NIRComposer) throws -> [Projection] {
        let index = Dictionary(uniqueKeysWithValues: populations.enumerated().map { ($1.name, $0) })
        let sorted = order.sorted { a, b in
            (index[a.to]!, index[a.from]!, a.delay) < (index[b.to]!, index[b.from]!, b.delay)
        }
        var pairCount: [String: Int] = [:]
        for k in sorted { pairCount[k.from + "\u{0}" + k.to, default: 0] += 1 }
        return try sorted.map { k in
            guard k.delay <= maxProjectionDelay else {
                throw XbarError(file: c.file, field: k.to, "the projection \(k.from) -> \(k.to) needs delay \(k.delay) steps; "
                                + "the graph format allows at most \(maxProjectionDelay)")
            }
            let rows = populations[index[k.from]!].size, cols = populations[index[k.to]!].size
            let entries = combine(buckets[k]!)
            let weights: WeightSpec
            if Double(entries.count) > 0.25 * Double(rows) * Double(cols) {
                var dense = [Double](repeating: 0, count: rows * cols)
                for e in entries { dense[e.pre * cols + e.post] = e.weight }
                weights = .dense(dense)
            } else {
                weights = .sparse(entries)
            }
            let name = pairCount[k.from + "\u{0}" + k.to]! > 1 ? "\(k.from)->\(k.to)@\(k.delay)" : "\(k.from)->\(k.to)"
            return Projection(name: name, from: k.from, to: k.to, delay: k.delay, weights: weights)
        }
    }

    /// Entries sorted by (pre, post) with duplicates summed and zeros dropped.
    static func combine(_ entries: [SparseEntry]) -> [SparseEntry] {
        let s = entries.sorted { ($0.pre, $0.post) < ($1.pre, $1.post) }
        var out: [SparseEntry] = []
        out.reserveCapacity(s.count)
        for e in s {
            if let last = out.last, last.pre == e.pre, last.post == e.post { out[out.count - 1].weight += e.weight } else { out.append(e) }
        }
        return out.filter { $0.weight != 0 }
    }

    /// What feeds every top-level Output node.
    static func bindOutputs(_ flat: FlatNIRGraph, plans: [String: NeuronPlan], _ c: inout NIRComposer) throws -> [NIROutputBinding] {
        var out: [NIROutputBinding] = []
        for n in flat.nodes where c.roles[n.name] == .output {
            let e = try c.input(of: n.name)
            let size = e?.rows ?? 0
            if let declared = n.node.parameters["shape"], declared.count > 0, size > 0 {
                let shape = try NodeParameters(c.node(n.name), file: c.file).shape("shape", declared.values)
                let want = NIRLinearMaps.count(shape)
                guard want == size else {
                    throw c.fail(n.name, "size mismatch between edge ends: \(size) values arrive at Output node '\(n.name)', "
                                 + "whose shape \(shape) holds \(want)")
                }
            }
            var pops: [String] = []
            for (s, _) in e?.terms ?? [] { for g in plans[s]?.groups ?? [] where !pops.contains(g) { pops.append(g) } }
            out.append(NIROutputBinding(output: n.name, size: size, populations: pops, direct: e?.isDirect ?? false))
        }
        return out
    }
}
