import XbarCore

extension IzhikevichModel {
    /// Default fraction bits of v and u: SpiNNaker's s16.15 (sPyNNaker's Izhikevich model uses REAL = s16.15).
    public static let defaultFracBits = 15

    /// Quantises the graph's real parameters (docs/compiler.md, "Izhikevich populations"): state values (c, d, bias,
    /// v0, u0, peak) to round_half_even(x x 2^F); a and b to round_half_even(x x 2^G); 0.04 to Q / 2^S with the largest
    /// S <= 30 that keeps the quadratic term inside 62 bits. The input is scaled to 2^-F (mV/ms) by the compiler.
    public static func lower(_ g: ModelParameterSet, size: Int, options: ModelLoweringOptions, file: String,
                             field: String) throws -> ModelParameters {
        for k in g.keys where graphKeys[k] == nil {
            throw XbarError(file: file, field: "\(field).\(k)",
                            "not an izhikevich parameter (expected one of \(graphKeys.keys.sorted().joined(separator: ", ")))")
        }
        for k in g.words.keys.sorted() where !wordKeys.contains(k) {
            throw XbarError(file: file, field: "\(field).\(k)", "expected a number or one number per neuron, found \"\(g.words[k]!)\"")
        }
        for k in wordKeys.sorted() where g.scalars[k] != nil || g.perNeuron[k] != nil {
            throw XbarError(file: file, field: "\(field).\(k)", "expected one of \(Rounding.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
        }
        let rounding = try g.words["rounding"].map { w in
            guard let r = Rounding(rawValue: w) else {
                throw XbarError(file: file, field: "\(field).rounding",
                                "expected one of \(Rounding.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), found \"\(w)\"")
            }
            return r
        } ?? .halfUp
        for k in ["a", "b", "c", "d"] where g.scalars[k] == nil && g.perNeuron[k] == nil {
            throw XbarError(file: file, field: "\(field).\(k)", "missing (required): a number or one number per neuron")
        }
        for k in ["substeps", "frac_bits", "ab_frac_bits", "v_bits", "u_bits", "peak"] where g.perNeuron[k] != nil {
            throw XbarError(file: file, field: "\(field).\(k)", "expected one number for the population, found a list")
        }
        func integer(_ k: String, _ lo: Int, _ hi: Int, _ fallback: Int) throws -> Int {
            guard let x = g.scalars[k] else { return fallback }
            guard x == x.rounded(), x >= Double(lo), x <= Double(hi) else {
                throw XbarError(file: file, field: "\(field).\(k)", "expected an integer in \(lo)...\(hi), found \(x)")
            }
            return Int(x)
        }
        let F = try integer("frac_bits", 0, 24, options.fracBits ?? defaultFracBits)
        let G = try integer("ab_frac_bits", 0, 24, 24)
        let K = try integer("substeps", 1, 16, 2)
        guard K & (K - 1) == 0 else {
            throw XbarError(file: file, field: "\(field).substeps", "expected a power of two (1, 2, 4, 8 or 16), found \(K)")
        }
        let vt = IntType.i(try integer("v_bits", 8, 32, 32)), ut = IntType.i(try integer("u_bits", 8, 32, 32))
        var p = ModelParameters(model: keyword)
        p.types = ["v": vt, "u": ut]
        p.roundings = ["rnd": rounding]
        let S = quadShift(vBits: vt.bits, frac: F)
        p.integers = ["frac": Int64(F), "substeps": Int64(K), "abfrac": Int64(G),
                      "quad": Fixed.roundReal(0.04 * Double(Int64(1) << S), .halfEven), "qshr": Int64(S),
                      "peak": Fixed.roundReal((g.scalars["peak"] ?? 30) * Double(Int64(1) << F), .halfEven)]
        for k in perNeuron {
            let scale = Double(Int64(1) << (k == "a" || k == "b" ? G : F))
            let xs = reals(g, k, size: size)
            if let bad = xs.firstIndex(where: { !$0.isFinite || abs($0 * scale) >= 0x1p31 }) {
                throw XbarError(file: file, field: "\(field).\(k)", "value \(xs[bad]) of neuron \(bad) does not fit 32 bits at 2^-\(k == "a" || k == "b" ? G : F) resolution")
            }
            p.perNeuron[k] = xs.map { Fixed.roundReal($0 * scale, .halfEven) }
        }
        if let e = verify(p, size: size) { throw XbarError(file: file, field: field, e) }
        return p
    }

    /// One state LSB, 2^-F mV (mV/ms for the input current).
    public static func inputLSB(_ g: ModelParameterSet, options: ModelLoweringOptions) -> Double {
        // An out-of-range frac_bits is refused by `lower` (the `neurons` pass); clamped here only to stay finite.
        let F = g.scalars["frac_bits"].map { Int($0) } ?? options.fracBits ?? defaultFracBits
        return 1 / Double(Int64(1) << Swift.min(Swift.max(F, 0), 24))
    }

    /// The largest S <= 30 with (2^(V-1))^2 / 2^F x round(0.04 x 2^S) < 2^62.
    static func quadShift(vBits: Int, frac F: Int) -> Int {
        let vMax = Double(Int64(1) << (vBits - 1))
        var s = 30
        while s > 0 && vMax * vMax / Double(Int64(1) << F) * (0.04 * Double(Int64(1) << s)).rounded() >= 0x1p62 { s -= 1 }
        return s
    }
}
