import XbarCore
import XbarIR
import XbarTarget

/// One array as it is on a chip instance: realised codes (what reads see), per-cell read variance, and the
/// programming effort spent on it.
public struct RealisedArray: Sendable {
    public var codes: [Int32]
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
        // The array's code type is the representable range of its read path: realised codes saturate there.
        let codeMax = a.codeType.max
        var codes = a.codes
        var variance: [Int32]? = readNoise ? [Int32](repeating: 0, count: a.codes.count) : nil
        var pulses: Int64 = 0
        var bad: [(Int, Int)] = []
        var badCount = 0
        var stuckCount = 0
        for r in 0..<a.rows {
            for c in 0..<a.cols {
                let k = r * a.cols + c
                var g = Double(a.codes[k]) * perCode
                if !a.formed && a.codes[k] != unusedCode {
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
        return RealisedArray(codes: codes, variance: variance, pulses: pulses, nonConverged: bad, nonConvergedCount: badCount,
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

    /// Noisy column sum: sum + round_half_even(sqrt(varianceSum) * z), clamped to [0, maxValue]; z is normal
    /// number `column` of the stream (deviceRead, op, event) (four per Philox block; docs/device.md).
    @inline(__always)
    public func read(sum: Int64, varianceSum: Int64, op: Int, column: Int, event: UInt32, maxValue: Int64) -> Int64 {
        guard varianceSum > 0 else { return sum }
        let z = rng.normalInStream(purpose: RandomPurpose.deviceRead.rawValue, UInt32(op), index: column, event)
        return clampRead(sum, varianceSum, z, maxValue)
    }

    @inline(__always)
    func clampRead(_ sum: Int64, _ varianceSum: Int64, _ z: Double, _ maxValue: Int64) -> Int64 {
        guard varianceSum > 0 else { return sum }
        let v = sum + Fixed.roundReal(Double(varianceSum).squareRoot() * z, .halfEven)
        return v < 0 ? 0 : (v > maxValue ? maxValue : v)
    }

    /// `read` for columns colStart ..< colStart + sums.count at once (four columns per Philox block when aligned).
    public func readVector(_ sums: inout [Int64], varianceSums: [Int64], op: Int, colStart: Int, event: UInt32, maxValue: Int64) {
        var j = 0
        let n = sums.count
        while j < n {
            let col = colStart + j
            if col % 4 == 0 && j + 4 <= n {
                let z = rng.normals4(purpose: RandomPurpose.deviceRead.rawValue, UInt32(op), UInt32(col / 4), event)
                sums[j] = clampRead(sums[j], varianceSums[j], z.0, maxValue)
                sums[j + 1] = clampRead(sums[j + 1], varianceSums[j + 1], z.1, maxValue)
                sums[j + 2] = clampRead(sums[j + 2], varianceSums[j + 2], z.2, maxValue)
                sums[j + 3] = clampRead(sums[j + 3], varianceSums[j + 3], z.3, maxValue)
                j += 4
            } else {
                sums[j] = read(sum: sums[j], varianceSum: varianceSums[j], op: op, column: col, event: event, maxValue: maxValue)
                j += 1
            }
        }
    }

    /// `readVector` on raw buffers of `count` columns (the engine core's form; no allocation). A block of four
    /// columns whose variance sums are all zero draws nothing: its outputs are the sums either way.
    public func readVector(_ sums: UnsafeMutablePointer<Int64>, varianceSums: UnsafePointer<Int64>, count n: Int, op: Int,
                           colStart: Int, event: UInt32, maxValue: Int64) {
        var j = 0
        while j < n {
            let col = colStart + j
            if col % 4 == 0 && j + 4 <= n {
                if varianceSums[j] | varianceSums[j + 1] | varianceSums[j + 2] | varianceSums[j + 3] != 0 {
                    let z = rng.normals4(purpose: RandomPurpose.deviceRead.rawValue, UInt32(op), UInt32(col / 4), event)
                    sums[j] = clampRead(sums[j], varianceSums[j], z.0, maxValue)
                    sums[j + 1] = clampRead(sums[j + 1], varianceSums[j + 1], z.1, maxValue)
                    sums[j + 2] = clampRead(sums[j + 2], varianceSums[j + 2], z.2, maxValue)
                    sums[j + 3] = clampRead(sums[j + 3], varianceSums[j + 3], z.3, maxValue)
                }
                j += 4
            } else {
                sums[j] = read(sum: sums[j], varianceSum: varianceSums[j], op: op, column: col, event: event, maxValue: maxValue)
                j += 1
            }
        }
    }

    /// `adcVector` on a raw buffer of `count` conversions with static offsets and gains as flat arrays.
    public func adcVector(_ x: UnsafeMutablePointer<Int64>, count n: Int, offsets: UnsafePointer<Double>, gains: UnsafePointer<Double>,
                          op: Int, event: UInt32) {
        guard let a = adc else { return }
        let sigma = a.noiseSigmaUS / perCode
        var j = 0
        while j < n {
            let z = sigma > 0 ? rng.normals4(purpose: RandomPurpose.adcConversion.rawValue, UInt32(op), UInt32(j / 4), event) : (0, 0, 0, 0)
            let m = Swift.min(4, n - j)
            x[j] = Fixed.roundReal(Double(x[j]) * gains[j] + offsets[j] + sigma * z.0, .halfEven)
            if m > 1 { x[j + 1] = Fixed.roundReal(Double(x[j + 1]) * gains[j + 1] + offsets[j + 1] + sigma * z.1, .halfEven) }
            if m > 2 { x[j + 2] = Fixed.roundReal(Double(x[j + 2]) * gains[j + 2] + offsets[j + 2] + sigma * z.2, .halfEven) }
            if m > 3 { x[j + 3] = Fixed.roundReal(Double(x[j + 3]) * gains[j + 3] + offsets[j + 3] + sigma * z.3, .halfEven) }
            j += 4
        }
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
            v += a.noiseSigmaUS / perCode * rng.normalInStream(purpose: RandomPurpose.adcConversion.rawValue, UInt32(op), index: column, event)
        }
        return Fixed.roundReal(v, .halfEven)
    }

    /// `adcInput` for a whole conversion vector (four columns per Philox block).
    public func adcVector(_ x: inout [Int64], statics: [(offset: Double, gain: Double)], op: Int, event: UInt32) {
        guard let a = adc else { return }
        let sigma = a.noiseSigmaUS / perCode
        var j = 0
        while j < x.count {
            let z = sigma > 0 ? rng.normals4(purpose: RandomPurpose.adcConversion.rawValue, UInt32(op), UInt32(j / 4), event) : (0, 0, 0, 0)
            let m = Swift.min(4, x.count - j)
            @inline(__always) func conv(_ e: Int, _ ze: Double) {
                let v = Double(x[j + e]) * statics[j + e].gain + statics[j + e].offset + sigma * ze
                x[j + e] = Fixed.roundReal(v, .halfEven)
            }
            conv(0, z.0)
            if m > 1 { conv(1, z.1) }
            if m > 2 { conv(2, z.2) }
            if m > 3 { conv(3, z.3) }
            j += 4
        }
    }
}
