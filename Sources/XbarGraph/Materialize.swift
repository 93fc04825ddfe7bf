import XbarCore

/// Synapses drawn for a run of rows: (pre, post, weight) in row order.
struct DrawnSynapses: Sendable {
    var pre: [Int32] = []
    var post: [Int32] = []
    var weight: [Double] = []
    var indices: Range<Int> { pre.indices }
}

/// Turns any weight specification into a dense row-major pre x post matrix, deterministically.
public enum Materialize {
    /// FNV-1a of the projection name: the counter salt of its random draws (stable under reordering).
    public static func salt(_ name: String) -> UInt32 {
        var h: UInt32 = 0x811C_9DC5
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 0x0100_0193 }
        return h
    }

    /// Calls `body(pre, post, w)` for every non-zero weight of the projection in row-major order, without a dense
    /// matrix (sparse entries: duplicates summed in file order, from 0, as `weights` sums them).
    public static func forEachNonZero(_ p: Projection, pre: Int, post: Int, _ body: (Int, Int, Double) -> Void) {
        switch p.weights {
        case let .dense(v):
            for i in 0..<pre { for j in 0..<post where v[i * post + j] != 0 { body(i, j, v[i * post + j]) } }
        case let .sparse(es):
            let order = es.indices.sorted { (es[$0].pre, es[$0].post, $0) < (es[$1].pre, es[$1].post, $1) }
            var k = 0
            while k < order.count {
                let e = es[order[k]]
                var w = 0.0
                while k < order.count && es[order[k]].pre == e.pre && es[order[k]].post == e.post { w += es[order[k]].weight; k += 1 }
                if w != 0 { body(e.pre, e.post, w) }
            }
        case let .random(r): random(r, salt: salt(p.name), pre: pre, post: post, body)
        case let .spatial(s): spatial(s, salt: salt(p.name), n: post, body)
        }
    }

    public static func weights(_ p: Projection, pre: Int, post: Int) -> [Double] {
        switch p.weights {
        case let .dense(v): return v
        case let .sparse(es):
            var m = [Double](repeating: 0, count: pre * post)
            for e in es { m[e.pre * post + e.post] += e.weight }
            return m
        case let .random(r):
            var m = [Double](repeating: 0, count: pre * post)
            random(r, salt: salt(p.name), pre: pre, post: post) { m[$0 * post + $1] = $2 }
            return m
        case let .spatial(s):
            var m = [Double](repeating: 0, count: post * post)
            spatial(s, salt: salt(p.name), n: post) { m[$0 * post + $1] = $2 }
            return m
        }
    }

    static func random(_ r: RandomWeights, salt: UInt32, pre: Int, post: Int, _ body: (Int, Int, Double) -> Void) {
        let rng = Philox(seed: r.seed)
        if let k = r.fanout { return fanout(r, k, rng: rng, salt: salt, pre: pre, post: post, body) }
        for i in 0..<pre {
            for j in 0..<post {
                if r.noSelf && i == j { continue }
                if r.density < 1 {
                    let u = rng.uniform(purpose: RandomPurpose.graphMask.rawValue, salt, UInt32(i), UInt32(j))
                    if u >= r.density { continue }
                }
                let w = weight(r, rng: rng, salt: salt, i, j)
                if w != 0 { body(i, j, w) }
            }
        }
    }

    /// gain x (mean + std x N(1, salt, i, j)) or gain x (low + (high - low) x U(1, salt, i, j)).
    @inline(__always)
    static func weight(_ r: RandomWeights, rng: Philox, salt: UInt32, _ i: Int, _ j: Int) -> Double {
        let x: Double
        switch r.distribution {
        case .normal: x = r.a + r.b * rng.normal(purpose: RandomPurpose.graphWeights.rawValue, salt, UInt32(i), UInt32(j))
        case .uniform: x = r.a + (r.b - r.a) * rng.uniform(purpose: RandomPurpose.graphWeights.rawValue, salt, UInt32(i), UInt32(j))
        }
        return r.gain * x
    }

    /// Fixed fan-out (docs/graph.md, "random"): row i's `k` targets are drawn by Floyd's algorithm over the `m`
    /// candidates (post, less i itself with `noSelf`): for j in m-k ..< m, t = floor(U(33, salt, i, j) x (j + 1)), take
    /// t unless already taken, else j; candidate c is neuron c, or c + 1 when `noSelf` and c >= i. The weights are
    /// drawn as for the mask form, keyed by (i, post).
    static func fanout(_ r: RandomWeights, _ k: Int, rng: Philox, salt: UInt32, pre: Int, post: Int, _ body: (Int, Int, Double) -> Void) {
        // Rows are drawn in chunks on every core (each row's draws depend only on its counters), then handed to
        // `body` in row order.
        forEachPieceInOrder(pre, chunk: 512) { rows in
            fanoutRows(r, k, rng: rng, salt: salt, rows: rows, post: post)
        } consume: { rows in
            for e in rows.indices { body(Int(rows.pre[e]), Int(rows.post[e]), rows.weight[e]) }
        }
    }

    /// The synapses of `rows` of a fixed fan-out projection, row by row, targets ascending.
    static func fanoutRows(_ r: RandomWeights, _ k: Int, rng: Philox, salt: UInt32, rows: Range<Int>, post: Int) -> DrawnSynapses {
        var out = DrawnSynapses()
        out.pre.reserveCapacity(rows.count * k)
        out.post.reserveCapacity(rows.count * k)
        out.weight.reserveCapacity(rows.count * k)
        var taken = [Bool](repeating: false, count: post)  // over candidates; cleared through `chosen`
        var chosen = [Int](), targets = [Int]()
        chosen.reserveCapacity(k)
        targets.reserveCapacity(k)
        for i in rows {
            let skip = r.noSelf && i < post
            let m = post - (skip ? 1 : 0)
            for c in chosen { taken[c] = false }
            chosen.removeAll(keepingCapacity: true)
            targets.removeAll(keepingCapacity: true)
            for j in (m - k)..<m {
                let u = rng.uniform(purpose: RandomPurpose.graphTargets.rawValue, salt, UInt32(i), UInt32(j))
                let t = Swift.min(j, Int(u * Double(j + 1)))
                let c = taken[t] ? j : t
                taken[c] = true
                chosen.append(c)
                targets.append(skip && c >= i ? c + 1 : c)
            }
            targets.sort()
            for j in targets {
                let w = weight(r, rng: rng, salt: salt, i, j)
                if w != 0 { out.pre.append(Int32(i)); out.post.append(Int32(j)); out.weight.append(w) }
            }
        }
        return out
    }

    /// True for the inhibitory neurons of a spatial reservoir.
    public static func inhibitory(_ s: SpatialWeights, salt: UInt32, n: Int) -> [Bool] {
        let rng = Philox(seed: s.seed)
        return (0..<n).map { rng.uniform(purpose: RandomPurpose.graphPosition.rawValue, salt, UInt32($0), 0) < s.inhibitoryFraction }
    }

    static func spatial(_ s: SpatialWeights, salt: UInt32, n: Int, _ body: (Int, Int, Double) -> Void) {
        let rng = Philox(seed: s.seed)
        let inh = inhibitory(s, salt: salt, n: n)
        let (gx, gy) = (s.grid[0], s.grid[1])
        func pos(_ i: Int) -> (Double, Double, Double) {
            (Double(i % gx), Double((i / gx) % gy), Double(i / (gx * gy)))
        }
        for i in 0..<n {
            let pi = pos(i)
            for j in 0..<n where j != i {
                let pj = pos(j)
                let d2 = (pi.0 - pj.0) * (pi.0 - pj.0) + (pi.1 - pj.1) * (pi.1 - pj.1) + (pi.2 - pj.2) * (pi.2 - pj.2)
                let k = (inh[i] ? 2 : 0) + (inh[j] ? 1 : 0)  // EE, EI, IE, II
                let p = s.c[k] * _exp(-d2 / (s.lambda * s.lambda))
                if rng.uniform(purpose: RandomPurpose.graphMask.rawValue, salt, UInt32(i), UInt32(j)) < p {
                    let w = (inh[i] ? -1 : 1) * s.w[k] * s.gain
                    if w != 0 { body(i, j, w) }
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#else
import Foundation
@inline(__always) func _exp(_ x: Double) -> Double { Foundation.exp(x) }
#endif
