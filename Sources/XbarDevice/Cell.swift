import XbarCore
import XbarTarget

/// Philox purposes and counter layout of the device model (docs/device.md, "Randomness").
/// Counter = (purpose, arrayIndex, row << 16 | col, k): k is the pulse index, or 0/1/2 for the draw's role.
enum DeviceCounter {
    static func cell(_ row: Int, _ col: Int) -> UInt32 { UInt32(row) << 16 | UInt32(col) }
}

/// The outcome of programming one cell.
public struct ProgrammedCell: Equatable, Sendable {
    public var gUS: Double
    public var pulses: Int
    public var converged: Bool
}

/// The physics of single cells, as pure functions of (seed, array, row, column): forming, programming, faults,
/// relaxation and IR drop.
public struct CellPhysics: Sendable {
    public let spec: DeviceSpec
    public let cell: CellSpec
    public let sigma: [Double]
    public let rng: Philox

    public init(spec: DeviceSpec, cell: CellSpec, seed: UInt64) throws {
        guard let c = SigmaModel.coefficients(spec.sigma) else {
            throw XbarError(file: "<target>", field: "device.sigma_preset",
                            "unknown preset \"\(spec.sigma.preset)\" (expected one of \(SigmaModel.presets.joined(separator: ", ")))")
        }
        self.spec = spec
        self.cell = cell
        sigma = c
        rng = Philox(seed: seed)
    }

    @inline(__always)
    func normal(_ p: RandomPurpose, _ a: Int, _ r: Int, _ c: Int, _ k: UInt32) -> Double {
        rng.normal(purpose: p.rawValue, UInt32(a), DeviceCounter.cell(r, c), k)
    }

    @inline(__always)
    func uniform(_ p: RandomPurpose, _ a: Int, _ r: Int, _ c: Int, _ k: UInt32) -> Double {
        rng.uniform(purpose: p.rawValue, UInt32(a), DeviceCounter.cell(r, c), k)
    }

    /// One-shot or write-verify programming of a target conductance.
    public func program(_ targetUS: Double, array a: Int, row r: Int, col c: Int) -> ProgrammedCell {
        switch spec.programming {
        case .exact, .forming:
            return ProgrammedCell(gUS: targetUS, pulses: 0, converged: true)
        case .oneShot:
            let g = targetUS + SigmaModel.sigmaUS(sigma, targetUS) * normal(.deviceProgramming, a, r, c, 0)
            return ProgrammedCell(gUS: Swift.max(0, g), pulses: 1, converged: true)
        case .writeVerify:
            let tol = spec.writeVerify.toleranceUS
            var g = 0.0
            for k in 0..<spec.writeVerify.maxPulses {
                g = Swift.max(0, targetUS + SigmaModel.sigmaUS(sigma, targetUS) * normal(.deviceProgramming, a, r, c, UInt32(k)))
                if abs(g - targetUS) <= tol { return ProgrammedCell(gUS: g, pulses: k + 1, converged: true) }
            }
            return ProgrammedCell(gUS: g, pulses: spec.writeVerify.maxPulses, converged: false)
        }
    }

    /// Electroforming of one pristine cell: (conductance, formed?).
    public func form(array a: Int, row r: Int, col c: Int) -> (gUS: Double, formed: Bool) {
        guard let f = spec.forming else { return (cell.unusedUS, false) }
        let vbd = f.breakdownMeanV + f.breakdownSigmaV * normal(.deviceForming, a, r, c, 0)
        // Longer pulses break down at lower voltage: shift by volts_per_decade per decade of width.
        let vEff = vbd - f.voltsPerDecade * log10(f.pulseNS / f.referenceNS)
        if f.pulseV >= vEff {
            let g = f.formedMeanUS + f.overdriveUSPerV * (f.pulseV - vEff) + f.formedSigmaUS * normal(.deviceForming, a, r, c, 1)
            return (Swift.min(f.formedMaxUS, Swift.max(f.pristineUS, g)), true)
        }
        return (Swift.max(0, f.pristineUS + f.pristineSigmaUS * normal(.deviceForming, a, r, c, 2)), false)
    }

    /// Stuck-at state: nil (healthy), or the stuck conductance.
    public func stuck(array a: Int, row r: Int, col c: Int) -> Double? {
        guard let f = spec.faults else { return nil }
        let u = uniform(.deviceStuck, a, r, c, 0)
        if u < f.stuckOnRate { return f.stuckOnUS }
        if u < f.stuckOnRate + f.stuckOffRate { return f.stuckOffUS }
        return nil
    }

    /// Conductance after `ageS` seconds of log-time relaxation.
    public func relax(_ g0: Double, ageS: Double, array a: Int, row r: Int, col c: Int) -> Double {
        guard let d = spec.drift, ageS > 0 else { return g0 }
        let l = log10(1 + ageS / d.t0S)
        let g = g0 * (1 - d.nu * l) + (d.relaxAbsUS + d.relaxRelative * g0) * l.squareRoot() * normal(.deviceDrift, a, r, c, 0)
        return Swift.max(0, g)
    }

    /// Effective conductance seen through the wires (first-order IR drop).
    public func irDrop(_ gUS: Double, row r: Int, col c: Int, rows: Int) -> Double {
        guard let ir = spec.irDrop, ir.wireOhmPerCell > 0 else { return gUS }
        let rs = ir.wireOhmPerCell * Double(c + 1 + rows - r)
        return gUS / (1 + gUS * 1e-6 * rs)
    }

    /// sigma of one read of a cell of conductance g (uS).
    public func readSigmaUS(_ gUS: Double) -> Double {
        guard let rn = spec.readNoise else { return 0 }
        return rn.absUS + rn.relative * gUS
    }
}

#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif
