import XbarCore
import XbarGraph

/// `blocks` (docs/compiler.md, section 1): stacks each population's incoming projections into row blocks, one per
/// (source, delay) pair in order of first appearance, summing the matrices of projections that share a pair.
public struct BlocksPass: CompilerPass {
    public let name = "blocks"
    public let changesProgram = false
    public let summary = "stack each population's incoming projections into row blocks, one per (source, delay)"

    public init() {}

    public func run(_ s: inout CompilationState) throws {
        try s.forEachPopulation { s, p in
            let work = s.populations[p]
            let blocks = Self.blocks(into: work.name, post: work.size, graph: s.context.graph)
            guard !blocks.isEmpty else {
                throw s.context.error("populations.\(work.name)", "lif population has no incoming projection")
            }
            s.populations[p].blocks = blocks
            s.populations[p].stacked = blocks.indices.flatMap { b in (0..<blocks[b].size).map { StackedRow(block: b, index: $0) } }
        }
    }

    /// The blocks of the projections into `popName`, in file order.
    static func blocks(into popName: String, post: Int, graph: Graph) -> [RowBlock] {
        var blocks: [RowBlock] = []
        for pr in graph.projections where pr.to == popName {
            let src = graph.population(named: pr.from)!
            let w = BlockWeights(pr, rows: src.size, cols: post)
            if let k = blocks.firstIndex(where: { $0.source == pr.from && $0.delay == pr.delay }) {
                blocks[k].weights = blocks[k].weights.adding(w)
                blocks[k].projections.append(pr)
            } else {
                blocks.append(RowBlock(source: pr.from, delay: pr.delay, size: src.size, weights: w, projections: [pr]))
            }
        }
        return blocks
    }

    /// Every population has a block; each block's matrix is size x post; the stacked rows are the blocks' rows in order.
    public func verify(_ s: CompilationState) throws {
        for w in s.populations {
            try passCheck(!w.blocks.isEmpty, s, "populations.\(w.name)", "no row block")
            for (b, blk) in w.blocks.enumerated() {
                try passCheck(blk.weights.rows == blk.size && blk.weights.cols == w.size, s, "populations.\(w.name)",
                              "block \(b) (@\(blk.source)@\(blk.delay)) has \(blk.weights.rows) x \(blk.weights.cols) weights, expected \(blk.size) x \(w.size)")
            }
            try passCheck(w.stacked.count == w.blocks.reduce(0) { $0 + $1.size }, s, "populations.\(w.name)",
                          "\(w.stacked.count) stacked rows, expected the blocks' \(w.blocks.reduce(0) { $0 + $1.size })")
        }
    }
}
