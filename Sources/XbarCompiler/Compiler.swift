import XbarCore
import XbarDevice
import XbarGraph
import XbarIR
import XbarTarget

/// Compiler options beyond the target.
public struct CompileOptions: Sendable {
    /// Allow more arrays than the target's macros hold by replicating the macro (reported in the stats).
    public var replicateMacros = false
    /// Chip instance whose cells are electroformed (forming targets only).
    public var seed: UInt64 = 1
    /// Leave out stacked rows whose weights are all zero (pass `skip-zero-rows`): a pruned (source, delay) row gets no
    /// cells and is never driven. Off by default: it renumbers the rows of any graph with an all-zero row.
    public var skipZeroRows = false
    /// How neurons and input channels are numbered before tiling (pass `order`, docs/compiler.md "Placement").
    public var placement = PlacementMode.identity
    public init(replicateMacros: Bool = false, seed: UInt64 = 1, skipZeroRows: Bool = false, placement: PlacementMode = .identity) {
        self.replicateMacros = replicateMacros
        self.seed = seed
        self.skipZeroRows = skipZeroRows
        self.placement = placement
    }
}

/// One tile: a block of a population's stacked [x; h] rows and of its neuron columns, on one array.
public struct TileInfo: Equatable, Sendable {
    public var array: String
    public var population: String
    public var macro: Int
    public var index: Int
    public var rowsUsed: Int
    public var colsUsed: Int
    public var neurons: Range<Int>
    public var utilisation: Double
    /// Cells holding a non-zero weight (non-zero weights x cells per weight).
    public var nonZeroCells = 0
    /// Non-zero cells over the tile's used cells (rows used x columns used).
    public var fill: Double { rowsUsed * colsUsed > 0 ? Double(nonZeroCells) / Double(rowsUsed * colsUsed) : 0 }
}

/// What `xbar compile --stats` prints.
public struct CompileStats: Equatable, Sendable {
    public var tiles: [TileInfo]
    public var formats: [PopulationFormat]
    public var arraysAvailable: Int
    public var macrosUsed: Int
    public var cellsUsed: Int
    public var cellsTotal: Int
    public var conductanceCodes: [Int32]
    public var adcLSBCodes: Int64
    public var readoutScale: Double?
    /// Forming targets: fraction of used cells left unformed.
    public var unformedFraction: Double?
    /// Tiles (row tile x column tile blocks, named like their array would be: `P.r<rt>c<ct>`) whose weights are all
    /// zero: no array, no read (docs/compiler.md, section 6).
    public var skippedTiles: [String] = []
    /// Stacked rows left out because all their weights are zero (`CompileOptions.skipZeroRows`).
    public var skippedRows = 0
    /// Cells holding a non-zero weight, over all placed tiles.
    public var nonZeroCells = 0
    /// Row slots the non-zero weights need at least: over stacked rows, ceil(non-zero weights / neurons per column
    /// tile) (a tile row holds at most that many of one row's weights).
    public var rowSlots = 0
    /// Rows of one array.
    public var arrayRows = 1
    /// Cells of one array (rows x columns).
    public var arrayCells = 1
    /// The physical order of the populations (`CompileOptions.placement`).
    public var placement = Placement(mode: .identity)
    /// How many tiles were skipped as empty.
    public var arraysSkipped: Int { skippedTiles.count }
    /// The fewest arrays the non-zero cells could fill: ceil(non-zero cells / array cells).
    public var arraysLowerBound: Int { (nonZeroCells + arrayCells - 1) / arrayCells }
    /// The fewest arrays the rows could fill, one tile per array: ceil(row slots / array rows). Independent of the
    /// placement, and tighter than `arraysLowerBound` when rows have few non-zeros per column tile.
    public var arraysRowBound: Int { (rowSlots + arrayRows - 1) / arrayRows }
    /// Share of the cell reads of a read spent on zero cells, if every used row were driven equally often:
    /// (used cells - non-zero cells) / used cells.
    public var zeroCellReadShare: Double { cellsUsed > 0 ? Double(cellsUsed - nonZeroCells) / Double(cellsUsed) : 0 }
}

/// A compiled program and its statistics.
public struct Compiled: Sendable {
    public var program: Program
    public var stats: CompileStats

    /// Real value of one membrane LSB of population `name` (the unit of its membrane, synaptic current, threshold and
    /// biases in the IR): multiply an emulated membrane by it to compare with the graph. Nil for an unknown name.
    public func membraneLSB(of name: String) -> Double? {
        stats.formats.first { $0.population == name }?.membraneLSB
    }
}

/// Lowers a validated graph onto a target: stack, quantise, tile, skip empty tiles, place, write the cells
/// (programmed levels or electroformed pairs), group rows into reads, scale, declare neurons, emit one timestep's
/// ops, quantise the readout — the passes of `PassManager.standard`, each verified (docs/compiler.md).
public enum Compiler {
    public static func compile(_ g: Graph, target t: Target, options: CompileOptions = CompileOptions(),
                               file: String = "<graph>") throws -> Compiled {
        var state = try CompilationState(graph: g, target: t, options: options, file: file)
        try PassManager.standard.run(&state)
        return Compiled(program: state.program, stats: state.stats)
    }

    /// The compilation state after pass `last` of the standard pipeline (`xbar compile --print-after`): the partial
    /// program and every population's work items. An unknown pass name is a one-line error listing the valid ones.
    public static func state(after last: String, _ g: Graph, target t: Target, options: CompileOptions = CompileOptions(),
                             file: String = "<graph>") throws -> CompilationState {
        let pm = PassManager.standard
        _ = try pm.pass(named: last)
        var state = try CompilationState(graph: g, target: t, options: options, file: file)
        try pm.run(&state, through: last)
        return state
    }
}
