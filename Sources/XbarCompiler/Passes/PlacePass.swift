import XbarCore
/// `place` (docs/compiler.md, section 6): puts the k-th remaining array on macro k div `macro.arrays`, index
/// k mod `macro.arrays`, refusing more arrays than the target has unless macros may be replicated; records each
/// tile's placement and the cells it uses.
public struct PlacePass: CompilerPass {
    public let name = "place"
    public let summary = "put the k-th array on macro k div arrays-per-macro, index k mod arrays-per-macro"

    public init() {}

    public func run(_ s: inout CompilationState) throws {
        let c = s.context, t = c.target, cpw = c.cellsPerWeight
        try s.forEachPopulation { s, p in
            let w = s.populations[p]
            // Row slots: a stacked row with d non-zero weights needs at least ceil(d / neurons per column tile) tiles.
            let perColTile = max(1, t.macro.cols / cpw)
            for nz in w.rowNonZeros { s.rowSlots += (Int(nz.reduce(0, +)) + perColTile - 1) / perColTile }
            for tile in w.tiles {
                guard let k = tile.slot else { continue }
                guard k < c.arraysAvailable || c.options.replicateMacros else {
                    throw c.error("populations.\(w.name)",
                                  "needs more than the \(c.arraysAvailable) arrays of target \(t.name) (\(t.macro.count) macros x \(t.macro.arrays) arrays of \(t.macro.rows)x\(t.macro.cols)); use --replicate-macros to allow more macros")
                }
                s.program.arrays[k].macro = k / t.macro.arrays
                s.program.arrays[k].index = k % t.macro.arrays
                let used = tile.rows.count * tile.neurons.count * cpw
                let nonZero = tile.rows.reduce(0) { $0 + Int(w.rowNonZeros[$1][tile.colTile]) }
                s.cellsUsed += used
                s.nonZeroCells += nonZero * cpw
                s.tiles.append(TileInfo(array: tile.name, population: w.name, macro: k / t.macro.arrays, index: k % t.macro.arrays,
                                        rowsUsed: tile.rows.count, colsUsed: tile.neurons.count * cpw, neurons: tile.neurons,
                                        utilisation: Double(used) / Double(t.macro.rows * t.macro.cols), nonZeroCells: nonZero * cpw))
            }
        }
    }

    /// Array k sits at its slot's (macro, index), within the target unless macros are replicated.
    public func verify(_ s: CompilationState) throws {
        let c = s.context, perMacro = c.target.macro.arrays
        for (k, a) in s.program.arrays.enumerated() {
            try passCheck(a.macro == k / perMacro && a.index == k % perMacro, s, "array %\(a.name)",
                          "placed at macro \(a.macro) index \(a.index), expected slot \(k): macro \(k / perMacro) index \(k % perMacro)")
            try passCheck(k < c.arraysAvailable || c.options.replicateMacros, s, "array %\(a.name)",
                          "slot \(k) is beyond the target's \(c.arraysAvailable) arrays")
        }
        try passCheck(s.tiles.count == s.program.arrays.count, s, "arrays", "\(s.tiles.count) placed tiles for \(s.program.arrays.count) arrays")
    }
}
