import XbarCore

/// The double-precision Izhikevich reference: the same sub-steps, order and peak rule as docs/ir.md's update, with
/// the real parameters (0.04 exact, no rounding, no saturation). Inputs are in mV/ms, like the model's I.
public struct IzhikevichFloat: FloatNeuronDynamics {
    public var a: [Double], b: [Double], c: [Double], d: [Double], bias: [Double]
    public var v0: [Double], u0: [Double]
    public var substeps: Int
    public var peak: Double
    /// The quadratic coefficient: 0.04 for the graph's twin, the IR's Q / 2^S for a program's.
    public var quad = 0.04

    public var stateNames: [String] { IzhikevichModel.stateNames }

    public func initialState() -> [[Double]] { [v0, u0] }

    public func update(_ i: Int, input: Double, state: inout [[Double]]) -> (spike: Bool, trace: Double) {
        let h = 1.0 / Double(substeps), x = input + bias[i]
        var v = state[0][i], u = state[1][i], fired = false
        for _ in 0..<substeps where !fired {
            v += h * (quad * v * v + 5 * v + 140 - u + x)
            u += h * a[i] * (b[i] * v - u)
            fired = v >= peak
        }
        if fired {
            state[0][i] = c[i]
            state[1][i] = u + d[i]
        } else {
            state[0][i] = v
            state[1][i] = u
        }
        return (fired, v)
    }
}

extension IzhikevichModel {
    /// Graph keys (docs/graph.md, "izhikevich"); a, b, c, d, bias, v0 and u0 may be per-neuron lists.
    static let graphKeys: [String: Double?] = [
        "a": nil, "b": nil, "c": nil, "d": nil, "bias": 0, "v0": -65, "u0": nil, "substeps": 2, "peak": 30,
        "frac_bits": nil, "ab_frac_bits": 24, "v_bits": 32, "u_bits": 32, "rounding": nil,
    ]
    /// The graph keys that are words rather than numbers.
    static let wordKeys: Set<String> = ["rounding"]

    /// Real parameter `key` of every neuron (u0 defaults to b x v0, as in Izhikevich's code).
    static func reals(_ g: ModelParameterSet, _ key: String, size: Int) -> [Double] {
        if key == "u0" && g.scalars["u0"] == nil && g.perNeuron["u0"] == nil {
            let b = reals(g, "b", size: size), v0 = reals(g, "v0", size: size)
            return (0..<size).map { b[$0] * v0[$0] }
        }
        let fallback = (graphKeys[key] ?? nil) ?? 0
        return (0..<size).map { g.value(key, neuron: $0, default: fallback) }
    }

    /// The program's population in double precision: its fixed-point parameters read as reals (a, b at 2^-G; c, d,
    /// bias, v0, u0 and the peak at 2^-F mV; 0.04 as Q / 2^S), its input current in state LSBs (2^-F mV/ms).
    public static func floatDynamics(program p: ModelParameters, size: Int) -> any FloatNeuronDynamics {
        let k = IzhikevichConstants(p)
        let f = 1 / Double(Int64(1) << k.F), g = 1 / Double(Int64(1) << k.G)
        func real(_ x: [Int64], _ s: Double) -> [Double] { x.map { Double($0) * s } }
        var z = IzhikevichFloat(a: real(k.a, g), b: real(k.b, g), c: real(k.c, f), d: real(k.d, f), bias: real(k.bias, f),
                                v0: real(p.vector("v0"), f), u0: real(p.vector("u0"), f), substeps: k.K, peak: Double(k.peak) * f)
        z.quad = Double(k.Q) / Double(Int64(1) << k.S)
        return InputScaledDynamics(inner: z, scale: f)
    }

    public static func floatDynamics(_ g: ModelParameterSet, size: Int) -> any FloatNeuronDynamics {
        IzhikevichFloat(a: reals(g, "a", size: size), b: reals(g, "b", size: size), c: reals(g, "c", size: size),
                        d: reals(g, "d", size: size), bias: reals(g, "bias", size: size), v0: reals(g, "v0", size: size),
                        u0: reals(g, "u0", size: size), substeps: Int(g.scalars["substeps"] ?? 2),
                        peak: g.scalars["peak"] ?? 30)
    }
}
