/// The conductance codes of one array, row-major (`count` = rows x cols cells), stored either dense or as one fill code
/// plus the cells that differ from it (sorted by index). A sparse store turns dense by itself once more than a quarter
/// of its cells differ from the fill. The two forms hold the same values and compare equal; which one an array uses
/// never changes what any engine, printer or file sees (docs/ir.md, "Arrays in memory").
///
/// A freshly tiled array is sparse (every cell at the unused code), so a program's memory grows with its non-zero
/// cells, not with rows x cols per array: the 100,000-neuron sparse reservoir of docs/bench.md has 305,000 arrays.
public struct CellCodes: RandomAccessCollection, MutableCollection, Equatable, Sendable, ExpressibleByArrayLiteral {
    public let count: Int
    /// The dense codes (empty while sparse).
    private var dense: [Int32]
    private var isDense: Bool
    /// Sparse form: the code of every cell not listed, and the listed cells (ascending index, code != fill).
    public private(set) var fill: Int32
    private var index: [Int32]
    private var code: [Int32]

    /// Every cell at `fill` (sparse).
    public init(repeating fill: Int32, count: Int) {
        self.count = count
        self.fill = fill
        dense = []
        isDense = false
        index = []
        code = []
    }

    /// Every cell at `fill` except the listed ones: `indices` strictly ascending, `codes` none equal to `fill` (both
    /// are checked). Dense at once when more than a quarter of the cells are listed.
    public init(fill: Int32, count: Int, indices: [Int32], codes: [Int32]) {
        precondition(indices.count == codes.count && zip(indices, indices.dropFirst()).allSatisfy { $0 < $1 }
                     && (indices.last.map { Int($0) < count } ?? true) && (indices.first.map { $0 >= 0 } ?? true)
                     && !codes.contains(fill), "CellCodes: listed cells must ascend, lie inside and differ from the fill")
        self.init(repeating: fill, count: count)
        index = indices
        code = codes
        if index.count * 4 > count { makeDense() }
    }

    /// These codes (dense).
    public init(_ codes: [Int32]) {
        count = codes.count
        dense = codes
        isDense = true
        fill = 0
        index = []
        code = []
    }

    public init(arrayLiteral elements: Int32...) { self.init(elements) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    /// Cells whose code differs from the fill, while sparse; nil when dense.
    public var exceptionCount: Int? { isDense ? nil : index.count }

    /// Cell `i`'s code. Setting a sparse store keeps it sorted (appending is O(1), in row-major order).
    public subscript(i: Int) -> Int32 {
        get {
            if isDense { return dense[i] }
            let p = position(i)
            return p < index.count && index[p] == Int32(i) ? code[p] : fill
        }
        set {
            if isDense { dense[i] = newValue; return }
            let p = position(i)
            if p < index.count && index[p] == Int32(i) {
                if newValue == fill { index.remove(at: p); code.remove(at: p) } else { code[p] = newValue }
            } else if newValue != fill && p == index.count {
                index.append(Int32(i))
                code.append(newValue)
                if index.count * 4 > count { makeDense() }
            } else if newValue != fill {
                index.insert(Int32(i), at: p)
                code.insert(newValue, at: p)
                if index.count * 4 > count { makeDense() }
            }
        }
    }

    /// The first listed position whose index is >= i.
    private func position(_ i: Int) -> Int {
        if let last = index.last, last < Int32(i) { return index.count }
        var lo = 0, hi = index.count
        let t = Int32(i)
        while lo < hi {
            let m = (lo + hi) >> 1
            if index[m] < t { lo = m + 1 } else { hi = m }
        }
        return lo
    }

    /// Switches to the dense form (same values).
    public mutating func makeDense() {
        guard !isDense else { return }
        dense = array
        isDense = true
        index = []
        code = []
    }

    /// All codes as one array.
    public var array: [Int32] {
        if isDense { return dense }
        var out = [Int32](repeating: fill, count: count)
        for (i, c) in zip(index, code) { out[Int(i)] = c }
        return out
    }

    /// Runs `body` on the codes as contiguous memory (a sparse store is expanded for the call).
    public func withContiguousCodes<R>(_ body: (UnsafeBufferPointer<Int32>) throws -> R) rethrows -> R {
        if isDense { return try dense.withUnsafeBufferPointer(body) }
        return try array.withUnsafeBufferPointer(body)
    }

    /// Runs `body` on cells `range` as contiguous memory (a sparse store copies that range into a buffer: O(range +
    /// log listed cells)).
    public func withCells<R>(_ range: Range<Int>, _ body: (UnsafeBufferPointer<Int32>) throws -> R) rethrows -> R {
        if isDense { return try dense.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[range])) } }
        var out = [Int32](repeating: fill, count: range.count)
        var p = position(range.lowerBound)
        while p < index.count && Int(index[p]) < range.upperBound {
            out[Int(index[p]) - range.lowerBound] = code[p]
            p += 1
        }
        return try out.withUnsafeBufferPointer(body)
    }

    /// Calls `body(i, code)` for every cell whose code is not `fill`, ascending: O(listed cells) when sparse with that
    /// fill, O(count) otherwise.
    public func forEachCell(differingFrom fill: Int32, _ body: (Int, Int32) throws -> Void) rethrows {
        if !isDense && fill == self.fill {
            for (i, c) in zip(index, code) { try body(Int(i), c) }
            return
        }
        for i in 0..<count where self[i] != fill { try body(i, self[i]) }
    }

    /// The smallest and largest code (nil when empty), O(listed cells) when sparse.
    public var range: ClosedRange<Int32>? {
        guard count > 0 else { return nil }
        if isDense { return dense.min()!...dense.max()! }
        var lo = code.min() ?? fill, hi = code.max() ?? fill
        if index.count < count { lo = Swift.min(lo, fill); hi = Swift.max(hi, fill) }
        return lo...hi
    }

    public struct Iterator: IteratorProtocol {
        let codes: CellCodes
        var i = 0
        var listed = 0
        public mutating func next() -> Int32? {
            guard i < codes.count else { return nil }
            defer { i += 1 }
            if codes.isDense { return codes.dense[i] }
            if listed < codes.index.count && Int(codes.index[listed]) == i { listed += 1; return codes.code[listed - 1] }
            return codes.fill
        }
    }

    public func makeIterator() -> Iterator { Iterator(codes: self) }

    public static func == (a: CellCodes, b: CellCodes) -> Bool {
        guard a.count == b.count else { return false }
        if a.isDense && b.isDense { return a.dense == b.dense }
        if !a.isDense && !b.isDense && a.fill == b.fill { return a.index == b.index && a.code == b.code }
        return a.elementsEqual(b)
    }
}
