/// Philox4x32-10 counter-based random generator (Salmon et al., SC'11, "Parallel random numbers: as easy as 1, 2, 3").
///
/// Every random number in NeuroXbar is a pure function of a 64-bit key (the run's seed) and a 128-bit counter made
/// of (purpose, a, b, c) — for example (device-forming, array, row, column). No state is shared between draws, so
/// results do not depend on thread count, engine or evaluation order.
public struct Philox: Sendable {
    /// The 64-bit key, split into two 32-bit words.
    public let key: (UInt32, UInt32)

    public init(seed: UInt64) {
        key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
    }

    @inline(__always)
    static func mulhilo(_ a: UInt32, _ b: UInt32) -> (hi: UInt32, lo: UInt32) {
        let p = UInt64(a) &* UInt64(b)
        return (UInt32(truncatingIfNeeded: p >> 32), UInt32(truncatingIfNeeded: p))
    }

    /// The raw block function: 10 rounds of Philox4x32 on `counter` under this key.
    @inline(__always)
    public func block(_ c0: UInt32, _ c1: UInt32, _ c2: UInt32, _ c3: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        var x = (c0, c1, c2, c3)
        var k = key
        for round in 0..<10 {
            if round > 0 {
                k.0 = k.0 &+ 0x9E37_79B9
                k.1 = k.1 &+ 0xBB67_AE85
            }
            let p0 = Philox.mulhilo(0xD251_1F53, x.0)
            let p1 = Philox.mulhilo(0xCD9E_8D57, x.2)
            x = (p1.hi ^ x.1 ^ k.0, p1.lo, p0.hi ^ x.3 ^ k.1, p0.lo)
        }
        return x
    }

    /// Two 64-bit words for counter (purpose, a, b, c).
    @inline(__always)
    public func words(purpose: UInt32, _ a: UInt32, _ b: UInt32, _ c: UInt32) -> (UInt64, UInt64) {
        let r = block(purpose, a, b, c)
        return (UInt64(r.0) | (UInt64(r.1) << 32), UInt64(r.2) | (UInt64(r.3) << 32))
    }

    /// A uniform double in [0, 1) with 53 random bits.
    @inline(__always)
    public func uniform(purpose: UInt32, _ a: UInt32, _ b: UInt32, _ c: UInt32) -> Double {
        let w = words(purpose: purpose, a, b, c).0
        return Double(w >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal draw (Box–Muller on the two words of one block; uses the cosine branch only).
    @inline(__always)
    public func normal(purpose: UInt32, _ a: UInt32, _ b: UInt32, _ c: UInt32) -> Double {
        let (w0, w1) = words(purpose: purpose, a, b, c)
        // u1 in (0, 1]: never zero, so log is finite.
        let u1 = (Double(w0 >> 11) + 1.0) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(w1 >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return (-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2)
    }
}

/// Purposes: the first counter word of every draw, so different uses never share a stream.
public enum RandomPurpose: UInt32, Sendable {
    case graphWeights = 1
    case graphMask = 2
    case graphPosition = 3
    case eventEncoding = 4
    case dataSplit = 5
    case deviceForming = 16
    case deviceProgramming = 17
    case deviceRead = 18
    case deviceStuck = 19
    case adcNoise = 20
    case deviceDrift = 21
    case adcConversion = 22
    case modelInput = 23
    case modelParameters = 24
    /// Cycle-to-cycle draws of programming pulses: counter (array, row << 16 | col, pulse index).
    case deviceUpdate = 25
    /// Device-to-device pulse-response parameters of a cell: counter (array, row << 16 | col, k), k = 0, 1, 2, ...
    case deviceUpdateDtoD = 26
    /// Time-series task inputs (docs/experiment.md, "Adaptive E/I reservoir"): counter (task, sequence, step, 0).
    case taskSeries = 27
    /// Reservoir construction draws of the adaptive E/I reservoir: counter (kind, neuron, k, 0).
    case reservoirBuild = 28
    /// Spiking-motif data sets (docs/experiment.md, "Heterogeneous delays"): counter (kind, trial or motif, index, k).
    case spikeMotifs = 29
    /// Moving-texture event streams (docs/experiment.md, "Heterogeneous delays"): counter (kind, sample, index, k).
    case movingTexture = 30
    /// Silicon-cochlea channel mismatch (docs/experiment.md, "LSM-CLIP"): counter (channel, 0, 0).
    case cochlea = 31
    /// Spoken-digit speakers, takes and the contrastive heads' batches (docs/experiment.md, "LSM-CLIP"): counter (kind, a, b).
    case spokenDigits = 32
    /// The targets of a fixed fan-out random projection (docs/graph.md, "random"): counter (salt, pre, j).
    case graphTargets = 33
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
@inline(__always) func _sin(_ x: Double) -> Double { Glibc.sin(x) }
#else
import Foundation
@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }
@inline(__always) func _sin(_ x: Double) -> Double { Foundation.sin(x) }
#endif
