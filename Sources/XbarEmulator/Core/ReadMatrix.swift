import CXbarKernel
import XbarCore
import XbarIR

/// The cells one `read` op sees: the window of columns [colStart, colStart + length) of its array, in the layout
/// that makes the read cheapest. Most cells of a mapped layer share one *background* state (a zero weight is a pair
/// of cells at the lowest level; unused cells): a sparse window keeps, per row, only the cells that differ from it
/// (CSR of their deviation), and a read adds the background's exact contribution driven-rows x background, so it
/// costs O(exception cells driven + columns). Dense windows keep rows contiguous, as int16 when codes fit.
/// Every layout gives exactly the same integer sums.
final class ReadMatrix: @unchecked Sendable {
    /// A window is stored sparse when at most this fraction of its cells differs from the background.
    static let sparseBelow = 0.3

    let rows: Int
    let cols: Int
    /// Cells that differ from the background (code, variance).
    let exceptions: Int
    let sparse: Bool
    let background: Int64
    let backgroundVar: Int64
    // Dense layouts: rows x cols, row-major, int16 (when codes fit) or int32.
    private(set) var dense16: UnsafeMutablePointer<Int16>? = nil
    private(set) var dense16Var: UnsafeMutablePointer<Int16>? = nil
    private(set) var dense: UnsafeMutablePointer<Int32>? = nil
    private(set) var denseVar: UnsafeMutablePointer<Int32>? = nil
    // CSR layout of the deviations from the background.
    private(set) var rowPtr: UnsafeMutablePointer<Int64>? = nil
    private(set) var col: UnsafeMutablePointer<Int32>? = nil
    private(set) var val: UnsafeMutablePointer<Int32>? = nil
    private(set) var val2: UnsafeMutablePointer<Int32>? = nil
    let hasVariance: Bool

    /// The window of `cells` (and `variance`) of an array of `arrayCols` columns. A sparse store without variance whose
    /// fill is the window's background goes to CSR straight from its listed cells (O(listed cells), no dense copy).
    init(codes cells: CellCodes, variance: [Int32]?, arrayRows: Int, arrayCols: Int, colStart: Int, length: Int) {
        rows = arrayRows
        cols = length
        hasVariance = variance != nil
        if variance == nil, let listed = ReadMatrix.windowExceptions(cells, arrayCols, colStart, length),
           Double(listed.count) <= ReadMatrix.sparseBelow * Double(Swift.max(1, arrayRows * length)) {
            // Fewer than 30 % of the window differ from the fill, so the fill is the window's most common code.
            background = Int64(cells.fill)
            backgroundVar = 0
            exceptions = listed.count
            sparse = true
            buildCSR(listed, variance: false, arrayCols, colStart, cells.fill, 0)
            return
        }
        let codes = cells.array
        let (b, bv) = ReadMatrix.background(codes, variance, arrayRows, arrayCols, colStart, length)
        background = Int64(b)
        backgroundVar = Int64(bv)
        var ex = 0
        var maxCode: Int32 = 0
        for r in 0..<arrayRows {
            let base = r * arrayCols + colStart
            for j in 0..<length {
                let c = codes[base + j], w: Int32 = variance?[base + j] ?? 0
                maxCode = Swift.max(maxCode, Swift.max(c, w))
                if c != b || w != bv { ex += 1 }
            }
        }
        exceptions = ex
        sparse = Double(ex) <= ReadMatrix.sparseBelow * Double(Swift.max(1, arrayRows * length))
        if sparse {
            buildCSR(ReadMatrix.listed(codes, variance, arrayRows, arrayCols, colStart, length, b, bv), variance: variance != nil,
                     arrayCols, colStart, b, bv)
        } else if maxCode <= Int32(Int16.max) && arrayRows < 65536 {
            dense16 = ReadMatrix.window(codes, arrayRows, arrayCols, colStart, length, as: Int16.self)
            dense16Var = variance.map { ReadMatrix.window($0, arrayRows, arrayCols, colStart, length, as: Int16.self) }
        } else {
            dense = ReadMatrix.window(codes, arrayRows, arrayCols, colStart, length, as: Int32.self)
            denseVar = variance.map { ReadMatrix.window($0, arrayRows, arrayCols, colStart, length, as: Int32.self) }
        }
    }

    /// Columns [colStart, colStart + length) of every row of `cells` (rows x arrayCols), contiguous, as `T`
    /// (the caller has checked that every value fits).
    static func window<T: FixedWidthInteger>(_ cells: [Int32], _ rows: Int, _ arrayCols: Int, _ colStart: Int, _ length: Int,
                                            as _: T.Type) -> UnsafeMutablePointer<T> {
        let d = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(rows * length, 1))
        for r in 0..<rows {
            let base = r * arrayCols + colStart
            for j in 0..<length { d[r * length + j] = T(truncatingIfNeeded: cells[base + j]) }
        }
        return d
    }

    /// The most common code of the window, and the most common variance among the cells with that code.
    static func background(_ codes: [Int32], _ variance: [Int32]?, _ rows: Int, _ arrayCols: Int, _ c0: Int, _ n: Int) -> (Int32, Int32) {
        func mode(_ include: (Int) -> Int32?) -> Int32 {
            var hist = [Int: Int]()
            var small: [Int] = []  // counts of the values 0 ..< 2^16, grown to the largest one seen
            for r in 0..<rows {
                let base = r * arrayCols + c0
                for j in 0..<n {
                    guard let v = include(base + j) else { continue }
                    if v >= 0 && v < 1 << 16 {
                        if Int(v) >= small.count { small += [Int](repeating: 0, count: Int(v) + 1 - small.count) }
                        small[Int(v)] += 1
                    } else {
                        hist[Int(v), default: 0] += 1
                    }
                }
            }
            var best = 0, bestCount = -1
            for (v, c) in small.enumerated() where c > bestCount { best = v; bestCount = c }
            for (v, c) in hist.sorted(by: { $0.key < $1.key }) where c > bestCount { best = v; bestCount = c }
            return Int32(best)
        }
        let b = mode { codes[$0] }
        guard let variance else { return (b, 0) }
        return (b, mode { codes[$0] == b ? variance[$0] : nil })
    }

    /// The listed cells of a sparse store inside the window (array index, code, variance 0), ascending; nil for a
    /// dense store.
    static func windowExceptions(_ cells: CellCodes, _ arrayCols: Int, _ c0: Int, _ n: Int) -> [(Int, Int32, Int32)]? {
        guard cells.exceptionCount != nil else { return nil }
        var out: [(Int, Int32, Int32)] = []
        cells.forEachCell(differingFrom: cells.fill) { i, c in
            let j = i % arrayCols
            if j >= c0 && j < c0 + n { out.append((i, c, 0)) }
        }
        return out
    }

    /// CSR of the listed cells (array index ascending; code, variance) against the background (`b`, `bv`).
    private func buildCSR(_ listed: [(Int, Int32, Int32)], variance: Bool, _ arrayCols: Int, _ colStart: Int, _ b: Int32, _ bv: Int32) {
        let nz = Swift.max(listed.count, 1)
        let rp = UnsafeMutablePointer<Int64>.allocate(capacity: rows + 1)
        let cl = UnsafeMutablePointer<Int32>.allocate(capacity: nz)
        let v = UnsafeMutablePointer<Int32>.allocate(capacity: nz)
        let v2 = variance ? UnsafeMutablePointer<Int32>.allocate(capacity: nz) : nil
        var e = 0
        for r in 0..<rows {
            rp[r] = Int64(e)
            while e < listed.count && listed[e].0 / arrayCols == r {
                cl[e] = Int32(listed[e].0 % arrayCols - colStart)
                v[e] = listed[e].1 - b
                v2?[e] = listed[e].2 - bv
                e += 1
            }
        }
        rp[rows] = Int64(e)
        rowPtr = rp
        col = cl
        val = v
        val2 = v2
    }

    /// The window's cells of a dense array that differ from the background (code or variance), ascending.
    static func listed(_ codes: [Int32], _ variance: [Int32]?, _ rows: Int, _ arrayCols: Int, _ colStart: Int, _ n: Int,
                       _ b: Int32, _ bv: Int32) -> [(Int, Int32, Int32)] {
        var out: [(Int, Int32, Int32)] = []
        for r in 0..<rows {
            let base = r * arrayCols + colStart
            for j in 0..<n {
                let c = codes[base + j], w: Int32 = variance?[base + j] ?? 0
                if c != b || w != bv { out.append((base + j, c, w)) }
            }
        }
        return out
    }

    /// Column sums over the driven `rows` into `out` (and variance sums into `varOut` when non-nil).
    @inline(__always)
    func read(rows: UnsafePointer<Int32>, count n: Int, out: UnsafeMutablePointer<Int64>, varOut: UnsafeMutablePointer<Int64>?,
              threads: Int) {
        if sparse {
            xbar_read_csr(rowPtr, col, val, varOut == nil ? nil : val2, rows, Int64(n), Int64(cols), background * Int64(n),
                          backgroundVar * Int64(n), out, varOut)
        } else if let d = dense16 {
            xbar_read_dense16(d, varOut == nil ? nil : dense16Var, rows, Int64(n), Int64(cols), 0, 0, out, varOut)
        } else if let vo = varOut, let dv = denseVar {
            xbar_read_columns2(dense, dv, Int64(cols), rows, Int64(n), 0, Int64(cols), out, vo, Int32(threads))
        } else {
            xbar_read_columns(dense, Int64(cols), rows, Int64(n), 0, Int64(cols), out, Int32(threads))
        }
    }

    deinit {
        dense16?.deallocate()
        dense16Var?.deallocate()
        dense?.deallocate()
        denseVar?.deallocate()
        rowPtr?.deallocate()
        col?.deallocate()
        val?.deallocate()
        val2?.deallocate()
    }
}

/// The read views of a chip state for one executable program: a `ReadMatrix` per read op, plus each adc op's
/// static ADC offsets and gains as flat arrays. Rebuilt per array when a run changes cells.
struct ReadViews: Sendable {
    var matrices: [ReadMatrix?]
    /// Per adc op: static offsets and gains per column (empty when the op has no ADC errors).
    let adcOffset: [[Double]]
    let adcGain: [[Double]]

    /// Views of every read op except those in `skipping` (reads the engine never sums, such as fused ones).
    init(exec: ExecutableProgram, state: ChipState, chip: Chip, skipping: Set<Int> = []) {
        matrices = [ReadMatrix?](repeating: nil, count: exec.ops.count)
        var offs = [[Double]](repeating: [], count: exec.ops.count)
        var gains = offs
        for (k, op) in exec.ops.enumerated() {
            if case let .adc(a) = op, let st = chip.adcStatic[k] {
                offs[k] = st.map(\.offset)
                gains[k] = st.map(\.gain)
                _ = a
            }
        }
        adcOffset = offs
        adcGain = gains
        rebuild(exec: exec, state: state, arrays: nil, skipping: skipping)
    }

    /// Rebuilds the matrices of the reads of `arrays` (all when nil) from `state`.
    mutating func rebuild(exec: ExecutableProgram, state: ChipState, arrays: Set<Int>?, skipping: Set<Int> = []) {
        let decls = exec.program.arrays
        for (k, op) in exec.ops.enumerated() {
            guard case let .read(r) = op, arrays?.contains(r.array) ?? true, !skipping.contains(k) else { continue }
            let a = decls[r.array]
            matrices[k] = ReadMatrix(codes: state.codes[r.array], variance: state.variance[r.array], arrayRows: a.rows,
                                     arrayCols: a.cols, colStart: r.colStart, length: r.length)
        }
    }
}
