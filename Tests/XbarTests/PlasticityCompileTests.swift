import XCTest
import XbarCompiler
import XbarCore
import XbarEvents
import XbarGraph
import XbarIR
import XbarLearn
import XbarTarget
@testable import XbarEmulator

/// Graphs with learning rules through the compiler (docs/compiler.md, section 9) and onto every engine: identical
/// weights, spikes and counters across engines and thread counts, with the ideal pulse and with a device model; and the
/// one-line errors of bad rules.
final class PlasticityCompileTests: XCTestCase {
    static func graph(plasticity: String = PlasticityCompileTests.rule, timesteps: Int = 12) -> String {
        """
        {"format": "neuroxbar-graph", "version": 1, "name": "stdp", "timesteps": \(timesteps),
         "populations": [{"name": "in", "kind": "input", "size": 24},
                         {"name": "exc", "kind": "lif", "size": 10, "decay": 0.9, "threshold": 1.5}],
         "projections": [
           {"name": "w_in", "from": "in", "to": "exc", "weights": {"kind": "random", "distribution": "uniform", "low": 0.0,
            "high": 1.0, "gain": 1.0, "density": 0.5, "seed": 3, "no_self": false}, "plasticity": \(plasticity)},
           {"name": "rec", "from": "exc", "to": "exc", "delay": 1, "weights": {"kind": "random", "distribution": "normal",
            "mean": 0.0, "std": 0.3, "gain": 1.0, "density": 0.5, "seed": 4, "no_self": true},
            "plasticity": {"rule": "stdp", "tau_pre": 4, "tau_post": 4, "a_plus": 0.05, "a_minus": 0.05, "bound": "soft",
                           "same_step": "exclude", "clip": [-1, 1], "every": 0}}]}
        """
    }

    static let rule = #"{"rule": "stdp", "tau_pre": 5, "tau_post": 5, "a_plus": 0.04, "a_minus": 0.045, "clip": [0, 1], "every": 3, "max_pulses": 4}"#

    static func data(samples: Int, timesteps: Int = 12) -> EventDataset {
        var rng = Philox(seed: 11)
        let s = (0..<samples).map { k in
            SpikeRaster(channels: 24, timesteps: timesteps, active: (0..<timesteps).map { t in
                (0..<24).filter { rng.uniform(purpose: 99, UInt32(k), UInt32(t), UInt32($0)) < 0.25 }.map(Int32.init)
            })
        }
        _ = rng
        return EventDataset(channels: 24, timesteps: timesteps, samples: s)
    }

    func compile(_ text: String, target: String, set: [String] = []) throws -> Program {
        let g = try GraphJSON.parse(Data(text.utf8), file: "g.json")
        let t = try TargetOverride.load(Repo.path("targets/\(target).toml"), assignments: set)
        return try Compiler.compile(g, target: t, file: "g.json").program
    }

    /// Learned cells, per-sample results and counters agree across fast, exact and cycle, with 1 and 2 threads.
    func checkEngines(_ p: Program, chip: Chip, samples: Int = 3, line: UInt = #line) throws -> Runner.Outcome {
        let data = Self.data(samples: samples)
        var first: Runner.Outcome? = nil
        for kind in [EngineKind.fast, .exact, .cycle] {
            for threads in [1, 2] {
                let out = try Runner(chip: chip, engine: kind, options: RunOptions(threads: threads)).run(data, file: "<test>")
                guard let f = first else { first = out; continue }
                XCTAssertEqual(out.samples, f.samples, "\(kind) x \(threads) threads: results", line: line)
                XCTAssertEqual(out.learned?.codes, f.learned?.codes, "\(kind) x \(threads) threads: cells", line: line)
                XCTAssertEqual(out.learned?.writes, f.learned?.writes, "\(kind) x \(threads) threads: wear", line: line)
            }
        }
        return first!
    }

    func testIdealPulsesAgreeOnEveryEngine() throws {
        let p = try compile(Self.graph(), target: "ideal", set: ["mapping.slices=1"])
        XCTAssertEqual(p.version, 3)
        XCTAssertEqual(p.step.filter { $0.kind.mnemonic == "stdp" }.count, 2)
        XCTAssertEqual(p.step.filter { $0.kind.mnemonic == "trace" }.map(\.result), ["exc.trace0", "in.trace0", "exc.trace0.2", "exc.trace1"])
        let out = try checkEngines(p, chip: Chip(program: p, seed: 1))
        let l = out.totals.learning
        XCTAssertGreaterThan(l.setPulses, 0)
        XCTAssertGreaterThan(l.resetPulses, 0)
        XCTAssertNotEqual(out.learned?.codes, p.arrays.map(\.codes), "the run wrote cells")
        // Ideal pulses move one level (1 uS = 1 code on `ideal`) within [0, 15]; w_in's clip [0, 1] keeps G- at 0.
        for (a, codes) in zip(p.arrays, out.learned!.codes) { XCTAssertTrue(codes.allSatisfy { $0 >= 0 && $0 <= 15 }, a.name) }
    }

    func testDeviceModelPulsesAgreeOnEveryEngine() throws {
        let p = try compile(Self.graph(), target: "rram-plastic-130nm")
        let t = try Repo.target("rram-plastic-130nm")
        let out = try checkEngines(p, chip: try Chip(program: p, target: t, seed: 5))
        XCTAssertGreaterThan(out.totals.learning.pulses, 0)
        // Another chip seed draws other devices: other cells.
        let other = try Runner(chip: try Chip(program: p, target: t, seed: 6), engine: .fast, options: RunOptions(threads: 1))
            .run(Self.data(samples: 3), file: "<test>")
        XCTAssertNotEqual(other.learned?.codes, out.learned?.codes)
    }

    /// NALSM-style astrocyte (a modulator of the liquid's and the input's spikes setting a_minus), a three-factor
    /// rule with a gate on the recurrence, and homeostasis, through the compiler onto every engine.
    static let modulated: String = {
        let astro = #"{"rule": "stdp", "tau_pre": 5, "tau_post": 5, "a_plus": 0.04, "a_minus": 1.0, "modulator": "astro", "modulates": "a_minus", "same_step": "exclude", "clip": [0, 1], "every": 2}"#
        var g = graph(plasticity: astro)
        g = g.replacingOccurrences(of: #""plasticity": {"rule": "stdp", "tau_pre": 4, "tau_post": 4, "a_plus": 0.05, "a_minus": 0.05, "bound": "soft","#,
                                   with: #""plasticity": {"rule": "homeostasis", "tau_rate": 8, "target_rate": 0.1, "eta": 0.02, "bound": "soft","#)
        g = g.replacingOccurrences(of: #""same_step": "exclude", "clip": [-1, 1], "every": 0}"#, with: #""clip": [-1, 1], "every": 4}"#)
        let mods = #""modulators": [{"name": "astro", "tau": 10, "sources": [{"from": "exc", "weight": 0.01}, {"from": "in", "weight": -0.002}], "bias": 0.05, "init": 0.05}],"#
        return g.replacingOccurrences(of: #""projections": ["#, with: mods + #" "projections": ["#)
    }()

    func testModulatorAndHomeostasisAgreeOnEveryEngine() throws {
        let p = try compile(Self.modulated, target: "ideal", set: ["mapping.slices=1"])
        XCTAssertEqual(p.step.filter { $0.kind.writesCells }.map(\.kind.mnemonic), ["stdp", "homeostasis"])
        guard case let .modulator(m) = try XCTUnwrap(p.step.first { $0.kind.mnemonic == "modulator" }).kind else { return XCTFail() }
        // A += (0.01 x exc spikes - 0.002 x input spikes + 0.05 - A) / 10, in units of 2^-24.
        XCTAssertEqual(m.sources.map(\.weight), [16777, -3355])
        XCTAssertEqual([m.bias, m.initial, m.decayMul, Int64(m.decayShift)], [83886, 838861, 58982, 16])
        let out = try checkEngines(p, chip: Chip(program: p, seed: 1))
        XCTAssertGreaterThan(out.totals.learning.modulatorUpdates, 0)
        XCTAssertGreaterThan(out.totals.learning.homeostasisUpdates, 0)
        XCTAssertGreaterThan(out.totals.learning.pulses, 0)
        // The graph writes back with its modulators and rules.
        let g = try GraphJSON.parse(Data(Self.modulated.utf8), file: "g.json")
        XCTAssertEqual(try GraphJSON.parse(Data(GraphWriter.json(g).utf8), file: "w.json"), g)
    }

    /// Two projections of one (source, delay) with different rules on disjoint rows (NALSM's excitatory and inhibitory
    /// rows): one stdp op per row run, each with its own amplitudes; a row with weights of both is refused.
    func testRulesPerRowRun() throws {
        func sparse(_ rows: Range<Int>, _ w: Double) -> String {
            "[" + rows.map { "[\($0), \($0 % 10), \(w)], [\($0), \(($0 + 3) % 10), \(w)]" }.joined(separator: ", ") + "]"
        }
        let ruleE = #"{"rule": "stdp", "tau_pre": 5, "tau_post": 5, "a_plus": 0.05, "a_minus": 0.05, "clip": [0, 1]}"#
        let ruleI = #"{"rule": "stdp", "tau_pre": 5, "tau_post": 5, "a_plus": -0.05, "a_minus": -0.05, "clip": [-1, 0]}"#
        func graph(_ e: Range<Int>, _ i: Range<Int>) -> String {
            """
            {"format": "neuroxbar-graph", "version": 1, "name": "ei", "timesteps": 12,
             "populations": [{"name": "in", "kind": "input", "size": 24}, {"name": "exc", "kind": "lif", "size": 10, "decay": 0.9, "threshold": 1.5}],
             "projections": [
               {"name": "e", "from": "in", "to": "exc", "weights": {"kind": "sparse", "entries": \(sparse(e, 0.8))}, "plasticity": \(ruleE)},
               {"name": "i", "from": "in", "to": "exc", "weights": {"kind": "sparse", "entries": \(sparse(i, -0.4))}, "plasticity": \(ruleI)}]}
            """
        }
        let p = try compile(graph(0..<16, 16..<24), target: "ideal", set: ["mapping.slices=1"])
        let rules = p.step.compactMap { op -> STDPRule? in if case let .stdp(r) = op.kind { return r } else { return nil } }
        XCTAssertEqual(rules.map { [$0.row.rowStart, $0.row.count] }, [[0, 16], [16, 8]])
        XCTAssertEqual(rules.map { $0.aPlus.signum() }, [1, -1])
        XCTAssertEqual(rules[1].synapses?.count, 16)
        _ = try checkEngines(p, chip: Chip(program: p, seed: 1))
        XCTAssertThrowsError(try compile(graph(0..<16, 15..<24), target: "ideal", set: ["mapping.slices=1"])) { e in
            XCTAssertTrue("\(e)".contains("projections.i.plasticity: source row 15 of (from in, delay 0) has weights of projection e with a different learning rule"), "\(e)")
        }
    }

    func testBadRulesAreOneLineErrors() throws {
        let cases: [(String, String)] = [
            (#"{"rule": "stdp", "tau_pre": -5, "tau_post": 5, "a_plus": 0.1, "a_minus": 0.1, "clip": [0, 1]}"#,
             "projections[0].plasticity.tau_pre: time constant must be > 0 steps"),
            (#"{"rule": "stdp", "tau_pre": 5, "tau_post": 5, "a_plus": 0.1, "a_minus": 0.1, "clip": [0.5, 1]}"#,
             "projections[0].plasticity.clip: clip range [0.5, 1.0] must contain 0"),
            (#"{"rule": "stdp", "tau_pre": 5, "tau_post": 5, "a_plus": 2e6, "a_minus": 0.1, "clip": [0, 1]}"#,
             "projections[0].plasticity.a_plus: 2000000.0 out of range"),
            (#"{"rule": "stdp", "tau_pre": 5, "tau_post": 5, "a_plus": 0.1, "a_minus": 0.1, "clip": [0, 1], "modulator": "astro"}"#,
             "projections[0].plasticity.modulator: no modulator \"astro\""),
            (#"{"rule": "homeostasis", "tau_rate": 5, "target_rate": [0.1, 0.2], "eta": 0.1, "clip": [0, 1]}"#,
             "projections[0].plasticity.target_rate: expected one rate or 10 (one per neuron), found 2"),
            (#"{"rule": "hebb", "tau_pre": 5, "tau_post": 5, "a_plus": 0.1, "a_minus": 0.1, "clip": [0, 1]}"#,
             "projections[0].plasticity.rule: expected one of \"stdp\""),
            (#"{"rule": "stdp", "tau_pre": 5, "tau_post": 5, "a_plus": 0.1, "a_minus": 0.1, "clip": [0, 1], "gain": 2}"#,
             "projections[0].plasticity"),
        ]
        for (rule, message) in cases {
            XCTAssertThrowsError(try compile(Self.graph(plasticity: rule), target: "ideal", set: ["mapping.slices=1"])) { e in
                XCTAssertTrue("\(e)".contains(message), "\(e)\n  lacks: \(message)")
                XCTAssertFalse("\(e)".contains("\n"))
            }
        }
        let noSource = Self.modulated.replacingOccurrences(of: #""sources": [{"from": "exc", "weight": 0.01}, {"from": "in", "weight": -0.002}]"#, with: #""sources": []"#)
        XCTAssertThrowsError(try compile(noSource, target: "ideal", set: ["mapping.slices=1"])) { e in
            XCTAssertTrue("\(e)".contains("modulators[0].sources: a modulator needs at least one source"), "\(e)")
        }
        let targets: [(String, [String], String)] = [
            ("ideal", [], "projections.w_in.plasticity: the target cannot write this projection: on-chip learning needs one differential pair per weight, ideal uses mapping.slices = 2"),
            ("rram-40nm-256kb", ["mapping.slices=1"], "projections.w_in.plasticity: the target cannot write this projection: rram-40nm-256kb holds electroformed cells"),
        ]
        for (t, set, message) in targets {
            // Zero-mean weights, which a forming target accepts as random projections.
            let g = Self.graph().replacingOccurrences(of: #""low": 0.0"#, with: #""low": -1.0"#)
            XCTAssertThrowsError(try compile(g, target: t, set: set)) { e in
                XCTAssertTrue("\(e)".contains(message), "\(e)\n  lacks: \(message)")
            }
        }
    }
}

/// The software twin of the rules (FloatPlasticity) against a hand computation.
final class FloatPlasticityTests: XCTestCase {
    /// One input -> one neuron (w 1.0 > threshold 0.5, no decay), traces halving per step, update every 2 steps:
    /// t0: x = y = 1: acc = 0.1 x 1 - 0.05 x 1 = 0.05; t1: x = y = 1.5: acc += 0.15 - 0.075 -> 0.125; update: w = 1.125.
    /// A second sample repeats it from w = 1.125: 1.25. Soft bounds scale the gain by (2 - w) / 2: 1 + 0.125 x 0.5.
    func testSTDPHandTrace() throws {
        func graph(_ bound: String) -> String {
            """
            {"format": "neuroxbar-graph", "version": 1, "name": "f", "timesteps": 4,
             "populations": [{"name": "in", "kind": "input", "size": 1}, {"name": "out", "kind": "lif", "size": 1, "decay": 0, "threshold": 0.5}],
             "projections": [{"from": "in", "to": "out", "weights": {"kind": "dense", "values": [[1.0]]},
               "plasticity": {"rule": "stdp", "tau_pre": \(1 / log(2.0)), "tau_post": \(1 / log(2.0)), "a_plus": 0.1, "a_minus": 0.05,
                              "bound": "\(bound)", "clip": [0, 2], "every": 2}}]}
            """
        }
        let sample = SpikeRaster(channels: 1, timesteps: 4, active: [[0], [0], [], []])
        for (bound, expected) in [("additive", [1.125, 1.25]), ("soft", [1.0625, 1.0625 + 0.125 * (2 - 1.0625) / 2])] {
            let g = try GraphJSON.parse(Data(graph(bound).utf8), file: "f.json")
            let net = try FloatNetwork(graph: g)
            let learner = FloatPlasticity(graph: g, network: net)
            var got: [Double] = []
            for _ in 0..<2 {
                _ = net.simulate(sample, plasticity: learner)
                got.append(learner.learned(net).incoming[0][0].weights[0])
            }
            XCTAssertEqual(got[0], expected[0], accuracy: 1e-12, bound)
            XCTAssertEqual(got[1], expected[1], accuracy: 1e-12, bound)
        }
    }
}
