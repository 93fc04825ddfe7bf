import XbarCore
import XbarIR

/// `group-rows` (docs/compiler.md, sections 6 and 7b): turns each row tile into reads. Rows of one block that are
/// contiguous in the array and in the source become one row source; one read drives at most
/// `timing.max_rows_driven` rows, and never mixes scale groups (forming targets: one group per block).
public struct GroupRowsPass: CompilerPass {
    public let name = "group-rows"
    public let changesProgram = false
    public let summary = "merge each row tile's rows into row sources and split them into reads of at most max_rows_driven rows"

    public init() {}

    public func run(_ s: inout CompilationState) throws {
        try s.forEachPopulation { s, p in
            let work = s.populations[p], c = s.context
            s.populations[p].reads = work.rowTiles.indices.flatMap { Self.reads(ofRowTile: $0, work, c) }
        }
    }

    /// The row sources of row tile `rt` with their blocks: one per run of a block contiguous in array and source.
    static func sources(ofRowTile rt: Int, _ work: PopulationWork) -> [(source: RowSource, block: Int)] {
        var sources: [(source: RowSource, block: Int)] = []
        for (r, si) in work.rowTiles[rt].enumerated() {
            let sr = work.stacked[si]
            let blk = work.blocks[sr.block]
            if let last = sources.last?.source, last.source == blk.source, last.delay == blk.delay,
               last.rowStart + last.count == r, last.srcStart + last.count == sr.index {
                sources[sources.count - 1].source.count += 1
            } else {
                sources.append((RowSource(rowStart: r, source: blk.source, srcStart: sr.index, count: 1, delay: blk.delay), sr.block))
            }
        }
        return sources
    }

    /// The reads of row tile `rt`: its row sources in order, cut where a read is full or the scale group changes.
    static func reads(ofRowTile rt: Int, _ work: PopulationWork, _ c: CompilationContext) -> [RowGroup] {
        let limit = c.target.timing.maxRowsDriven
        var reads: [RowGroup] = []
        var group: [RowSource] = [], groupKey = -1, inGroup = 0
        func flush() {
            if !group.isEmpty { reads.append(RowGroup(rowTile: rt, sources: group, scaleGroup: groupKey)) }
            group = []
            inGroup = 0
        }
        for (src, b) in sources(ofRowTile: rt, work) {
            let key = c.strategy.scaleGroup(ofBlock: b)
            if key != groupKey { flush() }
            groupKey = key
            var s = src
            while s.count > 0 {
                if inGroup == limit { flush() }
                let take = Swift.min(s.count, limit - inGroup)
                group.append(RowSource(rowStart: s.rowStart, source: s.source, srcStart: s.srcStart, count: take, delay: s.delay))
                inGroup += take
                s.rowStart += take
                s.srcStart += take
                s.count -= take
            }
        }
        flush()
        return reads
    }

    /// Every row of every row tile is driven by exactly one read, each read by at most max_rows_driven rows of one
    /// scale group.
    public func verify(_ s: CompilationState) throws {
        let c = s.context, limit = c.target.timing.maxRowsDriven
        for w in s.populations {
            let field = "populations.\(w.name)"
            for (rt, rows) in w.rowTiles.enumerated() {
                let reads = w.reads.filter { $0.rowTile == rt }
                let driven = reads.flatMap { $0.sources.flatMap { $0.rowStart..<($0.rowStart + $0.count) } }
                try passCheck(driven == Array(0..<rows.count), s, field, "the reads of row tile \(rt) do not drive rows 0..<\(rows.count) once each, in order")
                for rd in reads {
                    try passCheck(rd.rowCount <= limit, s, field, "a read of row tile \(rt) drives \(rd.rowCount) rows, more than max_rows_driven \(limit)")
                    let groups = Set(rd.sources.map { c.strategy.scaleGroup(ofBlock: w.stacked[rows.lowerBound + $0.rowStart].block) })
                    try passCheck(groups == [rd.scaleGroup], s, field, "a read of row tile \(rt) mixes scale groups \(groups.sorted())")
                }
            }
        }
    }
}
