import XbarCore
import XbarGraph
import XbarIR
import XbarTarget

/// What every pass of one compilation reads and none changes: the graph, the target, the options, and the quantities
/// derived once from the target (conductance map, ADC LSB and offset in codes, array budget, programming strategy,
/// update order).
public struct CompilationContext: Sendable {
    public let graph: Graph
    public let target: Target
    public let options: CompileOptions
    /// The file named in error messages.
    public let file: String
    public let map: ConductanceMap
    /// Conductance codes per microsiemens: 1000 / g_unit_ns.
    public let perUS: Double
    /// ADC LSB in conductance codes (docs/compiler.md, section 4).
    public let adcLSB: Int64
    /// ADC offset in conductance codes.
    public let adcOffset: Int64
    /// Arrays of the target: macro count x arrays per macro.
    public let arraysAvailable: Int
    /// How weights reach the cells: programmed level codes or electroformed cells.
    public let strategy: any ProgrammingStrategy
    /// The neuron populations in update order (docs/graph.md, "Update order").
    public let schedule: [String]

    init(graph g: Graph, target t: Target, options: CompileOptions, file: String) throws {
        graph = g
        target = t
        self.options = options
        self.file = file
        map = ConductanceMap(target: t)
        perUS = 1000.0 / t.cell.gUnitNS
        if let l = t.adc.lsbUS {
            adcLSB = Swift.max(1, Fixed.roundReal(l * perUS, .halfEven))
        } else {
            adcLSB = Swift.max(1, Fixed.roundReal(t.adc.fullScaleUS! * perUS / Double(1 << t.adc.bits), .halfEven))
        }
        adcOffset = Fixed.roundReal(t.adc.offsetUS * perUS, .halfEven)
        arraysAvailable = t.macro.count * t.macro.arrays
        strategy = try programmingStrategy(target: t, seed: options.seed)
        schedule = try Schedule.order(g, file: file)
    }

    /// Cells per weight: a positive and a negative cell for each bit slice.
    public var cellsPerWeight: Int { 2 * strategy.slices }

    /// The graph's population `name` (every scheduled name is one).
    public func population(_ name: String) -> Population { graph.population(named: name)! }

    /// An error about `field` of the graph file.
    func error(_ field: String, _ message: String) -> XbarError { XbarError(file: file, field: field, message) }
}

/// The state the passes transform: the partial program, the work items of every neuron population (in update order)
/// and the statistics gathered so far. A pass reads what earlier passes produced and adds its own part.
///
/// Errors are reported as lowering population by population would meet them: when a population fails, its error
/// is kept as `failure`, later populations are left alone, and the passes still lower the earlier populations (one
/// of which may fail too, and then replaces it). The pass manager throws the failure after the last pass it runs.
public struct CompilationState {
    /// Replaced once, by `order`, when the placement renumbers the graph.
    public internal(set) var context: CompilationContext
    /// The program so far: inputs from the start, arrays from `tile`, neurons from `neurons`, ops from `emit`,
    /// the readout from `readout`.
    public internal(set) var program: Program
    /// One work item per neuron population, in update order.
    public internal(set) var populations: [PopulationWork]
    /// Tiles that have an array, in placement order (from `place`).
    public internal(set) var tiles: [TileInfo] = []
    /// Tiles (`P.r<rt>c<ct>`) left without an array because all their weights are zero (from `skip-empty`).
    public internal(set) var skippedTiles: [String] = []
    /// Stacked rows dropped because all their weights are zero (from `skip-zero-rows`, with its option).
    public internal(set) var skippedRows = 0
    /// Cells of the placed tiles' used rows and columns (from `place`).
    public internal(set) var cellsUsed = 0
    /// The physical order of the populations (from `order`; identity until then).
    public internal(set) var placement = Placement(mode: .identity)
    /// Cells of the placed tiles that hold a non-zero weight (from `place`): non-zero weights x cells per weight.
    public internal(set) var nonZeroCells = 0
    /// Row slots the non-zero weights need at least (from `place`): over stacked rows, ceil(non-zeros / neurons per
    /// column tile).
    public internal(set) var rowSlots = 0
    /// Forming targets: cells formed and cells left unformed (from `cells`).
    public internal(set) var formedCells = 0
    public internal(set) var unformedCells = 0
    /// Real value of one readout weight step (from `readout`; nil without a trained readout).
    public internal(set) var readoutScale: Double?
    /// The passes run so far, in order.
    public internal(set) var passesRun: [String] = []
    /// The error of the earliest population (in update order) whose lowering failed.
    public internal(set) var failure: PopulationFailure?

    /// Validates the graph, derives the context, orders the populations and declares the inputs.
    public init(graph g: Graph, target t: Target, options: CompileOptions = CompileOptions(), file: String = "<graph>") throws {
        try GraphValidator.validate(g, file: file)
        let ctx = try CompilationContext(graph: g, target: t, options: options, file: file)
        context = ctx
        program = Program(name: g.name, target: t.name, timesteps: g.timesteps, inputs: [], neurons: [], arrays: [],
                          readouts: [], step: [])
        for p in g.populations where p.kind == .input { program.inputs.append(InputDecl(name: p.name, size: p.size)) }
        populations = ctx.schedule.map { PopulationWork(name: $0, size: ctx.population($0).size) }
    }

    /// Runs `body` for each population before the earliest failed one, in update order. An `XbarError` thrown for
    /// population p becomes `failure` and ends the loop there.
    mutating func forEachPopulation(_ body: (inout CompilationState, Int) throws -> Void) throws {
        var p = 0
        while p < (failure?.population ?? populations.count) {
            do {
                try body(&self, p)
            } catch let e as XbarError {
                failure = PopulationFailure(population: p, error: e)
            }
            p += 1
        }
    }

    /// The statistics `xbar compile --stats` prints (complete once every pass has run).
    public var stats: CompileStats {
        let t = context.target
        return CompileStats(tiles: tiles, formats: populations.compactMap { $0.format }, arraysAvailable: context.arraysAvailable,
                            macrosUsed: (program.arrays.count + t.macro.arrays - 1) / t.macro.arrays,
                            cellsUsed: cellsUsed, cellsTotal: program.arrays.count * t.macro.rows * t.macro.cols,
                            conductanceCodes: context.map.levelCodes, adcLSBCodes: context.adcLSB, readoutScale: readoutScale,
                            unformedFraction: formedCells > 0 ? Double(unformedCells) / Double(formedCells) : nil,
                            skippedTiles: skippedTiles, skippedRows: skippedRows, nonZeroCells: nonZeroCells, rowSlots: rowSlots, arrayRows: t.macro.rows,
                            arrayCells: t.macro.rows * t.macro.cols, placement: placement)
    }
}

/// The first error met while lowering population `population` (an index into `CompilationState.populations`).
public struct PopulationFailure: Sendable {
    public var population: Int
    public var error: XbarError
}
