import XbarCore
import XbarGraph
import XbarTarget

/// The fixed-point formats chosen for one lif population (the scaling rule of docs/compiler.md).
public struct PopulationFormat: Equatable, Sendable {
    public var population: String
    /// Real value of one integer weight step: w ≈ q * weightScale.
    public var weightScale: Double
    /// Largest |q| (levels^slices - 1).
    public var qMax: Int64
    /// Membrane fraction bits F: one weight step = 2^F membrane LSBs.
    public var fracBits: Int
    public var threshold: Int64
    public var bias: Int64
    public var decayMul: Int64
    public var decayShift: Int
    /// Largest relative error of a quantised weight (|w - q*s| / max|w|).
    public var maxWeightError: Double
}

/// Quantisation rules (docs/compiler.md): per-population symmetric weight scale; threshold and bias in
/// membrane LSBs; decay as multiply-and-shift.
public enum Quantiser {
    /// `qMax` overrides levels^slices - 1 (forming mode: the weight unit is one ADC LSB, qMax 1).
    public static func format(population p: Population, maxAbsWeight: Double, qMax qOverride: Int64? = nil, target t: Target,
                              file: String) throws -> PopulationFormat {
        let lif = p.lif!
        var qMax: Int64 = 1
        for _ in 0..<t.mapping.slices { qMax *= Int64(t.cell.levels) }
        qMax -= 1
        if let o = qOverride { qMax = o }
        let s = maxAbsWeight > 0 ? maxAbsWeight / Double(qMax) : 1.0
        let F = t.neuron.fracBits
        let unit = s / Double(1 << F)
        let mem = IntType.i(t.neuron.memBits)
        let th = Fixed.roundReal(lif.threshold / unit, .halfEven)
        guard mem.contains(th) else {
            throw XbarError(file: file, field: "populations.\(p.name).threshold",
                            "\(lif.threshold) quantises to \(th) membrane LSBs, outside \(mem) (weight step \(s)); lower neuron.frac_bits or raise neuron.mem_bits")
        }
        guard th >= 1 else {
            throw XbarError(file: file, field: "populations.\(p.name).threshold",
                            "\(lif.threshold) quantises to \(th) membrane LSBs (weight step \(s)); raise neuron.frac_bits")
        }
        let b = Fixed.roundReal(lif.bias / unit, .halfEven)
        guard mem.contains(b) else {
            throw XbarError(file: file, field: "populations.\(p.name).bias", "\(lif.bias) quantises to \(b), outside \(mem)")
        }
        let D = t.neuron.decayBits
        return PopulationFormat(population: p.name, weightScale: s, qMax: qMax, fracBits: F, threshold: th, bias: b,
                                decayMul: Fixed.roundReal(lif.decay * Double(1 << D), .halfEven), decayShift: D,
                                maxWeightError: 0)
    }

    /// q = round(w / s) clamped to ±qMax.
    public static func quantise(_ w: Double, _ f: PopulationFormat, _ r: Rounding) -> Int64 {
        let q = Fixed.roundReal(w / f.weightScale, r)
        return Swift.max(-f.qMax, Swift.min(f.qMax, q))
    }

    /// Multiplier and shift with mul / 2^shift ≈ factor: the smallest shift giving relative error < 2^-16
    /// (exact when factor is an integer), mul within ±2^31.
    public static func multiplier(_ factor: Double) throws -> (mul: Int64, shift: Int) {
        for s in 0...40 {
            let m = (factor * Double(Int64(1) << s)).rounded()
            if abs(m) > Double(Int64(1) << 31) { break }
            if m != 0 && abs(m / Double(Int64(1) << s) - factor) <= abs(factor) * 1.0 / 65536.0 {
                var mm = Int64(m), ss = s
                while ss > 0 && mm % 2 == 0 { mm /= 2; ss -= 1 }
                return (mm, ss)
            }
        }
        throw XbarError(file: "<target>", field: "adc", "ADC-to-membrane factor \(factor) cannot be written as mul / 2^shift with |mul| <= 2^31; adjust adc.lsb_us or neuron.frac_bits")
    }
}
