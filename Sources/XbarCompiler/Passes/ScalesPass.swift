import XbarCore
import XbarIR

/// `scales` (docs/compiler.md, sections 4, 5 and 7b): the population's final format and, per scale group and slice,
/// the ADC-to-membrane factor as an integer multiply and shift; then the bound on |pre-activation| that sizes the
/// partial sums: Bound = sum over reads and slices of ((2^bits - 1) x |mul|) >> shift + 1, at most 2^39 - 1.
public struct ScalesPass: CompilerPass {
    public let name = "scales"
    public let changesProgram = false
    public let summary = "choose each scale group's multiply-and-shift from ADC codes to membrane LSBs, and bound the pre-activation"

    public init() {}

    /// The largest Bound: the i40 maximum, 2^39 - 1 (a neuron's input is at most 40 bits wide).
    public static let widestBound = IntType.i(40).max

    public func run(_ s: inout CompilationState) throws {
        let c = s.context
        let adcMax = IntType.u(c.target.adc.bits).max
        try s.forEachPopulation { s, p in
            let (format, factors) = try c.strategy.scaleFactors(s.populations[p], context: c)
            let scales = try factors.map { try $0.map { f in
                let m = try Quantiser.multiplier(f)
                return Multiplier(mul: m.mul, shift: m.shift)
            } }
            var bound: Int64 = 0
            for rd in s.populations[p].reads {
                for m in scales[rd.scaleGroup] { bound += (adcMax * abs(m.mul)) >> m.shift + 1 }
            }
            s.populations[p].format = format
            s.populations[p].scales = scales
            // Capped at the widest neuron input, i40: beyond it the partial sums saturate (docs/compiler.md, section 5).
            s.populations[p].preBound = Swift.min(bound, Self.widestBound)
        }
    }

    /// Every population has a format, one multiplier per slice for every scale group its reads use, and a bound.
    public func verify(_ s: CompilationState) throws {
        let slices = s.context.strategy.slices
        for w in s.populations {
            let field = "populations.\(w.name)"
            try passCheck(w.format?.population == w.name, s, field, "no format")
            for rd in w.reads {
                try passCheck(rd.scaleGroup < w.scales.count && w.scales[rd.scaleGroup].count == slices, s, field,
                              "scale group \(rd.scaleGroup) has no \(slices) multipliers")
            }
            try passCheck(w.preBound > 0, s, field, "pre-activation bound \(w.preBound) is not positive")
        }
    }
}
