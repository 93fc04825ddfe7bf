import XbarCore
import XbarDevice
import XbarIR
import XbarTarget

/// A resolved `trace` op (docs/ir.md, "Plasticity").
struct TraceRecord: Sendable {
    let source: Int
    let delay: Int
    let mul: Int64
    let shift: Int
    let rounding: Rounding
    let increment: Int64
    let max: Int64
    let length: Int
    let out: Int
}

/// A resolved `stdp` op: its synapses, the slots of its operands, and its integer parameters.
struct STDPRecord: Sendable {
    let rule: STDPRule
    let array: Int
    /// Pre source (spike history) and post population's source index.
    let source: Int
    let postSource: Int
    let rows: Int
    let neurons: Int
    let preTrace: Int
    let postTrace: Int
    /// The traces' increments (for `same_step exclude`).
    let preIncrement: Int64
    let postIncrement: Int64
    /// Value offsets of the modulator and the gate (nil: none).
    let modulator: Int?
    let gate: Int?
    /// The synapses, rows x neurons row-major (nil: every pair).
    let mask: [Bool]?
    let out: Int
    let eMin: Int64
    let eMax: Int64
}

/// A resolved `modulator` op.
struct ModulatorRecord: Sendable {
    let spec: ModulatorSpec
    /// Source index of each weighted source.
    let sources: [Int]
    let min: Int64
    let max: Int64
    let out: Int
}

/// A resolved `homeostasis` op.
struct HomeostasisRecord: Sendable {
    let rule: HomeostasisRule
    let array: Int
    let rate: Int
    /// The synapses, rows x neurons row-major (nil: every pair).
    let mask: [Bool]?
    let out: Int
    let eMin: Int64
    let eMax: Int64
}

/// What one `stdp` op did in one step, for the counters and the timing model.
struct STDPActivity {
    var eligibilityUpdates = 0
    var programmed = false
    var setPulses = 0
    var resetPulses = 0
    var verifyReads = 0
}

/// How one programming pulse changes a cell: the device side of on-chip learning. The engines decide which cell gets
/// which pulse (docs/ir.md, "Plasticity"); this answers what the cell's code becomes. Pure function of its inputs.
public protocol CellWriter: Sendable {
    /// The cell's code after one pulse (`up`: SET, else RESET); `index` is its pulse count before this pulse, `writes`
    /// the same count (for endurance).
    func pulse(code: Int32, up: Bool, array: Int, row: Int, col: Int, index: UInt32, train: PulseTrain) -> Int32
}

/// The ideal device of docs/ir.md: one pulse moves the code by the op's `pulse` within its `range`.
public struct IdealCellWriter: CellWriter {
    public init() {}
    public func pulse(code: Int32, up: Bool, array: Int, row: Int, col: Int, index: UInt32, train: PulseTrain) -> Int32 {
        let c = Int64(code) + (up ? train.pulseCodes : -train.pulseCodes)
        return Int32(Swift.min(train.cellHigh, Swift.max(train.cellLow, c)))
    }
}

/// A device model's response (`[device.update]`, docs/device.md "Conductance updates"): the cell's code is its
/// conductance in g_unit steps; one pulse moves the conductance through `CellUpdater` (with its device-to-device and
/// cycle-to-cycle draws keyed by array, cell and pulse index, and its endurance), rounded half-even back to a code
/// within the array's code type.
public struct DeviceCellWriter: CellWriter {
    public let updater: CellUpdater
    let perCode: Double
    let codeMax: [Int64]

    public init(updater: CellUpdater, gUnitNS: Double, program: Program) {
        self.updater = updater
        perCode = gUnitNS / 1000
        codeMax = program.arrays.map { $0.codeType.max }
    }

    public func pulse(code: Int32, up: Bool, array: Int, row: Int, col: Int, index: UInt32, train: PulseTrain) -> Int32 {
        let g = updater.pulse(Double(code) * perCode, up: up, array: array, row: row, col: col, index: index)
        return Int32(Swift.min(codeMax[array], Swift.max(0, Fixed.roundReal(g / perCode, .halfEven))))
    }
}

/// The cells of a chip while a learning run writes them: the chip state, the read views the native engines sum (rebuilt
/// for every array a step changed), and the device's pulse response. One learning chip belongs to one in-order run;
/// every engine that runs a plastic program reads and writes through it.
public final class LearningChip: @unchecked Sendable {
    public private(set) var state: ChipState
    let writer: any CellWriter
    var views: ReadViews?

    public init(chip: Chip, state: ChipState? = nil, writer: (any CellWriter)? = nil) {
        self.state = state ?? ChipState(chip: chip)
        self.writer = writer ?? chip.cellWriter ?? IdealCellWriter()
    }

    /// Code of one cell now.
    @inline(__always)
    func code(_ a: Int, _ r: Int, _ c: Int) -> Int32 { state.code(array: a, row: r, col: c) }

    /// One pulse on one cell through the device.
    func pulse(_ a: Int, _ r: Int, _ c: Int, up: Bool, train: PulseTrain) {
        let before = state.code(array: a, row: r, col: c)
        let code = writer.pulse(code: before, up: up, array: a, row: r, col: c, index: state.pulses(array: a, row: r, col: c), train: train)
        state.write(array: a, row: r, col: c, code: code)
    }

    /// Rebuilds the read views of the arrays written since the last call.
    func refreshViews(_ exec: ExecutableProgram) {
        let changed = state.takeChangedArrays()
        guard !changed.isEmpty, views != nil else { return }
        views!.rebuild(exec: exec, state: state, arrays: Set(changed))
    }
}

/// The learning ops' native kernels (docs/ir.md, "Plasticity"); the exact engine implements the same text on GMP.
extension OpKernels {
    /// out[i] := fit_sat(round(out[i] * mul / 2^shift) + increment * hist_source(t - delay)[i]).
    func trace(_ r: TraceRecord, _ t: Int, _ ctx: SampleContext) {
        let x = ctx.values + r.out
        for i in 0..<r.length { x[i] = Swift.min(r.max, Fixed.shiftRight(x[i] * r.mul, r.shift, r.rounding)) }
        if t - r.delay >= 0 {
            let slot = (t - r.delay) % exec.sourceDepth[r.source]
            let spikes = ctx.ring[r.source] + slot * exec.sourceSize[r.source]
            for e in 0..<ctx.ringCount[r.source][slot] {
                let i = Int(spikes[e])
                x[i] = Swift.min(r.max, x[i] + r.increment)
            }
        }
        ctx.counters.traceUpdates += Int64(r.length)
    }

    /// The stdp op k at step t: decays the eligibility, pairs this step's spikes into it (unless the gate is closed),
    /// then programs the cells when the schedule says so.
    func stdp(_ k: Int, _ r: STDPRecord, _ t: Int, _ ctx: SampleContext) {
        var act = STDPActivity()
        let u = r.rule
        let n = r.rows * r.neurons, e = ctx.values + r.out
        if u.eligibilityDecay != Int64(1) << u.eligibilityShift {
            for i in 0..<n { e[i] = Fixed.shiftRight(e[i] * u.eligibilityDecay, u.eligibilityShift, .halfEven) }
        }
        let open = r.gate.map { ctx.values[$0] > 0 } ?? true
        if open {
            accumulate(r, t, ctx, &act)
            if u.updates(at: t, timesteps: exec.program.timesteps), let chip = learning {
                program(r, ctx, chip, &act)
                chip.refreshViews(exec)
            }
        }
        ctx.counters.eligibilityUpdates += Int64(act.eligibilityUpdates)
        ctx.counters.setPulses += Int64(act.setPulses)
        ctx.counters.resetPulses += Int64(act.resetPulses)
        ctx.counters.verifyReads += Int64(act.verifyReads)
        ctx.activity.driven[k] = Int(TimingModel.learnCycles(timingSpec, synapses: n, act))
    }

    /// The homeostasis op k at step t: every neuron's accumulator gains round(eta x (rate - target) / 2^shr); on an
    /// update step each neuron's pulse count n goes, as -n, to every connected synapse of its column.
    func homeostasis(_ k: Int, _ r: HomeostasisRecord, _ t: Int, _ ctx: SampleContext) {
        let h = r.rule, nn = h.targets.count, acc = ctx.values + r.out, y = ctx.values + r.rate + h.postStart
        var act = STDPActivity()
        for j in 0..<nn {
            let d = Fixed.shiftRight(h.eta * (y[j] - h.targets[j]), h.shift, .halfEven)
            acc[j] = Swift.min(r.eMax, Swift.max(r.eMin, acc[j] + d))
        }
        act.eligibilityUpdates = nn
        if h.updates(at: t, timesteps: exec.program.timesteps), let chip = learning {
            act.programmed = true
            for j in 0..<nn {
                let n = Swift.min(Int64(h.maxPulses), Swift.max(-Int64(h.maxPulses), Fixed.shiftRight(acc[j], h.pulseShift, .trunc)))
                acc[j] -= n << h.pulseShift
                guard n != 0 else { continue }
                for i in 0..<h.row.count where r.mask?[i * nn + j] ?? true {
                    let row = h.row.rowStart + i, c = h.colStart + 2 * j
                    STDPProgramming.pulses(-n, row: row, pair: c, array: r.array, train: h.train, chip: chip,
                                           set: &act.setPulses, reset: &act.resetPulses, reads: &act.verifyReads)
                }
            }
            chip.refreshViews(exec)
        }
        ctx.counters.homeostasisUpdates += Int64(nn)
        ctx.counters.setPulses += Int64(act.setPulses)
        ctx.counters.resetPulses += Int64(act.resetPulses)
        ctx.counters.verifyReads += Int64(act.verifyReads)
        ctx.activity.driven[k] = Int(TimingModel.learnCycles(timingSpec, synapses: nn * h.row.count, act))
    }

    /// m := fit_sat(round(m x M / 2^SH) + sum_k W_k x |hist_k(t - D_k)| + B).
    func modulator(_ r: ModulatorRecord, _ t: Int, _ ctx: SampleContext) {
        let m = r.spec
        var v = Fixed.shiftRight(ctx.values[r.out] * m.decayMul, m.decayShift, m.rounding) + m.bias
        for (q, s) in zip(r.sources, m.sources) { v += s.weight * Int64(spikes(q, step: t - s.delay, ctx).count) }
        ctx.values[r.out] = Swift.min(r.max, Swift.max(r.min, v))
        ctx.counters.modulatorUpdates += 1
    }

    /// The op's amplitudes this step: a_plus or a_minus scaled by the modulator (round_half_even(A x m / 2^MS)).
    func amplitudes(_ r: STDPRecord, _ ctx: SampleContext) -> (plus: Int64, minus: Int64) {
        let u = r.rule
        guard let mo = r.modulator, !u.modulation.isThreeFactor else { return (u.aPlus, u.aMinus) }
        let m = ctx.values[mo]
        let scale = { (a: Int64) in Fixed.shiftRight(a * m, u.modulatorShift, .halfEven) }
        return u.modulation == .aPlus ? (scale(u.aPlus), u.aMinus) : (u.aPlus, scale(u.aMinus))
    }

    /// Spike indices of source q at step s (empty before step 0), ascending.
    @inline(__always)
    func spikes(_ q: Int, step s: Int, _ ctx: SampleContext) -> UnsafeBufferPointer<Int32> {
        guard s >= 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
        let slot = s % exec.sourceDepth[q]
        return UnsafeBufferPointer(start: ctx.ring[q] + slot * exec.sourceSize[q], count: ctx.ringCount[q][slot])
    }

    /// e[i][j] := fit_sat(e + q_j round(AP x_i / 2^TS) - p_i round(AM y_j / 2^TS)), visiting only synapses with a pre
    /// or a post spike (the others do not change).
    func accumulate(_ r: STDPRecord, _ t: Int, _ ctx: SampleContext, _ act: inout STDPActivity) {
        let u = r.rule, nn = r.neurons, e = ctx.values + r.out
        let x = ctx.values + r.preTrace + u.row.srcStart, y = ctx.values + r.postTrace + u.postStart
        if u.modulation == .delta {
            // The delta rule: every synapse's eligibility gains round(AP x_i / 2^TS), spikes or not.
            for i in 0..<r.rows {
                let d = Fixed.shiftRight(u.aPlus * x[i], u.shift, .halfEven)
                for j in 0..<nn where r.mask?[i * nn + j] ?? true {
                    e[i * nn + j] = Swift.min(r.eMax, Swift.max(r.eMin, e[i * nn + j] + d))
                    act.eligibilityUpdates += 1
                }
            }
            return
        }
        var pre = [Bool](repeating: false, count: r.rows), post = [Bool](repeating: false, count: nn)
        for s in spikes(r.source, step: t - u.row.delay, ctx) {
            let i = Int(s) - u.row.srcStart
            if i >= 0 && i < r.rows { pre[i] = true }
        }
        for s in spikes(r.postSource, step: t, ctx) {
            let j = Int(s) - u.postStart
            if j >= 0 && j < nn { post[j] = true }
        }
        let exclude = u.sameStep == .exclude
        let (aPlus, aMinus) = amplitudes(r, ctx)
        let depress = (0..<nn).map { j in
            Fixed.shiftRight(aMinus * (exclude && post[j] ? Swift.max(0, y[j] - r.postIncrement) : y[j]), u.shift, .halfEven)
        }
        let mask = r.mask
        for j in 0..<nn where post[j] {
            for i in 0..<r.rows where mask?[i * nn + j] ?? true {
                let xi = exclude && pre[i] ? Swift.max(0, x[i] - r.preIncrement) : x[i]
                let d = Fixed.shiftRight(aPlus * xi, u.shift, .halfEven) - (pre[i] ? depress[j] : 0)
                e[i * nn + j] = Swift.min(r.eMax, Swift.max(r.eMin, e[i * nn + j] + d))
                act.eligibilityUpdates += 1
            }
        }
        for i in 0..<r.rows where pre[i] {
            for j in 0..<nn where !post[j] && (mask?[i * nn + j] ?? true) {
                e[i * nn + j] = Swift.min(r.eMax, Swift.max(r.eMin, e[i * nn + j] - depress[j]))
                act.eligibilityUpdates += 1
            }
        }
    }

    /// Turns every synapse's eligibility into pulses on its pair (docs/ir.md, "Plasticity", the update).
    func program(_ r: STDPRecord, _ ctx: SampleContext, _ chip: LearningChip, _ act: inout STDPActivity) {
        let u = r.rule, nn = r.neurons, e = ctx.values + r.out
        act.programmed = true
        // A three-factor update: n from eligibility x modulator, the eligibility (a decaying trace) is not consumed.
        let third: Int64? = u.modulation.isThreeFactor ? r.modulator.map { ctx.values[$0] } : nil
        for i in 0..<r.rows {
            for j in 0..<nn {
                let k = i * nn + j
                let raw = third.map { Fixed.shiftRight(e[k] * $0, u.pulseShift + u.modulatorShift, .trunc) }
                    ?? Fixed.shiftRight(e[k], u.pulseShift, .trunc)
                let n = Swift.min(Int64(u.maxPulses), Swift.max(-Int64(u.maxPulses), raw))
                if third == nil { e[k] -= n << u.pulseShift }
                guard r.mask?[k] ?? true else { continue }
                guard n != 0 else { continue }
                STDPProgramming.pulses(n, row: u.row.rowStart + i, pair: u.colStart + 2 * j, array: r.array, train: u.train, chip: chip,
                                       set: &act.setPulses, reset: &act.resetPulses, reads: &act.verifyReads)
            }
        }
    }
}

/// The pulse train of one synapse's update (docs/ir.md, "Plasticity"): shared by every engine, since it is the chip's
/// write controller acting on the device (the exact engine computes the pulse count `n` itself).
public enum STDPProgramming {
    /// Applies up to |n| pulses to the pair (row, pair / pair + 1) of `array`, reading the pair before each decision.
    public static func pulses(_ n0: Int64, row: Int, pair c: Int, array a: Int, train u: PulseTrain, chip: LearningChip,
                              set: inout Int, reset: inout Int, reads: inout Int) {
        if u.write == .openLoop {
            // The synapse's one cell (G+ for [0, HI], G- for [LO, 0]): a SET raises its magnitude, a RESET lowers it.
            let positive = u.clipLow == 0
            let up = (n0 > 0) == positive
            for _ in 0..<Int(n0.magnitude) {
                chip.pulse(a, row, positive ? c : c + 1, up: up, train: u)
                if up { set += 1 } else { reset += 1 }
            }
            return
        }
        var w = Int64(chip.code(a, row, c)) - Int64(chip.code(a, row, c + 1))
        reads += 1
        var n = n0
        if u.bound == .soft { n = softScaled(n, w: w, train: u) }
        var left = n.magnitude
        while left > 0 {
            if (n > 0 && w >= u.clipHigh) || (n < 0 && w <= u.clipLow) { break }
            let (col, up) = n > 0 ? (w >= 0 ? (c, true) : (c + 1, false)) : (w > 0 ? (c, false) : (c + 1, true))
            chip.pulse(a, row, col, up: up, train: u)
            if up { set += 1 } else { reset += 1 }
            w = Int64(chip.code(a, row, c)) - Int64(chip.code(a, row, c + 1))
            reads += 1
            left -= 1
        }
    }

    /// The soft bound: n > 0 scaled by clamp(HI - w) / (HI - LO), n < 0 by clamp(w - LO) / (HI - LO), rounded half-even.
    public static func softScaled(_ n: Int64, w: Int64, train u: PulseTrain) -> Int64 {
        let span = u.clipHigh - u.clipLow
        let room = n > 0 ? u.clipHigh - w : w - u.clipLow
        let f = Swift.min(span, Swift.max(0, room))
        let m = Fixed.divide(Int64(n.magnitude) * f, by: span, .halfEven)
        return n > 0 ? m : -m
    }
}
