import XbarCore
import XbarIR
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
    /// Real value of one membrane LSB (the unit of threshold, biases, membrane and synaptic current): the weight step
    /// s / 2^F (forming targets: kMax x ADC LSB in uS / 2^F).
    public var membraneLSB: Double = 0
    /// A population of a registered neuron model: the real value of one LSB of its input current (the model's, not
    /// the target's `frac_bits`); nil for lif.
    public var modelInputLSB: Double? = nil
    /// Per-neuron bias in membrane LSBs added to `bias` (nil when the graph has none).
    public var neuronBias: [Int64]? = nil
    /// The synapse's decay multiplier (shift `decayShift`), bias and per-neuron bias, when the population has one.
    public var synapse: SynapseFormat? = nil
}

extension PopulationFormat {
    /// Input LSBs per weight step: 2^F for lif (F = the target's frac_bits), weightScale / inputLSB for a model.
    public func lsbsPerWeightStep(targetFracBits F: Int) -> Double {
        modelInputLSB.map { weightScale / $0 } ?? Double(1 << F)
    }
}

/// The quantised synapse of a population (docs/compiler.md, section 2).
public struct SynapseFormat: Equatable, Sendable {
    public var decayMul: Int64
    public var bias: Int64
    public var neuronBias: [Int64]?
}

/// Quantisation rules (docs/compiler.md): per-population symmetric weight scale; threshold and bias in
/// membrane LSBs; decay as multiply-and-shift.
public enum Quantiser {
    /// `qMax` overrides levels^slices - 1 (forming mode: the weight unit is one ADC LSB, qMax 1).
    public static func format(population p: Population, maxAbsWeight: Double, qMax qOverride: Int64? = nil, target t: Target,
                              file: String) throws -> PopulationFormat {
        if let m = p.model { return try modelFormat(population: p, m, maxAbsWeight: maxAbsWeight, qMax: qOverride, target: t, file: file) }
        let lif = p.lif!
        let qMax = qOverride ?? largestLevel(t)
        let s = maxAbsWeight > 0 ? maxAbsWeight / Double(qMax) : 1.0
        let F = t.neuron.fracBits
        let unit = s / Double(1 << F)
        let mem = IntType.i(t.neuron.memBits)
        // A non-spiking population has no threshold: 0 is emitted and never compared.
        let th = lif.spiking ? Fixed.roundReal(lif.threshold / unit, .halfEven) : 0
        guard mem.contains(th) else {
            throw XbarError(file: file, field: "populations.\(p.name).threshold",
                            "\(lif.threshold) quantises to \(th) membrane LSBs, outside \(mem) (weight step \(s)); lower neuron.frac_bits or raise neuron.mem_bits")
        }
        guard th >= 1 || !lif.spiking else {
            throw XbarError(file: file, field: "populations.\(p.name).threshold",
                            "\(lif.threshold) quantises to \(th) membrane LSBs (weight step \(s)); raise neuron.frac_bits")
        }
        let field = "populations.\(p.name)"
        let (b, nb) = try biases(lif.bias, lif.neuronBias, unit: unit, fits: mem, field: field, file: file)
        let D = t.neuron.decayBits
        var f = PopulationFormat(population: p.name, weightScale: s, qMax: qMax, fracBits: F, threshold: th, bias: b,
                                 decayMul: Fixed.roundReal(lif.decay * Double(1 << D), .halfEven), decayShift: D,
                                 maxWeightError: 0)
        f.membraneLSB = unit
        f.neuronBias = nb
        if let y = lif.synapse {
            // The synapse's biases are bounded by the widest synapse type (40 bits); Lowering widens the type to hold them.
            let (sb, snb) = try biases(y.bias, y.neuronBias, unit: unit, fits: .i(40), field: "\(field).synapse", file: file)
            f.synapse = SynapseFormat(decayMul: Fixed.roundReal(y.decay * Double(1 << D), .halfEven), bias: sb, neuronBias: snb)
        }
        return f
    }

    /// The format of a population of a registered model: the weight step as for lif, the model's input LSB as the
    /// unit the crossbar output is scaled to; threshold, bias and decay belong to the model (zero here).
    static func modelFormat(population p: Population, _ m: ModelParameterSet, maxAbsWeight: Double, qMax qOverride: Int64?,
                            target t: Target, file: String) throws -> PopulationFormat {
        let model = try NeuronModels.require(m.model, file: file, field: "populations.\(p.name).kind")
        let qMax = qOverride ?? largestLevel(t)
        let s = maxAbsWeight > 0 ? maxAbsWeight / Double(qMax) : 1.0
        let lsb = model.inputLSB(m, options: ModelLoweringOptions(countBits: t.neuron.countBits))
        var f = PopulationFormat(population: p.name, weightScale: s, qMax: qMax, fracBits: 0, threshold: 0, bias: 0,
                                 decayMul: 0, decayShift: 0, maxWeightError: 0)
        f.membraneLSB = lsb
        f.modelInputLSB = lsb
        return f
    }

    /// The largest |q| of a weight: levels^slices - 1.
    static func largestLevel(_ t: Target) -> Int64 {
        var q: Int64 = 1
        for _ in 0..<t.mapping.slices { q *= Int64(t.cell.levels) }
        return q - 1
    }

    /// A scalar bias and optional per-neuron biases in membrane LSBs: bias_q = round_half_even(bias / unit) and
    /// neuronBias_q[i] = round_half_even((bias + neuronBias[i]) / unit) - bias_q, so that every neuron's total is
    /// rounded once. Every total must fit `type`.
    static func biases(_ bias: Double, _ perNeuron: [Double]?, unit: Double, fits type: IntType, field: String,
                       file: String) throws -> (Int64, [Int64]?) {
        let b = Fixed.roundReal(bias / unit, .halfEven)
        guard type.contains(b) else {
            throw XbarError(file: file, field: "\(field).bias", "\(bias) quantises to \(b), outside \(type)")
        }
        guard let nb = perNeuron else { return (b, nil) }
        var out = [Int64](repeating: 0, count: nb.count)
        for (i, x) in nb.enumerated() {
            let total = Fixed.roundReal((bias + x) / unit, .halfEven)
            guard type.contains(total) else {
                throw XbarError(file: file, field: "\(field).neuron_bias[\(i)]",
                                "bias + \(x) quantises to \(total) membrane LSBs, outside \(type)")
            }
            out[i] = total - b
        }
        return (b, out)
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
