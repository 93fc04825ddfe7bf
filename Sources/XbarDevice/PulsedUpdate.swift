#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif
import XbarCore
import XbarTarget

/// The pulse response of one cell after device-to-device variation: its step sizes, bounds and shape parameters.
public struct CellUpdateParameters: Equatable, Sendable {
    /// Step of one up (SET) and one down (RESET) pulse at the far bound (uS); see `CellUpdater.step`.
    public var dwUpUS: Double
    public var dwDownUS: Double
    /// The cell's conductance bounds (uS); every pulse leaves the conductance inside them.
    public var gMinUS: Double
    public var gMaxUS: Double
    /// Shape per direction: linear_step's gamma, pow_step's exponent; 0 for the other models.
    public var shapeUp: Double
    public var shapeDown: Double

    public init(dwUpUS: Double, dwDownUS: Double, gMinUS: Double, gMaxUS: Double, shapeUp: Double = 0, shapeDown: Double = 0) {
        self.dwUpUS = dwUpUS
        self.dwDownUS = dwDownUS
        self.gMinUS = gMinUS
        self.gMaxUS = gMaxUS
        self.shapeUp = shapeUp
        self.shapeDown = shapeDown
    }
}

/// What programming pulses do to cells (docs/device.md, "Conductance updates (on-chip learning)"): pure functions of
/// (spec, cell range, seed, array, row, column, pulse index). Device-to-device draws use Philox purpose
/// `deviceUpdateDtoD` at (array, row << 16 | col, k); the cycle-to-cycle draw of pulse i uses `deviceUpdate` at
/// (array, row << 16 | col, i) and its write noise (array, row << 16 | col | 2^31, i).
public struct CellUpdater: Sendable {
    public let spec: UpdateSpec
    public let cell: CellSpec
    let rng: Philox

    public init(spec: UpdateSpec, cell: CellSpec, seed: UInt64) {
        self.spec = spec
        self.cell = cell
        rng = Philox(seed: seed)
    }

    /// Nominal lower and upper bound (uS): the table's, else the cell's range.
    public var gMinUS: Double { spec.gMinUS ?? cell.gMinUS }
    public var gMaxUS: Double { spec.gMaxUS ?? cell.gMaxUS }

    /// The parameters of a cell without device-to-device variation.
    public var nominal: CellUpdateParameters { parameters { _ in 0 } }

    /// The device-to-device varied parameters of the cell at (array, row, col).
    public func cellParameters(array: Int, row: Int, col: Int) -> CellUpdateParameters {
        let c = DeviceCounter.cell(row, col)
        return parameters { k in rng.normal(purpose: RandomPurpose.deviceUpdateDtoD.rawValue, UInt32(array), c, k) }
    }

    /// Parameters from the standard normals z(k): k = 0 step gain, 1 up/down split, 2 upper bound, 3 lower bound,
    /// 4 and 5 the model's shape (linear_step: gamma up, gamma down; pow_step: exponent gain, up/down split).
    func parameters(_ z: (UInt32) -> Double) -> CellUpdateParameters {
        let s = spec
        func draw(_ sigma: Double, _ k: UInt32) -> Double { sigma == 0 ? 0 : sigma * z(k) }
        let gain = draw(s.dwMinDtoD, 0), split = draw(s.upDownDtoD, 1)
        let up = s.dwMinUS * (1 + Swift.min(0, s.upDown)) * abs(1 + gain + split)
        let down = s.dwMinUS * (1 - Swift.max(0, s.upDown)) * abs(1 + gain - split)
        var hi = Swift.max(0, gMaxUS + draw(s.gMaxDtoDUS, 2))
        var lo = Swift.max(0, gMinUS + draw(s.gMinDtoDUS, 3))
        if lo > hi { (lo, hi) = ((lo + hi) / 2, (lo + hi) / 2) }  // a dead cell: no range left
        var p = CellUpdateParameters(dwUpUS: up, dwDownUS: down, gMinUS: lo, gMaxUS: hi)
        switch s.model {
        case .linearStep:
            p.shapeUp = abs(s.gammaUp + draw(s.gammaUpDtoD, 4))
            p.shapeDown = abs(s.gammaDown + draw(s.gammaDownDtoD, 5))
        case .powStep:
            let g = 1 + draw(s.powGammaDtoD, 4), r = draw(s.powUpDownDtoD, 5)
            p.shapeUp = abs((Swift.min(0, s.powUpDown) + g + r) * s.powGamma)
            p.shapeDown = abs((-Swift.max(0, s.powUpDown) + g - r) * s.powGamma)
        default: break
        }
        return p
    }

    /// The noise-free step of one pulse (uS, >= 0 except where exp_step's law is negative, clamped to 0) at
    /// conductance g inside the cell's bounds. R = gMax - gMin, u = g - gMin.
    public func step(_ g: Double, up: Bool, _ p: CellUpdateParameters) -> Double {
        let r = p.gMaxUS - p.gMinUS
        guard r > 0 else { return 0 }
        let toHi = (p.gMaxUS - g) / r, fromLo = (g - p.gMinUS) / r  // in [0, 1]
        let dw = up ? p.dwUpUS : p.dwDownUS
        switch spec.model {
        case .constantStep: return dw
        case .softBounds: return dw * (up ? toHi : fromLo)
        case .linearStep: return dw * Swift.max(0, 1 - (up ? p.shapeUp * fromLo : p.shapeDown * toHi))
        case .powStep: return dw * pow(up ? toHi : fromLo, up ? p.shapeUp : p.shapeDown)
        case .expStep:
            let z = spec.expA * (fromLo - toHi) + spec.expB  // fromLo - toHi = (2g - gMin - gMax) / R, in [-1, 1]
            let y = up ? 1 - spec.expAUp * exp(spec.expGammaUp * z) : 1 - spec.expADown * exp(-spec.expGammaDown * z)
            return dw * Swift.max(0, y)
        case .nonlinear: return nonlinearStep(g - p.gMinUS, r: r, dw: dw, a: up ? spec.aLTP : spec.aLTD, up: up)
        }
    }

    /// NeuroSim: G(P) = B (1 - exp(-P/A)) + gMin, Pmax = R / dw, A = a Pmax, B = R / (1 - exp(-Pmax/A)). From
    /// u = G(P) - gMin one pulse moves to G(P + 1) (up) or G(P - 1) (down):
    /// up: (B - u)(1 - exp(-1/A)); down: (B - u)(exp(1/A) - 1), both >= 0 for either sign of A.
    func nonlinearStep(_ u: Double, r: Double, dw: Double, a: Double, up: Bool) -> Double {
        let pMax = r / dw, aP = a * pMax
        let b = r / (1 - exp(-1 / a))  // Pmax / A = 1 / a
        return up ? (b - u) * (1 - exp(-1 / aP)) : (b - u) * (exp(1 / aP) - 1)
    }

    /// True once a cell has had more writes than its endurance (it is then stuck).
    public func isWornOut(writes: UInt32) -> Bool { isWornOut(writes: UInt64(writes)) }

    func isWornOut(writes: UInt64) -> Bool {
        guard let e = spec.enduranceCycles else { return false }
        return writes > UInt64(e)
    }

    /// The conductance a worn-out cell is stuck at: its lower or upper bound (`endurance_stuck`).
    public func stuckUS(_ p: CellUpdateParameters) -> Double { spec.enduranceStuck == .low ? p.gMinUS : p.gMaxUS }

    /// The conductance of the cell at (array, row, col) after one pulse from gUS; `index` is the number of pulses the
    /// cell had before this one (its cycle-to-cycle draw).
    public func pulse(_ gUS: Double, up: Bool, array: Int, row: Int, col: Int, index: UInt32) -> Double {
        pulse(gUS, up: up, cellParameters(array: array, row: row, col: col), array: array, row: row, col: col, index: index)
    }

    /// One pulse on a cell whose parameters are already drawn (`cellParameters`).
    public func pulse(_ gUS: Double, up: Bool, _ p: CellUpdateParameters, array: Int, row: Int, col: Int, index: UInt32)
        -> Double {
        pulse(gUS, up: up, p, index: UInt64(index)) { spec.dwMinStd == 0 && spec.dwStdUS == 0 ? 0 : c2c(array, row, col, index) }
    }

    /// The core: g is clamped into the bounds, moved by step x (1 + dw_min_std z) + dw_std_us z, clamped again.
    func pulse(_ gUS: Double, up: Bool, _ p: CellUpdateParameters, index: UInt64, z: () -> Double) -> Double {
        if isWornOut(writes: index + 1) { return stuckUS(p) }
        let g = clamp(gUS, p)
        let zz = z()
        let d = step(g, up: up, p) * (1 + spec.dwMinStd * zz) + spec.dwStdUS * zz
        return clamp(up ? g + d : g - d, p)
    }

    func clamp(_ g: Double, _ p: CellUpdateParameters) -> Double { Swift.min(p.gMaxUS, Swift.max(p.gMinUS, g)) }

    func c2c(_ array: Int, _ row: Int, _ col: Int, _ index: UInt32) -> Double {
        rng.normal(purpose: RandomPurpose.deviceUpdate.rawValue, UInt32(array), DeviceCounter.cell(row, col), index)
    }

    /// n pulses in a row on one cell, the first with pulse index `firstIndex`.
    public func pulses(_ gUS: Double, count n: Int, up: Bool, array: Int, row: Int, col: Int, firstIndex: UInt32) -> Double {
        let p = cellParameters(array: array, row: row, col: col)
        var g = gUS
        for k in 0..<Swift.max(0, n) {
            g = pulse(g, up: up, p, array: array, row: row, col: col, index: firstIndex &+ UInt32(truncatingIfNeeded: k))
        }
        return g
    }

    /// What a read sees after the pulse with index `index`: g + write_noise_us x N(0, 1), at least 0. The noise is
    /// redrawn at every pulse and never fed back into g (aihwkit's apparent weight).
    public func apparentUS(_ gUS: Double, array: Int, row: Int, col: Int, index: UInt32) -> Double {
        guard spec.writeNoiseUS > 0 else { return gUS }
        let c = DeviceCounter.cell(row, col) | 0x8000_0000
        return Swift.max(0, gUS + spec.writeNoiseUS * rng.normal(purpose: RandomPurpose.deviceUpdate.rawValue, UInt32(array), c, index))
    }

    /// [g0, g1, ..., gn]: n pulses on the nominal cell (no device-to-device variation) from g0; with noiseFree false
    /// the cycle-to-cycle draws are those of cell (0, 0) of array 0, pulse indices 0 ..< n.
    public func responseCurve(from g0: Double, pulses n: Int, up: Bool, noiseFree: Bool) -> [Double] {
        let p = nominal
        var out = [g0]
        var g = g0
        for k in 0..<Swift.max(0, n) {
            g = noiseFree ? pulse(g, up: up, p, index: UInt64(k)) { 0 }
                          : pulse(g, up: up, p, array: 0, row: 0, col: 0, index: UInt32(truncatingIfNeeded: k))
            out.append(g)
        }
        return out
    }
}
