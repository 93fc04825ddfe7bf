import Foundation
import XCTest
import XbarCompiler
import XbarCore
import XbarGraph
import XbarIR
@testable import XbarLearn
import XbarTarget

/// The adaptive E/I experiment's parts against hand calculations and closed forms, the compiler's handling of a plastic
/// projection that shares its rows' block with a fixed one, and a small seeded run with its figures pinned.
final class AdaptiveEITests: XCTestCase {
    func testNARMA10ByHand() {
        // s = 0.25 throughout: y = 0 up to step 10, then y10 = 1.5 s^2 + 0.1, y11 = 0.3 y10 + 0.05 y10 y10 + 1.5 s^2 + 0.1.
        let y = TimeSeriesTask.narma10([Double](repeating: 0.25, count: 13))
        XCTAssertEqual(Array(y[0...9]), [Double](repeating: 0, count: 10))
        XCTAssertEqual(y[10], 0.19375, accuracy: 1e-15)
        XCTAssertEqual(y[11], 0.253751953125, accuracy: 1e-15)
        // The task's input is 4 s - 1 and its target y(t + 1).
        let s = TimeSeriesTask.narma10.series(length: 50, seed: 3, sequence: 0)
        XCTAssertTrue(s.input.allSatisfy { $0 >= -1 && $0 <= 1 })
        let drive = s.input.map { ($0 + 1) / 4 }
        let again = TimeSeriesTask.narma10(drive + [0])
        for t in 0..<49 { XCTAssertEqual(s.target[t], again[t + 1], accuracy: 1e-12) }
    }

    func testMackeyGlassAgainstTheClosedFormWhileTheDelayedTermIsConstant() {
        // For t <= 17 the delayed term is the constant history x0, so dx/dt = c - 0.1 x has
        // x(t) = 10 c + (x0 - 10 c) e^{-0.1 t}; RK4 with h = 0.1 is within 1e-9 of it.
        let x0 = 1.2
        let c = 0.2 * x0 / (1 + pow(x0, 10))
        let x = TimeSeriesTask.mackeyGlass(length: 15, x0: x0, transient: 0)
        for t in 0..<15 { XCTAssertEqual(x[t], 10 * c + (x0 - 10 * c) * exp(-0.1 * Double(t)), accuracy: 1e-9) }
        // After the transient the series stays on the attractor's range.
        let long = TimeSeriesTask.mackeyGlass(length: 2000, x0: 1.2, transient: 1000)
        XCTAssertGreaterThan(long.min()!, 0.2)
        XCTAssertLessThan(long.max()!, 1.4)
    }

    func testDACRowsAndWeights() {
        XCTAssertEqual(DACInput.rows(0.5, bits: 4), [3])           // round(7.5) = 8 (half-even) = bit 3
        XCTAssertEqual(DACInput.rows(-1, bits: 4), [4, 5, 6, 7])    // 15 on the negative rows
        XCTAssertEqual(DACInput.rows(0.2, bits: 4), [0, 1])         // 3
        XCTAssertEqual(DACInput.rows(0.01, bits: 4), [])
        XCTAssertEqual(DACInput.quantised(-0.2, bits: 4), -0.2, accuracy: 1e-15)
        let w = DACInput.rowWeights([1.5, -3], bits: 2)              // rows: +b0, +b1, -b0, -b1
        XCTAssertEqual(w, [0.5, -1, 1, -2, -0.5, 1, -1, 2])
        // The rows' weighted sum is w x q(u).
        for u in stride(from: -1.0, through: 1.0, by: 0.05) {
            let sum = DACInput.rows(u, bits: 2).reduce(0.0) { $0 + w[Int($1) * 2] }
            XCTAssertEqual(sum, 1.5 * DACInput.quantised(u, bits: 2), accuracy: 1e-12)
        }
    }

    func testRidgeRecoversALinearMapAndMemoryCapacityOfADelayLine() throws {
        // Features = the last four inputs exactly: delays 1...4 are recalled (r^2 ~ 1), later ones not at all.
        let u = TimeSeriesTask.memory.series(length: 700, seed: 1, sequence: 0).input
        let d = 5
        var f = [Double](repeating: 0, count: u.count * d)
        for t in 0..<u.count { for k in 0..<d where t - k >= 0 { f[t * d + k] = u[t - k] } }
        var spec = AdaptiveEISpec(target: try Repo.target("rram-plastic-130nm"), seeds: [1])
        (spec.washout, spec.trainLength, spec.testLength, spec.maxDelay) = (50, 450, 200, 8)
        let run = AdaptiveEIExperiment.Run(features: f, neurons: d, meanRate: 0, rateSpread: 0, energyPerStepPJ: nil)
        let s = try AdaptiveEIExperiment.score(.memory, run, TimeSeriesTask.Series(input: u, target: u), spec: spec)
        for k in 0..<4 { XCTAssertGreaterThan(s.curve[k], 0.9999) }
        for k in 4..<8 { XCTAssertLessThan(s.curve[k], 0.02) }
        XCTAssertEqual(s.test, 4, accuracy: 0.05)
        // An exact affine target is predicted exactly (NRMSE ~ 0).
        let y = (0..<u.count).map { 2 * f[$0 * d] - f[$0 * d + 1] + 3 }
        let p = try RidgeRegression.predict(train: Array(f[0..<(500 * d)]), Array(y[0..<500]), test: Array(f[(500 * d)...]), features: d)
        XCTAssertLessThan(RidgeRegression.nrmse(p, Array(y[500...])), 1e-3)
    }

    func testPlasticRowsAfterAFixedProjectionOfTheSameBlockCompile() throws {
        // w_e (fixed, first in the file) and w_i (homeostasis) share the block (res, delay 1): the rule must still be
        // lowered, on the inhibitory rows only.
        var o = AdaptiveReservoir.Options()
        o.neurons = 40
        o.inDegree = 10
        let g = AdaptiveReservoir.graph(o, adaptation: .heterogeneous, timesteps: 20)
        let c = try Compiler.compile(g, target: try Repo.target("rram-plastic-130nm"))
        XCTAssertTrue(c.program.isPlastic)
        let rows = c.program.step.compactMap { op -> RowSource? in
            if case let .homeostasis(h) = op.kind { return h.row }
            return nil
        }
        XCTAssertEqual(rows.map(\.srcStart), [32])
        XCTAssertEqual(rows.map(\.count), [8])
        XCTAssertEqual(AdaptiveReservoir.graph(o, adaptation: .none, timesteps: 20).projections[2].plasticity, nil)
    }

    func testHeterogeneousTargetsAreBeta22AroundTheMean() {
        var o = AdaptiveReservoir.Options()
        o.neurons = 4000
        let t = AdaptiveReservoir.targets(o, rule: AdaptiveReservoir.Rule(), heterogeneous: true)
        let (m, sd) = Experiment.meanStd(t)
        // 0.3 x Beta(2, 2): mean 0.15, sd 0.3 x sqrt(1 / 20) = 0.0671.
        XCTAssertEqual(m, 0.15, accuracy: 0.005)
        XCTAssertEqual(sd, 0.3 * (1.0 / 20).squareRoot(), accuracy: 0.004)
        XCTAssertTrue(t.allSatisfy { $0 > 0 && $0 < 0.3 })
    }

    /// A small seeded run: the figures of one run are pinned (any change to the rule, the device, the engines or the
    /// readout shows here), and the rule does what it is for: homeostasis toward one target narrows the spread of the
    /// neurons' rates on both models, and the chip learns by writing cells.
    func testSmallSeededRun() throws {
        var spec = AdaptiveEISpec(target: try Repo.target("rram-plastic-130nm"), seeds: [1])
        spec.options.neurons = 100
        spec.options.inDegree = 25
        (spec.washout, spec.trainLength, spec.testLength, spec.maxDelay) = (50, 400, 200, 10)
        spec.inhibitions = [1, 2]
        spec.targetRates = [0.15]
        spec.adaptSequences = 1
        spec.tasks = [.memory, .mackeyGlass]
        let r = try AdaptiveEIExperiment.run(spec)
        XCTAssertEqual(r.map { "\($0.task.rawValue)/\($0.model.rawValue)/\($0.condition.rawValue)" }, [
            "memory-capacity/software/global", "memory-capacity/software/adapted", "memory-capacity/software/adapted-heterogeneous",
            "memory-capacity/chip/global", "memory-capacity/chip/adapted", "memory-capacity/chip/adapted-heterogeneous",
            "mackey-glass/software/global", "mackey-glass/software/adapted", "mackey-glass/software/adapted-heterogeneous",
            "mackey-glass/chip/global", "mackey-glass/chip/adapted", "mackey-glass/chip/adapted-heterogeneous"])
        // The seeded run's figures (memory capacity over delays 1...10, then Mackey-Glass NRMSE).
        let scores = [1.4283701787759802, 1.1203411445734432, 1.1068457184274296, 0.9971208857461968, 1.144565435332719, 1.0731244761115062,
                      0.3236638617052428, 0.36667578036903914, 0.2730152069876953, 0.26251967668148346, 0.26608801723712044, 0.2814607010048623]
        for (got, want) in zip(r.map(\.score), scores) { XCTAssertEqual(got, want, accuracy: 1e-9) }
        XCTAssertEqual(r.map(\.pulses), [0, 0, 0, 0, 152_885, 147_280, 0, 0, 0, 0, 136_445, 126_255])
        for k in [0, 3, 6, 9] {
            XCTAssertLessThan(r[k + 1].rateSpread, 0.7 * r[k].rateSpread, "homeostasis toward one target narrows the rates (\(r[k].task), \(r[k].model))")
            XCTAssertEqual(r[k + 1].meanRate, 0.15, accuracy: 0.04)
        }
        for x in r where x.model == .chip && x.condition != .none { XCTAssertGreaterThan(x.pulses, 0) }
        for x in r where x.model == .software || x.condition == .none { XCTAssertEqual(x.pulses, 0) }
    }
}
