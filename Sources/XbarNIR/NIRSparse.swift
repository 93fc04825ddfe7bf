/// A sparse matrix in compressed-row form (rows = outputs, columns = inputs), the building block the importer
/// composes NIR's linear nodes with. Exact zeros are never stored.
struct SparseMatrix: Equatable {
    let rows: Int
    let cols: Int
    /// Row r's entries are `columns[rowStart[r] ..< rowStart[r + 1]]` with `values` alongside.
    private(set) var rowStart: [Int]
    private(set) var columns: [Int]
    private(set) var values: [Double]

    /// An empty matrix to fill row by row with `appendRow`.
    init(rows: Int, cols: Int, reserve: Int = 0) {
        self.rows = rows
        self.cols = cols
        rowStart = [0]
        rowStart.reserveCapacity(rows + 1)
        columns = []
        values = []
        columns.reserveCapacity(reserve)
        values.reserveCapacity(reserve)
    }

    /// Appends the next row (call exactly `rows` times).
    mutating func appendRow<S: Sequence>(_ entries: S) where S.Element == (Int, Double) {
        for (c, v) in entries where v != 0 {
            columns.append(c)
            values.append(v)
        }
        rowStart.append(columns.count)
    }

    /// The diagonal matrix with `d` on the diagonal.
    static func diagonal(_ d: [Double]) -> SparseMatrix {
        var m = SparseMatrix(rows: d.count, cols: d.count, reserve: d.count)
        for (i, v) in d.enumerated() { m.appendRow([(i, v)]) }
        return m
    }

    static func identity(_ n: Int) -> SparseMatrix { diagonal([Double](repeating: 1, count: n)) }

    var nonzeros: Int { columns.count }

    /// The entries of row `r`.
    func row(_ r: Int) -> Zip2Sequence<ArraySlice<Int>, ArraySlice<Double>> {
        zip(columns[rowStart[r]..<rowStart[r + 1]], values[rowStart[r]..<rowStart[r + 1]])
    }

    func rowCount(_ r: Int) -> Int { rowStart[r + 1] - rowStart[r] }

    /// An upper bound on the stored entries of `self * b`, computed without allocating it.
    func productBound(_ b: SparseMatrix) -> Int {
        var n = 0
        for k in columns { n += b.rowCount(k) }
        return Swift.min(n, rows * b.cols)
    }

    /// self (rows x k) times b (k x cols), by rows with a dense accumulator (Gustavson).
    func product(_ b: SparseMatrix) -> SparseMatrix {
        precondition(cols == b.rows)
        var out = SparseMatrix(rows: rows, cols: b.cols)
        var acc = [Double](repeating: 0, count: b.cols)
        var mark = [Int](repeating: -1, count: b.cols)
        var touched: [Int] = []
        for r in 0..<rows {
            touched.removeAll(keepingCapacity: true)
            for (k, a) in row(r) {
                for (j, w) in b.row(k) {
                    if mark[j] != r { mark[j] = r; acc[j] = 0; touched.append(j) }
                    acc[j] += a * w
                }
            }
            touched.sort()
            out.appendRow(touched.lazy.map { ($0, acc[$0]) })
        }
        return out
    }

    /// The entrywise sum (same shape).
    static func + (a: SparseMatrix, b: SparseMatrix) -> SparseMatrix {
        precondition(a.rows == b.rows && a.cols == b.cols)
        var out = SparseMatrix(rows: a.rows, cols: a.cols, reserve: a.nonzeros + b.nonzeros)
        var acc = [Double](repeating: 0, count: a.cols)
        var mark = [Int](repeating: -1, count: a.cols)
        var touched: [Int] = []
        for r in 0..<a.rows {
            touched.removeAll(keepingCapacity: true)
            for m in [a, b] {
                for (j, w) in m.row(r) {
                    if mark[j] != r { mark[j] = r; acc[j] = 0; touched.append(j) }
                    acc[j] += w
                }
            }
            touched.sort()
            out.appendRow(touched.lazy.map { ($0, acc[$0]) })
        }
        return out
    }

    /// self * v.
    func times(_ v: [Double]) -> [Double] {
        (0..<rows).map { r in row(r).reduce(0) { $0 + $1.1 * v[$1.0] } }
    }

    /// True for the n x n identity.
    var isIdentity: Bool {
        rows == cols && nonzeros == rows && (0..<rows).allSatisfy { rowCount($0) == 1 && columns[rowStart[$0]] == $0 && values[rowStart[$0]] == 1 }
    }
}

/// A linear map whose entries carry a delay in steps: y[t] = sum over d of M_d x[t - d].
struct DelayedMatrix: Equatable {
    let rows: Int
    let cols: Int
    /// delay -> matrix (rows x cols); no empty matrices.
    private(set) var terms: [Int: SparseMatrix]

    init(rows: Int, cols: Int, terms: [Int: SparseMatrix] = [:]) {
        self.rows = rows
        self.cols = cols
        self.terms = terms.filter { $0.value.nonzeros > 0 }
    }

    init(_ m: SparseMatrix) { self.init(rows: m.rows, cols: m.cols, terms: [0: m]) }

    var nonzeros: Int { terms.values.reduce(0) { $0 + $1.nonzeros } }
    var delays: [Int] { terms.keys.sorted() }

    /// Bound on the entries of `self * b` (for refusing absurd sizes before allocating).
    func productBound(_ b: DelayedMatrix) -> Int {
        var n = 0
        for a in terms.values { for m in b.terms.values { n += a.productBound(m) } }
        return n
    }

    /// self (rows x k) times b (k x cols); delays add.
    func product(_ b: DelayedMatrix) -> DelayedMatrix {
        var out = DelayedMatrix(rows: rows, cols: b.cols)
        for (da, a) in terms.sorted(by: { $0.key < $1.key }) {
            for (db, m) in b.terms.sorted(by: { $0.key < $1.key }) { out.add(a.product(m), delay: da + db) }
        }
        return out
    }

    /// Adds `m` to the term of `delay`.
    mutating func add(_ m: SparseMatrix, delay: Int) {
        guard m.nonzeros > 0 else { return }
        if let old = terms[delay] { terms[delay] = old + m } else { terms[delay] = m }
    }

    static func + (a: DelayedMatrix, b: DelayedMatrix) -> DelayedMatrix {
        var out = a
        for (d, m) in b.terms { out.add(m, delay: d) }
        return out
    }

    /// The sum over delays of M_d * v (a constant input, for example a propagated bias).
    func timesConstant(_ v: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: rows)
        for m in terms.values { for (r, x) in m.times(v).enumerated() { y[r] += x } }
        return y
    }
}
