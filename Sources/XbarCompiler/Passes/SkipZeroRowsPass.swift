import XbarCore

/// `skip-zero-rows` (docs/compiler.md, section 6; only with `CompileOptions.skipZeroRows`): drops from each population's
/// stacked rows every row whose integer weights are all zero (programmed targets: q; forming targets: graph weights),
/// so a pruned (source, delay) row is neither placed nor driven. Rows of a plastic block are kept (learning may make
/// them non-zero), and a population keeps its first row if every row is zero (its neurons still need a
/// pre-activation). Without the option the pass changes nothing.
public struct SkipZeroRowsPass: CompilerPass {
    public let name = "skip-zero-rows"
    public let changesProgram = false
    public let summary = "with --skip-zero-rows: drop stacked rows whose weights are all zero (pruned rows are not placed or driven)"

    public init() {}

    public func run(_ s: inout CompilationState) throws {
        guard s.context.options.skipZeroRows else { return }
        try s.forEachPopulation { s, p in
            let work = s.populations[p], c = s.context
            let kept = work.stacked.indices.filter { si in
                work.blocks[work.stacked[si].block].isPlastic
                    || Self.hasNonZeroCode(work, row: si, context: c)
            }
            s.populations[p].stacked = kept.isEmpty ? [work.stacked[0]] : kept.map { work.stacked[$0] }
            s.skippedRows += work.stacked.count - s.populations[p].stacked.count
        }
    }

    /// Whether any weight of stacked row `si` has a non-zero integer code.
    static func hasNonZeroCode(_ work: PopulationWork, row si: Int, context c: CompilationContext) -> Bool {
        var any = false
        work.forEachNonZero(row: si, in: 0..<work.size) { _, w in
            if !any && c.strategy.weightCode(w, format: work.format, context: c) != 0 { any = true }
        }
        return any
    }

    /// The stacked rows are in block order, each (block, index) at most once and inside its block.
    public func verify(_ s: CompilationState) throws {
        for w in s.populations {
            let keys = w.stacked.map { [$0.block, $0.index] }
            try passCheck(!w.stacked.isEmpty && keys == keys.sorted { $0.lexicographicallyPrecedes($1) } && Set(keys).count == keys.count,
                          s, "populations.\(w.name)", "stacked rows are not distinct rows in block order")
            try passCheck(w.stacked.allSatisfy { $0.block < w.blocks.count && $0.index < w.blocks[$0.block].size }, s,
                          "populations.\(w.name)", "a stacked row lies outside its block")
        }
    }
}
