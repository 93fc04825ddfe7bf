import XCTest
@testable import XbarCompiler
@testable import XbarEmulator
import XbarCore
import XbarEvents
import XbarGraph
import XbarIR
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

    /// A read with two row sources over the same input elements (each active element drives two rows of it): the fused
    /// path counts both rows, as executing the read does (driven rows, cell reads, code sums), and gives the same
    /// spikes.
    func testElementDrivingTwoRowsOfOneRead() throws {
        let text = """
        xbar-ir 1
        program "dup" target "ideal" timesteps 6

        input @in 3
        neuron @n 2 mem i32 sat decay 32768 shr 16 half_even threshold 3 gt reset zero refractory 0 u8 bias 0 count u16

        array %a macro 0 index 0 rows 8 cols 4 code u4 gunit_ns 1000.0 state programmed
          0: 3 0 1 2
          1: 0 2 4 0
          2: 5 1 0 3
          3: 1 1 1 1
          4: 2 0 0 7
          5: 0 3 2 0
          6: fill 0
          7: fill 0
        end

        step
          %r = read %a cols 0 rows [0:@in[0:3]@0, 3:@in[0:3]@0] cells_per_weight 2 vread_mv 200.0 tread_ns 10.0 : u8[4]
          %c = adc %r bits 24 lsb 1 offset 0 half_even : u24[4]
          %p = slice %c start 0 stride 2 : u24[2]
          %q = slice %c start 1 stride 2 : u24[2]
          %d = sub %p %q sat : i25[2]
          %s = lif @n %d : u1[2]
        end
        """
        let program = try IRParser.parse(text, file: "dup.xir")
        try IRVerifier.verify(program, file: "dup.xir")
        let chip = Chip(program: program, seed: 1)
        let fused = FastEngine(chip: chip), plain = FastEngine(chip: chip, state: ChipState(chip: chip), fuse: false)
        XCTAssertEqual(fused.fusedPopulations, 1)
        let binding = try InputBinding(program: program, channels: 3, file: "x")
        let s = SpikeRaster(channels: 3, timesteps: 6, label: nil, active: [[0, 2], [1], [0, 1, 2], [], [2], [0]])
        let a = fused.run(s, binding: binding), b = plain.run(s, binding: binding)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.counters, b.counters)
        // 8 active elements over the 6 steps, each driving 2 rows: 16 word-line activations of 4 cells.
        XCTAssertEqual(a.counters.wlActivations, 16)
        XCTAssertEqual(a.counters.cellReads, 64)
        XCTAssertGreaterThan(a.counters.spikes, 0)
    }
}
