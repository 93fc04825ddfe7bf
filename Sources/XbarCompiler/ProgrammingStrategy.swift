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

    /// `group-rows`: the scale group of block `b`; rows of different groups never share a read.
    func scaleGroup(ofBlock b: Int) -> Int

    /// `scales`: the population's format and the ADC-to-membrane factor of each scale group and slice (real,
    /// before `Quantiser.multiplier`).
    func scaleFactors(_ work: PopulationWork, context: CompilationContext) throws -> (format: PopulationFormat, factors: [[Double]])
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
        w == 0 ? 0 : Quantiser.quantise(w, format!, c.target.mapping.weightRounding)
    }

    /// Level codes `ConductanceMap.cells(q)` for every weight of the tile (a zero weight is level 0 on its cells),
    /// `unusedCode` elsewhere.
    public func writeCells(of tile: Tile, in work: PopulationWork, into array: inout ArrayDecl, slot: Int,
                           context c: CompilationContext, tally: inout CellTally) {
        let map = c.map, C = array.cols, cpw = 2 * slices
        let zeroCells = map.cells(0), zeroIsUnused = zeroCells.allSatisfy { $0 == map.unusedCode }
        var codes = CellCodes(repeating: map.unusedCode, count: array.rows * C)
        let first = tile.neurons.lowerBound
        for (r, si) in tile.rows.enumerated() {
            if zeroIsUnused {
                // Only the non-zero weights change cells (a zero weight's cells already hold the unused code).
                work.forEachNonZero(row: si, in: tile.neurons) { n, w in
                    let qv = weightCode(w, format: work.format, context: c)
                    guard qv != 0 else { return }
                    let base = r * C + (n - first) * cpw
                    map.forEachCell(qv) { k, code in codes[base + k] = code }
                }
                continue
            }
            for (j, n) in tile.neurons.enumerated() {
                let qv = weightCode(work.weight(row: si, neuron: n), format: work.format, context: c)
                let cells = qv == 0 ? zeroCells : map.cells(qv)
                for k in 0..<cpw { codes[r * C + j * cpw + k] = cells[k] }
            }
        }
        array.codes = codes
        array.codeType = map.codeType
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
