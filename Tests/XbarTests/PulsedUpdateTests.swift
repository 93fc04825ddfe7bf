import Foundation
import XCTest
import XbarCore
import XbarDevice
// CellSpec's memberwise initialiser is internal to XbarTarget.
@testable import XbarTarget

/// The pulse-response models of `[device.update]` (docs/device.md, "Conductance updates (on-chip learning)") against
/// their closed forms, evaluated here independently of `CellUpdater`; the Philox draws; endurance; the loader.
final class PulsedUpdateTests: XCTestCase {
    /// A 1-40 uS cell (R = 39 uS).
    static let cell = CellSpec(gMinUS: 1, gMaxUS: 40, levels: 16, gUnitNS: 10, unusedUS: 0.1)

    static func updater(_ model: UpdateSpec.Model, dw: Double, seed: UInt64 = 1, _ edit: (inout UpdateSpec) -> Void = { _ in })
        -> CellUpdater {
        var s = UpdateSpec(model: model, dwMinUS: dw)
        edit(&s)
        return CellUpdater(spec: s, cell: cell, seed: seed)
    }

    static func assertCurve(_ got: [Double], _ expected: (Int) -> Double, _ what: String, accuracy: Double = 1e-9,
                            file: StaticString = #filePath, line: UInt = #line) {
        for (n, g) in got.enumerated() {
            XCTAssertEqual(g, expected(n), accuracy: accuracy, "\(what), pulse \(n)", file: file, line: line)
        }
    }

    // MARK: closed forms (noise-free nominal cell)

    func testConstantStepIsLinearUntilTheBound() {
        let u = Self.updater(.constantStep, dw: 2.5) { $0.upDown = 0.2 }  // down step 2.5 x 0.8 = 2
        let up = u.responseCurve(from: 1, pulses: 20, up: true, noiseFree: true)
        XCTAssertEqual(up.count, 21)
        Self.assertCurve(up, { n in min(40, 1 + 2.5 * Double(n)) }, "constant up")
        XCTAssertEqual(up[15], 38.5)
        XCTAssertEqual(up[16], 40)  // clamped, not 41
        let down = u.responseCurve(from: 40, pulses: 25, up: false, noiseFree: true)
        Self.assertCurve(down, { n in max(1, 40 - 2 * Double(n)) }, "constant down")
        XCTAssertEqual(down[20], 1)
        // up_down < 0 shrinks the up step instead.
        let v = Self.updater(.constantStep, dw: 2.5) { $0.upDown = -0.2 }
        XCTAssertEqual(v.nominal.dwUpUS, 2, accuracy: 1e-15)
        XCTAssertEqual(v.nominal.dwDownUS, 2.5)
    }

    func testSoftBoundsIsGeometricApproachToTheBound() {
        let u = Self.updater(.softBounds, dw: 0.5)
        let r = 0.5 / 39
        let up = u.responseCurve(from: 1, pulses: 400, up: true, noiseFree: true)
        Self.assertCurve(up, { n in 40 - 39 * pow(1 - r, Double(n)) }, "soft bounds up")
        let down = u.responseCurve(from: 30, pulses: 400, up: false, noiseFree: true)
        Self.assertCurve(down, { n in 1 + 29 * pow(1 - r, Double(n)) }, "soft bounds down")
        // The rram-plastic-130nm cell: SET step 0.0624 uS, RESET step 0.104 uS at the far bound (values from Python).
        let p = Self.updater(.softBounds, dw: 0.104) { $0.upDown = -0.4 }
        let pu = p.responseCurve(from: 1, pulses: 1000, up: true, noiseFree: true)
        let pd = p.responseCurve(from: 40, pulses: 1000, up: false, noiseFree: true)
        for (n, g) in [(1, 1.0624000000000038), (10, 1.6195263157089457), (100, 6.770650402239781), (625, 25.664187290898106),
                       (1000, 32.1361187745141)] {
            XCTAssertEqual(pu[n], g, accuracy: 1e-9, "rram-plastic up \(n)")
        }
        for (n, g) in [(1, 39.896), (10, 38.97239166616209), (100, 30.860567298529872), (375, 15.328147191105662),
                       (1000, 3.700219565476302)] {
            XCTAssertEqual(pd[n], g, accuracy: 1e-9, "rram-plastic down \(n)")
        }
    }

    func testLinearStepClosedForm() {
        // Step up: dw (1 - gu (g - gmin)/R), so u = g - gmin follows u' = u (1 - dw gu / R) + dw with the fixed point
        // u* = R / gu beyond the range: u_n = u* - (u* - u0) q^n until the clamp at R.
        let (dw, gu, gd) = (1.0, 0.5, 0.25)
        let u = Self.updater(.linearStep, dw: dw) { $0.gammaUp = gu; $0.gammaDown = gd }
        let up = u.responseCurve(from: 1, pulses: 150, up: true, noiseFree: true)
        let fixUp = 39 / gu, qUp = 1 - dw * gu / 39
        Self.assertCurve(up, { n in 1 + min(39, fixUp - fixUp * pow(qUp, Double(n))) }, "linear up")
        XCTAssertEqual(up.last!, 40)  // 1 + 78 (1 - q^n) reaches 39 near n = 53, then stays clamped
        // Down mirrors it with the distance to gmax: v = gmax - g, v' = v (1 - dw gd / R) + dw.
        let down = u.responseCurve(from: 40, pulses: 150, up: false, noiseFree: true)
        let fixDown = 39 / gd, qDown = 1 - dw * gd / 39
        Self.assertCurve(down, { n in 40 - min(39, fixDown - fixDown * pow(qDown, Double(n))) }, "linear down")
        // gamma = 0 is a constant step; gamma = 1 is soft bounds.
        let c = Self.updater(.linearStep, dw: 0.7).responseCurve(from: 3, pulses: 30, up: true, noiseFree: true)
        XCTAssertEqual(c, Self.updater(.constantStep, dw: 0.7).responseCurve(from: 3, pulses: 30, up: true, noiseFree: true))
        let l1 = Self.updater(.linearStep, dw: 0.7) { $0.gammaUp = 1; $0.gammaDown = 1 }
        let sb = Self.updater(.softBounds, dw: 0.7)
        for up in [true, false] {
            let a = l1.responseCurve(from: 20, pulses: 50, up: up, noiseFree: true)
            let b = sb.responseCurve(from: 20, pulses: 50, up: up, noiseFree: true)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-12) }
        }
    }

    func testExpStepFollowsItsRecurrence() {
        // aihwkit ExpStepDevice's defaults; x = (2g - gmin - gmax)/R in [-1, 1], z = a x + b.
        let u = Self.updater(.expStep, dw: 0.8)
        let s = u.spec
        func next(_ g: Double, up: Bool) -> Double {
            let z = s.expA * (2 * g - 41) / 39 + s.expB
            let y = up ? 1 - s.expAUp * exp(s.expGammaUp * z) : 1 - s.expADown * exp(-s.expGammaDown * z)
            return min(40, max(1, up ? g + 0.8 * max(0, y) : g - 0.8 * max(0, y)))
        }
        for (g0, up) in [(1.0, true), (40.0, false), (20.0, true), (20.0, false)] {
            let curve = u.responseCurve(from: g0, pulses: 200, up: up, noiseFree: true)
            var g = g0
            for n in 0...200 {
                XCTAssertEqual(curve[n], g, accuracy: 1e-9, "exp step from \(g0) \(up ? "up" : "down"), pulse \(n)")
                g = next(g, up: up)
            }
        }
        // At the bounds (x = -1, +1): SET steps shrink to 1 - A_up exp(gamma_up (a + b)) = 0.6547 of dw at gmax, RESET
        // steps to 1 - A_down exp(-gamma_down (b - a)) = 0.6245 of dw at gmin (Python).
        XCTAssertEqual(u.step(40, up: true, u.nominal), 0.8 * (1 - s.expAUp * exp(s.expGammaUp * (s.expA + s.expB))), accuracy: 1e-15)
        XCTAssertEqual(u.step(1, up: false, u.nominal), 0.8 * (1 - s.expADown * exp(-s.expGammaDown * (s.expB - s.expA))), accuracy: 1e-15)
        XCTAssertEqual(u.step(40, up: true, u.nominal) / 0.8, 0.654712, accuracy: 1e-6)
        XCTAssertEqual(u.step(1, up: false, u.nominal) / 0.8, 0.624537, accuracy: 1e-6)
        // Where 1 - A exp(gamma z) < 0 the step is 0: with A_up = 1, a = 0.5, b = 0 SET pulses stop at the middle.
        let m = Self.updater(.expStep, dw: 0.8) { $0.expAUp = 1; $0.expGammaUp = 5; $0.expA = 0.5; $0.expB = 0 }
        XCTAssertEqual(m.step(30, up: true, m.nominal), 0)
        XCTAssertLessThanOrEqual(m.responseCurve(from: 1, pulses: 2000, up: true, noiseFree: true).max()!, 20.5)
    }

    func testPowStepFollowsItsRecurrenceAndGammaOneIsSoftBounds() {
        let u = Self.updater(.powStep, dw: 0.6) { $0.powGamma = 2; $0.powUpDown = 0.25 }
        // pow_up_down > 0: gamma_up = 2, gamma_down = 2 (1 - 0.25) = 1.5 (aihwkit's up_bias/down_bias).
        XCTAssertEqual(u.nominal.shapeUp, 2)
        XCTAssertEqual(u.nominal.shapeDown, 1.5)
        for (g0, up) in [(1.0, true), (40.0, false)] {
            let curve = u.responseCurve(from: g0, pulses: 300, up: up, noiseFree: true)
            var g = g0
            for n in 0...300 {
                XCTAssertEqual(curve[n], g, accuracy: 1e-9, "pow step \(up ? "up" : "down") pulse \(n)")
                g = up ? g + 0.6 * pow((40 - g) / 39, 2) : g - 0.6 * pow((g - 1) / 39, 1.5)
            }
        }
        let p1 = Self.updater(.powStep, dw: 0.6), sb = Self.updater(.softBounds, dw: 0.6)
        for up in [true, false] {
            let a = p1.responseCurve(from: 11, pulses: 80, up: up, noiseFree: true)
            let b = sb.responseCurve(from: 11, pulses: 80, up: up, noiseFree: true)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-12) }
        }
    }

    func testNonlinearWalksNeuroSimsCurve() {
        // Ag:a-Si-like: Pmax = 97 LTP / 100 LTD pulses, normalised A = 0.5 / -0.2 (NeuroSim's labels 2.40 / -4.88).
        let u = Self.updater(.nonlinear, dw: 39.0 / 97) { $0.upDown = 0.03; $0.aLTP = 0.5; $0.aLTD = -0.2 }
        func curve(_ pMax: Double, _ a: Double) -> (Double) -> Double {
            let aa = a * pMax, b = 39 / (1 - exp(-pMax / aa))
            return { p in b * (1 - exp(-min(pMax, max(0, p)) / aa)) + 1 }
        }
        func position(_ g: Double, _ pMax: Double, _ a: Double) -> Double {
            let aa = a * pMax, b = 39 / (1 - exp(-pMax / aa))
            return -aa * log(1 - (g - 1) / b)
        }
        let ltp = curve(97, 0.5), ltd = curve(100, -0.2)
        Self.assertCurve(u.responseCurve(from: 1, pulses: 120, up: true, noiseFree: true), { n in ltp(Double(n)) }, "LTP from gmin")
        Self.assertCurve(u.responseCurve(from: 40, pulses: 120, up: false, noiseFree: true), { n in ltd(100 - Double(n)) },
                         "LTD from gmax")
        // From the middle: P0 = the inverse of G on each curve.
        let p0 = position(20, 97, 0.5), q0 = position(20, 100, -0.2)
        Self.assertCurve(u.responseCurve(from: 20, pulses: 60, up: true, noiseFree: true), { n in ltp(p0 + Double(n)) }, "LTP mid")
        Self.assertCurve(u.responseCurve(from: 20, pulses: 60, up: false, noiseFree: true), { n in ltd(q0 - Double(n)) }, "LTD mid")
        // Values computed independently (Python): G(1), G(10), G(48), G(97) on LTP; G(99), G(90), G(50) on LTD.
        let up = u.responseCurve(from: 1, pulses: 97, up: true, noiseFree: true)
        for (n, g) in [(1, 1.9204613577493477), (10, 9.40371896749342), (48, 29.3393389108055), (97, 40.0)] {
            XCTAssertEqual(up[n], g, accuracy: 1e-9)
        }
        let down = u.responseCurve(from: 40, pulses: 50, up: false, noiseFree: true)
        for (n, g) in [(1, 38.085044688130864), (10, 24.5505984801846), (50, 3.958469020828499)] {
            XCTAssertEqual(down[n], g, accuracy: 1e-9)
        }
    }

    func testUpDownAsymmetry() {
        // up_down > 0 shrinks RESET, < 0 shrinks SET; the symmetry point of soft bounds moves accordingly:
        // dw_up (gmax - g) = dw_down (g - gmin) at g* = (dw_up gmax + dw_down gmin) / (dw_up + dw_down).
        for ud in [-0.4, 0.0, 0.3] {
            let u = Self.updater(.softBounds, dw: 0.2) { $0.upDown = ud }
            let p = u.nominal
            XCTAssertEqual(p.dwUpUS, 0.2 * (1 + min(0, ud)), accuracy: 1e-15)
            XCTAssertEqual(p.dwDownUS, 0.2 * (1 - max(0, ud)), accuracy: 1e-15)
            let star = (p.dwUpUS * 40 + p.dwDownUS * 1) / (p.dwUpUS + p.dwDownUS)
            XCTAssertEqual(u.step(star, up: true, p), u.step(star, up: false, p), accuracy: 1e-12)
            // Alternating up/down pulses converge to the symmetry point.
            var g = 1.0
            for _ in 0..<20_000 { g = u.pulse(g, up: false, p, array: 0, row: 0, col: 0, index: 0)
                                  g = u.pulse(g, up: true, p, array: 0, row: 0, col: 0, index: 0) }
            XCTAssertEqual(g, star, accuracy: 0.2, "symmetry point at up_down \(ud)")
        }
    }

    // MARK: noise

    func testBoundsNeverCrossed() {
        // Large cycle-to-cycle noise (steps often reverse) and bound variation: every pulse lands inside the cell's bounds.
        for model in UpdateSpec.Model.allCases {
            let u = Self.updater(model, dw: 2, seed: 7) {
                $0.dwMinStd = 3; $0.dwStdUS = 1; $0.dwMinDtoD = 0.5; $0.upDownDtoD = 0.2; $0.gMinDtoDUS = 0.5; $0.gMaxDtoDUS = 5
                $0.aLTP = 0.4; $0.aLTD = -0.3; $0.gammaUp = 0.5; $0.gammaDown = 0.5; $0.powGamma = 1.5
            }
            for cell in 0..<20 {
                let p = u.cellParameters(array: 1, row: cell, col: 3 * cell)
                XCTAssertLessThanOrEqual(p.gMinUS, p.gMaxUS)
                var g = 20.0
                for k in 0..<200 {
                    g = u.pulse(g, up: (k / 50) % 2 == 0, array: 1, row: cell, col: 3 * cell, index: UInt32(k))
                    XCTAssertTrue(g >= p.gMinUS && g <= p.gMaxUS, "\(model) cell \(cell) pulse \(k): \(g) outside \(p)")
                }
            }
        }
    }

    func testCycleToCycleDrawsAreReproducible() {
        let a = Self.updater(.softBounds, dw: 0.5, seed: 42) { $0.dwMinStd = 0.5; $0.dwStdUS = 0.1; $0.dwMinDtoD = 0.2 }
        let b = Self.updater(.softBounds, dw: 0.5, seed: 42) { $0.dwMinStd = 0.5; $0.dwStdUS = 0.1; $0.dwMinDtoD = 0.2 }
        let c = Self.updater(.softBounds, dw: 0.5, seed: 43) { $0.dwMinStd = 0.5; $0.dwStdUS = 0.1; $0.dwMinDtoD = 0.2 }
        let g = a.pulse(10, up: true, array: 2, row: 5, col: 9, index: 17)
        XCTAssertEqual(g, b.pulse(10, up: true, array: 2, row: 5, col: 9, index: 17))
        XCTAssertNotEqual(g, a.pulse(10, up: true, array: 2, row: 5, col: 9, index: 18))
        XCTAssertNotEqual(g, a.pulse(10, up: true, array: 2, row: 5, col: 10, index: 17))
        XCTAssertNotEqual(g, c.pulse(10, up: true, array: 2, row: 5, col: 9, index: 17))
        // The draw is Philox(seed, deviceUpdate, array, row << 16 | col, index), scaled by the step.
        let z = Philox(seed: 42).normal(purpose: RandomPurpose.deviceUpdate.rawValue, 2, 5 << 16 | 9, 17)
        let p = a.cellParameters(array: 2, row: 5, col: 9)
        let s = p.dwUpUS * (p.gMaxUS - 10) / (p.gMaxUS - p.gMinUS)
        XCTAssertEqual(g, 10 + s * (1 + 0.5 * z) + 0.1 * z, accuracy: 1e-12)
        // pulses(n) is n chained pulses with consecutive indices.
        var h = 10.0
        for k in 0..<25 { h = a.pulse(h, up: false, array: 2, row: 5, col: 9, index: 100 + UInt32(k)) }
        XCTAssertEqual(a.pulses(10, count: 25, up: false, array: 2, row: 5, col: 9, firstIndex: 100), h)
        // The noisy response curve is cell (0, 0) of array 0 with indices 0, 1, ...; the noise-free one ignores noise.
        let noisy = a.responseCurve(from: 5, pulses: 10, up: true, noiseFree: false)
        let n0 = a.nominal
        var x = 5.0
        for k in 0..<10 {
            x = a.pulse(x, up: true, n0, array: 0, row: 0, col: 0, index: UInt32(k))
            XCTAssertEqual(noisy[k + 1], x)
        }
        XCTAssertEqual(a.responseCurve(from: 5, pulses: 10, up: true, noiseFree: true),
                       Self.updater(.softBounds, dw: 0.5).responseCurve(from: 5, pulses: 10, up: true, noiseFree: true))
    }

    func testCycleToCycleSpreadOfOneStep() {
        // At g = gmin + R/2 a soft-bounds SET step is dw/2; its spread is (dw/2) dw_min_std + dw_std_us.
        let u = Self.updater(.softBounds, dw: 0.4, seed: 3) { $0.dwMinStd = 0.5; $0.dwStdUS = 0.05 }
        var st = RunningStats()
        for i in 0..<20_000 { st.add(u.pulse(20.5, up: true, array: 0, row: i >> 8, col: i & 255, index: 0) - 20.5) }
        let sigma = 0.2 * 0.5 + 0.05
        DeviceTests.assertWithin(st.mean, 0.2, se: sigma / Double(st.count).squareRoot(), "c2c step mean")
        DeviceTests.assertWithin(st.sigma, sigma, se: sigma / (2 * Double(st.count - 1)).squareRoot(), "c2c step sigma")
    }

    func testDeviceToDeviceStatistics() {
        let u = Self.updater(.softBounds, dw: 0.1, seed: 9) {
            $0.upDown = -0.4; $0.dwMinDtoD = 0.1; $0.upDownDtoD = 0.05; $0.gMinDtoDUS = 0.1; $0.gMaxDtoDUS = 2
        }
        var up = RunningStats(), down = RunningStats(), hi = RunningStats(), lo = RunningStats()
        let n = 20_000
        for i in 0..<n {
            let p = u.cellParameters(array: i / 4096, row: (i / 64) % 64, col: i % 64)
            up.add(p.dwUpUS)
            down.add(p.dwDownUS)
            hi.add(p.gMaxUS)
            lo.add(p.gMinUS)
        }
        let rel = (0.1 * 0.1 + 0.05 * 0.05).squareRoot()  // relative spread of each step: dtod and up/down split
        for (s, mean, sigma, what) in [(up, 0.06, 0.06 * rel, "dw_up"), (down, 0.1, 0.1 * rel, "dw_down"),
                                       (hi, 40.0, 2.0, "g_max"), (lo, 1.0, 0.1, "g_min")] {
            DeviceTests.assertWithin(s.mean, mean, se: sigma / Double(n).squareRoot(), "\(what) mean")
            DeviceTests.assertWithin(s.sigma, sigma, se: sigma / (2 * Double(n - 1)).squareRoot(), "\(what) sigma")
        }
        // The draws are Philox(seed, deviceUpdateDtoD, array, cell, k): k = 0 gain, 1 split, 2 g_max, 3 g_min.
        let z = (0..<4).map { Philox(seed: 9).normal(purpose: RandomPurpose.deviceUpdateDtoD.rawValue, 3, 7 << 16 | 11, UInt32($0)) }
        let p = u.cellParameters(array: 3, row: 7, col: 11)
        XCTAssertEqual(p.dwUpUS, 0.06 * (1 + 0.1 * z[0] + 0.05 * z[1]), accuracy: 1e-15)
        XCTAssertEqual(p.dwDownUS, 0.1 * (1 + 0.1 * z[0] - 0.05 * z[1]), accuracy: 1e-15)
        XCTAssertEqual(p.gMaxUS, 40 + 2 * z[2], accuracy: 1e-12)
        XCTAssertEqual(p.gMinUS, 1 + 0.1 * z[3], accuracy: 1e-12)
        XCTAssertEqual(u.nominal, CellUpdateParameters(dwUpUS: 0.06, dwDownUS: 0.1, gMinUS: 1, gMaxUS: 40))
    }

    func testWriteNoiseIsApparentOnly() {
        let u = Self.updater(.constantStep, dw: 1, seed: 5) { $0.writeNoiseUS = 0.5 }
        var st = RunningStats()
        for i in 0..<20_000 { st.add(u.apparentUS(20, array: 0, row: 0, col: 0, index: UInt32(i)) - 20) }
        DeviceTests.assertWithin(st.mean, 0, se: 0.5 / Double(st.count).squareRoot(), "write noise mean")
        DeviceTests.assertWithin(st.sigma, 0.5, se: 0.5 / (2 * Double(st.count - 1)).squareRoot(), "write noise sigma")
        // It never feeds back: the persistent conductance moves by exactly one step.
        XCTAssertEqual(u.pulse(20, up: true, array: 0, row: 0, col: 0, index: 3), 21)
        XCTAssertEqual(u.apparentUS(20, array: 0, row: 1, col: 2, index: 3), u.apparentUS(20, array: 0, row: 1, col: 2, index: 3))
        XCTAssertEqual(Self.updater(.constantStep, dw: 1).apparentUS(20, array: 0, row: 0, col: 0, index: 0), 20)
    }

    func testEndurance() {
        for stuck in UpdateSpec.Stuck.allCases {
            let u = Self.updater(.constantStep, dw: 1) { $0.enduranceCycles = 5; $0.enduranceStuck = stuck }
            XCTAssertFalse(u.isWornOut(writes: 5))
            XCTAssertTrue(u.isWornOut(writes: 6))
            // Pulses 0...4 act; pulse 5 (the sixth write) leaves the cell stuck, and so does every later one.
            let curve = u.responseCurve(from: 10, pulses: 8, up: true, noiseFree: true)
            let s = stuck == .low ? 1.0 : 40.0
            XCTAssertEqual(curve, [10, 11, 12, 13, 14, 15, s, s, s])
            XCTAssertEqual(u.pulse(20, up: false, array: 0, row: 0, col: 0, index: 4), 19)
            XCTAssertEqual(u.pulse(20, up: false, array: 0, row: 0, col: 0, index: 5), s)
            XCTAssertEqual(u.stuckUS(u.nominal), s)
        }
        let forever = Self.updater(.constantStep, dw: 1)
        XCTAssertFalse(forever.isWornOut(writes: .max))
        XCTAssertEqual(forever.pulse(20, up: true, array: 0, row: 0, col: 0, index: .max), 21)
    }

    // MARK: the shipped target and the command

    func testRramPlasticTarget() throws {
        let t = try Repo.target("rram-plastic-130nm")
        XCTAssertEqual(t.name, "rram-plastic-130nm")
        XCTAssertEqual(t.device.programming, .writeVerify)
        XCTAssertEqual(t.mapping.slices, 1)
        XCTAssertEqual(t.energy.cellWritePJ, 5.4)
        let s = try XCTUnwrap(t.device.update)
        XCTAssertEqual(s.model, .softBounds)
        XCTAssertEqual(s.enduranceCycles, 1_000_000)
        XCTAssertEqual(s.enduranceStuck, .high)
        let u = CellUpdater(spec: s, cell: t.cell, seed: 1)
        XCTAssertEqual(u.nominal.dwUpUS, 0.0624, accuracy: 1e-12)  // dw_min 0.002 x 39 uS / w_max 1.25
        XCTAssertEqual(u.nominal.dwDownUS, 0.104, accuracy: 1e-12)  // dw_min 0.002 x 39 uS / |w_min| 0.75
        XCTAssertEqual([u.gMinUS, u.gMaxUS], [1, 40])
        let curve = u.responseCurve(from: 1, pulses: 100, up: true, noiseFree: true)
        XCTAssertEqual(curve[100], 6.770650402239781, accuracy: 1e-9)
    }

    func testUpdateCurveCommand() throws {
        let (s, out, err) = try Repo.run(["device", "rram-plastic-130nm", "update-curve", "--pulses", "4", "--direction", "both"])
        XCTAssertEqual(s, 0, err)
        let t = try Repo.target("rram-plastic-130nm")
        let u = CellUpdater(spec: try XCTUnwrap(t.device.update), cell: t.cell, seed: 0)
        let upCurve = u.responseCurve(from: 1, pulses: 4, up: true, noiseFree: true)
        let all = upCurve + u.responseCurve(from: upCurve.last!, pulses: 4, up: false, noiseFree: true).dropFirst()
        let expected = "pulse,g_us\n" + all.enumerated().map { "\($0),\(String(format: "%.6f", $1))\n" }.joined()
        XCTAssertEqual(out, expected)
        XCTAssertTrue(err.hasPrefix("update-curve: 9 rows"), err)
        // --set reaches the update table; --from sets the start.
        let (s2, out2, _) = try Repo.run(["device", "rram-plastic-130nm", "update-curve", "--pulses", "2", "--from", "38.5",
                                          "--set", "device.update.model=constant_step"])
        XCTAssertEqual(s2, 0)
        XCTAssertEqual(out2, "pulse,g_us\n0,38.500000\n1,38.562400\n2,38.624800\n")
        let (s3, _, e3) = try Repo.run(["device", "neurram-130nm", "update-curve"])
        XCTAssertEqual(s3, 1)
        XCTAssertEqual(e3, "error: neurram-130nm: device.update: the target has no [device.update] table (no pulse-response model)\n")
    }

    // MARK: loader errors (one per rule, exact messages)

    /// A small valid target with `update` as its [device.update] table.
    static func toml(_ update: String, cell: String = "g_min_us = 1.0\ng_max_us = 40.0") -> String {
        """
        [target]
        name = "t"
        technology_nm = 130
        [macro]
        count = 1
        arrays = 1
        rows = 16
        cols = 16
        [cell]
        \(cell)
        levels = 16
        g_unit_ns = 10.0
        unused_us = 0.1
        [read]
        v_read_mv = 100.0
        t_read_ns = 10.0
        [adc]
        bits = 8
        lsb_us = 1.0
        rounding = "half_up"
        [neuron]
        mem_bits = 24
        frac_bits = 8
        decay_bits = 12
        decay_rounding = "half_up"
        overflow = "sat"
        count_bits = 16
        refractory_bits = 4
        [readout]
        weight_bits = 8
        acc_bits = 32
        [mapping]
        slices = 1
        weight_rounding = "half_even"
        scale_rounding = "half_up"
        [clock]
        mhz = 100.0
        [device.update]
        \(update)
        """
    }

    static func assertError(_ update: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try TargetLoader.parse(toml(update), file: "u.toml"), file: file, line: line) { e in
            XCTAssertEqual((e as? XbarError)?.description, expected, file: file, line: line)
        }
    }

    func testLoaderAcceptsEveryModelAndDefaultsToTheCellRange() throws {
        let t = try TargetLoader.parse(Self.toml("model = \"soft_bounds\"\ndw_min_us = 0.5"), file: "u.toml")
        let s = try XCTUnwrap(t.device.update)
        XCTAssertNil(s.gMinUS)
        XCTAssertEqual(s.pulseNS, 100)
        XCTAssertNil(s.enduranceCycles)
        XCTAssertEqual(CellUpdater(spec: s, cell: t.cell, seed: 1).gMaxUS, 40)
        for m in UpdateSpec.Model.allCases {
            let extra = m == .nonlinear ? "\na_ltp = 0.5\na_ltd = -0.2" : ""
            let t = try TargetLoader.parse(Self.toml("model = \"\(m.rawValue)\"\ndw_min_us = 0.5\(extra)"), file: "u.toml")
            XCTAssertEqual(t.device.update?.model, m)
        }
        XCTAssertNil(try TargetLoader.parse(Self.toml("enabled = false"), file: "u.toml").device.update)
    }

    func testLoaderRefusesNegativeStep() {
        Self.assertError("model = \"soft_bounds\"\ndw_min_us = -0.5", "u.toml: device.update.dw_min_us: the step must be > 0 uS (got -0.5)")
    }

    func testLoaderRefusesStepLargerThanRange() {
        Self.assertError("model = \"constant_step\"\ndw_min_us = 50",
                         "u.toml: device.update.dw_min_us: the step 50.0 uS is larger than the range g_max_us - g_min_us = 39.0 uS")
    }

    func testLoaderRefusesUnknownModel() {
        Self.assertError("model = \"linear\"\ndw_min_us = 1",
                         "u.toml: device.update.model: expected one of constant_step, linear_step, soft_bounds, exp_step, pow_step, nonlinear, found \"linear\"")
    }

    func testLoaderRefusesEmptyRange() {
        Self.assertError("model = \"soft_bounds\"\ndw_min_us = 1\ng_min_us = 30\ng_max_us = 20",
                         "u.toml: device.update.g_max_us: the bounds need g_min_us < g_max_us (got 30.0 and 20.0 uS)")
        Self.assertError("model = \"soft_bounds\"\ndw_min_us = 1\ng_min_us = 40",
                         "u.toml: device.update.g_min_us: the bounds need g_min_us < g_max_us (got 40.0 and 40.0 uS)")
    }

    func testLoaderRefusesZeroEndurance() {
        Self.assertError("model = \"soft_bounds\"\ndw_min_us = 1\nendurance_cycles = 0",
                         "u.toml: device.update.endurance_cycles: 0 out of range 1...4294967295")
        Self.assertError("model = \"soft_bounds\"\ndw_min_us = 1\nendurance_stuck = \"high\"",
                         "u.toml: device.update.endurance_stuck: needs endurance_cycles")
        Self.assertError("model = \"soft_bounds\"\ndw_min_us = 1\nendurance_cycles = 10\nendurance_stuck = \"middle\"",
                         "u.toml: device.update.endurance_stuck: expected one of low, high, found \"middle\"")
    }

    func testLoaderRefusesUnknownAndForeignKeys() {
        Self.assertError("model = \"soft_bounds\"\ndw_min_us = 1\ndw_max_us = 2", "u.toml: device.update.dw_max_us: unknown key")
        Self.assertError("model = \"soft_bounds\"\ndw_min_us = 1\ngamma_up = 0.5",
                         "u.toml: device.update.gamma_up: only used by model = \"linear_step\" (this table has model = \"soft_bounds\")")
    }

    func testLoaderRefusesBadAsymmetryAndSpreads() {
        Self.assertError("model = \"soft_bounds\"\ndw_min_us = 1\nup_down = 1",
                         "u.toml: device.update.up_down: must be strictly between -1 and 1 (got 1.0)")
        Self.assertError("model = \"soft_bounds\"\ndw_min_us = 1\ndw_min_dtod = -0.1",
                         "u.toml: device.update.dw_min_dtod: -0.1 out of range 0.0...10.0")
        Self.assertError("model = \"linear_step\"\ndw_min_us = 1\ngamma_up = 1.5", "u.toml: device.update.gamma_up: 1.5 out of range 0.0...1.0")
    }

    func testLoaderRefusesMissingOrTinyNonlinearA() {
        Self.assertError("model = \"nonlinear\"\ndw_min_us = 1\na_ltd = -0.2", "u.toml: device.update.a_ltp: missing (required)")
        Self.assertError("model = \"nonlinear\"\ndw_min_us = 1\na_ltp = 0.001\na_ltd = -0.2",
                         "u.toml: device.update.a_ltp: the normalised A (A / Pmax) must be at least 0.01 in magnitude (got 0.001)")
        Self.assertError("model = \"soft_bounds\"", "u.toml: device.update.dw_min_us: missing (required)")
    }
}
