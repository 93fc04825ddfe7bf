import XCTest
import XbarCompiler
import XbarCore
import XbarIR
@testable import XbarLearn

/// The what-and-when paradigm's trials, the expectation the readout should learn, the error and recovery measures by
/// hand, and the network's lowering: its readout projections compile to gated three-factor stdp ops with the
/// error and gate modulators.
final class WhatWhenTests: XCTestCase {
    func testTrialsFollowTheParadigm() {
        var p = WhatWhenParadigm()
        p.trialSteps = 150
        let b = WhatWhenParadigm.Block(pA: 0.7, latencyA: 114, latencyB: 124, trials: 200)
        let (rasters, isA) = p.trials(b, seed: 5, first: 0, learning: true)
        XCTAssertEqual(rasters.count, 200)
        // p(A) = 0.7: the binomial count of A trials is within 3 sd (sd = sqrt(200 x 0.21) = 6.5).
        XCTAssertEqual(Double(isA.filter { $0 }.count), 140, accuracy: 19.5)
        let r = p.reservoirChannels
        for (raster, a) in zip(rasters, isA) {
            XCTAssertEqual(raster.channels, p.channels)
            for t in 0..<p.trialSteps {
                let s = Set(raster.active[t])
                let lat = a ? 114 : 124
                XCTAssertEqual(s.contains(Int32(r + (a ? 0 : 1))), t >= lat && t < lat + p.eventSteps, "stimulus at step \(t)")
                XCTAssertFalse(s.contains(Int32(r + (a ? 1 : 0))), "only the trial's event channel fires")
                XCTAssertEqual(s.contains(Int32(r + 2)), t >= 114 - p.gateHalfWidth && t < 114 + p.eventSteps + p.gateHalfWidth)
                XCTAssertEqual(s.contains(Int32(r + 3)), t >= 124 - p.gateHalfWidth && t < 124 + p.eventSteps + p.gateHalfWidth)
                XCTAssertFalse(s.contains(Int32(r + 4)), "the weight-scale row is never driven")
                let cue = s.filter { $0 < Int32(p.cueChannels) }
                if t < p.cueOnset || t >= p.cueOnset + p.cueSteps { XCTAssertTrue(cue.isEmpty) }
            }
        }
        // Test trials: cue and noise only; the same seed gives the same rasters.
        let test = p.trials(b, seed: 5, first: 0, learning: false).rasters
        XCTAssertTrue(test.allSatisfy { $0.active.allSatisfy { $0.allSatisfy { $0 < Int32(r) } } })
        XCTAssertEqual(test, p.trials(b, seed: 5, first: 0, learning: false).rasters)
        XCTAssertEqual(p.expectation(b, channel: 0)[114], 0.7)
        XCTAssertEqual(p.expectation(b, channel: 1)[124], 0.7 * 0 + 0.30000000000000004)
        XCTAssertEqual(p.expectation(b, channel: 0).reduce(0, +), 0.7 * Double(p.eventSteps), accuracy: 1e-12)
    }

    func testTrialErrorAndRecoveryByHand() {
        var spec = WhatWhenSpec(target: try! Repo.target("rram-plastic-130nm"), seeds: [1])
        spec.paradigm.trialSteps = 150
        spec.paradigm.eventSteps = 5
        spec.paradigm.gateHalfWidth = 8
        spec.network.pool = 2
        let b = WhatWhenParadigm.Block(pA: 1, latencyA: 114, latencyB: 124, trials: 1)
        // Channel A's pool fires 2 spikes (rate 1) at its 5 event steps, nothing else: error 0.
        var spikes = [[Int]](repeating: [Int](repeating: 0, count: 150), count: 2)
        for t in 114..<119 { spikes[0][t] = 2 }
        XCTAssertEqual(WhatWhenExperiment.trialError(spikes, b, spec: spec), 0)
        // One extra spike (rate 0.5) at step 110 inside A's gate: 0.25 over 2 x (5 + 16) window steps.
        spikes[0][110] = 1
        XCTAssertEqual(WhatWhenExperiment.trialError(spikes, b, spec: spec), 0.25 / 42, accuracy: 1e-15)
        // Recovery: 20 trials at 1.0, a switch to 3.0, then back to 1.0 from trial 5 after it: the 10-trial mean is
        // within 10 % of 1.0 when at most 1 of its 10 trials is at 3.0 ((9 + 3) / 10 = 1.2 > 1.1), so at 15.
        let e = [Double](repeating: 1, count: 20) + [Double](repeating: 3, count: 5) + [Double](repeating: 1, count: 30)
        XCTAssertEqual(WhatWhenExperiment.recovery(e, switchAt: 20), 15)
        XCTAssertNil(WhatWhenExperiment.recovery([Double](repeating: 1, count: 20) + [Double](repeating: 3, count: 30), switchAt: 20))
    }

    func testReadoutLowersToGatedDeltaRuleOps() throws {
        var o = WhatWhenNetwork.Options()
        o.reservoir.excitatory = 40
        o.reservoir.inhibitory = 10
        o.pool = 3
        var p = WhatWhenParadigm()
        p.noiseChannels = 30
        p.cueChannels = 5
        let g = WhatWhenNetwork.graph(o, paradigm: p, seed: 2)
        let c = try Compiler.compile(g, target: try Repo.target("rram-plastic-130nm"))
        let stdp = c.program.step.compactMap { op -> STDPRule? in
            if case let .stdp(u) = op.kind { return u }
            return nil
        }
        XCTAssertEqual(stdp.count, 2)
        XCTAssertEqual(Set(stdp.map { $0.modulator ?? "" }), ["error_A.mod", "error_B.mod"])
        XCTAssertEqual(Set(stdp.map { $0.gate ?? "" }), ["gate_A.mod", "gate_B.mod"])
        XCTAssertTrue(stdp.allSatisfy { $0.modulation == .delta && $0.every == 1 && $0.aMinus == 0 && $0.row.source == "exc" && $0.row.count == 40 })
        let mods = c.program.step.filter { if case .modulator = $0.kind { return true } else { return false } }.map(\.result)
        XCTAssertEqual(Set(mods), ["error_A.mod", "gate_A.mod", "error_B.mod", "gate_B.mod"])
    }
}
