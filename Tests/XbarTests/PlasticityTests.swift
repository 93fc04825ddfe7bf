import XCTest
import XbarCore
import XbarEvents
import XbarIR
@testable import XbarEmulator

/// The plasticity ops of docs/ir.md ("Plasticity") against hand-computed integer traces, on the fast, exact and cycle
/// engines, with the cells each engine writes.
final class PlasticityTests: XCTestCase {
    /// One synapse pair per input (2 inputs -> 1 neuron, threshold 1, no decay); traces decay by 1/2 (floor) and add 8.
    static func program(bound: String = "additive", sameStep: String = "include", every: Int = 2, extraOps: String = "", synapses: String = "all",
                        write: String = "verify",
                        third: String = "edecay 1 eshr 0 modulator none mode a_minus mshr 0 gate none") -> String {
        """
        xbar-ir 3
        program "stdp" target "ideal" timesteps 4
        input @in 2
        neuron @out 1 mem i16 sat decay 0 shr 0 floor threshold 1 ge reset zero refractory 0 u1 bias 0 count u8
        array %A macro 0 index 0 rows 2 cols 2 code u4 gunit_ns 1000 state programmed
          0: 5 0
          1: 0 0
        end
        step
          %r = read %A cols 0 rows [0:@in[0:2]@0] cells_per_weight 2 vread_mv 100 tread_ns 10 : u5[2]
          %pos = slice %r start 0 stride 2 : u5[1]
          %neg = slice %r start 1 stride 2 : u5[1]
          %d = sub %pos %neg sat : i6[1]
          %out.spk = lif @out %d : u1[1]
          %x = trace @in delay 0 decay 2 shr 2 floor add 8 : u8[2]
          %y = trace @out delay 0 decay 2 shr 2 floor add 8 : u8[1]
        \(extraOps)
          %e = stdp %A rows [0:@in[0:2]@0] cols 0 post %out.spk start 0 pre_trace %x post_trace %y a_plus 4 a_minus 2 shr 3 bound \(bound) same_step \(sameStep) \(third) synapses \(synapses) clip -8 8 every \(every) pulse_shift 2 max_pulses 3 pulse 1 range 0 15 write \(write) : i16[2]
        end
        """
    }

    /// in[0] spikes at steps 0 and 1, in[1] at step 2.
    static let sample = SpikeRaster(channels: 2, timesteps: 4, active: [[0], [0], [1], []])

    /// Runs `samples` copies of the sample in order on each engine; returns each engine's results and learned cells.
    func runAll(_ text: String, samples: Int) throws -> [(results: [SampleResult], codes: [Int32], writes: [UInt32]?)] {
        let p = try IRParser.parse(text)
        try IRVerifier.verify(p)
        XCTAssertEqual(try IRParser.parse(IRPrinter.print(p)), p, "text round trip")
        let chip = Chip(program: p, seed: 1)
        let data = EventDataset(channels: 2, timesteps: 4, samples: Array(repeating: Self.sample, count: samples))
        return try [EngineKind.fast, .exact, .cycle].map { kind in
            let out = try Runner(chip: chip, engine: kind, options: RunOptions(threads: 2, trace: true)).run(data, file: "<test>")
            let learned = try XCTUnwrap(out.learned)
            return (out.samples, learned.codes[0].array, learned.writes[0])
        }
    }

    /// Hand trace (additive, every 2 steps):
    /// t0: read 5 -> spike; x = [8, 0], y = [8]; post spike: e0 += round(4*8/8) - round(2*8/8) = 2, e1 += 0 -> [2, 0].
    /// t1: read 5 -> spike; x = [4+8, 0] = [12, 0], y = [12]; e0 += 6 - 3 -> 5. Update: n0 = trunc(5/4) = 1, e0 = 1;
    ///     pair (5, 0): w = 5 < 8, one SET on G+ -> 6 (2 pair reads); n1 = 0.
    /// t2: in[1] only: read row 1 -> 0, no spike; x = [6, 8], y = [6]; pre spike 1: e1 -= round_half_even(2*6/8 = 1.5) = 2.
    /// t3: no spike; update: n0 = trunc(1/4) = 0, n1 = trunc(-2/4) = 0: no pulse.
    /// A second sample sees G+ = 6 and repeats the pattern: G+ -> 7.
    func testAdditiveSTDPHandTrace() throws {
        for (kind, run) in zip(["fast", "exact", "cycle"], try runAll(Self.program(), samples: 2)) {
            XCTAssertEqual(run.codes, [7, 0, 0, 0], kind)
            XCTAssertEqual(run.writes, [2, 0, 0, 0], kind)
            let c0 = run.results[0].counters.learning
            XCTAssertEqual(c0, LearningCounters(traceUpdates: 12, eligibilityUpdates: 5, setPulses: 1, resetPulses: 0, verifyReads: 2), kind)
            XCTAssertEqual(run.results[0].spikes["out"]?.map(\.step), [0, 1], kind)
            XCTAssertEqual(run.results[0].counters.learning, run.results[1].counters.learning, kind)
            // The second sample reads the learned cell: code sums 5 + 5 then 6 + 6.
            XCTAssertEqual(run.results[0].counters.readCodeSums, [0: 10], kind)
            XCTAssertEqual(run.results[1].counters.readCodeSums, [0: 12], kind)
        }
        let all = try runAll(Self.program(), samples: 2)
        XCTAssertEqual(all[0].results, all[1].results, "fast vs exact")
        XCTAssertEqual(all[0].results, all[2].results, "fast vs cycle")
    }

    /// A synapse mask: row 1 (in[1]) is no synapse, so only (0, 0) pairs: 1 eligibility update at t0 and 1 at t1, none
    /// at t2 (in[1]'s spike); the cells learn as before.
    func testMaskedPairsNeverLearn() throws {
        for run in try runAll(Self.program(synapses: "[0:0]"), samples: 2) {
            XCTAssertEqual(run.codes, [7, 0, 0, 0])
            XCTAssertEqual(run.results[0].counters.learning.eligibilityUpdates, 2)
        }
    }

    /// Open loop: the same pulses without pair reads (a [0, 8] synapse lives on G+): 5 -> 6 -> 7 over two samples.
    func testOpenLoopWritesWithoutReads() throws {
        let text = Self.program(write: "open_loop").replacingOccurrences(of: "clip -8 8", with: "clip 0 8")
        for run in try runAll(text, samples: 2) {
            XCTAssertEqual(run.codes, [7, 0, 0, 0])
            XCTAssertEqual([run.results[0].counters.learning.setPulses, run.results[0].counters.learning.verifyReads], [1, 0])
        }
    }

    /// Soft bound: at the update of t1, n = 1 is scaled by (HI - w) / (HI - LO) = (8 - 5) / 16: round_half_even(3/16) = 0,
    /// so no pulse (one pair read).
    func testSoftBoundScalesThePulseCount() throws {
        for run in try runAll(Self.program(bound: "soft"), samples: 1) {
            XCTAssertEqual(run.codes, [5, 0, 0, 0])
            XCTAssertEqual(run.results[0].counters.learning.pulses, 0)
            XCTAssertEqual(run.results[0].counters.learning.verifyReads, 1)
        }
    }

    /// same_step exclude: at t0 both traces minus their own spike are 0 (e0 = 0); at t1 x0 = 12 - 8 = 4, y = 4:
    /// e0 += round(16/8) - round(8/8) = 1: n = 0, no pulse; t2: y = 6 (no post spike), e1 -= 2.
    func testExcludeSameStepPairsOnlyEarlierSpikes() throws {
        for run in try runAll(Self.program(sameStep: "exclude"), samples: 1) {
            XCTAssertEqual(run.codes, [5, 0, 0, 0])
            XCTAssertEqual(run.results[0].counters.learning.eligibilityUpdates, 5)
            XCTAssertEqual(run.results[0].counters.learning.pulses, 0)
        }
    }

    /// Every step (every 1): t0 e0 = 2 -> n 0; t1 e0 = 5 -> n 1 (SET, 5 -> 6), e0 = 1; t2 e1 = -2 -> 0.
    func testUpdateEveryStep() throws {
        for run in try runAll(Self.program(every: 1), samples: 1) {
            XCTAssertEqual(run.codes, [6, 0, 0, 0])
        }
    }

    /// Depression crossing zero: a negative eligibility on a pair at w = 1 RESETs G+ to 0, then SETs G- (w = -1).
    func testDepressionCrossesZeroThroughTheOtherCell() throws {
        let p = try IRParser.parse(Self.program())
        let chip = Chip(program: p, seed: 1)
        let learning = LearningChip(chip: chip)
        var rule = try XCTUnwrap(p.step.compactMap { if case let .stdp(r) = $0.kind { return r } else { return nil } }.first)
        rule.array = "A"
        var set = 0, reset = 0, reads = 0
        // G+ = 5: five RESETs reach w = 0, the sixth pulse SETs G- (w = -1); clip -8 stops nothing here.
        STDPProgramming.pulses(-6, row: 0, pair: 0, array: 0, train: rule.train, chip: learning, set: &set, reset: &reset, reads: &reads)
        XCTAssertEqual(learning.state.codes[0], [0, 1, 0, 0])
        XCTAssertEqual([set, reset, reads], [1, 5, 7])
        // The clip at -8 stops a long train: w = -1 -> -8 takes 7 SETs of G-, the 8th decision stops.
        STDPProgramming.pulses(-20, row: 0, pair: 0, array: 0, train: rule.train, chip: learning, set: &set, reset: &reset, reads: &reads)
        XCTAssertEqual(learning.state.codes[0], [0, 8, 0, 0])
        XCTAssertEqual([set, reset, reads], [8, 5, 15])
    }

    static let modulators = """
          %m = modulator sources [@in@0*4] bias 0 init 0 decay 0 shr 0 floor : i16[1]
          %g = modulator sources [@out@0*1] bias 0 init 0 decay 0 shr 0 floor : i8[1]
        """

    /// Three-factor with a gate: m = 4 x (input spikes), g = (post spikes); the eligibility halves each step
    /// (round_half_even), n = trunc(e x m / 2^(2 + 2)) and e is not consumed.
    /// t0: e = [2, 0]. t1: decay e0 = 1, pairing +3 -> 4; update: n0 = trunc(4 x 4 / 16) = 1: SET 5 -> 6 (2 pair reads).
    /// t2, t3: the gate is closed (no post spike): no pairing (in[1]'s pre spike is ignored), no update; e decays.
    func testThreeFactorWithGateHandTrace() throws {
        let third = "edecay 2 eshr 2 modulator %m mode update mshr 2 gate %g"
        for run in try runAll(Self.program(extraOps: Self.modulators, third: third), samples: 1) {
            XCTAssertEqual(run.codes, [6, 0, 0, 0])
            XCTAssertEqual(run.results[0].counters.learning,
                           LearningCounters(traceUpdates: 12, eligibilityUpdates: 4, setPulses: 1, resetPulses: 0, verifyReads: 2,
                                            modulatorUpdates: 8))
        }
        // Without the gate, in[1]'s spike at t2 pairs too (5 updates); m = 0 at t3, so no further pulse.
        for run in try runAll(Self.program(extraOps: Self.modulators, third: third.replacingOccurrences(of: "gate %g", with: "gate none")), samples: 1) {
            XCTAssertEqual(run.codes, [6, 0, 0, 0])
            XCTAssertEqual(run.results[0].counters.learning.eligibilityUpdates, 5)
        }
    }

    /// The delta rule (`mode delta`): a presynaptic eligibility e_i += round_half_even(4 x_i / 8) every step for every
    /// synapse, halved first (edecay 2 eshr 2), and n = trunc(e x m / 2^(2 + 2)) at the updates (t1, t3), e kept.
    /// x = [8, 0], [12, 0], [6, 8], [3, 4]; m = 4 x input spikes = 4, 4, 4, 0.
    /// t0: e = [4, 0]. t1: e0 = 2 + 6 = 8; n0 = trunc(8 x 4 / 16) = 2: SET 5 -> 6 -> 7 (3 pair reads); n1 = 0.
    /// t2: e = [4 + 3, 0 + 4] = [7, 4]. t3: e = [round_half_even(3.5) + 2, 2 + 2] = [6, 4]; m = 0: no pulse.
    func testDeltaRuleHandTrace() throws {
        let third = "edecay 2 eshr 2 modulator %m mode delta mshr 2 gate none"
        let text = Self.program(extraOps: Self.modulators, third: third).replacingOccurrences(of: "a_minus 2", with: "a_minus 0")
        for run in try runAll(text, samples: 1) {
            XCTAssertEqual(run.codes, [7, 0, 0, 0])
            XCTAssertEqual(run.results[0].counters.learning,
                           LearningCounters(traceUpdates: 12, eligibilityUpdates: 8, setPulses: 2, resetPulses: 0, verifyReads: 3,
                                            modulatorUpdates: 8))
        }
        // The delta rule pairs nothing: a_minus must be 0, and it needs its modulator.
        XCTAssertThrowsError(try IRVerifier.verify(IRParser.parse(Self.program(extraOps: Self.modulators, third: third)))) {
            XCTAssertTrue("\($0)".contains("mode delta pairs nothing"), "\($0)")
        }
        let noModulator = text.replacingOccurrences(of: "modulator %m mode delta", with: "modulator none mode delta")
        XCTAssertThrowsError(try IRVerifier.verify(IRParser.parse(noModulator))) { XCTAssertTrue("\($0)".contains("mode delta needs a modulator"), "\($0)") }
    }

    /// A modulated a_minus (NALSM's astrocyte): m = -8 each step, a_minus := round_half_even(2 x -8 / 4) = -4, so a pre
    /// spike potentiates. t0: e0 = 4 + 4 = 8; t1: e0 += 6 + 6 -> 20; update: n = min(5, 3) = 3, e0 = 8: SETs 5 -> 8;
    /// t2: e1 -= round(-4 x 6 / 8) = -3 -> 3; t3: n0 = 2 but w = 8 = HI: no pulse (1 read); n1 = 0.
    func testModulatedAMinusHandTrace() throws {
        let m = "  %m = modulator sources [] bias -8 init 0 decay 0 shr 0 floor : i16[1]"
        for run in try runAll(Self.program(extraOps: m, third: "edecay 1 eshr 0 modulator %m mode a_minus mshr 2 gate none"), samples: 1) {
            XCTAssertEqual(run.codes, [8, 0, 0, 0])
            XCTAssertEqual([run.results[0].counters.learning.setPulses, run.results[0].counters.learning.verifyReads], [3, 5])
        }
    }

    /// Homeostasis toward a rate-trace target of 4: acc += round_half_even(2 x (y - 4) / 2) = y - 4 with y = 8, 12, 6, 3;
    /// t1: acc = 4 + 8 = 12, n = 3, acc = 0: each connected synapse of the neuron gets -3 pulses (the pair (5, 0) is
    /// RESET to 2, 4 pair reads; row 1 is no synapse (the mask), skipped); t3: acc = 2 - 1 = 1, n = 0.
    /// The second sample reads G+ = 2 (still a spike at t0, t1) and the -3 cross zero: RESET 2 -> 0, SET G- 0 -> 1.
    func testHomeostasisHandTrace() throws {
        let h = "%h = homeostasis %A rows [0:@in[0:2]@0] cols 0 rate %y start 0 targets [4] eta 2 shr 1 bound additive synapses [0:0] clip -8 8 every 2 pulse_shift 2 max_pulses 3 pulse 1 range 0 15 write verify : i16[1]"
        let text = Self.program().split(separator: "\n").map { $0.contains("= stdp ") ? "  " + h : String($0) }.joined(separator: "\n")
        for (kind, run) in zip(["fast", "exact", "cycle"], try runAll(text, samples: 2)) {
            XCTAssertEqual(run.codes, [0, 1, 0, 0], kind)
            XCTAssertEqual(run.results[0].counters.learning,
                           LearningCounters(traceUpdates: 12, setPulses: 0, resetPulses: 3, verifyReads: 4, homeostasisUpdates: 4), kind)
            XCTAssertEqual([run.results[1].counters.learning.setPulses, run.results[1].counters.learning.resetPulses,
                            run.results[1].counters.learning.verifyReads], [1, 2, 4], kind)
        }
    }

    /// The learned program (state realised, writes) prints, parses and verifies; a run from it continues the learning.
    func testLearnedProgramContinues() throws {
        let p = try IRParser.parse(Self.program())
        let chip = Chip(program: p, seed: 1)
        let data = EventDataset(channels: 2, timesteps: 4, samples: [Self.sample])
        let once = try Runner(chip: chip, engine: .fast, options: RunOptions(threads: 1)).run(data, file: "<test>")
        let learned = try XCTUnwrap(once.learned).learnedProgram(p)
        let text = IRPrinter.print(learned)
        XCTAssertTrue(text.contains("state realised"))
        XCTAssertTrue(text.contains("  writes 0: 1 0"))
        let back = try IRParser.parse(text)
        XCTAssertEqual(back, learned)
        try IRVerifier.verify(back)
        let twice = try Runner(chip: Chip(program: back, seed: 1), engine: .exact, options: RunOptions(threads: 1)).run(data, file: "<test>")
        XCTAssertEqual(twice.learned?.codes[0], [7, 0, 0, 0])
        XCTAssertEqual(twice.learned?.writes[0], [2, 0, 0, 0])
    }

    /// Verifier errors name the op and the rule broken.
    func testVerifierRefusesBadPlasticity() throws {
        let cases: [(String, String, String)] = [
            ("clip -8 8", "clip 1 8", "clip low: 1 out of range"),
            ("decay 2 shr 2 floor add 8 : u8[1]", "decay 4 shr 2 floor add 8 : u8[1]", "decay must be in 0..<2^shr"),
            ("pre_trace %x post_trace %y", "pre_trace %y post_trace %x", "pre_trace %y must be a trace of @in"),
            ("rows [0:@in[0:2]@0] cols 0 post", "rows [0:@in[0:2]@1] cols 0 post", "pre_trace %x must be a trace of @in with delay 1"),
            ("xbar-ir 3", "xbar-ir 2", "unknown op 'trace'"),
            ("write verify : i16[2]", "write open_loop : i16[2]", "write open_loop needs a one-signed clip range"),
        ]
        for (from, to, message) in cases {
            let text = Self.program().replacingOccurrences(of: from, with: to)
            XCTAssertThrowsError(try IRVerifier.verify(try IRParser.parse(text))) { e in
                XCTAssertTrue("\(e)".contains(message), "\(e) lacks \(message)")
            }
        }
    }
}
