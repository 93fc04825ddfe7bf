import XbarCore
import XbarTarget

/// Running mean, variance, minimum and maximum of a stream of values (Welford's algorithm).
public struct RunningStats: Equatable, Sendable {
    /// Number of values added.
    public private(set) var count: Int = 0
    /// Sample mean (0 when empty).
    public private(set) var mean: Double = 0
    /// Smallest and largest value added (+inf / -inf when empty).
    public private(set) var min: Double = .infinity
    public private(set) var max: Double = -.infinity
    var m2: Double = 0

    public init() {}

    /// Adds one value.
    public mutating func add(_ x: Double) {
        count += 1
        let d = x - mean
        mean += d / Double(count)
        m2 += d * (x - mean)
        if x < min { min = x }
        if x > max { max = x }
    }

    /// Unbiased sample variance (n - 1 denominator; 0 for fewer than two values).
    public var variance: Double { count > 1 ? m2 / Double(count - 1) : 0 }
    /// Sample standard deviation.
    public var sigma: Double { variance.squareRoot() }
    /// Standard error of the mean, sigma / sqrt(n).
    public var standardErrorOfMean: Double { count > 0 ? sigma / Double(count).squareRoot() : .infinity }
    /// Standard error of the sample sigma for normally distributed values, sigma / sqrt(2 (n - 1)).
    public var standardErrorOfSigma: Double { count > 1 ? sigma / (2 * Double(count - 1)).squareRoot() : .infinity }
}

/// Which programmed level each sampled cell is programmed to.
public enum LevelSelection: Equatable, Sendable {
    /// Cell i gets level i mod `cell.levels` (round-robin over all levels).
    case all
    /// Every cell gets this level (0 ..< `cell.levels`).
    case level(Int)
}

/// Stuck-at state of a cell.
public enum StuckState: String, Equatable, Sendable {
    case none
    case on
    case off
}

/// One sampled cell: where it sits, what it was meant to hold, and its conductance at each pipeline stage.
public struct SampledCell: Equatable, Sendable {
    /// Philox position of the cell (array, row, column): cell index i sits at array i / (rows x cols),
    /// row (i / cols) mod rows, column i mod cols of the target's macro geometry.
    public var array: Int
    public var row: Int
    public var col: Int
    /// Programmed level (nil for forming).
    public var level: Int?
    /// Programming target (uS), on the IR code grid (nil for forming).
    public var targetUS: Double?
    /// Conductance at t = 0 right after programming or forming, before faults, relaxation and IR drop (uS).
    public var beforeUS: Double
    /// Conductance a read sees at the age: stuck-at faults, relaxation, IR drop and rounding to the IR code unit (uS).
    public var afterUS: Double
    /// Programming pulses spent (0 for exact and forming, 1 for one-shot).
    public var pulses: Int
    /// False when write-verify ran out of pulses.
    public var converged: Bool
    /// Forming outcome (true for programmed cells).
    public var formed: Bool
    public var stuck: StuckState
}

/// Statistics of one programmed level.
public struct LevelStatistics: Equatable, Sendable {
    public var level: Int
    /// Programming target (uS, on the code grid).
    public var targetUS: Double
    /// Conductance right after programming (t = 0) and as read at the age.
    public var before: RunningStats
    public var after: RunningStats
}

/// Summary of sampling many cells of a target through the device physics (`xbar device`).
public struct DeviceStatistics: Sendable {
    public var targetName: String
    public var programming: DeviceSpec.Programming
    public var seed: UInt64
    public var cells: Int
    /// Time since programming of the `after` figures (s).
    public var ageS: Double
    public var levels: LevelSelection
    /// Conductance right after programming or forming (t = 0), and as read at `ageS` (uS).
    public var before = RunningStats()
    public var after = RunningStats()
    /// Forming only: cells the pulse did not form.
    public var unformed = 0
    public var stuckOn = 0
    public var stuckOff = 0
    /// Programming pulses: total and largest per cell; write-verify cells that did not converge.
    public var pulsesTotal: Int64 = 0
    public var pulsesMax = 0
    public var nonConverged = 0
    /// Per programmed level, in level order (empty for forming).
    public var perLevel: [LevelStatistics] = []
    /// Every cell's conductance before and after (uS), in cell order; empty unless values were kept.
    public var beforeValues: [Double] = []
    public var afterValues: [Double] = []

    /// Fraction of cells left unformed (forming only; nil otherwise).
    public var sparsity: Double? { programming == .forming ? Double(unformed) / Double(Swift.max(cells, 1)) : nil }
    public var stuckOnFraction: Double { Double(stuckOn) / Double(Swift.max(cells, 1)) }
    public var stuckOffFraction: Double { Double(stuckOff) / Double(Swift.max(cells, 1)) }
    /// Mean programming pulses per cell.
    public var pulsesMean: Double { Double(pulsesTotal) / Double(Swift.max(cells, 1)) }
    /// True when the target programs levels (exact, one-shot or write-verify) rather than forming.
    public var isProgrammed: Bool { programming != .forming }
}

/// Samples cells of a target through the device model exactly as `Realiser` (programmed arrays) and the compiler's
/// forming pass (formed arrays) do, one cell at a time: program or form, then stuck-at faults, relaxation at the
/// age, IR drop and rounding to the IR code unit (docs/device.md, "`xbar device`").
public struct DeviceSampler: Sendable {
    public let target: Target
    public let physics: CellPhysics
    public let seed: UInt64
    /// Time since programming of the `after` stage (s): the argument, else the target's `drift.age_s`, else 0.
    public let ageS: Double
    /// One IR code in uS (g_unit_ns / 1000).
    public let perCode: Double
    let unusedCode: Int64

    public init(target: Target, seed: UInt64, ageS: Double? = nil) throws {
        self.target = target
        self.seed = seed
        physics = try CellPhysics(spec: target.device, cell: target.cell, seed: seed)
        self.ageS = ageS ?? target.device.drift?.ageS ?? 0
        perCode = target.cell.gUnitNS / 1000
        unusedCode = Fixed.roundReal(target.cell.unusedUS / perCode, .halfEven)
    }

    /// Philox position (array, row, column) of cell index `i` in the target's macro geometry.
    public func position(_ i: Int) -> (array: Int, row: Int, col: Int) {
        let rows = target.macro.rows, cols = target.macro.cols
        return (i / (rows * cols), (i / cols) % rows, i % cols)
    }

    /// IR code of level `d`: round_half_even((g_min + d (g_max - g_min) / (levels - 1)) / g_unit).
    public func levelCode(_ d: Int) -> Int64 {
        let c = target.cell
        let g = c.gMinUS + Double(d) * (c.gMaxUS - c.gMinUS) / Double(c.levels - 1)
        return Fixed.roundReal(g / perCode, .halfEven)
    }

    /// Programming target of level `d` in uS, on the IR code grid (what a compiled array asks the cell for).
    public func levelUS(_ d: Int) -> Double { Double(levelCode(d)) * perCode }

    /// Rounds a conductance to the IR code grid as `Realiser` does (half-even, clamped to 0 ... Int32.max codes).
    public func toCodeGrid(_ gUS: Double) -> Double {
        Double(Swift.min(Int64(Int32.max), Swift.max(0, Fixed.roundReal(gUS / perCode, .halfEven)))) * perCode
    }

    /// Samples cell `i`. `level` is the programmed level, or nil to electroform the cell (forming targets).
    public func sample(cell i: Int, level: Int?) -> SampledCell {
        let (a, r, c) = position(i)
        var out = SampledCell(array: a, row: r, col: c, level: level, targetUS: nil, beforeUS: 0, afterUS: 0, pulses: 0,
                              converged: true, formed: true, stuck: .none)
        var g: Double
        if let d = level {
            let code = levelCode(d)
            let t = Double(code) * perCode
            out.targetUS = t
            // Realiser leaves cells holding the unused code unprogrammed.
            if code != unusedCode {
                let p = physics.program(t, array: a, row: r, col: c)
                out.pulses = p.pulses
                out.converged = p.converged
                out.beforeUS = p.gUS
            } else {
                out.beforeUS = t
            }
            g = out.beforeUS
        } else {
            let f = physics.form(array: a, row: r, col: c)
            out.formed = f.formed
            out.beforeUS = f.gUS
            // The compiler stores formed conductances as IR codes.
            g = toCodeGrid(f.gUS)
        }
        if let s = physics.stuck(array: a, row: r, col: c) {
            g = s  // a stuck cell does not relax (as in Realiser)
            out.stuck = s == physics.spec.faults?.stuckOnUS && physics.spec.faults!.stuckOnRate > 0 ? .on : .off
        } else {
            g = physics.relax(g, ageS: ageS, array: a, row: r, col: c)
        }
        g = physics.irDrop(g, row: r, col: c, rows: target.macro.rows)
        out.afterUS = toCodeGrid(g)
        return out
    }

    /// Samples `cells` cells (indices 0 ..< cells). Programmed targets (exact, one-shot, write-verify) program
    /// level i mod levels, or a fixed level; forming targets electroform every cell with the target's pulse.
    /// With `keepValues` the per-cell conductances are kept (for histograms).
    public func run(cells: Int, levels: LevelSelection = .all, keepValues: Bool = true) throws -> DeviceStatistics {
        guard cells >= 1 else { throw XbarError(file: target.name, field: "cells", "must be at least 1 (got \(cells))") }
        let forming = target.device.programming == .forming
        let nLevels = target.cell.levels
        if case let .level(l) = levels {
            if forming {
                throw XbarError(file: target.name, field: "level",
                                "the target electroforms its cells (programming = \"forming\"): there are no levels to choose")
            }
            guard (0..<nLevels).contains(l) else {
                throw XbarError(file: target.name, field: "level", "must be in 0...\(nLevels - 1) (got \(l))")
            }
        }
        var s = DeviceStatistics(targetName: target.name, programming: target.device.programming, seed: seed, cells: cells,
                                 ageS: ageS, levels: levels)
        if !forming {
            let used: [Int]
            if case let .level(l) = levels { used = [l] } else { used = Array(0..<nLevels) }
            s.perLevel = used.map { LevelStatistics(level: $0, targetUS: levelUS($0), before: RunningStats(), after: RunningStats()) }
        }
        if keepValues {
            s.beforeValues.reserveCapacity(cells)
            s.afterValues.reserveCapacity(cells)
        }
        for i in 0..<cells {
            var level: Int? = nil
            var slot = 0
            if !forming {
                if case let .level(l) = levels { level = l } else { level = i % nLevels; slot = i % nLevels }
            }
            let x = sample(cell: i, level: level)
            s.before.add(x.beforeUS)
            s.after.add(x.afterUS)
            if keepValues {
                s.beforeValues.append(x.beforeUS)
                s.afterValues.append(x.afterUS)
            }
            if !x.formed { s.unformed += 1 }
            switch x.stuck {
            case .on: s.stuckOn += 1
            case .off: s.stuckOff += 1
            case .none: break
            }
            s.pulsesTotal += Int64(x.pulses)
            s.pulsesMax = Swift.max(s.pulsesMax, x.pulses)
            if !x.converged { s.nonConverged += 1 }
            if !forming {
                s.perLevel[slot].before.add(x.beforeUS)
                s.perLevel[slot].after.add(x.afterUS)
            }
        }
        return s
    }
}
