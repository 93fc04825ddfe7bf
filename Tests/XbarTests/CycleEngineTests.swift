import XCTest
import XbarCompiler
import XbarCore
@testable import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarTarget

/// The cycle engine steps the machine of docs/timing.md; its results, counters and cycle counts equal the fast
/// engine's (which computes cycles in closed form), and small cases match hand-counted cycles.
final class CycleEngineTests: XCTestCase {
    /// A 1-step program: inputs @in[2] drive a 2x8 array; 8 columns = 4 neurons x (G+, G-); adc, diff, lif.
    static func handProgram(threshold: Int64 = 1) -> Program {
        var codes = [Int32](repeating: 0, count: 16)
        for c in stride(from: 0, to: 8, by: 2) { codes[c] = 5; codes[8 + c] = 5 }  // every G+ = 5, G- = 0
        let n = NeuronDecl(name: "n", size: 4, memType: .i(16), memOverflow: .sat, decayMul: 0, decayShift: 0,
                           decayRounding: .floor, threshold: threshold, compare: .ge, reset: .zero, refractory: 0, bias: 0,
                           refractoryType: .u(1), countType: .u(8))
        let ops = [
            Op(result: "r", type: .u(8), length: 8, kind: .read(array: "a", rows: [RowSource(rowStart: 0, source: "in", srcStart: 0, count: 2, delay: 0)],
                                                                colStart: 0, cellsPerWeight: 2, vReadMV: 100, tReadNS: 10)),
            Op(result: "c", type: .u(4), length: 8, kind: .adc(operand: "r", bits: 4, lsb: 1, offset: 0, rounding: .floor)),
            Op(result: "p", type: .u(4), length: 4, kind: .slice(operand: "c", start: 0, stride: 2)),
            Op(result: "m", type: .u(4), length: 4, kind: .slice(operand: "c", start: 1, stride: 2)),
            Op(result: "d", type: .i(6), length: 4, kind: .sub(a: "p", b: "m", overflow: .sat)),
            Op(result: "s", type: .u(1), length: 4, kind: .lif(population: "n", input: "d")),
        ]
        return Program(name: "hand", target: "t", timesteps: 1, inputs: [InputDecl(name: "in", size: 2)], neurons: [n],
                       arrays: [ArrayDecl(name: "a", macro: 0, index: 0, rows: 2, cols: 8, gUnitNS: 1000, codeType: .u(4), codes: codes)],
                       readouts: [], step: ops)
    }

    static func spec(colsPerADC: Int, queue: Int, perCycle: Int) -> TimingSpec {
        TimingSpec(maxRowsDriven: 512, colsPerADC: colsPerADC, adcKind: .sar, adcCyclesPerBit: 1, adcOverheadCycles: 1,
                   settleCycles: 2, integrateCycles: 1, digitalLanes: 2, neuronUnits: 2, neuronPipeline: 2, routerQueue: queue,
                   routerSpikesPerCycle: perCycle, readoutMACs: 4)
    }

    func cycles(_ p: Program, _ spec: TimingSpec, drive: [Int32]) throws -> (fast: Int64, cycle: Int64, signals: [CycleSignal]) {
        try IRVerifier.verify(p)
        let chip = Chip(program: p, seed: 1, timing: spec)
        let raster = SpikeRaster(channels: 2, timesteps: 1, label: nil, active: [drive])
        let b = try InputBinding(program: p, channels: 2, file: "t")
        let f = FastEngine(chip: chip).run(raster, binding: b, trace: true)
        let (c, sig) = CycleEngine(chip: chip).run(raster, binding: b, trace: true, signals: true)
        XCTAssertEqual(f, c)
        return (f.counters.cycles, c.counters.cycles, sig)
    }

    func testHandCountedMultiplexedADCAndStalledRouter() throws {
        // read: settle 2 + integrate 1 = cycles 0-2; adc: 8 columns on 2 ADCs (4 columns each) = 4 rounds of
        // (4 bits x 1 + 1) = 20 cycles, 3-22; slices at 23; sub: 4 elements / 2 lanes = 23-24; lif from 25:
        // group 0 (neurons 0,1) leaves the 2-stage pipeline at 26 with 2 spikes (queue 2/2); group 1 is ready at 27
        // but the queue holds 1 after one delivery: stalled; at 28 the queue is empty: it leaves (2/2); deliveries at
        // 29 and 30; the step ends at cycle 31.
        let r = try cycles(Self.handProgram(), Self.spec(colsPerADC: 4, queue: 2, perCycle: 1), drive: [0, 1])
        XCTAssertEqual(r.fast, 31)
        XCTAssertEqual(r.cycle, 31)
        let exits = r.signals.filter { $0.kind == .spike(population: 0) }.map { [$0.cycle, Int64($0.index)] }
        XCTAssertEqual(exits, [[26, 0], [26, 1], [28, 2], [28, 3]])
        let adcTimes = Set(r.signals.filter { $0.name(in: Self.handProgram()) == "adc.c" }.map { $0.cycle })
        XCTAssertEqual(adcTimes, [7, 12, 17, 22])  // one column per ADC per round
        // A deep queue removes the stall: group 1 leaves at 27 (queue 1 + 2 = 3); deliveries at 27..30 (one per
        // cycle from 27 on): the step still ends at 31, but the exits move.
        let deep = try cycles(Self.handProgram(), Self.spec(colsPerADC: 4, queue: 8, perCycle: 1), drive: [0, 1])
        XCTAssertEqual(deep.fast, 31)
        XCTAssertEqual(deep.signals.filter { $0.kind == .spike(population: 0) }.map { $0.cycle }, [26, 26, 27, 27])
        // One column per ADC: a single conversion round (5 cycles): adc 3-7, sub 8-9, lif 10: exits 11, 12; with
        // 4 spikes/cycle both groups deliver at once: end 14.
        XCTAssertEqual(try cycles(Self.handProgram(), Self.spec(colsPerADC: 1, queue: 8, perCycle: 4), drive: [0, 1]).cycle, 14)
    }

    func testHandCountedIdleRowGroup() throws {
        // No input spike: the read and the ADC are skipped (0 cycles); sub 0-1; lif from 2: exits 3, 4 with no
        // spike (threshold 1 not reached); the step ends at 5.
        let r = try cycles(Self.handProgram(), Self.spec(colsPerADC: 4, queue: 2, perCycle: 1), drive: [])
        XCTAssertEqual(r.fast, 5)
        XCTAssertEqual(r.cycle, 5)
        // One driven row still fires the whole read (one row group): same 31 cycles as two rows.
        XCTAssertEqual(try cycles(Self.handProgram(), Self.spec(colsPerADC: 4, queue: 2, perCycle: 1), drive: [1]).fast, 31)
    }

    func testRandomProgramsCycleEqualsFast() throws {
        var gen = ProgramGenerator(seed: 0xC7C1E, stream: 11)
        var rng = Philox(seed: 99)
        var cases = 0, programs = 0, totalCycles: Int64 = 0
        while cases < 1000 && programs < 4000 {
            let p = gen.program()
            programs += 1
            guard (try? IRVerifier.verify(p)) != nil else { continue }
            let u = { (k: UInt32, lo: Int, hi: Int) -> Int in
                lo + Int(rng.uniform(purpose: 99, UInt32(programs), k, 0) * Double(hi - lo + 1))
            }
            let units = u(7, 1, 5)
            let spec = TimingSpec(maxRowsDriven: 512, colsPerADC: u(1, 1, 8), adcKind: u(2, 0, 1) == 0 ? .sar : .ramp,
                                  adcCyclesPerBit: u(3, 1, 2), adcOverheadCycles: u(4, 0, 3), settleCycles: u(5, 0, 3),
                                  integrateCycles: u(6, 1, 3), digitalLanes: u(8, 1, 16), neuronUnits: units,
                                  neuronPipeline: u(9, 1, 4), routerQueue: units + u(10, 0, 6), routerSpikesPerCycle: u(11, 1, 3),
                                  readoutMACs: u(12, 1, 8))
            rng = Philox(seed: UInt64(programs) &* 7919)
            let chip = Chip(program: p, seed: 1, timing: spec)
            let b = try InputBinding(program: p, channels: p.inputs.reduce(0) { $0 + $1.size }, file: "t")
            let raster = gen.raster(for: p)
            let f = FastEngine(chip: chip).run(raster, binding: b, trace: true)
            let (c, _) = CycleEngine(chip: chip).run(raster, binding: b, trace: true)
            XCTAssertEqual(f, c, "program \(programs)")
            if f != c { break }
            totalCycles += f.counters.cycles
            cases += 1
        }
        XCTAssertEqual(cases, 1000)
        XCTAssertGreaterThan(totalCycles, 10_000)
    }

    func testBundledExampleCycleEqualsFast() throws {
        let g = try GraphJSON.load(Repo.path("examples/lsm-paper/lsm-paper.json"))
        var d = try EventFile.read(Repo.path("examples/digits/digits-test.xev"))
        d.samples = Array(d.samples.prefix(3))
        for name in ["rram-40nm-256kb", "ideal", "neurram-130nm"] {
            let t = try Repo.target(name)
            let c = try Compiler.compile(g, target: t, options: CompileOptions(replicateMacros: true, seed: 2))
            let chip = try Chip(program: c.program, target: t, seed: 2)
            let b = try InputBinding(program: c.program, channels: d.channels, file: "x")
            for (i, s) in d.samples.enumerated() {
                let f = FastEngine(chip: chip).run(s, index: i, binding: b)
                let (y, _) = CycleEngine(chip: chip).run(s, index: i, binding: b)
                XCTAssertEqual(f, y, name)
                XCTAssertGreaterThan(f.counters.cycles, Int64(c.program.timesteps))
            }
        }
    }
}
