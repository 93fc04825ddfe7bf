import XbarCore
import XbarIR

/// `skip-empty` (docs/compiler.md, section 6): drops the array of every tile whose integer weights are all zero
/// (programmed targets: q; forming targets: graph weights), keeping row tile 0 of a column tile whose tiles are all
/// empty (its neurons still need a pre-activation). The dropped names are `CompileStats.skippedTiles`.
public struct SkipEmptyPass: CompilerPass {
    public let name = "skip-empty"
    public let summary = "drop the arrays of all-zero tiles (a column tile keeps row tile 0 if all of its tiles are empty)"

    public init() {}

    public func run(_ s: inout CompilationState) throws {
        var kept: [ArrayDecl] = []
        try s.forEachPopulation { s, p in
            s.populations[p].rowNonZeros = Self.rowNonZeros(of: s.populations[p], context: s.context)
            let empty = Self.emptyTiles(of: s.populations[p], context: s.context)
            for i in s.populations[p].tiles.indices {
                let tile = s.populations[p].tiles[i]
                guard !empty.contains(i), let old = tile.slot else {
                    s.populations[p].tiles[i].slot = nil
                    s.skippedTiles.append(tile.name)
                    continue
                }
                s.populations[p].tiles[i].slot = kept.count
                kept.append(s.program.arrays[old])
            }
        }
        s.program.arrays = kept
    }

    /// Indices (into `work.tiles`) of the tiles to drop: those whose integer weights are all zero, except row tile 0
    /// of a column tile whose tiles all are.
    static func emptyTiles(of work: PopulationWork, context c: CompilationContext) -> Set<Int> {
        let plasticBlock = work.blocks.map(\.isPlastic)
        func isEmpty(_ t: Tile) -> Bool {
            // A tile with plastic synapses is kept: learning may make its weights non-zero.
            if t.rows.contains(where: { plasticBlock[work.stacked[$0].block] }) { return false }
            return !t.rows.contains { work.rowNonZeros[$0][t.colTile] != 0 }
        }
        var empty = Set<Int>()
        var columns = [[Int]](repeating: [], count: work.colTiles.count)
        for (i, t) in work.tiles.enumerated() {
            columns[t.colTile].append(i)
            if isEmpty(t) { empty.insert(i) }
        }
        for column in columns {
            if column.allSatisfy({ empty.contains($0) }), let first = column.first(where: { work.tiles[$0].rowTile == 0 }) {
                empty.remove(first)
            }
        }
        return empty
    }

    /// The non-zero integer weights (the strategy's `weightCode`) of every stacked row in every column tile.
    static func rowNonZeros(of work: PopulationWork, context c: CompilationContext) -> [[Int32]] {
        var tileOf = [Int](repeating: 0, count: work.size)
        for (ct, cols) in work.colTiles.enumerated() { for n in cols { tileOf[n] = ct } }
        return work.stacked.indices.map { si in
            var counts = [Int32](repeating: 0, count: work.colTiles.count)
            work.forEachNonZero(row: si, in: 0..<work.size) { n, w in
                if c.strategy.weightCode(w, format: work.format, context: c) != 0 { counts[tileOf[n]] += 1 }
            }
            return counts
        }
    }

    /// Each column tile keeps at least one tile; the kept tiles' arrays are the program's, in tile order.
    public func verify(_ s: CompilationState) throws {
        var count = 0
        for w in s.populations {
            for ct in w.colTiles.indices {
                try passCheck(w.tiles.contains { $0.colTile == ct && $0.slot != nil }, s, "populations.\(w.name)",
                              "column tile \(ct) has no array left")
            }
            try verifyArrays(of: w, s)
            count += w.tiles.filter { $0.slot != nil }.count
        }
        try passCheck(count == s.program.arrays.count, s, "arrays", "\(s.program.arrays.count) arrays for \(count) kept tiles")
    }
}
