import XbarGraph

/// The non-zero synapses of a graph as one undirected graph over all its populations' members (inputs and neurons,
/// population after population in declaration order): what the placement orders read.
struct SynapseGraph {
    /// First node of each population, by name.
    let offset: [String: Int]
    let nodes: Int
    /// Compressed adjacency: the neighbours of node v are `adjacency[start[v]..<start[v + 1]]`, ascending, each once;
    /// `weight` counts the synapses between the pair (both directions, summed over projections and delays).
    let start: [Int]
    let adjacency: [Int32]
    let weight: [Int32]

    init(_ g: Graph) {
        var off: [String: Int] = [:], n = 0
        for p in g.populations { off[p.name] = n; n += p.size }
        offset = off
        nodes = n
        var pairs: [(Int32, Int32)] = []
        for pr in g.projections {
            let pre = g.population(named: pr.from)!.size, post = g.population(named: pr.to)!.size
            let a0 = off[pr.from]!, b0 = off[pr.to]!
            func add(_ a: Int, _ b: Int) {
                guard a0 + a != b0 + b else { return }
                pairs.append((Int32(a0 + a), Int32(b0 + b)))
                pairs.append((Int32(b0 + b), Int32(a0 + a)))
            }
            Materialize.forEachNonZero(pr, pre: pre, post: post) { a, b, _ in add(a, b) }
        }
        pairs.sort { $0 < $1 }
        var start = [Int](repeating: 0, count: n + 1), adj: [Int32] = [], wt: [Int32] = []
        adj.reserveCapacity(pairs.count)
        var k = 0
        for v in 0..<n {
            start[v] = adj.count
            while k < pairs.count && Int(pairs[k].0) == v {
                if let last = adj.last, adj.count > start[v], last == pairs[k].1 { wt[wt.count - 1] += 1 } else {
                    adj.append(pairs[k].1)
                    wt.append(1)
                }
                k += 1
            }
        }
        start[n] = adj.count
        self.start = start
        adjacency = adj
        weight = wt
    }

    func neighbours(_ v: Int) -> ArraySlice<Int32> { adjacency[start[v]..<start[v + 1]] }
}
