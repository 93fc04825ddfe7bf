import XbarCore

/// The native Izhikevich update (fast and cycle engines), Int64 throughout: the verifier's bounds keep every
/// intermediate of docs/ir.md's update below 2^62.
struct IzhikevichKernel: NeuronKernel {
    let k: IzhikevichConstants

    init(_ p: ModelParameters) { k = IzhikevichConstants(p) }

    func update(lo: Int, hi: Int, input: UnsafePointer<Int64>, state: [UnsafeMutablePointer<Int64>],
                count: UnsafeMutablePointer<Int64>?, countMax: Int64, out: UnsafeMutablePointer<Int64>,
                trace: UnsafeMutablePointer<Int64>?, spikes: UnsafeMutablePointer<Int32>) -> Int {
        let v = state[0], u = state[1]
        let r = k.rounding, rest = Int64(140) << k.F
        var n = 0
        for i in lo..<hi {
            let x = input[i] + k.bias[i]
            var vv = v[i], uu = u[i], fired = false
            for _ in 0..<k.K where !fired {
                var q = Fixed.shiftRight(vv * vv, k.F, r)
                q = Fixed.shiftRight(q * k.Q, k.S, r)
                let dv = q + 5 * vv + rest - uu + x
                vv = Fixed.fit(vv + Fixed.shiftRight(dv, k.H, r), k.vType, .sat)
                let bv = Fixed.shiftRight(k.b[i] * vv, k.G, r)
                uu = Fixed.fit(uu + Fixed.shiftRight(k.a[i] * (bv - uu), k.G + k.H, r), k.uType, .sat)
                fired = vv >= k.peak
            }
            trace?[i] = vv
            if fired {
                v[i] = k.c[i]
                u[i] = Fixed.fit(uu + k.d[i], k.uType, .sat)
                spikes[n] = Int32(i)
                n += 1
            } else {
                v[i] = vv
                u[i] = uu
            }
            out[i] = fired ? 1 : 0
            if let count { count[i] = Swift.min(count[i] + out[i], countMax) }
        }
        return n
    }
}

extension IzhikevichModel {
    /// The exact update of one neuron, written from docs/ir.md on unbounded integers (independent of the kernel).
    public static func exactUpdate<N: ExactInteger>(_ p: ModelParameters, neuron i: Int, input: N, state: inout [N],
                                                    fit: (N, IntType, String) -> N) -> (spike: Bool, trace: N) {
        let vType = p.type("v"), uType = p.type("u"), r = p.rounding("rnd")
        let F = Int(p.int("frac")), G = Int(p.int("abfrac")), S = Int(p.int("qshr"))
        let K = Int(p.int("substeps")), H = K.trailingZeroBitCount
        let a = N(p.vector("a")[i]), b = N(p.vector("b")[i]), peak = N(p.int("peak")), q0 = N(p.int("quad"))
        let x = input + N(p.vector("bias")[i])
        var vv = state[0], uu = state[1]
        var fired = false
        var sub = 0
        while sub < K && !fired {
            let q = (vv * vv).shifted(right: F, r)
            let q2 = (q * q0).shifted(right: S, r)
            let dv = q2 + N(5) * vv + N(140) * N(Int64(1) << F) - uu + x
            vv = fit(vv + dv.shifted(right: H, r), vType, "v")
            let bv = (b * vv).shifted(right: G, r)
            uu = fit(uu + (a * (bv - uu)).shifted(right: G + H, r), uType, "u")
            fired = vv.atLeast(peak)
            sub += 1
        }
        if fired {
            state[0] = N(p.vector("c")[i])
            state[1] = fit(uu + N(p.vector("d")[i]), uType, "u")
        } else {
            state[0] = vv
            state[1] = uu
        }
        return (fired, vv)
    }
}
