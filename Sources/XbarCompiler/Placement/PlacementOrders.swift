import CMETIS
import XbarCore
import XbarGraph

/// The orders of the placement modes (docs/compiler.md, "Placement").
enum PlacementOrders {
    /// `spatial`: the neurons of a population with a grid (the target of a `spatial` projection) in Morton order of
    /// their (x, y, z) cells, ties by index; then every other population by barycentre.
    static func spatial(_ g: Graph, _ sg: SynapseGraph) -> [String: [Int]] {
        var order: [String: [Int]] = [:]
        for p in g.populations {
            let grids = g.projections.compactMap { pr -> [Int]? in
                if case let .spatial(s) = pr.weights, pr.to == p.name, s.grid.reduce(1, *) == p.size { return s.grid }
                return nil
            }
            guard let grid = grids.first else { continue }
            let codes = (0..<p.size).map { i in morton(i % grid[0], (i / grid[0]) % grid[1], i / (grid[0] * grid[1])) }
            order[p.name] = (0..<p.size).sorted { (codes[$0], $0) < (codes[$1], $1) }
        }
        return barycentre(g, sg, placed: order)
    }

    /// Completes `placed` by barycentre: each population not yet placed (in declaration order) sorts its members by the
    /// mean relative position (position / size) of their neighbours in the populations placed before it, ties by index;
    /// members without such neighbours keep their relative graph index as key.
    static func barycentre(_ g: Graph, _ sg: SynapseGraph, placed: [String: [Int]]) -> [String: [Int]] {
        var order = placed
        var relative = [Double?](repeating: nil, count: sg.nodes)
        func place(_ p: Population, _ o: [Int]) {
            let base = sg.offset[p.name]!
            for (k, gi) in o.enumerated() { relative[base + gi] = Double(k) / Double(max(1, p.size)) }
        }
        for p in g.populations { if let o = order[p.name] { place(p, o) } }
        for p in g.populations where order[p.name] == nil {
            let base = sg.offset[p.name]!
            let key: [Double] = (0..<p.size).map { i in
                var sum = 0.0, n = 0.0
                for u in sg.neighbours(base + i) { if let r = relative[Int(u)] { sum += r; n += 1 } }
                return n > 0 ? sum / n : Double(i) / Double(max(1, p.size))
            }
            let o = (0..<p.size).sorted { (key[$0], $0) < (key[$1], $1) }
            order[p.name] = o
            place(p, o)
        }
        return order
    }

    /// Interleaves the low 21 bits of x, y and z (x lowest).
    static func morton(_ x: Int, _ y: Int, _ z: Int) -> UInt64 {
        func spread(_ v: Int) -> UInt64 {
            var r: UInt64 = 0
            for b in 0..<21 where (v >> b) & 1 == 1 { r |= 1 << UInt64(3 * b) }
            return r
        }
        return spread(x) | spread(y) << 1 | spread(z) << 2
    }

    /// `metis`: METIS k-way partitioning (`METIS_PartGraphKway`, seed 1, default imbalance 1.03) of the synapses among
    /// neurons (input channels left out: their random fan-out would dominate the cut) into ceil(neurons / partSize)
    /// parts, edge weights = synapse counts; each neuron population's members sorted by (part, graph index); then the
    /// input populations by barycentre. With one part, neurons keep the graph order.
    static func metis(_ g: Graph, _ sg: SynapseGraph, partSize: Int, file: String) throws -> [String: [Int]] {
        // The neuron nodes, renumbered 0..<n.
        var local = [Int32](repeating: -1, count: sg.nodes), nodes: [Int] = []
        for p in g.populations where p.kind.isNeuron {
            let base = sg.offset[p.name]!
            for i in 0..<p.size { local[base + i] = Int32(nodes.count); nodes.append(base + i) }
        }
        let parts = (nodes.count + partSize - 1) / max(1, partSize)
        guard parts > 1, sg.adjacency.count <= Int(Int32.max) else { return barycentre(g, sg, placed: [:]) }
        var xadj: [idx_t] = [0], adjncy: [idx_t] = [], adjwgt: [idx_t] = []
        for v in nodes {
            for k in sg.start[v]..<sg.start[v + 1] where local[Int(sg.adjacency[k])] >= 0 {
                adjncy.append(local[Int(sg.adjacency[k])])
                adjwgt.append(sg.weight[k])
            }
            xadj.append(idx_t(adjncy.count))
        }
        var nv = idx_t(nodes.count), ncon = idx_t(1), np = idx_t(parts), objval = idx_t(0)
        var part = [idx_t](repeating: 0, count: nodes.count)
        var options = [idx_t](repeating: 0, count: Int(METIS_NOPTIONS))
        METIS_SetDefaultOptions(&options)
        options[Int(METIS_OPTION_SEED.rawValue)] = 1
        options[Int(METIS_OPTION_NUMBERING.rawValue)] = 0
        let rc = METIS_PartGraphRecursive(&nv, &ncon, &xadj, &adjncy, nil, nil, &adjwgt, &np, nil, nil, &options, &objval, &part)
        guard rc == METIS_OK.rawValue else {
            throw XbarError(file: file, field: "placement", "METIS failed to partition the synapse graph (status \(rc))")
        }
        var order: [String: [Int]] = [:]
        for p in g.populations where p.kind.isNeuron {
            let base = sg.offset[p.name]!
            let key = (0..<p.size).map { part[Int(local[base + $0])] }
            order[p.name] = (0..<p.size).sorted { (key[$0], $0) < (key[$1], $1) }
        }
        return barycentre(g, sg, placed: order)
    }
}
