import XbarCore
import XbarTarget

/// Conductance codes for weight digits: level d -> G = g_min + d * (g_max - g_min) / (levels - 1), in code units.
public struct ConductanceMap: Sendable {
    public let levelCodes: [Int32]
    public let unusedCode: Int32
    public let codeType: IntType
    /// Real code distance of one level step.
    public let stepCodes: Double
    public let levels: Int
    public let slices: Int

    public init(target t: Target) {
        let perUS = 1000.0 / t.cell.gUnitNS
        levels = t.cell.levels
        slices = t.mapping.slices
        stepCodes = (t.cell.gMaxUS - t.cell.gMinUS) / Double(t.cell.levels - 1) * perUS
        levelCodes = (0..<t.cell.levels).map { d in
            Int32(Fixed.roundReal((t.cell.gMinUS + Double(d) * (t.cell.gMaxUS - t.cell.gMinUS) / Double(t.cell.levels - 1)) * perUS, .halfEven))
        }
        unusedCode = Int32(Fixed.roundReal(t.cell.unusedUS * perUS, .halfEven))
        // With device effects, leave headroom above the top level (relaxation, noise, stuck-on cells).
        var top = Int64(Swift.max(levelCodes.max() ?? 0, unusedCode))
        if !t.device.isIdeal {
            top = Swift.max(top + top / 2, Int64((t.device.faults?.stuckOnUS ?? 0) * perUS))
        }
        codeType = IntType.unsignedFitting(top)
    }

    /// Calls `body(k, code)` for the 2 x slices cells of weight q, k = 0 ..< 2 x slices: slice s's digit d (base
    /// `levels`, least significant first) at level d on cell 2s (q >= 0) or 2s + 1 (q < 0), the other cell at level 0.
    @inline(__always)
    public func forEachCell(_ q: Int64, _ body: (Int, Int32) -> Void) {
        var m = q.magnitude
        let l = UInt64(levels), zero = levelCodes[0]
        for s in 0..<slices {
            let d = levelCodes[Int(m % l)]
            m /= l
            body(2 * s, q >= 0 ? d : zero)
            body(2 * s + 1, q >= 0 ? zero : d)
        }
    }

    /// Codes of the 2*slices cells of weight q: [slice0+, slice0-, slice1+, slice1-, ...] (`forEachCell` as an array).
    public func cells(_ q: Int64) -> [Int32] {
        var out = [Int32](repeating: 0, count: 2 * slices)
        forEachCell(q) { out[$0] = $1 }
        return out
    }
}
