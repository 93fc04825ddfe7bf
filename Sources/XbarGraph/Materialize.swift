import XbarCore

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
        for i in 0..<pre {
            for j in 0..<post {
                if r.noSelf && i == j { continue }
                if r.density < 1 {
                    let u = rng.uniform(purpose: RandomPurpose.graphMask.rawValue, salt, UInt32(i), UInt32(j))
                    if u >= r.density { continue }
                }
                let x: Double
                switch r.distribution {
                case .normal: x = r.a + r.b * rng.normal(purpose: RandomPurpose.graphWeights.rawValue, salt, UInt32(i), UInt32(j))
                case .uniform: x = r.a + (r.b - r.a) * rng.uniform(purpose: RandomPurpose.graphWeights.rawValue, salt, UInt32(i), UInt32(j))
                }
                let w = r.gain * x
                if w != 0 { body(i, j, w) }
            }
        }
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
