import XbarCore
import XbarDevice
import XbarIR
import XbarTarget

/// A program loaded onto one chip instance: the realised conductance of every array (after programming, faults,
/// relaxation and IR drop) and the chip's analog noise, all fixed by (target device, seed, age).
public struct Chip: Sendable {
    public let program: Program
    public let seed: UInt64
    /// Realised codes per array (what reads see before per-read noise).
    public let codes: [CellCodes]
    /// Per-cell read variance (code^2) per array, when read noise is on.
    public let variance: [[Int32]?]
    /// Programming effort and defects per array.
    public let realised: [RealisedArray]
    /// Per-read and ADC noise; nil on an ideal device.
    public let noise: AnalogNoise?
    /// Static ADC (offset, gain) per adc op index, per column of the op.
    public let adcStatic: [Int: [(offset: Double, gain: Double)]]
    /// The macro's timing model.
    public let timing: TimingModel
    /// The program resolved for the native engines (once per chip).
    public let executable: ExecutableProgram
    /// The device's response to a programming pulse (on-chip learning); nil: the ideal step of docs/ir.md.
    public var cellWriter: (any CellWriter)? = nil

    /// An ideal chip: reads return the programmed codes exactly.
    public init(program: Program, seed: UInt64, timing spec: TimingSpec = TimingSpec()) {
        self.program = program
        timing = TimingModel(program: program, spec: spec)
        executable = ExecutableProgram(program)
        self.seed = seed
        codes = program.arrays.map { $0.codes }
        variance = program.arrays.map { _ in nil }
        realised = []
        noise = nil
        adcStatic = [:]
    }

    /// A chip of `target`'s device physics; `ageS` overrides the target's read time after programming. The arrays are
    /// realised on `threads` threads (0 = OMP_NUM_THREADS or all cores); the chip does not depend on it.
    public init(program: Program, target: Target, seed: UInt64, ageS: Double? = nil, threads: Int = 0) throws {
        let r = try Realiser(target: target, seed: seed, ageS: ageS)
        // Each array's draws are keyed by its position, so realising them in parallel gives the same chip.
        let arrays = Array(program.arrays.indices).parallelMap(threads: threads) { r.realise(program.arrays[$0], index: $0) }
        try self.init(program: program, target: target, seed: seed, realised: arrays)
    }

    /// The same chip instance running `program`, whose arrays must be this chip's (for example the program compiled
    /// again with a trained readout): the arrays are not realised again.
    public func running(_ program: Program, target: Target) throws -> Chip {
        guard program.arrays == self.program.arrays else {
            throw XbarError(file: "<chip>", field: "arrays", "program \"\(program.name)\" has other arrays than the chip realised")
        }
        return try Chip(program: program, target: target, seed: seed, realised: realised)
    }

    /// A chip of `target`'s device physics whose arrays are already realised (`realised`, in program order).
    init(program: Program, target: Target, seed: UInt64, realised arrays: [RealisedArray]) throws {
        self.program = program
        timing = TimingModel(program: program, spec: target.timing)
        executable = ExecutableProgram(program)
        self.seed = seed
        if let u = target.device.update {
            cellWriter = DeviceCellWriter(updater: CellUpdater(spec: u, cell: target.cell, seed: seed), gUnitNS: target.cell.gUnitNS,
                                          program: program)
        }
        realised = arrays
        codes = arrays.map { $0.codes }
        variance = arrays.map { $0.variance }
        if target.device.readNoise != nil || target.device.adc != nil {
            let n = AnalogNoise(target: target, seed: seed)
            noise = n
            var st: [Int: [(Double, Double)]] = [:]
            if target.device.adc != nil {
                var reads: [String: (array: Int, col: Int)] = [:]
                let arrayIndex = Dictionary(uniqueKeysWithValues: program.arrays.enumerated().map { ($0.element.name, $0.offset) })
                for (k, op) in program.step.enumerated() {
                    switch op.kind {
                    case let .read(a, _, c0, _, _, _): reads[op.result] = (arrayIndex[a]!, c0)
                    case let .adc(o, _, _, _, _):
                        if let rd = reads[o] { st[k] = (0..<op.length).map { n.adcStatic(array: rd.array, column: rd.col + $0) } }
                    default: break
                    }
                }
            }
            adcStatic = st
        } else {
            noise = nil
            adcStatic = [:]
        }
    }

    /// Total programming pulses over all arrays.
    public var programmingPulses: Int64 { realised.reduce(0) { $0 + $1.pulses } }
}
