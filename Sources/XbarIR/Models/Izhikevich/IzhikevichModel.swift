import XbarCore

/// The Izhikevich (2003) neuron in fixed point (docs/ir.md, "`izhikevich`"): v' = 0.04 v^2 + 5 v + 140 - u + I,
/// u' = a (b v - u), spike at v >= peak, then v := c, u := u + d; `substeps` Euler steps per timestep, v first and u
/// from the new v (Izhikevich's published code), per-neuron heterogeneous a, b, c, d.
public enum IzhikevichModel: NeuronModel {
    public static let keyword = "izhikevich"

    public static let fields: [ModelField] = [
        ModelField("v", .signedType(minBits: 8, maxBits: 32), "type of the membrane potential v (2^-frac mV)"),
        ModelField("u", .signedType(minBits: 8, maxBits: 32), "type of the recovery variable u (2^-frac mV)"),
        ModelField("frac", .integer(min: 0, max: 24), "fraction bits F of v, u, c, d, bias, input and peak"),
        ModelField("substeps", .integer(min: 1, max: 16), "Euler sub-steps K per timestep (a power of two)"),
        ModelField("abfrac", .integer(min: 0, max: 24), "fraction bits G of a and b"),
        ModelField("quad", .integer(min: 0, max: Int64(1) << 31), "Q: 0.04 ~ Q / 2^qshr"),
        ModelField("qshr", .integer(min: 0, max: 30), "S: the shift of the quadratic coefficient"),
        ModelField("peak", .integer(min: -(Int64(1) << 31), max: Int64(1) << 31), "spike peak in state LSBs (30 mV)"),
        ModelField("rnd", .rounding, "rounding of every division by a power of two"),
    ]

    public static let perNeuron = ["a", "b", "c", "d", "bias", "v0", "u0"]
    public static let stateNames = ["v", "u"]

    public static func stateTypes(_ p: ModelParameters) -> [IntType] { [p.type("v"), p.type("u")] }

    /// K sub-steps plus the load cycle of rtl/xbar_izh_unit.v.
    public static func groupCycles(_ p: ModelParameters) -> Int { Int(p.int("substeps")) + 1 }

    public static func initialState(_ p: ModelParameters, size: Int) -> [[Int64]] { [p.vector("v0"), p.vector("u0")] }

    public static func kernel(_ p: ModelParameters, size: Int) -> any NeuronKernel { IzhikevichKernel(p) }

    public static func verify(_ p: ModelParameters, size: Int) -> String? {
        let vt = p.type("v"), ut = p.type("u")
        let k = p.int("substeps")
        guard k & (k - 1) == 0 else { return "substeps must be a power of two (1, 2, 4, 8 or 16), found \(k)" }
        guard vt.contains(p.int("peak")) else { return "peak \(p.int("peak")) does not fit \(vt)" }
        let limit = Int64(1) << 31
        for key in ["a", "b", "d", "bias"] {
            if let bad = p.vector(key).firstIndex(where: { abs($0) >= limit }) {
                return "\(key)[\(bad)] = \(p.vector(key)[bad]) is outside (-2^31, 2^31)"
            }
        }
        for (key, t) in [("c", vt), ("v0", vt), ("u0", ut)] {
            if let bad = p.vector(key).firstIndex(where: { !t.contains($0) }) {
                return "\(key)[\(bad)] = \(p.vector(key)[bad]) does not fit \(t)"
            }
        }
        // (2^(V-1))^2 / 2^F x |Q| < 2^62 and max|a| x (max|b| x 2^(V-1) / 2^G + 2^U) < 2^62 (docs/ir.md).
        let bound = Double(Int64(1) << 62)
        let vMax = Double(Int64(1) << (vt.bits - 1))
        guard vMax * vMax / Double(Int64(1) << p.int("frac")) * Double(abs(p.int("quad"))) < bound else {
            return "the quadratic term (2^\(vt.bits - 1))^2 / 2^frac x quad exceeds 2^62; lower qshr or narrow v"
        }
        let aMax = Double(p.vector("a").map { abs($0) }.max() ?? 0), bMax = Double(p.vector("b").map { abs($0) }.max() ?? 0)
        guard aMax * (bMax * vMax / Double(Int64(1) << p.int("abfrac")) + Double(Int64(1) << ut.bits)) < bound else {
            return "the recovery term max|a| x (max|b| x 2^(V-1) / 2^abfrac + 2^U) exceeds 2^62"
        }
        return nil
    }
}

/// The population's integer parameters, unpacked once for the update loops.
struct IzhikevichConstants: Sendable {
    let vType: IntType, uType: IntType
    let F: Int, G: Int, H: Int, K: Int, S: Int
    let Q: Int64, peak: Int64
    let rounding: Rounding
    let a: [Int64], b: [Int64], c: [Int64], d: [Int64], bias: [Int64]

    init(_ p: ModelParameters) {
        vType = p.type("v")
        uType = p.type("u")
        F = Int(p.int("frac"))
        G = Int(p.int("abfrac"))
        K = Int(p.int("substeps"))
        H = K.trailingZeroBitCount
        S = Int(p.int("qshr"))
        Q = p.int("quad")
        peak = p.int("peak")
        rounding = p.rounding("rnd")
        a = p.vector("a")
        b = p.vector("b")
        c = p.vector("c")
        d = p.vector("d")
        bias = p.vector("bias")
    }
}
