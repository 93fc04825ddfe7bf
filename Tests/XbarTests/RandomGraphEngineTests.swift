import XCTest
import XbarCompiler
import XbarCore
@testable import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarTarget

/// Fast and exact engines agree on compiled random graphs x seeds, on an ideal-like tiny target (row and column
/// splits, 2 bit slices, a coarse ADC) and on the same target with every device effect on.
final class RandomGraphEngineTests: XCTestCase {
    func testFastEqualsExactOnRandomGraphs() throws {
        let tiny = try TargetLoader.parse(rtTinyTargetTOML, file: "tiny.toml")
        var noisyText = rtTinyTargetTOML
        noisyText += """

        [device]
        programming = "one_shot"
        sigma_preset = "neurram-wan2022"
        [device.read_noise]
        relative = 0.05
        abs_us = 0.1
        [device.faults]
        stuck_on_rate = 0.02
        stuck_off_rate = 0.02
        stuck_on_us = 10.0
        [device.drift]
        nu = 0.01
        t0_s = 1.0
        relax_relative = 0.02
        relax_abs_us = 0.05
        age_s = 100.0
        [device.adc_noise]
        offset_sigma_us = 0.3
        gain_sigma = 0.01
        noise_sigma_us = 0.3
        """
        let noisy = try TargetLoader.parse(noisyText, file: "tiny-noisy.toml")
        var cases = 0, spikes = 0, overflowRuns = 0
        var gi = 0
        while cases < 1000 {
            let g = RTGraphGenerator.make(gi, seed: 77)
            gi += 1
            // Keep the exact engine's share of the suite's time small: up to 16 neurons per population, 20 steps.
            guard g.populations.allSatisfy({ $0.kind == .input || $0.size <= 16 }), g.timesteps <= 20 else { continue }
            let target = gi % 2 == 0 ? tiny : noisy
            let seed = UInt64(gi % 5 + 1)
            let c = try Compiler.compile(g, target: target, options: CompileOptions(replicateMacros: true, seed: seed))
            let chip = try Chip(program: c.program, target: target, seed: seed)
            let channels = c.program.inputs.reduce(0) { $0 + $1.size }
            let rng = Philox(seed: UInt64(gi))
            let active: [[Int32]] = (0..<c.program.timesteps).map { t in
                (0..<channels).compactMap { ch in rng.uniform(purpose: 5, UInt32(t), UInt32(ch), 0) < 0.3 ? Int32(ch) : nil }
            }
            let raster = SpikeRaster(channels: channels, timesteps: c.program.timesteps, label: nil, active: active)
            let b = try InputBinding(program: c.program, channels: channels, file: "r")
            let f = FastEngine(chip: chip).run(raster, index: gi, binding: b)
            let (e, report) = ExactEngine(chip: chip).run(raster, index: gi, binding: b)
            XCTAssertEqual(f, e, "graph \(gi)")
            if f != e { break }
            spikes += Int(f.counters.spikes)
            if report.total > 0 { overflowRuns += 1 }
            cases += 1
        }
        XCTAssertEqual(cases, 1000)
        XCTAssertGreaterThan(spikes, 10_000)
    }
}
