import XbarCore
import XbarIR
/// `cells` (docs/compiler.md, sections 3 and 7b): writes every placed array's conductance codes through the
/// programming strategy — quantised level codes, or electroformed cell pairs keyed by the array's slot — then
/// releases the dense weight matrices (later passes need only the blocks' shapes and projections).
public struct CellsPass: CompilerPass {
    public let name = "cells"
    public let summary = "write each array's conductance codes: quantised level codes, or electroformed cell pairs"

    public init() {}

    public func run(_ s: inout CompilationState) throws {
        let c = s.context
        try s.forEachPopulation { s, p in
            var tally = CellTally(blocks: s.populations[p].blocks.count)
            if c.strategy.writesTilesIndependently {
                Self.writeInParallel(s.populations[p], into: &s.program.arrays, context: c)
            } else {
                for tile in s.populations[p].tiles {
                    guard let k = tile.slot else { continue }
                    c.strategy.writeCells(of: tile, in: s.populations[p], into: &s.program.arrays[k], slot: k, context: c, tally: &tally)
                }
            }
            s.formedCells += tally.formed
            s.unformedCells += tally.unformed
            s.populations[p].spread = tally.spread
            for b in s.populations[p].blocks.indices { s.populations[p].blocks[b].weights = BlockWeights(rows: 0, cols: 0) }
        }
    }

    /// The arrays of `work`'s placed tiles (for a strategy that writes tiles independently): runs of up to
    /// `tilesPerRun` column tiles of one row tile, each run written by `writeCells(ofRowTile:)` (which reads each row
    /// once), a wave of runs at a time on every core.
    static func writeInParallel(_ work: PopulationWork, into arrays: inout [ArrayDecl], context c: CompilationContext,
                                tilesPerRun: Int = 64) {
        var byRowTile = [[Tile]](repeating: [], count: work.rowTiles.count)
        // `tiles` is in column tile order within each row tile (PopulationWork.tiles).
        for t in work.tiles where t.slot != nil { byRowTile[t.rowTile].append(t) }
        let runs = byRowTile.flatMap { row in stride(from: 0, to: row.count, by: tilesPerRun).map { Array(row[$0..<Swift.min($0 + tilesPerRun, row.count)]) } }
        let before = arrays
        forEachPieceInOrder(runs.count, chunk: 1, wave: 32) { i in
            let run = runs[i.lowerBound]
            return zip(run, c.strategy.writeCells(ofRowTile: run, in: work, arrays: run.map { before[$0.slot!] }, context: c)).map { ($0.slot!, $1) }
        } consume: { written in
            for (slot, a) in written { arrays[slot] = a }
        }
    }

    /// Every array is in the strategy's state (formed or programmed); codes and code types are checked by the IR
    /// verifier.
    public func verify(_ s: CompilationState) throws {
        let formed = s.context.strategy.formsCells
        for a in s.program.arrays {
            try passCheck(a.formed == formed, s, "array %\(a.name)", "state \(a.formed ? "formed" : "programmed") on a \(s.context.strategy.name) target")
        }
        for w in s.populations {
            try passCheck(w.spread.count == w.blocks.count, s, "populations.\(w.name)", "\(w.spread.count) spreads for \(w.blocks.count) blocks")
        }
    }
}
