import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
import XbarCore
import XbarDevice
import XbarEmulator
import XbarIR
// The effect specs' memberwise initialisers are internal to XbarTarget.
@testable import XbarTarget

/// The device model (docs/device.md) against its formulas. Every statistical check samples >= 100,000 cells with a
/// fixed seed and allows 4 standard errors of the estimate (a chance of about 6e-5 per check for a correct model;
/// with fixed seeds the outcome is deterministic). Standard errors: mean sigma/sqrt(n); sigma sigma/sqrt(2(n-1))
/// (normal data); a fraction p sqrt(p(1-p)/n).
final class DeviceTests: XCTestCase {
    static let n = 100_000

    /// Standard normal CDF.
    static func phi(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }
    /// Standard normal density.
    static func pdf(_ x: Double) -> Double { exp(-0.5 * x * x) / (2 * Double.pi).squareRoot() }

    /// The NeuRRAM target (1-40 uS, 16 levels, 10 nS codes, 256x256) with `device` in place of its own.
    static func target(_ device: DeviceSpec, gMin: Double = 1, gMax: Double = 40, levels: Int = 16) throws -> Target {
        var t = try Repo.target("neurram-130nm")
        t.device = device
        t.cell.gMinUS = gMin
        t.cell.gMaxUS = gMax
        t.cell.levels = levels
        return t
    }

    static func assertWithin(_ x: Double, _ expected: Double, se: Double, _ what: String, file: StaticString = #filePath,
                             line: UInt = #line) {
        XCTAssertLessThanOrEqual(abs(x - expected), 4 * se, "\(what): \(x) vs expected \(expected) (4 SE = \(4 * se))",
                                 file: file, line: line)
    }

    static func fractionSE(_ p: Double, _ n: Int) -> Double { (p * (1 - p) / Double(n)).squareRoot() }

    // MARK: (a) one-shot programming with a constant sigma

    func testOneShotConstantSigmaMatchesMeanAndSigma() throws {
        let sigma = 1.5
        let t = try Self.target(DeviceSpec(programming: .oneShot, sigma: SigmaSpec(preset: "custom", coefficients: [sigma])))
        let s = try DeviceSampler(target: t, seed: 11).run(cells: Self.n, levels: .level(7), keepValues: false)
        let g0 = 1 + 7 * 2.6  // 19.2 uS, exactly on the 10 nS code grid
        XCTAssertEqual(s.perLevel.count, 1)
        XCTAssertEqual(s.perLevel[0].targetUS, g0, accuracy: 1e-9)
        XCTAssertEqual(s.before.count, Self.n)
        Self.assertWithin(s.before.mean, g0, se: sigma / Double(Self.n).squareRoot(), "one-shot mean")
        Self.assertWithin(s.before.sigma, sigma, se: sigma / (2 * Double(Self.n - 1)).squareRoot(), "one-shot sigma")
        XCTAssertEqual(s.pulsesTotal, Int64(Self.n))
        XCTAssertEqual(s.pulsesMax, 1)
        XCTAssertEqual(s.nonConverged, 0)
        // No effect after programming: the read value is the programmed one on the code grid.
        XCTAssertEqual(s.after.mean, s.before.mean, accuracy: 0.005 / 2)

        // Round-robin over the levels: every level far enough from 0 for the clamp at 0 to be negligible (>= 7 sigma).
        let r = try DeviceSampler(target: t, seed: 12).run(cells: Self.n, levels: .all, keepValues: false)
        XCTAssertEqual(r.perLevel.count, 16)
        for l in r.perLevel {
            XCTAssertEqual(l.before.count, Self.n / 16)
            guard l.targetUS >= 7 * sigma else { continue }
            let m = Double(l.before.count)
            Self.assertWithin(l.before.mean, l.targetUS, se: sigma / m.squareRoot(), "level \(l.level) mean")
            Self.assertWithin(l.before.sigma, sigma, se: sigma / (2 * (m - 1)).squareRoot(), "level \(l.level) sigma")
        }
    }

    // MARK: (b) published sigma(G) presets

    func testPresetsEqualPublishedFormulas() throws {
        // Hand-written published formulas (docs/device.md, "Programming noise presets").
        let wan: (Double) -> Double = { g in 1.053 + 0.2374 * g - 1.167e-2 * g * g + 1.536e-4 * g * g * g }
        let aihwkit: (Double) -> Double = { g in
            let x = g / 40
            return 0.348 + 16.030 * x - 43.853 * x * x + 45.393 * x * x * x - 16.815 * x * x * x * x
        }
        let milo: (Double) -> Double = { g in 4.782321 - 0.009107 * g }
        let cmo: (Double) -> Double = { g in 0.0112185391 + 0.01129027418 * g }
        let cmo02: (Double) -> Double = { g in 0.00081107 + 0.00106879 * g }
        // (preset, formula, [(G uS, published sigma rounded as in the sources' tables)], rounding of that table)
        let table: [(String, (Double) -> Double, [(Double, Double)], Double)] = [
            ("neurram-wan2022", wan, [(0, 1.05), (5, 1.97), (10, 2.41), (15, 2.51), (20, 2.36), (25, 2.09), (30, 1.82),
                                      (35, 1.65), (39.26, 1.68)], 0.005),
            ("neurram-wan2022-aihwkit", aihwkit, [(0, 0.35), (4, 1.56), (10, 2.26), (20, 2.02), (30, 1.53), (40, 1.10)], 0.005),
            ("crosssim-milo", milo, [(50, 4.33), (100, 3.87), (225, 2.73)], 0.005),
            ("hfox-cmo", cmo, [(10, 0.124), (50, 0.576), (88, 1.005)], 0.0005),
            ("hfox-cmo-0.2pct", cmo02, [(10, 0.0115), (50, 0.0543), (88, 0.0949)], 0.00005),
        ]
        XCTAssertEqual(Set(table.map { $0.0 }), Set(PublishedFits.coefficients.keys), "every preset has a row here")
        XCTAssertEqual(Set(SigmaModel.presets), Set(["none", "custom"] + PublishedFits.coefficients.keys))
        for (name, formula, points, half) in table {
            let c = try XCTUnwrap(SigmaModel.coefficients(SigmaSpec(preset: name)))
            for (g, published) in points {
                let got = SigmaModel.sigmaUS(c, g)
                XCTAssertEqual(got, formula(g), accuracy: 1e-12 * Swift.max(1, abs(formula(g))), "\(name) at \(g) uS")
                XCTAssertEqual(got, published, accuracy: half + 1e-12, "\(name) at \(g) uS vs published \(published)")
            }
        }
        XCTAssertEqual(SigmaModel.sigmaUS(try XCTUnwrap(SigmaModel.coefficients(SigmaSpec(preset: "none"))), 25), 0)
        XCTAssertNil(SigmaModel.coefficients(SigmaSpec(preset: "no-such-preset")))
        // Negative polynomial values clamp to 0 (Milo beyond its range: 4.78 - 0.0091 G < 0 above 525 uS).
        XCTAssertEqual(SigmaModel.sigmaUS(try XCTUnwrap(SigmaModel.coefficients(SigmaSpec(preset: "crosssim-milo"))), 600), 0)
    }

    func testOneShotSampledSigmaFollowsEachPreset() throws {
        // (preset, G inside the fit's range, placed as level 0 of a 2-level window)
        let cases: [(String, Double)] = [("neurram-wan2022", 15), ("neurram-wan2022-aihwkit", 10), ("crosssim-milo", 100),
                                         ("hfox-cmo", 50), ("hfox-cmo-0.2pct", 50)]
        for (k, (name, g)) in cases.enumerated() {
            let t = try Self.target(DeviceSpec(programming: .oneShot, sigma: SigmaSpec(preset: name)), gMin: g, gMax: g + 10, levels: 2)
            let s = try DeviceSampler(target: t, seed: UInt64(100 + k)).run(cells: Self.n, levels: .level(0), keepValues: false)
            let sigma = SigmaModel.sigmaUS(PublishedFits.coefficients[name]!, g)
            Self.assertWithin(s.before.mean, g, se: sigma / Double(Self.n).squareRoot(), "\(name) mean at \(g) uS")
            Self.assertWithin(s.before.sigma, sigma, se: sigma / (2 * Double(Self.n - 1)).squareRoot(), "\(name) sigma at \(g) uS")
        }
    }

    // MARK: (c) forming

    static func forming(pulseV: Double = 3.0, pulseNS: Double = 1000) -> FormingSpec {
        FormingSpec(breakdownMeanV: 3.0, breakdownSigmaV: 0.25, pulseV: pulseV, pulseNS: pulseNS, referenceNS: 1000,
                    voltsPerDecade: 0.15, formedMeanUS: 20, formedSigmaUS: 2, overdriveUSPerV: 10, formedMaxUS: 1000,
                    pristineUS: 0.1, pristineSigmaUS: 0.02)
    }

    static func formingTarget(_ f: FormingSpec) throws -> Target {
        var t = try Repo.target("rram-40nm-256kb")
        t.device = DeviceSpec(programming: .forming, forming: f)
        return t
    }

    /// Unformed fraction Phi((v_eff_mean - pulse) / sigma), v_eff_mean = mean - volts_per_decade log10(width / reference).
    static func expectedSparsity(_ f: FormingSpec) -> Double {
        phi((f.breakdownMeanV - f.voltsPerDecade * log10(f.pulseNS / f.referenceNS) - f.pulseV) / f.breakdownSigmaV)
    }

    func testFormingSparsityMatchesBreakdownModelAndIsMonotonic() throws {
        var last = -1
        for v in [3.4, 3.2, 3.0, 2.8, 2.6] {  // falling amplitude: more cells stay unformed
            let f = Self.forming(pulseV: v)
            let s = try DeviceSampler(target: try Self.formingTarget(f), seed: 21).run(cells: Self.n, keepValues: false)
            let p = Self.expectedSparsity(f)
            Self.assertWithin(try XCTUnwrap(s.sparsity), p, se: Self.fractionSE(p, Self.n), "sparsity at \(v) V")
            XCTAssertGreaterThan(s.unformed, last, "sparsity must rise as the pulse falls (\(v) V)")
            last = s.unformed
        }
        last = -1
        for w in [1e5, 1e4, 1000, 100, 10] {  // shortening width: V_eff rises by 0.15 V per decade
            let f = Self.forming(pulseV: 3.0, pulseNS: w)
            let s = try DeviceSampler(target: try Self.formingTarget(f), seed: 22).run(cells: Self.n, keepValues: false)
            let p = Self.expectedSparsity(f)
            Self.assertWithin(try XCTUnwrap(s.sparsity), p, se: Self.fractionSE(p, Self.n), "sparsity at \(w) ns")
            XCTAssertGreaterThan(s.unformed, last, "sparsity must rise as the pulse shortens (\(w) ns)")
            last = s.unformed
        }
    }

    func testFormedAndUnformedConductances() throws {
        // Formed: G = formed_mean + overdrive (pulse - V_eff) + formed_sigma N, with pulse - V_eff a normal truncated
        // to >= 0. With a = (pulse - v_eff_mean) / s and lambda = phi(a) / Phi(a): E[pulse - V_eff | formed] =
        // s (a + lambda), Var = s^2 (1 - a lambda - lambda^2). Unformed: pristine + pristine_sigma N.
        let f = Self.forming(pulseV: 3.1)
        let sampler = try DeviceSampler(target: try Self.formingTarget(f), seed: 23)
        var formed = RunningStats(), unformed = RunningStats()
        for i in 0..<Self.n {
            let c = sampler.sample(cell: i, level: nil)
            if c.formed { formed.add(c.beforeUS) } else { unformed.add(c.beforeUS) }
        }
        let s = f.breakdownSigmaV, a = (f.pulseV - f.breakdownMeanV) / s, lambda = Self.pdf(a) / Self.phi(a)
        let mean = f.formedMeanUS + f.overdriveUSPerV * s * (a + lambda)
        let sd = (f.overdriveUSPerV * f.overdriveUSPerV * s * s * (1 - a * lambda - lambda * lambda)
                  + f.formedSigmaUS * f.formedSigmaUS).squareRoot()
        Self.assertWithin(formed.mean, mean, se: sd / Double(formed.count).squareRoot(), "formed mean")
        Self.assertWithin(formed.sigma, sd, se: sd / (2 * Double(formed.count - 1)).squareRoot(), "formed sigma")
        Self.assertWithin(unformed.mean, 0.1, se: 0.02 / Double(unformed.count).squareRoot(), "unformed mean")
        Self.assertWithin(unformed.sigma, 0.02, se: 0.02 / (2 * Double(unformed.count - 1)).squareRoot(), "unformed sigma")
        XCTAssertEqual(Double(formed.count + unformed.count), Double(Self.n))
        XCTAssertGreaterThanOrEqual(formed.min, f.pristineUS)
    }

    // MARK: (d) stuck-at faults

    func testStuckAtFractionsMatchRates() throws {
        let faults = FaultSpec(stuckOnRate: 0.01, stuckOffRate: 0.02, stuckOnUS: 60, stuckOffUS: 0.1)
        let t = try Self.target(DeviceSpec(programming: .exact, faults: faults))
        let sampler = try DeviceSampler(target: t, seed: 31)
        let s = try sampler.run(cells: Self.n, levels: LevelSelection.all, keepValues: true)
        Self.assertWithin(s.stuckOnFraction, 0.01, se: Self.fractionSE(0.01, Self.n), "stuck-on fraction")
        Self.assertWithin(s.stuckOffFraction, 0.02, se: Self.fractionSE(0.02, Self.n), "stuck-off fraction")
        // A stuck cell reads its stuck conductance; a healthy one its exact target.
        var on = 0, off = 0
        for i in 0..<Self.n {
            let target = sampler.levelUS(i % 16)
            XCTAssertEqual(s.beforeValues[i], target)
            if abs(s.afterValues[i] - 60) < 1e-9 { on += 1 } else if abs(s.afterValues[i] - 0.1) < 1e-9 { off += 1 } else {
                XCTAssertEqual(s.afterValues[i], target, accuracy: 1e-9)
            }
        }
        XCTAssertEqual(on, s.stuckOn)
        XCTAssertEqual(off, s.stuckOff)
    }

    // MARK: (e) write-verify

    func testWriteVerifyConvergenceAndPulseCounts() throws {
        let sigma = 2.0, tol = 1.0, m = 5
        let t = try Self.target(DeviceSpec(programming: .writeVerify, sigma: SigmaSpec(preset: "custom", coefficients: [sigma]),
                                           writeVerify: WriteVerifySpec(toleranceUS: tol, maxPulses: m)))
        let sampler = try DeviceSampler(target: t, seed: 41)
        let g0 = sampler.levelUS(7)
        var bad = 0
        var pulses = RunningStats()
        for i in 0..<Self.n {
            let c = sampler.sample(cell: i, level: 7)
            pulses.add(Double(c.pulses))
            if c.converged {
                XCTAssertLessThanOrEqual(abs(c.beforeUS - g0), tol, "converged cell \(i) outside the tolerance")
            } else {
                bad += 1
                XCTAssertEqual(c.pulses, m)
            }
        }
        // One pulse lands within tolerance with p = P(|sigma N| <= tol); pulses are independent draws.
        let p = 2 * Self.phi(tol / sigma) - 1, q = 1 - p
        let pBad = pow(q, Double(m))
        Self.assertWithin(Double(bad) / Double(Self.n), pBad, se: Self.fractionSE(pBad, Self.n), "non-converged fraction")
        // Pulses X = min(K, m), K geometric(p): P(X >= k) = q^(k-1), E X = (1 - q^m) / p, E X^2 = sum (2k-1) q^(k-1).
        let ex = (1 - pBad) / p
        let ex2 = (1...m).reduce(0.0) { $0 + Double(2 * $1 - 1) * pow(q, Double($1 - 1)) }
        Self.assertWithin(pulses.mean, ex, se: ((ex2 - ex * ex) / Double(Self.n)).squareRoot(), "mean pulses")
        XCTAssertEqual(pulses.max, Double(m))
        // The summary agrees with the per-cell loop.
        let s = try sampler.run(cells: Self.n, levels: .level(7), keepValues: false)
        XCTAssertEqual(s.nonConverged, bad)
        XCTAssertEqual(s.pulsesMean, pulses.mean, accuracy: 1e-12)
    }

    func testRealiserReportsNonConvergedCells() throws {
        // A tolerance far below sigma: nearly every programmed cell runs out of pulses. The Realiser reports the
        // count and the first 1000 positions in row-major order; cells holding the unused code are not programmed.
        let t = try Self.target(DeviceSpec(programming: .writeVerify, sigma: SigmaSpec(preset: "custom", coefficients: [2.0]),
                                           writeVerify: WriteVerifySpec(toleranceUS: 1e-6, maxPulses: 3)))
        let sampler = try DeviceSampler(target: t, seed: 0)
        let rows = 256, cols = 512
        let unused = Int32(Fixed.roundReal(t.cell.unusedUS / sampler.perCode, .halfEven))
        let codes = (0..<rows * cols).map { k in k % 8 == 5 ? unused : Int32(sampler.levelCode(k % 16)) }
        let a = ArrayDecl(name: "a", macro: 0, index: 0, rows: rows, cols: cols, gUnitNS: t.cell.gUnitNS, codeType: .u(16), codes: codes)
        let r = try Realiser(target: t, seed: 42).realise(a, index: 3)
        let physics = try CellPhysics(spec: t.device, cell: t.cell, seed: 42)
        var expected: [(Int, Int)] = []
        var count = 0, pulses: Int64 = 0
        for row in 0..<rows {
            for col in 0..<cols where codes[row * cols + col] != unused {
                let p = physics.program(Double(codes[row * cols + col]) * sampler.perCode, array: 3, row: row, col: col)
                pulses += Int64(p.pulses)
                if !p.converged {
                    count += 1
                    if expected.count < 1000 { expected.append((row, col)) }
                }
            }
        }
        let programmed = rows * cols * 7 / 8
        XCTAssertGreaterThanOrEqual(count, programmed - 5)
        XCTAssertEqual(r.nonConvergedCount, count)
        XCTAssertEqual(r.nonConverged.count, 1000)
        XCTAssertTrue(zip(r.nonConverged, expected).allSatisfy { $0.0.row == $0.1.0 && $0.0.col == $0.1.1 })
        XCTAssertEqual(r.nonConverged.first!.row, 0)
        XCTAssertEqual(r.nonConverged.first!.col, 0)
        XCTAssertFalse(r.nonConverged.contains { $0.col % 8 == 5 }, "unused cells are reported")
        XCTAssertEqual(r.pulses, pulses)
    }

    // MARK: (f) relaxation

    func testRelaxationFollowsLogTimeFormula() throws {
        let drift = DriftSpec(nu: 0.01, t0S: 1, relaxRelative: 0.02, relaxAbsUS: 0.3, ageS: 500)
        let t = try Self.target(DeviceSpec(programming: .exact, drift: drift))
        let g0 = 1 + 7 * 2.6
        for (k, age) in [10.0, 1000, 1e5].enumerated() {
            let s = try DeviceSampler(target: t, seed: UInt64(50 + k), ageS: age).run(cells: Self.n, levels: .level(7), keepValues: false)
            let l = log10(1 + age / drift.t0S)
            let mean = g0 * (1 - drift.nu * l)
            // Rounding to the 10 nS code grid adds a uniform error of variance unit^2 / 12.
            let sr: Double = drift.relaxAbsUS + drift.relaxRelative * g0
            let sd: Double = (sr * sr * l + 0.01 * 0.01 / 12).squareRoot()
            XCTAssertEqual(s.ageS, age)
            XCTAssertEqual(s.before.sigma, 0)
            Self.assertWithin(s.after.mean, mean, se: sd / Double(Self.n).squareRoot(), "relaxed mean at \(age) s")
            Self.assertWithin(s.after.sigma, sd, se: sd / (2 * Double(Self.n - 1)).squareRoot(), "relaxed sigma at \(age) s")
        }
        // Age 0: nothing moves. No age given: the target's drift.age_s.
        let z = try DeviceSampler(target: t, seed: 5, ageS: 0).run(cells: Self.n, levels: .all, keepValues: true)
        XCTAssertEqual(z.afterValues, z.beforeValues)
        XCTAssertEqual(try DeviceSampler(target: t, seed: 5).ageS, 500)
    }

    // MARK: (g) determinism

    /// `Chip` realises its arrays in parallel: on 1 or 3 threads it holds exactly the sequential Realiser's arrays.
    func testChipRealisedInParallelEqualsTheSequentialRealisation() throws {
        var t = try Repo.target("neurram-130nm")  // write-verify, read noise, relaxation
        t.device.faults = FaultSpec(stuckOnRate: 0.001, stuckOffRate: 0.001, stuckOnUS: 40, stuckOffUS: 0.1)
        let sampler = try DeviceSampler(target: t, seed: 3)
        let rows = 32, cols = 48
        let arrays = (0..<5).map { a in
            ArrayDecl(name: "a\(a)", macro: a, index: 0, rows: rows, cols: cols, gUnitNS: t.cell.gUnitNS, codeType: .u(16),
                      codes: (0..<rows * cols).map { Int32(sampler.levelCode((a * 7 + $0) % 16)) })
        }
        let p = Program(name: "p", target: t.name, timesteps: 1, inputs: [], neurons: [], arrays: arrays, readouts: [], step: [])
        let r = try Realiser(target: t, seed: 11)
        let sequential = arrays.enumerated().map { r.realise($0.element, index: $0.offset) }
        for threads in [1, 3] {
            let chip = try Chip(program: p, target: t, seed: 11, threads: threads)
            XCTAssertEqual(chip.codes, sequential.map(\.codes), "threads \(threads)")
            XCTAssertEqual(chip.variance, sequential.map(\.variance), "threads \(threads)")
            XCTAssertEqual(chip.realised.map(\.pulses), sequential.map(\.pulses))
            XCTAssertEqual(chip.realised.map(\.stuckCount), sequential.map(\.stuckCount))
        }
        XCTAssertNotEqual(sequential[0].codes, sequential[1].codes)
        XCTAssertGreaterThan(sequential.map(\.pulses).reduce(0, +), 0)
    }

    func testSameSeedSameChipDifferentSeedDifferentChip() throws {
        var t = try Repo.target("neurram-130nm")  // write-verify, read noise, relaxation
        t.device.faults = FaultSpec(stuckOnRate: 0.001, stuckOffRate: 0.001, stuckOnUS: 40, stuckOffUS: 0.1)
        t.device.irDrop = IRDropSpec(wireOhmPerCell: 2)
        let sampler = try DeviceSampler(target: t, seed: 7)
        let rows = t.macro.rows, cols = t.macro.cols
        let arrays = (0..<2).map { a in
            ArrayDecl(name: "a\(a)", macro: a, index: 0, rows: rows, cols: cols, gUnitNS: t.cell.gUnitNS, codeType: .u(16),
                      codes: (0..<rows * cols).map { Int32(sampler.levelCode((a * rows * cols + $0) % 16)) })
        }
        func realise(_ seed: UInt64) throws -> [RealisedArray] {
            let r = try Realiser(target: t, seed: seed)
            return arrays.enumerated().map { r.realise($0.element, index: $0.offset) }
        }
        let x = try realise(7), y = try realise(7), z = try realise(8)
        for k in 0..<2 {
            XCTAssertEqual(x[k].codes, y[k].codes)
            XCTAssertEqual(x[k].variance, y[k].variance)
            XCTAssertEqual(x[k].pulses, y[k].pulses)
            XCTAssertEqual(x[k].nonConvergedCount, y[k].nonConvergedCount)
            XCTAssertEqual(x[k].stuckCount, y[k].stuckCount)
            let differ = zip(x[k].codes, z[k].codes).filter { $0 != $1 }.count
            XCTAssertGreaterThan(differ, rows * cols * 9 / 10, "another seed is another chip")
        }
        // `xbar device` (DeviceSampler) reads exactly what the emulator's Realiser realises, cell for cell.
        let cells = 2 * rows * cols
        let s1 = try sampler.run(cells: cells, levels: .all, keepValues: true)
        let s2 = try DeviceSampler(target: t, seed: 7).run(cells: cells, levels: .all, keepValues: true)
        XCTAssertEqual(s1.afterValues, s2.afterValues)
        XCTAssertEqual(s1.beforeValues, s2.beforeValues)
        var stuck = 0, bad = 0, pulses: Int64 = 0
        for i in 0..<cells {
            let (a, k) = (i / (rows * cols), i % (rows * cols))
            XCTAssertEqual(Double(x[a].codes[k]) * sampler.perCode, s1.afterValues[i], accuracy: 1e-9, "cell \(i)")
        }
        for a in 0..<2 { stuck += x[a].stuckCount; bad += x[a].nonConvergedCount; pulses += x[a].pulses }
        XCTAssertEqual(stuck, s1.stuckOn + s1.stuckOff)
        XCTAssertEqual(bad, s1.nonConverged)
        XCTAssertEqual(pulses, s1.pulsesTotal)
        // Per-cell read variance: (abs + relative G)^2 in code^2, G the realised conductance.
        let rn = t.device.readNoise!
        for k in stride(from: 0, to: rows * cols, by: 97) {
            let g = Double(x[0].codes[k]) * sampler.perCode
            let sd = (rn.absUS + rn.relative * g) / sampler.perCode
            XCTAssertEqual(Double(x[0].variance![k]), (sd * sd).rounded(), accuracy: 1.0 + 2 * sd)  // G before code rounding
        }
    }

    func testFormingSamplerMatchesRealiserOfFormedArray() throws {
        // The forming pass stores round(G / unit) codes; a formed array then gets faults, relaxation and IR drop.
        let t = try Repo.target("rram-40nm-256kb")
        let sampler = try DeviceSampler(target: t, seed: 9)
        let rows = t.macro.rows, cols = t.macro.cols
        let cells = (0..<rows * cols).map { sampler.sample(cell: $0, level: nil) }
        let codes = cells.map { Int32(Fixed.roundReal($0.beforeUS / sampler.perCode, .halfEven)) }
        let a = ArrayDecl(name: "f", macro: 0, index: 0, rows: rows, cols: cols, gUnitNS: t.cell.gUnitNS, codeType: .u(16),
                          codes: codes, formed: true)
        let r = try Realiser(target: t, seed: 9).realise(a, index: 0)
        XCTAssertEqual(r.pulses, 0)
        for k in 0..<rows * cols {
            XCTAssertEqual(Double(r.codes[k]) * sampler.perCode, cells[k].afterUS, accuracy: 1e-9, "cell \(k)")
        }
        XCTAssertEqual(r.stuckCount, cells.filter { $0.stuck != .none }.count)
    }

    // MARK: (h) read and ADC noise

    func testReadNoiseHasSummedVarianceSigma() throws {
        let t = try Repo.target("rram-40nm-256kb")
        let noise = AnalogNoise(target: t, seed: 61)
        let varianceSum: Int64 = 2500  // e.g. 100 driven cells of 25 code^2 each: sigma 50 codes
        var d = RunningStats()
        for e in 0..<Self.n {
            let v = noise.read(sum: 1_000_000, varianceSum: varianceSum, op: 3, column: 17, event: UInt32(e), maxValue: Int64.max)
            d.add(Double(v - 1_000_000))
        }
        // Rounding to an integer code adds variance 1/12.
        let sd = (Double(varianceSum) + 1.0 / 12).squareRoot()
        Self.assertWithin(d.mean, 0, se: sd / Double(Self.n).squareRoot(), "read noise mean")
        Self.assertWithin(d.sigma, sd, se: sd / (2 * Double(Self.n - 1)).squareRoot(), "read noise sigma")
        // Same counters, same value; no variance, no noise; clamped to [0, max].
        XCTAssertEqual(noise.read(sum: 10, varianceSum: 2500, op: 1, column: 2, event: 3, maxValue: 100),
                       noise.read(sum: 10, varianceSum: 2500, op: 1, column: 2, event: 3, maxValue: 100))
        XCTAssertEqual(noise.read(sum: 123, varianceSum: 0, op: 1, column: 2, event: 3, maxValue: 1000), 123)
        for e in 0..<1000 {
            let v = noise.read(sum: 10, varianceSum: 2500, op: 1, column: 2, event: UInt32(e), maxValue: 40)
            XCTAssertTrue((0...40).contains(v))
        }
        // Across columns (fixed event) the draws are independent too.
        var c = RunningStats()
        for col in 0..<Self.n {
            c.add(Double(noise.read(sum: 1_000_000, varianceSum: varianceSum, op: 0, column: col, event: 0, maxValue: Int64.max) - 1_000_000))
        }
        Self.assertWithin(c.sigma, sd, se: sd / (2 * Double(Self.n - 1)).squareRoot(), "read noise sigma across columns")
    }

    func testADCOffsetGainAndConversionNoise() throws {
        let t = try Repo.target("rram-40nm-256kb")  // offset 0.5 uS, gain 0.005, conversion 0.5 uS; 10 nS codes
        let noise = AnalogNoise(target: t, seed: 62)
        let a = t.device.adc!
        let perCode = t.cell.gUnitNS / 1000
        var off = RunningStats(), gain = RunningStats(), conv = RunningStats()
        for col in 0..<Self.n {
            let st = noise.adcStatic(array: 1, column: col)
            off.add(st.offset)
            gain.add(st.gain)
        }
        let so = a.offsetSigmaUS / perCode
        Self.assertWithin(off.mean, 0, se: so / Double(Self.n).squareRoot(), "ADC offset mean")
        Self.assertWithin(off.sigma, so, se: so / (2 * Double(Self.n - 1)).squareRoot(), "ADC offset sigma")
        Self.assertWithin(gain.mean, 1, se: a.gainSigma / Double(Self.n).squareRoot(), "ADC gain mean")
        Self.assertWithin(gain.sigma, a.gainSigma, se: a.gainSigma / (2 * Double(Self.n - 1)).squareRoot(), "ADC gain sigma")
        XCTAssertEqual(noise.adcStatic(array: 1, column: 5).offset, noise.adcStatic(array: 1, column: 5).offset)
        for e in 0..<Self.n {
            conv.add(Double(noise.adcInput(1000, offset: 0, gain: 1, op: 4, column: 9, event: UInt32(e)) - 1000))
        }
        let sc = ((a.noiseSigmaUS / perCode) * (a.noiseSigmaUS / perCode) + 1.0 / 12).squareRoot()
        Self.assertWithin(conv.mean, 0, se: sc / Double(Self.n).squareRoot(), "ADC conversion noise mean")
        Self.assertWithin(conv.sigma, sc, se: sc / (2 * Double(Self.n - 1)).squareRoot(), "ADC conversion noise sigma")
    }

    /// The vectorised kernels (`readVector`, `adcVector`: exact int64 <-> double conversions below 2^51, the casts
    /// above) give the scalar forms' values bit for bit, on both sides of 2^51 and when one element of a vector
    /// forces the general path.
    func testVectorNoiseKernelsEqualTheScalarFormsAcrossThe2To51Boundary() throws {
        let t = try Repo.target("rram-40nm-256kb")
        let noise = AnalogNoise(target: t, seed: 63)
        let big: Int64 = 1 << 51
        let rng = Philox(seed: 5)
        func value(_ k: Int, _ scale: Int64) -> Int64 {
            let u = rng.uniform(purpose: 9, UInt32(k), 0, 0)
            return Int64((u * 2 - 1) * Double(scale))
        }
        // Cases: all small; one huge variance; sums near the limits.
        for (caseIndex, hugeAt) in [(0, -1), (1, 7), (2, 0)] {
            let n = 37
            var sums = (0..<n).map { value($0 + 100 * caseIndex, 1 << 40) }.map { abs($0) }
            var vars = (0..<n).map { $0 % 5 == 0 ? 0 : abs(value($0 + 1000 + 100 * caseIndex, 1 << 45)) }
            // Above 2^51 the exact-conversion trick would be wrong (2^52 + 3 would read as 1.5 x 2^52 + 6).
            if hugeAt >= 0 { vars[hugeAt] = 2 * big + 3; vars[hugeAt + 2] = big + 12_345; sums[hugeAt + 1] = 1 << 60 }
            let maxValue = Int64.max / 2
            let expected = (0..<n).map { j in
                noise.read(sum: sums[j], varianceSum: vars[j], op: 4, column: 3 + j, event: 11, maxValue: maxValue)
            }
            var scratch = [Double](repeating: 0, count: n + 16)
            sums.withUnsafeMutableBufferPointer { s in
                noise.readVector(s.baseAddress!, varianceSums: vars, count: n, op: 4, colStart: 3, event: 11,
                                 maxValue: maxValue, scratch: &scratch)
            }
            XCTAssertEqual(sums, expected, "read noise, case \(caseIndex)")
        }
        for caseIndex in 0..<4 {
            let n = 29
            var x = (0..<n).map { value($0 + 5000 + 100 * caseIndex, 1 << 20) }
            var gains = (0..<n).map { _ in 1.0 + 0.01 * rng.uniform(purpose: 9, 1, 1, 0) }
            let offsets = (0..<n).map { Double($0) * 0.37 - 3 }
            switch caseIndex {
            case 1: x[4] = 2 * big + 7; gains[4] = 0.1  // an input beyond the limit, a result below it: the casts
            case 2: x[9] = -big + 1     // just inside: the exact forms
            case 3: gains[2] = 1e300    // a result beyond 2^62: clamped by the cast path
            default: break
            }
            let expected = (0..<n).map { j in
                noise.adcInput(x[j], offset: offsets[j], gain: gains[j], op: 2, column: j, event: 17)
            }
            var scratch = [Double](repeating: 0, count: n + 16)
            x.withUnsafeMutableBufferPointer { p in
                noise.adcVector(p.baseAddress!, count: n, offsets: offsets, gains: gains, op: 2, event: 17, scratch: &scratch)
            }
            XCTAssertEqual(x, expected, "ADC noise, case \(caseIndex)")
        }
    }

    // MARK: `xbar device`

    func testDeviceCommandJSONTextAndSVG() throws {
        let dir = Repo.tempDir()
        let svg = dir.appendingPathComponent("h.svg").path
        let (s, out, err) = try Repo.run(["device", "neurram-130nm", "--cells", "100000", "--seed", "3", "--json", "--svg", svg])
        XCTAssertEqual(s, 0, err)
        let j = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        XCTAssertEqual(j["target"] as? String, "neurram-130nm")
        XCTAssertEqual(j["cells"] as? Int, 100_000)
        XCTAssertEqual(j["age_s"] as? Double, 60)
        XCTAssertEqual((j["per_level"] as? [Any])?.count, 16)
        // The command reports exactly what the library samples.
        let t = try Repo.target("neurram-130nm")
        let lib = try DeviceSampler(target: t, seed: 3).run(cells: 100_000, levels: .all, keepValues: false)
        let before = try XCTUnwrap(j["before"] as? [String: Double]), after = try XCTUnwrap(j["after"] as? [String: Double])
        // (JSONSerialization may lose the last bit of a printed double.)
        XCTAssertEqual(try XCTUnwrap(before["mean"]), lib.before.mean, accuracy: 1e-12 * lib.before.mean)
        XCTAssertEqual(try XCTUnwrap(after["sigma"]), lib.after.sigma, accuracy: 1e-12 * lib.after.sigma)
        XCTAssertEqual((j["pulses"] as? [String: Any])?["non_converged"] as? Int, lib.nonConverged)
        // The SVG is well-formed XML with a title, axis labels and a legend.
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertTrue(XMLParser(data: Data(text.utf8)).parse(), "SVG is not well-formed XML")
        XCTAssertTrue(text.contains("neurram-130nm: cell conductance, seed 3"))
        XCTAssertTrue(text.contains("conductance G (\u{B5}S)"))
        XCTAssertTrue(text.contains("t = 60 s, as read"))
        XCTAssertEqual(text.components(separatedBy: "<path ").count - 1, 2)

        let (s2, out2, err2) = try Repo.run(["device", "rram-40nm-256kb", "--age", "3600"])
        XCTAssertEqual(s2, 0, err2)
        XCTAssertTrue(out2.contains("sparsity (unformed):"), out2)
        XCTAssertTrue(out2.contains("t = 3600 s (as read)"), out2)
        XCTAssertTrue(out2.contains("stuck-on:"), out2)

        let (s3, _, e3) = try Repo.run(["device", "rram-40nm-256kb", "--level", "3"])
        XCTAssertEqual(s3, 1)
        XCTAssertEqual(e3.filter { $0 == "\n" }.count, 1, e3)
        XCTAssertTrue(e3.contains("no levels to choose"), e3)
        let (s4, _, e4) = try Repo.run(["device", "neurram-130nm", "--level", "16"])
        XCTAssertEqual(s4, 1)
        XCTAssertTrue(e4.contains("level: must be in 0...15"), e4)
    }
}
