import XbarCore
import XbarGraph
import XbarIR

/// The incoming synapses of one (source, delay) pair: a block of stacked rows (docs/compiler.md, section 1).
public struct RowBlock: Equatable, Sendable {
    /// Source population and the delay its rows are read at.
    public var source: String
    public var delay: Int
    /// Rows of the block: the source's size.
    public var size: Int
    /// The summed weight matrix, `size` x post, row-major. The `cells` pass releases it (empty afterwards): later
    /// passes need only the block's shape and projections.
    public var weights: [Double]
    /// The graph projections merged into the block, in file order.
    public var projections: [Projection]

    /// Whether any projection of the block learns (its rows may carry several rules, one per row; docs/compiler.md,
    /// section 9): a fixed projection first in the file does not hide a plastic one after it.
    public var isPlastic: Bool { projections.contains { $0.plasticity != nil } }
}

/// One row of a population's stacked [x; h] matrix: row `index` of block `block`.
public struct StackedRow: Equatable, Sendable {
    public var block: Int
    public var index: Int
}

/// One tile: a row tile x column tile of a population's stacked matrix, held by one array unless it is empty.
public struct Tile: Equatable, Sendable {
    public var rowTile: Int
    public var colTile: Int
    /// The stacked rows the tile holds (array rows 0 ..< rows.count).
    public var rows: Range<Int>
    /// The neurons the tile holds (neuron j of the tile at columns j x cpw ..< (j + 1) x cpw).
    public var neurons: Range<Int>
    /// `P.r<rt>c<ct>`: the name of the tile's array.
    public var name: String
    /// Position of the tile's array in `Program.arrays`; nil once `skip-empty` has dropped the tile.
    public var slot: Int?
}

/// One crossbar read: rows of one row tile driven together in one analog phase, all of one scale group.
public struct RowGroup: Equatable, Sendable {
    public var rowTile: Int
    /// Row sources in array-row order.
    public var sources: [RowSource]
    /// Index into `PopulationWork.scales`: every row of the read shares that scale.
    public var scaleGroup: Int
    /// Rows the read drives.
    public var rowCount: Int { sources.reduce(0) { $0 + $1.count } }
}

/// Running sums of the realised conductance differences G+ - G- (uS) of one block's formed cell pairs.
public struct RealisedSpread: Equatable, Sendable {
    public var sum = 0.0
    public var sumOfSquares = 0.0
    public var count = 0.0

    mutating func add(_ d: Double) {
        sum += d
        sumOfSquares += d * d
        count += 1
    }

    /// Population standard deviation of the differences (0 with none).
    public var standardDeviation: Double {
        let mean = sum / Swift.max(1, count)
        return (Swift.max(0, sumOfSquares / Swift.max(1, count) - mean * mean)).squareRoot()
    }
}

/// An ADC-to-membrane factor as an integer multiply and right shift (`Quantiser.multiplier`).
public struct Multiplier: Equatable, Sendable {
    public var mul: Int64
    public var shift: Int
}

/// Everything the passes derive for one neuron population, filled in pass by pass.
public struct PopulationWork: Sendable {
    public let name: String
    /// Neurons of the population (`post`).
    public let size: Int
    /// From `blocks`: the row blocks in order of first appearance, and the stacked rows.
    public internal(set) var blocks: [RowBlock] = []
    public internal(set) var stacked: [StackedRow] = []
    /// From `quantise` (programmed targets) or `scales` (forming targets): the fixed-point format.
    public internal(set) var format: PopulationFormat?
    /// From `tile`: the stacked-row ranges of the row tiles, the neuron ranges of the column tiles, and every tile in
    /// creation order (column tile by column tile, row tiles in order within one).
    public internal(set) var rowTiles: [Range<Int>] = []
    public internal(set) var colTiles: [Range<Int>] = []
    public internal(set) var tiles: [Tile] = []
    /// From `cells` (forming targets): realised G+ - G- per block.
    public internal(set) var spread: [RealisedSpread] = []
    /// From `group-rows`: the reads of one column tile (every column tile reads the same row groups).
    public internal(set) var reads: [RowGroup] = []
    /// From `scales`: multiply-and-shift per scale group and slice, and the bound on |pre-activation| (section 5).
    public internal(set) var scales: [[Multiplier]] = []
    public internal(set) var preBound: Int64 = 0
    /// From `neurons`: the population's neuron declaration.
    public internal(set) var neuron: NeuronDecl?

    /// Graph weight at stacked row `si`, neuron `n` (before `cells` releases the weights).
    public func weight(row si: Int, neuron n: Int) -> Double {
        let r = stacked[si]
        return blocks[r.block].weights[r.index * size + n]
    }

    /// The tile at (row tile, column tile).
    public func tile(row rt: Int, col ct: Int) -> Tile? { tiles.first { $0.rowTile == rt && $0.colTile == ct } }
}
