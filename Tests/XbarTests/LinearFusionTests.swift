import XCTest
@testable import XbarCompiler
@testable import XbarEmulator
import XbarCore
import XbarEvents
import XbarGraph
import XbarTarget

/// Fused projections (LinearFusion): where the chain from the reads to a lif is proven exact, the fast engine's
/// fused path gives the same results, counters and cycles as running every op; where it is not, nothing is fused.
final class LinearFusionTests: XCTestCase {
    func raster(channels: Int, timesteps: Int, samples: Int, rate: Double, seed: UInt64) -> [SpikeRaster] {
        let rng = Philox(seed: seed)
        return (0..<samples).map { s in
            SpikeRaster(channels: channels, timesteps: timesteps, label: nil, active: (0..<timesteps).map { t in
                (0..<channels).filter { rng.uniform(purpose: 4, UInt32(s), UInt32($0), UInt32(t)) < rate }.map(Int32.init)
            })
        }
    }

    func testFusedEqualsUnfusedOnNALSMAcrossTiles() throws {
        var o = LSMBuilder.NALSMOptions()
        o.inputs = 600
        o.neurons = 216
        o.timesteps = 12
        let c = try Compiler.compile(LSMBuilder.nalsm(o), target: try Repo.target("ideal"), options: CompileOptions(replicateMacros: true))
        XCTAssertGreaterThan(c.program.arrays.count, 2, "the test needs row and column tiles")
        let chip = Chip(program: c.program, seed: 1)
        let fused = FastEngine(chip: chip), plain = FastEngine(chip: chip, state: ChipState(chip: chip), fuse: false)
        XCTAssertEqual(fused.fusedPopulations, 1)
        XCTAssertEqual(plain.fusedPopulations, 0)
        let binding = try InputBinding(program: c.program, channels: 600, file: "x")
        var spikes: Int64 = 0
        for (i, s) in raster(channels: 600, timesteps: 12, samples: 6, rate: 0.05, seed: 3).enumerated() {
            let a = fused.run(s, index: i, binding: binding, trace: true)
            let b = plain.run(s, index: i, binding: binding, trace: true)
            XCTAssertEqual(a, b, "sample \(i)")
            XCTAssertEqual(a.counters, b.counters)
            spikes += a.counters.spikes
        }
        XCTAssertGreaterThan(spikes, 0, "the comparison needs activity")
    }

    func testNothingFusedWhereTheADCCanClampOrReadsAreNoisy() throws {
        // The paper LSM on the 40 nm macro: 10-bit ADC, a column of 456 rows can exceed its range -> not provably linear.
        var t = try Repo.target("rram-40nm-256kb")
        t.device = .ideal
        let c = try Compiler.compile(LSMBuilder.paper(.init()), target: t)
        XCTAssertEqual(FastEngine(chip: Chip(program: c.program, seed: 1)).fusedPopulations, 0)
        // The same graph on the ideal target (24-bit ADC, LSB one level): fused; with read noise: not fused.
        let ci = try Compiler.compile(LSMBuilder.paper(.init()), target: try Repo.target("ideal"))
        XCTAssertEqual(FastEngine(chip: Chip(program: ci.program, seed: 1)).fusedPopulations, 1)
        let noisy = try Compiler.compile(LSMBuilder.paper(.init()), target: try Repo.target("rram-40nm-256kb"))
        XCTAssertEqual(FastEngine(chip: try Chip(program: noisy.program, target: try Repo.target("rram-40nm-256kb"), seed: 1)).fusedPopulations, 0)
    }
}
