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
    public init(replicateMacros: Bool = false, seed: UInt64 = 1) {
        self.replicateMacros = replicateMacros
        self.seed = seed
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
    /// How many tiles were skipped as empty.
    public var arraysSkipped: Int { skippedTiles.count }
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

/// Lowers a validated graph onto a target: quantise, map to differential conductance pairs (or electroform them),
/// tile, place, schedule one timestep, emit IR (docs/compiler.md).
public enum Compiler {
    public static func compile(_ g: Graph, target t: Target, options: CompileOptions = CompileOptions(),
                               file: String = "<graph>") throws -> Compiled {
        try GraphValidator.validate(g, file: file)
        var ctx = try Lowering(graph: g, target: t, options: options, file: file)
        for popName in try Schedule.order(g, file: file) { try ctx.lower(population: popName) }
        ctx.program.neurons = g.populations.compactMap { ctx.neuronDecls[$0.name] }
        let readoutScale = try ctx.lowerReadout()
        try IRVerifier.verify(ctx.program, file: file)
        let stats = CompileStats(tiles: ctx.tiles, formats: ctx.formats, arraysAvailable: ctx.arraysAvailable,
                                 macrosUsed: (ctx.program.arrays.count + t.macro.arrays - 1) / t.macro.arrays,
                                 cellsUsed: ctx.cellsUsed, cellsTotal: ctx.program.arrays.count * t.macro.rows * t.macro.cols,
                                 conductanceCodes: ctx.map.levelCodes, adcLSBCodes: ctx.adcLSB, readoutScale: readoutScale,
                                 unformedFraction: ctx.formedCells > 0 ? Double(ctx.unformedCells) / Double(ctx.formedCells) : nil,
                                 skippedTiles: ctx.skippedTiles)
        return Compiled(program: ctx.program, stats: stats)
    }
}
