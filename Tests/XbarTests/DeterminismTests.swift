import Foundation
import XCTest
@testable import XbarCompiler
@testable import XbarEmulator
import XbarEvents
import XbarDevice
import XbarGraph
import XbarTarget

/// Same seed -> byte-identical results whatever the engine or thread count; the CLI's JSON is stable.
final class DeterminismTests: XCTestCase {
    func bundled(_ targetName: String) throws -> (Compiled, EventDataset) {
        let g = try GraphJSON.load(Repo.path("examples/lsm-paper/lsm-paper.json"))
        let c = try Compiler.compile(g, target: try Repo.target(targetName), options: CompileOptions(replicateMacros: true))
        var d = try EventFile.read(Repo.path("examples/digits/digits-test.xev"))
        d.samples = Array(d.samples.prefix(12))
        return (c, d)
    }

    func testFastEqualsExactOnBundledExample() throws {
        for t in ["rram-40nm-256kb", "ideal", "neurram-130nm"] {
            let (c, d) = try bundled(t)
            let chip = Chip(program: c.program, seed: 3)
            let binding = try InputBinding(program: c.program, channels: d.channels, file: "x")
            let fast = FastEngine(chip: chip), exact = ExactEngine(chip: chip)
            var spikes = 0
            for s in d.samples {
                let a = fast.run(s, binding: binding, trace: true)
                let (b, _) = exact.run(s, binding: binding, trace: true)
                XCTAssertEqual(a, b, "target \(t)")
                spikes += a.spikes.values.reduce(0) { $0 + $1.count }
            }
            XCTAssertGreaterThan(spikes, 1000, "the example must actually spike on \(t)")
        }
    }

    /// `traceSamples` keeps the traces of the chosen samples only, equal to a run tracing everything, on every engine
    /// and batch size; nothing else in the results changes.
    func testTracesOfChosenSamplesOnly() throws {
        let (c, d) = try bundled("rram-40nm-256kb")
        let chip = Chip(program: c.program, seed: 1)
        let all = try Runner(chip: chip, engine: .fast, options: RunOptions(threads: 2, trace: true)).run(d, file: "x")
        XCTAssertFalse(all.samples[3].traces.isEmpty)
        for (engine, batch) in [(EngineKind.fast, 8), (.fast, 1), (.exact, 8), (.cycle, 8)] {
            let some = try Runner(chip: chip, engine: engine,
                                  options: RunOptions(threads: 2, trace: true, traceSamples: [3, 10], batch: batch)).run(d, file: "x")
            for i in d.samples.indices {
                XCTAssertEqual(some.samples[i].traces, [3, 10].contains(i) ? all.samples[i].traces : [:], "\(engine) sample \(i)")
                var stripped = all.samples[i]
                stripped.traces = some.samples[i].traces
                XCTAssertEqual(some.samples[i], stripped, "\(engine) sample \(i)")
            }
        }
    }

    func testThreadCountDoesNotChangeResults() throws {
        let (c, d) = try bundled("rram-40nm-256kb")
        let chip = Chip(program: c.program, seed: 1)
        let r1 = try Runner(chip: chip, engine: .fast, options: RunOptions(threads: 1)).run(d, file: "x")
        for th in [2, 8] {
            let r = try Runner(chip: chip, engine: .fast, options: RunOptions(threads: th)).run(d, file: "x")
            XCTAssertEqual(r.samples, r1.samples)
            XCTAssertEqual(r.totals, r1.totals)
        }
        let rx = try Runner(chip: chip, engine: .exact, options: RunOptions(threads: 2)).run(d, file: "x")
        XCTAssertEqual(rx.samples, r1.samples)
        // A single sample runs the OpenMP kernel multi-threaded: still identical.
        var one = d
        one.samples = [d.samples[0]]
        let k1 = try Runner(chip: chip, engine: .fast, options: RunOptions(threads: 1)).run(one, file: "x")
        let k8 = try Runner(chip: chip, engine: .fast, options: RunOptions(threads: 8)).run(one, file: "x")
        XCTAssertEqual(k1.samples, k8.samples)
        XCTAssertEqual(k1.samples[0], r1.samples[0])
    }

    static func dropTiming(_ s: String) -> String {
        guard let r = s.range(of: "\"timing\"") else { return s }
        return String(s[..<r.lowerBound])
    }

    func testCLIJSONIsByteIdenticalAcrossThreadsAndEngines() throws {
        let args = ["emulate", "examples/lsm-paper/lsm-paper.json", "--samples", "6", "--json"]
        let (s1, o1, e1) = try Repo.run(args + ["--threads", "1"])
        XCTAssertEqual(s1, 0, e1)
        XCTAssertTrue(o1.contains("\"timing\""))
        let (_, o2, _) = try Repo.run(args + ["--threads", "2"])
        let (_, o8, _) = try Repo.run(args, env: ["OMP_NUM_THREADS": "8"])
        let (_, ox, _) = try Repo.run(args + ["--engine", "exact", "--threads", "2"])
        XCTAssertEqual(Self.dropTiming(o1), Self.dropTiming(o2))
        XCTAssertEqual(Self.dropTiming(o1), Self.dropTiming(o8))
        // The exact report adds only its overflow count.
        XCTAssertEqual(Self.dropTiming(o1).replacingOccurrences(of: "\"engine\": \"fast\"", with: "\"engine\": \"exact\""),
                       Self.dropTiming(ox).replacingOccurrences(of: "  \"overflow_events\": 0,\n", with: ""))
        let json = try JSONSerialization.jsonObject(with: Data(o1.utf8)) as! [String: Any]
        XCTAssertEqual(json["samples"] as? Int, 6)
        let counters = json["counters"] as! [String: Any]
        XCTAssertEqual(counters["timesteps"] as? Int, 300)
        XCTAssertEqual(counters["neuron_updates"] as? Int, 6 * 50 * 200)
        XCTAssertEqual(counters["adc_conversions"] as? [String: Int], ["10_bit": 6 * (50 * 800 - 400)])
    }
}

/// Every device effect on: still byte-identical across engines and thread counts.
final class NoisyDeterminismTests: XCTestCase {
    /// The ideal target with every device effect switched on (one-shot programming with a published sigma(G)).
    static func noisyTarget() throws -> Target {
        var text = try String(contentsOfFile: Repo.path("targets/ideal.toml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "g_unit_ns = 1000.0", with: "g_unit_ns = 10.0")
        text = text.replacingOccurrences(of: "lsb_us = 1.0", with: "lsb_us = 0.5")
        text = text.replacingOccurrences(of: "bits = 24", with: "bits = 12")
        text += """

        [device]
        programming = "one_shot"
        sigma_preset = "neurram-wan2022"
        [device.read_noise]
        relative = 0.05
        abs_us = 0.2
        [device.faults]
        stuck_on_rate = 0.01
        stuck_off_rate = 0.01
        stuck_on_us = 15.0
        [device.drift]
        nu = 0.01
        t0_s = 1.0
        relax_relative = 0.02
        relax_abs_us = 0.1
        age_s = 1000.0
        [device.ir_drop]
        wire_ohm_per_cell = 2.0
        [device.adc_noise]
        offset_sigma_us = 0.5
        gain_sigma = 0.01
        noise_sigma_us = 0.5
        """
        return try TargetLoader.parse(text, file: "noisy.toml")
    }

    func check(_ t: Target, samples: Int) throws {
        let g = try GraphJSON.load(Repo.path("examples/lsm-paper/lsm-paper.json"))
        let c = try Compiler.compile(g, target: t, options: CompileOptions(replicateMacros: true, seed: 5))
        var d = try EventFile.read(Repo.path("examples/digits/digits-test.xev"))
        d.samples = Array(d.samples.prefix(samples))
        let chip = try Chip(program: c.program, target: t, seed: 5)
        let ideal = Chip(program: c.program, seed: 5)
        let r1 = try Runner(chip: chip, engine: .fast, options: RunOptions(threads: 1)).run(d, file: "x")
        for th in [2, 8] {
            XCTAssertEqual(try Runner(chip: chip, engine: .fast, options: RunOptions(threads: th)).run(d, file: "x").samples, r1.samples)
        }
        XCTAssertEqual(try Runner(chip: chip, engine: .exact, options: RunOptions(threads: 2)).run(d, file: "x").samples, r1.samples)
        // A rebuilt chip with the same seed is the same chip; another seed is another chip.
        let again = try Chip(program: c.program, target: t, seed: 5)
        XCTAssertEqual(again.codes, chip.codes)
        XCTAssertEqual(try Runner(chip: again, engine: .fast, options: RunOptions(threads: 2)).run(d, file: "x").samples, r1.samples)
        let other = try Chip(program: c.program, target: t, seed: 6)
        XCTAssertNotEqual(other.codes, chip.codes)
        // The noise really acts: spikes differ from the ideal chip's.
        let ri = try Runner(chip: ideal, engine: .fast, options: RunOptions(threads: 2)).run(d, file: "x")
        XCTAssertNotEqual(ri.samples.map { $0.spikes }, r1.samples.map { $0.spikes })
        XCTAssertEqual(ri.totals.neuronUpdates, r1.totals.neuronUpdates)
    }

    func testEveryNoiseSourceOnIsDeterministic() throws {
        let t = try Self.noisyTarget()
        XCTAssertFalse(t.device.isIdeal)
        try check(t, samples: 6)
    }

    func testSigmaPresetNamesMatchPublishedFits() {
        XCTAssertEqual(Set(SigmaSpec.knownPresets), Set(["none", "custom"] + PublishedFits.coefficients.keys))
    }

    func testFormedChipIsDeterministic() throws {
        try check(try Repo.target("rram-40nm-256kb"), samples: 6)
    }
}
