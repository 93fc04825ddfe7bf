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
}

/// A compiled program and its statistics.
public struct Compiled: Sendable {
    public var program: Program
    public var stats: CompileStats
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
                                 unformedFraction: ctx.formedCells > 0 ? Double(ctx.unformedCells) / Double(ctx.formedCells) : nil)
        return Compiled(program: ctx.program, stats: stats)
    }
}
