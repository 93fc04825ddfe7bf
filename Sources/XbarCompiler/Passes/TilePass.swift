import XbarCore
import XbarIR

/// `tile` (docs/compiler.md, section 6): cuts each population's stacked rows into row tiles of `macro.rows` and its
/// neurons into column tiles of `macro.cols / cpw`, and declares one array `P.r<rt>c<ct>` per tile (column tile by
/// column tile), every cell at `unusedCode`. Arrays sit provisionally at the next free (macro, index) slot;
/// `skip-empty` drops empty ones and `place` packs the rest.
public struct TilePass: CompilerPass {
    public let name = "tile"
    public let summary = "cut stacked rows and neurons into tiles; declare one array P.r<rt>c<ct> per tile (cells unused)"

    public init() {}

    public func run(_ s: inout CompilationState) throws {
        let c = s.context, t = c.target
        let neuronsPerTile = t.macro.cols / c.cellsPerWeight
        let unused = CellCodes(repeating: c.map.unusedCode, count: t.macro.rows * t.macro.cols)
        try s.forEachPopulation { s, p in
            let rows = s.populations[p].stacked.count, post = s.populations[p].size, name = s.populations[p].name
            let rowTiles = stride(from: 0, to: rows, by: t.macro.rows).map { $0..<Swift.min($0 + t.macro.rows, rows) }
            let colTiles = stride(from: 0, to: post, by: neuronsPerTile).map { $0..<Swift.min($0 + neuronsPerTile, post) }
            var tiles: [Tile] = []
            for (ct, cols) in colTiles.enumerated() {
                for (rt, rs) in rowTiles.enumerated() {
                    let k = s.program.arrays.count
                    let tile = Tile(rowTile: rt, colTile: ct, rows: rs, neurons: cols, name: "\(name).r\(rt)c\(ct)", slot: k)
                    tiles.append(tile)
                    s.program.arrays.append(ArrayDecl(name: tile.name, macro: k / t.macro.arrays, index: k % t.macro.arrays,
                                                      rows: t.macro.rows, cols: t.macro.cols, gUnitNS: t.cell.gUnitNS,
                                                      codeType: c.map.codeType,
                                                      cells: unused,
                                                      formed: c.strategy.formsCells))
                }
            }
            s.populations[p].rowTiles = rowTiles
            s.populations[p].colTiles = colTiles
            s.populations[p].tiles = tiles
        }
    }

    /// The row tiles cover the stacked rows and the column tiles the neurons, in order and within the array's size;
    /// every tile has its array.
    public func verify(_ s: CompilationState) throws {
        let t = s.context.target, neuronsPerTile = t.macro.cols / s.context.cellsPerWeight
        for w in s.populations {
            let field = "populations.\(w.name)"
            try passCheck(Self.covers(w.rowTiles, w.stacked.count, chunk: t.macro.rows), s, field,
                          "row tiles \(w.rowTiles) do not cover rows 0..<\(w.stacked.count) in chunks of \(t.macro.rows)")
            try passCheck(Self.covers(w.colTiles, w.size, chunk: neuronsPerTile), s, field,
                          "column tiles \(w.colTiles) do not cover neurons 0..<\(w.size) in chunks of \(neuronsPerTile)")
            try passCheck(w.tiles.count == w.rowTiles.count * w.colTiles.count, s, field,
                          "\(w.tiles.count) tiles, expected \(w.rowTiles.count) x \(w.colTiles.count)")
            try verifyArrays(of: w, s)
        }
    }

    /// `ranges` are consecutive, start at 0, end at `n`, and none is longer than `chunk`.
    static func covers(_ ranges: [Range<Int>], _ n: Int, chunk: Int) -> Bool {
        var next = 0
        for r in ranges {
            guard r.lowerBound == next, !r.isEmpty, r.count <= chunk else { return false }
            next = r.upperBound
        }
        return next == n
    }
}

/// Every tile with a slot names its array there; every tile without one was skipped as empty.
func verifyArrays(of w: PopulationWork, _ s: CompilationState) throws {
    for tile in w.tiles {
        guard let k = tile.slot else {
            try passCheck(s.skippedTiles.contains(tile.name), s, "populations.\(w.name)", "tile \(tile.name) has no array and was not skipped")
            continue
        }
        try passCheck(k < s.program.arrays.count && s.program.arrays[k].name == tile.name, s, "populations.\(w.name)",
                      "tile \(tile.name) has no array %\(tile.name) at slot \(k)")
    }
}
