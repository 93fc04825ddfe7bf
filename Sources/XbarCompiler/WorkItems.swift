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
    /// The summed weight matrix, `size` x post, its non-zeros by row. The `cells` pass releases it (empty afterwards):
    /// later passes need only the block's shape and projections.
    public var weights: BlockWeights
    /// The graph projections merged into the block, in file order.
    public var projections: [Projection]

    /// Whether any projection of the block learns (its rows may carry several rules, one per row; docs/compiler.md,
    /// section 9): a fixed projection first in the file does not hide a plastic one after it.
    public var isPlastic: Bool { projections.contains { $0.plasticity != nil } }
}

/// A block's weight matrix (rows x cols) as its non-zero entries by row (compressed sparse rows, columns ascending):
/// memory grows with the non-zeros, not with rows x cols. Projections merged into one block are summed entry by entry
/// in file order, as a dense sum would (docs/compiler.md, section 1).
public struct BlockWeights: Equatable, Sendable {
    public private(set) var rows: Int
    public private(set) var cols: Int
    /// Row i's entries are `col[start[i]..<start[i + 1]]` and `value[...]`.
    private var start: [Int]
    private var col: [Int32]
    private var value: [Double]

    /// An all-zero rows x cols matrix.
    public init(rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
        start = [Int](repeating: 0, count: rows + 1)
        col = []
        value = []
    }

    /// The weights of projection `p` (rows = its source's size, cols = its target's).
    public init(_ p: Projection, rows: Int, cols: Int) {
        self.init(rows: rows, cols: cols)
        var r = 0
        Materialize.forEachNonZero(p, pre: rows, post: cols) { i, j, w in
            while r < i { r += 1; start[r] = col.count }
            col.append(Int32(j))
            value.append(w)
        }
        while r < rows { r += 1; start[r] = col.count }
    }

    /// Non-zero entries stored.
    public var nonZeros: Int { col.count }
    /// True once released (0 x 0).
    public var isEmpty: Bool { rows == 0 && cols == 0 }
    /// The matrix row-major, zeros included (for tests and dumps of small blocks).
    public var dense: [Double] {
        var m = [Double](repeating: 0, count: rows * cols)
        for i in 0..<rows { forEachNonZero(row: i, in: 0..<cols) { m[i * cols + $0] = $1 } }
        return m
    }
    /// The largest |w| (0 when empty).
    public var maxAbs: Double { value.reduce(0) { Swift.max($0, abs($1)) } }
    /// Every stored value, row by row (columns ascending).
    public var values: [Double] { value }

    /// W[i][j] (binary search in row i).
    public subscript(i: Int, j: Int) -> Double {
        var lo = start[i], hi = start[i + 1]
        let c = Int32(j)
        while lo < hi {
            let m = (lo + hi) / 2
            if col[m] < c { lo = m + 1 } else { hi = m }
        }
        return lo < start[i + 1] && col[lo] == c ? value[lo] : 0
    }

    /// Calls `body(j, w)` for the non-zeros of row i with j in `cols`, ascending.
    public func forEachNonZero(row i: Int, in cols: Range<Int>, _ body: (Int, Double) -> Void) {
        withStorage { st in
            var k = st.firstEntry(row: i, atOrAfter: cols.lowerBound)
            let end = st.start[i + 1], hi = Int32(clamping: cols.upperBound)
            while k < end && st.col[k] < hi { body(Int(st.col[k]), st.value[k]); k += 1 }
        }
    }

    /// The entries as raw buffers, for loops that walk many rows (valid inside `body` only).
    public struct Storage {
        /// Row i's entries are `col[start[i]..<start[i + 1]]` and `value[...]`.
        public let start: UnsafeBufferPointer<Int>
        public let col: UnsafeBufferPointer<Int32>
        public let value: UnsafeBufferPointer<Double>

        /// The position of row i's first entry whose column is >= c (binary search).
        public func firstEntry(row i: Int, atOrAfter c: Int) -> Int {
            var k = start[i], e = start[i + 1]
            let lo = Int32(clamping: c)
            while k < e {
                let m = (k + e) >> 1
                if col[m] < lo { k = m + 1 } else { e = m }
            }
            return k
        }
    }

    /// Runs `body` on the entries' raw buffers.
    public func withStorage<R>(_ body: (Storage) throws -> R) rethrows -> R {
        try start.withUnsafeBufferPointer { s in
            try col.withUnsafeBufferPointer { c in
                try value.withUnsafeBufferPointer { v in try body(Storage(start: s, col: c, value: v)) }
            }
        }
    }

    /// self + other, entry by entry (self's value first; a sum of exactly 0 is dropped).
    public func adding(_ o: BlockWeights) -> BlockWeights {
        var out = BlockWeights(rows: rows, cols: cols)
        out.col.reserveCapacity(col.count + o.col.count)
        out.value.reserveCapacity(col.count + o.col.count)
        for i in 0..<rows {
            var a = start[i], b = o.start[i]
            let ae = start[i + 1], be = o.start[i + 1]
            while a < ae || b < be {
                if b >= be || (a < ae && col[a] < o.col[b]) {
                    out.col.append(col[a]); out.value.append(value[a]); a += 1
                } else if a >= ae || o.col[b] < col[a] {
                    out.col.append(o.col[b]); out.value.append(0 + o.value[b]); b += 1
                } else {
                    let w = value[a] + o.value[b]
                    if w != 0 { out.col.append(col[a]); out.value.append(w) }
                    a += 1; b += 1
                }
            }
            out.start[i + 1] = out.col.count
        }
        return out
    }
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
    /// From `skip-empty`: `rowNonZeros[si][ct]`, the non-zero integer weights of stacked row si in column tile ct.
    public internal(set) var rowNonZeros: [[Int32]] = []
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
        return blocks[r.block].weights[r.index, n]
    }

    /// Calls `body(n, w)` for the non-zero graph weights of stacked row `si` at neurons in `neurons`, ascending.
    public func forEachNonZero(row si: Int, in neurons: Range<Int>, _ body: (Int, Double) -> Void) {
        let r = stacked[si]
        blocks[r.block].weights.forEachNonZero(row: r.index, in: neurons, body)
    }

    /// Runs `body` on every block's weights as raw buffers (`BlockWeights.Storage`, in block order).
    public func withBlockStorage<R>(_ body: ([BlockWeights.Storage]) throws -> R) rethrows -> R {
        func nest(_ b: Int, _ acc: [BlockWeights.Storage]) throws -> R {
            b == blocks.count ? try body(acc) : try blocks[b].weights.withStorage { try nest(b + 1, acc + [$0]) }
        }
        return try nest(0, [])
    }

    /// The tile at (row tile, column tile).
    public func tile(row rt: Int, col ct: Int) -> Tile? {
        // Tiles are created column tile by column tile, row tiles in order: tile (rt, ct) is at ct x rowTiles + rt.
        let k = ct * rowTiles.count + rt
        if k >= 0 && k < tiles.count && tiles[k].rowTile == rt && tiles[k].colTile == ct { return tiles[k] }
        return tiles.first { $0.rowTile == rt && $0.colTile == ct }
    }
}
