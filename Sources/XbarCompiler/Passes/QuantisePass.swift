import XbarCore
/// `quantise` (docs/compiler.md, section 2): chooses each population's fixed-point format from its stacked weights
/// on programmed targets (weight step, threshold, biases, decay; the largest quantisation error). Forming targets
/// derive the format from the formed cells instead (`scales`), so the pass leaves it unset there.
public struct QuantisePass: CompilerPass {
    public let name = "quantise"
    public let changesProgram = false
    public let summary = "choose each population's fixed-point format from its weights (forming targets: later, from the cells)"

    public init() {}

    public func run(_ s: inout CompilationState) throws {
        try s.forEachPopulation { s, p in
            s.populations[p].format = try s.context.strategy.weightFormat(s.populations[p], context: s.context)
        }
    }

    /// A format, when set, belongs to its population and has a positive weight step and qMax.
    public func verify(_ s: CompilationState) throws {
        for w in s.populations {
            guard let f = w.format else { continue }
            try passCheck(f.population == w.name && f.weightScale > 0 && f.qMax >= 1, s, "populations.\(w.name)",
                          "format of \(f.population) with weight step \(f.weightScale), qMax \(f.qMax)")
        }
    }
}
