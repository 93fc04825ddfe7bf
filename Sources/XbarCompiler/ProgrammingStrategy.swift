import XbarCore
import XbarGraph
import XbarIR
import XbarTarget

/// How a target's weights reach its cells, as the passes need to know it: written as quantised conductance levels
/// (`WriteVerifyProgramming`) or left as random electroformed conductances (`FormingProgramming`,
/// docs/compiler.md section 7b). The passes call the strategy wherever the two modes differ.
public protocol ProgrammingStrategy: Sendable {
    /// Short name, printed by `xbar compile --passes`.
    var name: String { get }
    /// Bit slices per weight (cells per weight = 2 x slices).
    var slices: Int { get }
    /// Whether the arrays hold electroformed cells (printed `state formed`).
    var formsCells: Bool { get }
    /// Whether `writeCells` reads nothing but its tile and writes nothing but its array (the tally stays untouched): then
    /// `cells` writes the tiles on every core, row tile by row tile, which reads each row's weights while they are in
    /// cache. The arrays are the same in any order.
    var writesTilesIndependently: Bool { get }

    /// `quantise`: the population's format chosen from its graph weights, or nil when the format is derived from
    /// the cells (in `scales`).
    func weightFormat(_ work: PopulationWork, context: CompilationContext) throws -> PopulationFormat?

    /// `skip-empty` and `cells`: the integer a graph weight becomes (0: nothing to program). `format` is the
    /// population's format from `quantise`.
    func weightCode(_ w: Double, format: PopulationFormat?, context: CompilationContext) -> Int64

    /// `cells`: writes the codes and code type of the array in slot `slot`, which holds `tile` of `work`.
    func writeCells(of tile: Tile, in work: PopulationWork, into array: inout ArrayDecl, slot: Int,
                    context: CompilationContext, tally: inout CellTally)

    /// `cells`, for a strategy that writes tiles independently: the arrays of `tiles` — placed tiles of one row tile,
    /// in column order — given their arrays `arrays` in the same order. The default writes them one by one.
    func writeCells(ofRowTile tiles: [Tile], in work: PopulationWork, arrays: [ArrayDecl], context: CompilationContext) -> [ArrayDecl]

    /// `group-rows`: the scale group of block `b`; rows of different groups never share a read.
    func scaleGroup(ofBlock b: Int) -> Int

    /// `scales`: the population's format and the ADC-to-membrane factor of each scale group and slice (real,
    /// before `Quantiser.multiplier`).
    func scaleFactors(_ work: PopulationWork, context: CompilationContext) throws -> (format: PopulationFormat, factors: [[Double]])
}

extension ProgrammingStrategy {
    public func writeCells(ofRowTile tiles: [Tile], in work: PopulationWork, arrays: [ArrayDecl], context: CompilationContext) -> [ArrayDecl] {
        zip(tiles, arrays).map { tile, array in
            var a = array, unused = CellTally(blocks: work.blocks.count)
            writeCells(of: tile, in: work, into: &a, slot: tile.slot ?? -1, context: context, tally: &unused)
            return a
        }
    }
}

/// What the `cells` pass counts while writing one population's arrays.
public struct CellTally: Sendable {
    /// Cells formed, and how many of them stayed unformed (forming targets).
    public var formed = 0
    public var unformed = 0
    /// Realised G+ - G- per block (forming targets).
    public var spread: [RealisedSpread]

    init(blocks: Int) { spread = [RealisedSpread](repeating: RealisedSpread(), count: blocks) }
}

/// The strategy of target `t`: forming when its device is programmed by electroforming, else programmed levels.
func programmingStrategy(target t: Target, seed: UInt64) throws -> any ProgrammingStrategy {
    t.device.programming == .forming ? try FormingProgramming(target: t, seed: seed) : WriteVerifyProgramming(target: t)
}

/// Programmed weights (device programming `exact`, `one_shot` or `write_verify`): each weight is quantised to
/// q = round(w / s) and written as level codes on 2 x slices cells (docs/compiler.md, sections 2-4). The cells get
/// the level codes; programming noise is the emulator's device model.
public struct WriteVerifyProgramming: ProgrammingStrategy {
    public let slices: Int
    public var name: String { "write_verify" }
    public var formsCells: Bool { false }
    public var writesTilesIndependently: Bool { true }

    public init(target t: Target) { slices = t.mapping.slices }

    /// The symmetric format from max|w| over the stacked matrix, with the largest relative quantisation error.
    public func weightFormat(_ work: PopulationWork, context c: CompilationContext) throws -> PopulationFormat? {
        let t = c.target
        var maxAbs = 0.0
        for blk in work.blocks { maxAbs = Swift.max(maxAbs, blk.weights.maxAbs) }
        var f = try Quantiser.format(population: c.population(work.name), maxAbsWeight: maxAbs, target: t, file: c.file)
        var maxErr = 0.0
        if maxAbs > 0 {
            for blk in work.blocks {
                for w in blk.weights.values where w != 0 {
                    maxErr = Swift.max(maxErr, abs(w - Double(Quantiser.quantise(w, f, t.mapping.weightRounding)) * f.weightScale) / maxAbs)
                }
            }
        }
        f.maxWeightError = maxErr
        return f
    }

    /// q = clamp(round(w / s)), 0 for w = 0.
    public func weightCode(_ w: Double, format: PopulationFormat?, context c: CompilationContext) -> Int64 {
        Self.code(w, format, c.target.mapping.weightRounding)
    }

    /// `weightCode` with its context read once (the `cells` loop).
    @inline(__always)
    static func code(_ w: Double, _ format: PopulationFormat?, _ rounding: Rounding) -> Int64 {
        w == 0 ? 0 : Quantiser.quantise(w, format!, rounding)
    }

    /// Level codes `ConductanceMap.cells(q)` for every weight of the tile (a zero weight is level 0 on its cells),
    /// `unusedCode` elsewhere.
    public func writeCells(of tile: Tile, in work: PopulationWork, into array: inout ArrayDecl, slot: Int,
                           context c: CompilationContext, tally: inout CellTally) {
        array = writeCells(ofRowTile: [tile], in: work, arrays: [array], context: c)[0]
    }

    /// The tiles of one row tile, column tile after column tile, with a cursor per row: each row's non-zeros are read
    /// once, not searched for in every column tile. Only the non-zero weights' cells are listed when a zero weight's
    /// cells hold the unused code (the array is then a sparse `CellCodes` from the start).
    public func writeCells(ofRowTile tiles: [Tile], in work: PopulationWork, arrays: [ArrayDecl], context c: CompilationContext) -> [ArrayDecl] {
        guard let first = tiles.first else { return [] }
        precondition(zip(tiles, tiles.dropFirst()).allSatisfy { $0.rows == $1.rows && $0.neurons.upperBound <= $1.neurons.lowerBound },
                     "writeCells(ofRowTile:): the tiles of one row tile, in column order")
        let map = c.map, cpw = 2 * slices, fill = map.unusedCode
        let zeroCells = map.cells(0)
        guard zeroCells.allSatisfy({ $0 == fill }) else {
            return zip(tiles, arrays).map { tile, array in
                var a = array
                a.codes = denseCodes(of: tile, in: work, rows: a.rows, cols: a.cols, zeroCells: zeroCells, context: c)
                a.codeType = map.codeType
                return a
            }
        }
        let format = work.format, rounding = c.target.mapping.weightRounding
        let rows = first.rows.map { work.stacked[$0] }
        return work.withBlockStorage { storage in
            // Per row of the tiles: its entries' storage, the next entry to visit and the row's end.
            var next = rows.map { storage[$0.block].firstEntry(row: $0.index, atOrAfter: first.neurons.lowerBound) }
            let end = rows.map { storage[$0.block].start[$0.index + 1] }
            return zip(tiles, arrays).map { tile, array in
                var a = array, index: [Int32] = [], codes: [Int32] = []
                let n0 = Int32(tile.neurons.lowerBound), hi = Int32(tile.neurons.upperBound)
                for r in rows.indices {
                    let st = storage[rows[r].block]
                    var k = next[r]
                    while k < end[r] && st.col[k] < hi {
                        // Entries before n0 belong to tiles skipped as empty (their weights quantise to 0).
                        let n = st.col[k], w = st.value[k]
                        k += 1
                        guard n >= n0 else { continue }
                        let qv = Self.code(w, format, rounding)
                        guard qv != 0 else { continue }
                        let base = r * a.cols + Int(n - n0) * cpw
                        map.forEachCell(qv) { j, code in
                            if code != fill { index.append(Int32(base + j)); codes.append(code) }
                        }
                    }
                    next[r] = k
                }
                a.codes = CellCodes(fill: fill, count: a.rows * a.cols, indices: index, codes: codes)
                a.codeType = map.codeType
                return a
            }
        }
    }

    /// Every cell of `tile` (a zero weight's cells are not the unused code).
    func denseCodes(of tile: Tile, in work: PopulationWork, rows: Int, cols C: Int, zeroCells: [Int32], context c: CompilationContext) -> CellCodes {
        var codes = CellCodes(repeating: c.map.unusedCode, count: rows * C)
        let cpw = 2 * slices
        for (r, si) in tile.rows.enumerated() {
            for (j, n) in tile.neurons.enumerated() {
                let qv = weightCode(work.weight(row: si, neuron: n), format: work.format, context: c)
                let cells = qv == 0 ? zeroCells : c.map.cells(qv)
                for k in 0..<cpw { codes[r * C + j * cpw + k] = cells[k] }
            }
        }
        return codes
    }

    /// Every block shares one scale: rows of all blocks may share a read.
    public func scaleGroup(ofBlock b: Int) -> Int { 0 }

    /// factor_s = adcLSB / stepCodes x levels^s x 2^F (section 4), one scale group.
    public func scaleFactors(_ work: PopulationWork, context c: CompilationContext) throws -> (format: PopulationFormat, factors: [[Double]]) {
        let t = c.target
        var lp = 1.0
        let factors = (0..<slices).map { _ in
            defer { lp *= Double(t.cell.levels) }
            return Double(c.adcLSB) / c.map.stepCodes * lp * work.format!.lsbsPerWeightStep(targetFracBits: t.neuron.fracBits)
        }
        return (work.format!, [factors])
    }
}
