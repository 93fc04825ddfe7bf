import XCTest
import XbarEvents
import XbarIR
@testable import XbarEmulator

/// Where the op results of a step live in a sample's value buffer (`ValueLayout`): reused slots for the fast engine,
/// one slot per op for the cycle engine.
final class ValueLayoutTests: XCTestCase {
    /// The plasticity hand-trace program: read (2) -> slice, slice (1, 1) -> sub (1) -> lif (1), then two traces
    /// (2, 1) and an stdp (2) that carry state across steps.
    ///
    /// Reused, by hand (a free list per length, last freed first; freed after the op that last reads the value):
    /// %r 0 (new, total 2); %pos 2 (new, 3); %neg 3 (new, 4), then %r's [0, 2) is free; %d 4 (new, 5), then %pos and
    /// %neg free {2, 3}; %out.spk takes 3, then %d frees 4; the state results never take a freed slot: %x 5, %y 7,
    /// %e 8; total 10 (per op: 11).
    func testSlotsByHand() throws {
        let p = try IRParser.parse(PlasticityTests.program())
        let perOp = ExecutableProgram(p, values: .perOp)
        XCTAssertEqual(perOp.offset, [0, 2, 3, 4, 5, 6, 8, 9])
        XCTAssertEqual(perOp.valueCount, 11)
        let reused = ExecutableProgram(p, values: .reused)
        XCTAssertEqual(reused.offset, [0, 2, 3, 4, 3, 5, 7, 8])
        XCTAssertEqual(reused.valueCount, 10)
        XCTAssertEqual(reused.length, perOp.length)
    }

    /// A chain of column tiles accumulating into one sum per tile (the shape the compiler emits row tile after row
    /// tile): its buffer stays at the few values live at once however many tiles it has, and the fast engine (reused
    /// slots) gives the cycle engine's (one slot per op) spikes and counters.
    func testLongChainReusesAFewSlots() throws {
        let tiles = 40
        var arrays = "", ops = ""
        for t in 0..<tiles {
            arrays += "array %A\(t) macro 0 index \(t) rows 2 cols 2 code u4 gunit_ns 1000 state programmed\n  0: 3 0\n  1: 0 1\nend\n"
            ops += "  %r\(t) = read %A\(t) cols 0 rows [0:@in[0:2]@0] cells_per_weight 2 vread_mv 100 tread_ns 10 : u5[2]\n"
            ops += "  %p\(t) = slice %r\(t) start 0 stride 2 : u5[1]\n"
            ops += "  %n\(t) = slice %r\(t) start 1 stride 2 : u5[1]\n"
            ops += "  %d\(t) = sub %p\(t) %n\(t) sat : i6[1]\n"
            ops += t == 0 ? "  %s0 = add %d0 %d0 sat : i16[1]\n" : "  %s\(t) = add %s\(t - 1) %d\(t) sat : i16[1]\n"
        }
        let text = """
        xbar-ir 1
        program "chain" target "ideal" timesteps 3
        input @in 2
        neuron @out 1 mem i16 sat decay 0 shr 0 floor threshold 50 ge reset zero refractory 0 u1 bias 0 count u8
        \(arrays)step
        \(ops)  %out.spk = lif @out %s\(tiles - 1) : u1[1]
        end
        """
        let p = try IRParser.parse(text)
        try IRVerifier.verify(p)
        XCTAssertEqual(ExecutableProgram(p, values: .perOp).valueCount, tiles * 6 + 1)
        // The read (2) is dead once both slices are taken; then at most four 1-element values are live at once
        // (the previous sum, the two slices, the difference; the new sum takes a slice's slot): 2 + 4.
        XCTAssertEqual(ExecutableProgram(p, values: .reused).valueCount, 6)
        let chip = Chip(program: p, seed: 1)
        let sample = SpikeRaster(channels: 2, timesteps: 3, active: [[0], [0, 1], [0]])
        let binding = try InputBinding(program: p, channels: 2, file: "<test>")
        let fast = FastEngine(chip: chip, state: ChipState(chip: chip), fuse: false).run(sample, binding: binding, trace: true)
        let cycle = CycleEngine(chip: chip).run(sample, index: 0, binding: binding, trace: true).0
        // Every tile adds 3 per step in[0] spikes (the first tile twice): 41 x 3 = 123 > 50 at step 0.
        XCTAssertEqual(fast.spikes["out"]?.map(\.step), [0, 1, 2])
        XCTAssertEqual(fast, cycle)
    }
}
