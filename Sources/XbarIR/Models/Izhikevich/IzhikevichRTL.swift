import XbarCore

extension IzhikevichModel {
    /// rtl/xbar_izh_unit.v (one sub-step per clock, K + 1 cycles per neuron) and rtl/xbar_izh_tb.v (docs/rtl-izhikevich.md).
    public static let rtl = ModelRTL(unit: "xbar_izh_unit.v", testbench: "xbar_izh_tb.v", top: "xbar_izh_tb", vectorsArg: "vectors")

    /// The vector file of rtl/xbar_izh_tb.v: `N T H F G Q S PK RND VB UB CB`, one line `a b c d bias v0 u0` per neuron,
    /// then per step and neuron `I vtrace v u spike count` (v, u and count after the step).
    public static func unitVectors(_ n: NeuronDecl, steps r: ModelStepRecords) -> String {
        let p = n.model!
        let k = IzhikevichConstants(p)
        let rnd: Int
        switch k.rounding {
        case .floor: rnd = 0
        case .trunc: rnd = 1
        case .halfUp: rnd = 2
        case .halfEven: rnd = 3
        }
        var out = "\(n.size) \(r.input.count) \(k.H) \(k.F) \(k.G) \(k.Q) \(k.S) \(k.peak) \(rnd) \(k.vType.bits) \(k.uType.bits) \(n.countType.bits)\n"
        let v0 = p.vector("v0"), u0 = p.vector("u0")
        for i in 0..<n.size { out += "\(k.a[i]) \(k.b[i]) \(k.c[i]) \(k.d[i]) \(k.bias[i]) \(v0[i]) \(u0[i])\n" }
        var count = [Int64](repeating: 0, count: n.size)
        let u = r.state["u"] ?? []
        for t in 0..<r.input.count {
            for i in 0..<n.size {
                let s = r.spiked[t][i]
                count[i] = Swift.min(count[i] + (s ? 1 : 0), n.countType.max)
                let v = s ? k.c[i] : r.membrane[t][i]
                out += "\(r.input[t][i]) \(r.membrane[t][i]) \(v) \(u[t][i]) \(s ? 1 : 0) \(count[i])\n"
            }
        }
        return out
    }
}
