import CXbarKernel
import XbarCore
import XbarIR
import XbarTarget

/// One array as it is on a chip instance: realised codes (what reads see), per-cell read variance, and the
/// programming effort spent on it.
public struct RealisedArray: Sendable {
    public var codes: CellCodes
    /// Per-cell read-noise variance in code^2 (nil when read noise is off).
    public var variance: [Int32]?
    /// Programming pulses applied (write-verify or one-shot).
    public var pulses: Int64
    /// Cells whose write-verify did not converge (first 1000 as (row, col)), and their total.
    public var nonConverged: [(row: Int, col: Int)]
    public var nonConvergedCount: Int
    public var stuckCount: Int
}

/// Turns a program's arrays into a chip instance for (target device, seed, age): programming, stuck-at faults,
/// relaxation and IR drop, in that order (docs/device.md). Pure function of its inputs.
public struct Realiser: Sendable {
    public let target: Target
    public let physics: CellPhysics
    public let ageS: Double
    let perCode: Double
    let unusedCode: Int32

    public init(target: Target, seed: UInt64, ageS: Double? = nil) throws {
        self.target = target
        physics = try CellPhysics(spec: target.device, cell: target.cell, seed: seed)
        self.ageS = ageS ?? target.device.drift?.ageS ?? 0
        perCode = target.cell.gUnitNS / 1000
        unusedCode = Int32(Fixed.roundReal(target.cell.unusedUS / perCode, .halfEven))
    }

    public func realise(_ a: ArrayDecl, index: Int) -> RealisedArray {
        let spec = target.device
        let readNoise = spec.readNoise != nil
        if spec.isIdeal {
            return RealisedArray(codes: a.codes, variance: nil, pulses: 0, nonConverged: [], nonConvergedCount: 0, stuckCount: 0)
        }
        if a.realised {
            // A learned chip's cells as a learning run left them: nothing is programmed, faulted, relaxed or dropped
            // again; only their read-noise variance is derived from them.
            let variance = readNoise ? a.codes.map { c in
                let sd = physics.readSigmaUS(Double(c) * perCode) / perCode
                return Int32(Swift.min(a.codeType.max, Fixed.roundReal(sd * sd, .halfEven)))
            } : nil
            return RealisedArray(codes: a.codes, variance: variance, pulses: 0, nonConverged: [], nonConvergedCount: 0, stuckCount: 0)
        }
        // The array's code type is the representable range of its read path: realised codes saturate there.
        let codeMax = a.codeType.max
        let programmed = a.codes.array
        var codes = programmed
        var variance: [Int32]? = readNoise ? [Int32](repeating: 0, count: a.codes.count) : nil
        var pulses: Int64 = 0
        var bad: [(Int, Int)] = []
        var badCount = 0
        var stuckCount = 0
        for r in 0..<a.rows {
            for c in 0..<a.cols {
                let k = r * a.cols + c
                var g = Double(programmed[k]) * perCode
                if !a.formed && programmed[k] != unusedCode {
                    let p = physics.program(g, array: index, row: r, col: c)
                    pulses += Int64(p.pulses)
                    if !p.converged {
                        badCount += 1
                        if bad.count < 1000 { bad.append((r, c)) }
                    }
                    g = p.gUS
                }
                if let s = physics.stuck(array: index, row: r, col: c) {
                    g = s  // a stuck cell does not relax
                    stuckCount += 1
                } else {
                    g = physics.relax(g, ageS: ageS, array: index, row: r, col: c)
                }
                g = physics.irDrop(g, row: r, col: c, rows: a.rows)
                codes[k] = Int32(Swift.min(codeMax, Swift.max(0, Fixed.roundReal(g / perCode, .halfEven))))
                if readNoise {
                    let sd = physics.readSigmaUS(g) / perCode
                    variance![k] = Int32(Swift.min(codeMax, Fixed.roundReal(sd * sd, .halfEven)))
                }
            }
        }
        return RealisedArray(codes: CellCodes(codes), variance: variance, pulses: pulses, nonConverged: bad, nonConvergedCount: badCount,
                             stuckCount: stuckCount)
    }
}

/// Per-read and per-conversion analog noise of a chip instance, as pure functions of their counters
/// (docs/device.md, "Read-time effects"). Engines call these with identical integer inputs.
public struct AnalogNoise: Sendable {
    public let rng: Philox
    public let perCode: Double
    public let readNoise: Bool
    public let adc: ADCNoiseSpec?

    public init(target: Target, seed: UInt64) {
        rng = Philox(seed: seed)
        perCode = target.cell.gUnitNS / 1000
        readNoise = target.device.readNoise != nil
        adc = target.device.adc
    }

    /// Normal number `index` of the run-time stream (purpose, a, event): element index % 4 of block index / 4 of
    /// `xbar_normals` (docs/device.md, "Run-time normals").
    @inline(__always)
    public func runtimeNormal(_ purpose: RandomPurpose, _ a: Int, index: Int, event: UInt32) -> Double {
        var z = (0.0, 0.0, 0.0, 0.0)
        withUnsafeMutableBytes(of: &z) { p in
            xbar_normals(rng.key.0, rng.key.1, purpose.rawValue, UInt32(a), event, Int64(index / 4), 1,
                         p.baseAddress!.assumingMemoryBound(to: Double.self))
        }
        switch index % 4 {
        case 0: return z.0
        case 1: return z.1
        case 2: return z.2
        default: return z.3
        }
    }

    /// Noisy column sum: sum + round_half_even(sqrt(varianceSum) * z), clamped to [0, maxValue]; z is normal
    /// number `column` of the run-time stream (deviceRead, op, event) (docs/device.md). The scalar form of `readVector`.
    @inline(__always)
    public func read(sum: Int64, varianceSum: Int64, op: Int, column: Int, event: UInt32, maxValue: Int64) -> Int64 {
        guard varianceSum > 0 else { return sum }
        let z = runtimeNormal(.deviceRead, op, index: column, event: event)
        let v = sum + Fixed.roundReal(Double(varianceSum).squareRoot() * z, .halfEven)
        return v < 0 ? 0 : (v > maxValue ? maxValue : v)
    }

    /// `read` for columns colStart ..< colStart + count at once, in place (`xbar_read_noise`); `scratch` holds at
    /// least count + 8 doubles.
    public func readVector(_ sums: UnsafeMutablePointer<Int64>, varianceSums: UnsafePointer<Int64>, count n: Int, op: Int,
                           colStart: Int, event: UInt32, maxValue: Int64, scratch: UnsafeMutablePointer<Double>) {
        xbar_read_noise(sums, varianceSums, Int64(n), Int64(colStart), maxValue, rng.key.0, rng.key.1,
                        RandomPurpose.deviceRead.rawValue, UInt32(op), event, scratch)
    }

    /// `adcInput` for `count` conversions at once, in place (`xbar_adc_noise`), with static offsets and gains as flat
    /// arrays; `scratch` holds at least count + 8 doubles.
    public func adcVector(_ x: UnsafeMutablePointer<Int64>, count n: Int, offsets: UnsafePointer<Double>, gains: UnsafePointer<Double>,
                          op: Int, event: UInt32, scratch: UnsafeMutablePointer<Double>) {
        guard let a = adc else { return }
        xbar_adc_noise(x, Int64(n), offsets, gains, a.noiseSigmaUS / perCode, rng.key.0, rng.key.1,
                       RandomPurpose.adcConversion.rawValue, UInt32(op), event, scratch)
    }

    /// Static offset (codes) and gain of ADC column `column` of array `array`.
    public func adcStatic(array: Int, column: Int) -> (offset: Double, gain: Double) {
        guard let a = adc else { return (0, 1) }
        let o = a.offsetSigmaUS / perCode * rng.normal(purpose: RandomPurpose.adcNoise.rawValue, UInt32(array), UInt32(column), 0)
        let g = 1 + a.gainSigma * rng.normal(purpose: RandomPurpose.adcNoise.rawValue, UInt32(array), UInt32(column), 1)
        return (o, g)
    }

    /// ADC input after offset, gain error and conversion noise: round_half_even(x * gain + offset + sigma * z).
    @inline(__always)
    public func adcInput(_ x: Int64, offset: Double, gain: Double, op: Int, column: Int, event: UInt32) -> Int64 {
        guard let a = adc else { return x }
        var v = Double(x) * gain + offset
        if a.noiseSigmaUS > 0 {
            v += a.noiseSigmaUS / perCode * runtimeNormal(.adcConversion, op, index: column, event: event)
        }
        return Fixed.roundReal(v, .halfEven)
    }
}
