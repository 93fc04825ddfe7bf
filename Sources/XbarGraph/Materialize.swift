import XbarCore

/// Turns any weight specification into a dense row-major pre x post matrix, deterministically.
public enum Materialize {
    /// FNV-1a of the projection name: the counter salt of its random draws (stable under reordering).
    public static func salt(_ name: String) -> UInt32 {
        var h: UInt32 = 0x811C_9DC5
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 0x0100_0193 }
        return h
    }

    public static func weights(_ p: Projection, pre: Int, post: Int) -> [Double] {
        switch p.weights {
        case let .dense(v): return v
        case let .sparse(es):
            var m = [Double](repeating: 0, count: pre * post)
            for e in es { m[e.pre * post + e.post] += e.weight }
            return m
        case let .random(r): return random(r, salt: salt(p.name), pre: pre, post: post)
        case let .spatial(s): return spatial(s, salt: salt(p.name), n: post)
        }
    }

    static func random(_ r: RandomWeights, salt: UInt32, pre: Int, post: Int) -> [Double] {
        let rng = Philox(seed: r.seed)
        var m = [Double](repeating: 0, count: pre * post)
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
                m[i * post + j] = r.gain * x
            }
        }
        return m
    }

    /// True for the inhibitory neurons of a spatial reservoir.
    public static func inhibitory(_ s: SpatialWeights, salt: UInt32, n: Int) -> [Bool] {
        let rng = Philox(seed: s.seed)
        return (0..<n).map { rng.uniform(purpose: RandomPurpose.graphPosition.rawValue, salt, UInt32($0), 0) < s.inhibitoryFraction }
    }

    static func spatial(_ s: SpatialWeights, salt: UInt32, n: Int) -> [Double] {
        let rng = Philox(seed: s.seed)
        let inh = inhibitory(s, salt: salt, n: n)
        let (gx, gy) = (s.grid[0], s.grid[1])
        func pos(_ i: Int) -> (Double, Double, Double) {
            (Double(i % gx), Double((i / gx) % gy), Double(i / (gx * gy)))
        }
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            let pi = pos(i)
            for j in 0..<n where j != i {
                let pj = pos(j)
                let d2 = (pi.0 - pj.0) * (pi.0 - pj.0) + (pi.1 - pj.1) * (pi.1 - pj.1) + (pi.2 - pj.2) * (pi.2 - pj.2)
                let k = (inh[i] ? 2 : 0) + (inh[j] ? 1 : 0)  // EE, EI, IE, II
                let p = s.c[k] * _exp(-d2 / (s.lambda * s.lambda))
                if rng.uniform(purpose: RandomPurpose.graphMask.rawValue, salt, UInt32(i), UInt32(j)) < p {
                    m[i * n + j] = (inh[i] ? -1 : 1) * s.w[k] * s.gain
                }
            }
        }
        return m
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#else
import Foundation
@inline(__always) func _exp(_ x: Double) -> Double { Foundation.exp(x) }
#endif
