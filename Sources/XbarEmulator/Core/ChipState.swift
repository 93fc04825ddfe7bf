import XbarCore
import XbarIR

/// The mutable part of a chip instance: the realised conductance code and read variance of every cell, and how
/// often each cell has been written since the chip was realised (wear). A `Chip` is immutable; a run that changes
/// cells while it runs (on-chip learning) owns one `ChipState`, processes its samples strictly in order
/// (`RunOrder.sequential`) and refreshes the engine's read views of the arrays it changed.
public struct ChipState: Sendable {
    /// Realised codes per array, row-major (rows x cols).
    public private(set) var codes: [CellCodes]
    /// Per-cell read variance (code^2) per array, when read noise is on.
    public private(set) var variance: [[Int32]?]
    /// Write pulses per cell since realisation, per array (nil until a cell of that array is written).
    public private(set) var writes: [[UInt32]?]
    /// Arrays changed since the last `takeChangedArrays()`, ascending.
    public private(set) var changedArrays: Set<Int> = []
    let cols: [Int]

    /// The state of `chip` as it was realised (nothing written yet).
    public init(chip: Chip) {
        codes = chip.codes
        variance = chip.variance
        writes = chip.program.arrays.map { $0.writes }
        cols = chip.program.arrays.map(\.cols)
    }

    /// Write pulses one cell has had since the chip was realised.
    public func pulses(array a: Int, row r: Int, col c: Int) -> UInt32 { writes[a]?[r * cols[a] + c] ?? 0 }

    /// Realised code of one cell.
    public func code(array a: Int, row r: Int, col c: Int) -> Int32 { codes[a][r * cols[a] + c] }

    /// Sets a cell's realised code (and read variance, when read noise is on) after `pulses` write pulses.
    public mutating func write(array a: Int, row r: Int, col c: Int, code: Int32, variance v: Int32? = nil, pulses: UInt32 = 1) {
        let k = r * cols[a] + c
        codes[a][k] = code
        if let v, variance[a] != nil { variance[a]![k] = v }
        if writes[a] == nil { writes[a] = [UInt32](repeating: 0, count: codes[a].count) }
        writes[a]![k] &+= pulses
        changedArrays.insert(a)
    }

    /// The arrays changed since the last call (the engine rebuilds their read views), ascending.
    public mutating func takeChangedArrays() -> [Int] {
        defer { changedArrays = [] }
        return changedArrays.sorted()
    }

    /// Total write pulses over every cell.
    public var totalWrites: UInt64 { writes.reduce(0) { $0 + ($1?.reduce(UInt64(0)) { $0 + UInt64($1) } ?? 0) } }
}

extension ChipState {
    /// `program` with every array's cells as they are now (`state realised`, with their write counts): the learned
    /// program a later run continues from (docs/ir.md, "Plasticity").
    public func learnedProgram(_ program: Program) -> Program {
        var p = program
        for i in p.arrays.indices {
            p.arrays[i].codes = codes[i]
            p.arrays[i].realised = true
            p.arrays[i].writes = writes[i]
        }
        p.version = Swift.max(p.version, p.requiredVersion)
        return p
    }
}
