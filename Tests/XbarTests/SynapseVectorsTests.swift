import Foundation
import XCTest
import XbarCompiler
import XbarCore
import XbarEmulator
import XbarEvents
import XbarIR
import XbarNIR
import XbarGraph
import XbarTarget
@testable import XbarVectors

/// Golden vectors and the RTL neuron unit for the synapse state, non-spiking populations and per-neuron biases
/// (docs/vectors.md, docs/ir.md "lif"): the Icarus testbench passes on a synthetic program covering them and on both
/// braille NIR networks, and single-point mutants of the new RTL logic are caught.
final class SynapseVectorsTests: XCTestCase {
    func scratch() -> URL {
        let d = Repo.tempDir()
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    static let size = 7, rows = 6, timesteps = 40

    /// Four populations on one input current `s` (i12, up to ±270): @syn (synapse i8 sat half_up with per-neuron
    /// synaptic biases, membrane floor, ge, subtract reset, refractory 2, per-neuron biases), @cuba (non-spiking,
    /// synapse i7 wrap trunc, membrane i8 wrap half_even, threshold 5 that it crosses without resetting), @li
    /// (non-spiking, no synapse, per-neuron biases) and @plain (spiking, per-neuron biases, zero reset).
    static func program() throws -> Program {
        var rng: UInt64 = 0x5EED_1234
        func next(_ n: Int) -> Int {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int((rng >> 33) % UInt64(n))
        }
        let n = size
        let codes = (0..<(rows * 2 * n)).map { _ in Int32(next(16)) }
        func pop(_ name: String, mem: IntType, ovf: Overflow, mul: Int64, shift: Int, rnd: Rounding, th: Int64, cmp: Compare = .gt,
                 reset: ResetMode, refr: Int = 0, bias: Int64, neuronBias: [Int64]?, synapse: SynapseDecl? = nil, spiking: Bool = true) -> NeuronDecl {
            NeuronDecl(name: name, size: n, memType: mem, memOverflow: ovf, decayMul: mul, decayShift: shift, decayRounding: rnd,
                       threshold: th, compare: cmp, reset: reset, refractory: refr, bias: bias, refractoryType: .u(2), countType: .u(4),
                       neuronBias: neuronBias, synapse: synapse, spiking: spiking)
        }
        let neurons = [
            pop("syn", mem: .i(10), ovf: .sat, mul: 7, shift: 3, rnd: .floor, th: 60, cmp: .ge, reset: .subtract, refr: 2, bias: 1,
                neuronBias: [0, 3, -4, 5, -6, 7, -2],
                synapse: SynapseDecl(type: .i(8), overflow: .sat, decayMul: 3, decayShift: 2, decayRounding: .halfUp, bias: -2,
                                     neuronBias: [4, -3, 0, 9, -9, 1, 2])),
            pop("cuba", mem: .i(8), ovf: .wrap, mul: 1, shift: 1, rnd: .halfEven, th: 5, reset: .subtract, bias: 3,
                neuronBias: [-5, 4, 0, 2, -1, 6, -3],
                synapse: SynapseDecl(type: .i(7), overflow: .wrap, decayMul: 3, decayShift: 2, decayRounding: .trunc, bias: 1,
                                     neuronBias: [0, 5, -5, 11, -11, 3, 0]), spiking: false),
            pop("li", mem: .i(8), ovf: .sat, mul: 3, shift: 2, rnd: .halfEven, th: 0, reset: .zero, bias: -1,
                neuronBias: [1, -7, 2, 8, 0, -3, 4], spiking: false),
            pop("plain", mem: .i(8), ovf: .sat, mul: 3, shift: 2, rnd: .halfUp, th: 80, reset: .zero, refr: 1, bias: 2,
                neuronBias: [-10, 0, 10, -20, 20, 5, -5]),
        ]
        var ops = VectorsTests.differentialFrontEnd(rows: rows, n: n)
        for nd in neurons { ops.append(Op(result: "spk.\(nd.name)", type: .u(1), length: n, kind: .lif(population: nd.name, input: "s"))) }
        let p = Program(name: "synapse-modes", target: "ideal", timesteps: timesteps, inputs: [InputDecl(name: "in", size: rows)],
                        neurons: neurons,
                        arrays: [ArrayDecl(name: "a", macro: 0, index: 0, rows: rows, cols: 2 * n, gUnitNS: 1000, codeType: .u(4), codes: codes)],
                        readouts: [], step: ops)
        try IRVerifier.verify(p)
        return p
    }

    static func samples() -> EventDataset {
        var rng: UInt64 = 42
        func next(_ n: Int) -> Int {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int((rng >> 33) % UInt64(n))
        }
        let s = (0..<2).map { _ in
            SpikeRaster(channels: rows, timesteps: timesteps, label: nil,
                        active: (0..<timesteps).map { _ in (0..<rows).filter { _ in next(3) > 0 }.map { Int32($0) } })
        }
        return EventDataset(channels: rows, timesteps: timesteps, samples: s)
    }

    /// Vectors of `p` on the ideal target with 2 neuron lanes (partial groups) and a 2-deep spike queue.
    static func vectors(_ p: Program, data: EventDataset, to dir: URL) throws -> (VectorSet, Chip) {
        let spec = TimingSpec(maxRowsDriven: 512, colsPerADC: 4, adcKind: .sar, adcCyclesPerBit: 1, adcOverheadCycles: 1, settleCycles: 1,
                              integrateCycles: 1, digitalLanes: 3, neuronUnits: 2, neuronPipeline: 2, routerQueue: 2,
                              routerSpikesPerCycle: 1, readoutMACs: 4)
        let chip = Chip(program: p, seed: 1, timing: spec)
        let src = VectorSource(program: p.name, programKind: "ir", targetArgument: "ideal", target: try Repo.target("ideal"), input: "synthetic",
                               samplesInFile: data.samples.count, seed: 1, idealDevice: true, ageS: nil)
        let set = try VectorBuilder.build(program: p, chip: chip, data: data, source: src, rtl: try VectorsTests.rtl())
        try set.write(to: dir.path)
        return (set, chip)
    }

    /// Decoded lif records of a population: [sample, cycle, step, neuron, in, mem, spike, refr, count(, syn)].
    static func lif(_ dir: URL, _ pop: String, _ p: Program) throws -> [[Int64]] {
        let n = p.neurons.first { $0.name == pop }!
        let m = try VectorsTests.manifest(dir)
        let entry = VectorsTests.fileEntries(m).first { $0["path"] as? String == "response/lif.\(pop).vec" }!
        let fields = (entry["fields"] as! [[String: Any]]).map { ($0["bits"] as! Int, $0["signed"] as! Bool) }
        XCTAssertEqual(fields.count, n.synapse == nil ? 9 : 10)
        return try VectorsTests.lines(dir.appendingPathComponent("response/lif.\(pop).vec")).map { line in
            zip(line.split(separator: " "), fields).map { Hex.decode($0, bits: $1.0, signed: $1.1)! }
        }
    }

    func testIverilogTestbenchPassesOnSynapseNonSpikingAndBiasPopulations() throws {
        let p = try Self.program()
        let data = Self.samples()
        let dir = scratch().appendingPathComponent("syn")
        let (set, chip) = try Self.vectors(p, data: data, to: dir)
        // The vectors agree with the fast engine, and syn / mem with its synaptic and membrane traces.
        let fast = FastEngine(chip: chip)
        let binding = try InputBinding(program: p, channels: Self.rows, file: "synthetic")
        var traced: [SampleResult] = []
        for (s, raster) in data.samples.enumerated() {
            XCTAssertEqual(fast.run(raster, index: s, binding: binding, trace: false), set.results[s])
            traced.append(fast.run(raster, index: s, binding: binding, trace: true))
        }
        let updates = 2 * Self.timesteps * Self.size
        var synSat = 0, synWrapped = 0, refractory = 0, spikes = 0, crossings = 0
        for nd in p.neurons {
            let out = try VectorsTests.iverilog(dir, population: nd.name)
            let what = nd.synapse == nil ? "(mem, spike, refr, count)" : "(mem, spike, refr, count, syn)"
            XCTAssertTrue(out.contains("PASS \(updates) neuron updates of \(nd.name) checked \(what)"), out)
            let recs = try Self.lif(dir, nd.name, p)
            XCTAssertEqual(recs.count, updates)
            for r in recs {
                let tr = traced[Int(r[0])].traces[nd.name]!
                let (t, i) = (Int(r[2]), Int(r[3]))
                if r[7] == 0 && (r[6] == 0 || !nd.spiking) { XCTAssertEqual(r[5], tr.membrane[t][i], "\(nd.name) \(r)") }
                if let y = nd.synapse {
                    XCTAssertEqual(r[9], tr.synapse[t][i], "\(nd.name) \(r)")
                    if y.overflow == .sat && (r[9] == 127 || r[9] == -128) { synSat += 1 }
                    if y.overflow == .wrap, let prev = recs.last(where: { $0[0] == r[0] && $0[3] == r[3] && $0[2] == r[2] - 1 }) {
                        // decayed + I + sb outside [-64, 63]: the 7-bit current wrapped.
                        let d = Fixed.shiftRight(prev[9] * y.decayMul, y.decayShift, y.decayRounding)
                        if !(-64...63).contains(d + r[4] + y.bias(of: i)) { synWrapped += 1 }
                    }
                }
                if nd.spiking {
                    spikes += Int(r[6]); refractory += r[7] > 0 ? 1 : 0
                } else {
                    XCTAssertEqual([r[6], r[7], r[8]], [0, 0, 0], "non-spiking \(nd.name) \(r)")
                    crossings += r[5] > nd.threshold ? 1 : 0
                }
            }
        }
        print("synapse vectors: \(synSat) saturated and \(synWrapped) wrapped synaptic currents, \(spikes) spikes, \(refractory) refractory updates, \(crossings) non-spiking membranes above threshold")
        XCTAssertGreaterThan(synSat, 10)
        XCTAssertGreaterThan(synWrapped, 3)
        XCTAssertGreaterThan(spikes, 50)
        XCTAssertGreaterThan(refractory, 50)
        XCTAssertGreaterThan(crossings, 50)
        // The bias memories: b_i and sb_i in two's complement, one word per neuron; none for @li's absent synapse.
        let syn = p.neurons[0]
        XCTAssertEqual(try VectorsTests.lines(dir.appendingPathComponent("program/neuron.syn.bias.hex")),
                       (0..<Self.size).map { Hex.word(syn.bias(of: $0), bits: 10) })
        XCTAssertEqual(try VectorsTests.lines(dir.appendingPathComponent("program/neuron.syn.synapse_bias.hex")),
                       (0..<Self.size).map { Hex.word(syn.synapse!.bias(of: $0), bits: 8) })
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("program/neuron.li.synapse_bias.hex").path))
        // VCD: the synapse lanes of @syn, and none for @li.
        let vcd = try VectorsTests.VCD(try String(contentsOf: dir.appendingPathComponent("waves.vcd"), encoding: .utf8))
        XCTAssertNotNil(vcd.changes["xbar.neuron_syn.syn1"])
        XCTAssertNil(vcd.changes["xbar.neuron_li.syn0"])
        let P = Int64((try VectorsTests.manifest(dir)["vcd"] as! [String: Any])["period_ps"] as! Int)
        for r in try Self.lif(dir, "syn", p) where r[0] == 0 {
            XCTAssertEqual(vcd.int("xbar.neuron_syn.syn\(r[3] % 2)", at: r[1] * P, signed: true), r[9])
        }

        // Single-point mutants of the synapse, bias and non-spiking logic: each fails on at least one population.
        let unit = try VectorsTests.rtl().unit
        let mutants: [(String, String)] = [
            (".ROUNDING(SYN_ROUNDING)", ".ROUNDING(ROUNDING)"),                                           // synapse rounds like the membrane
            ("assign syn_d = (SYN != 0) ? syn_v", "assign syn_d = (SYN != 0) ? (refractory ? syn_q : syn_v)"), // synapse frozen while refractory
            (".SAT(SYN_SAT)", ".SAT(0)"),                                                                 // synapse wraps instead of saturating
            (".SAT(SYN_SAT)", ".SAT(1)"),                                                                 // synapse saturates instead of wrapping
            ("syn_decayed + in_x + sbias_x", "syn_decayed + in_x"),                                       // synaptic bias dropped
            ("sbias_r[a]", "sbias_r[a + 1'b1]"),                                                      // synaptic bias index off by one
            ("bias_r[a]", "bias_r[a + 1'b1]"),                                                            // membrane bias index off by one
            ("? (ok ? bias_r[a] : {MEM_W{1'b0}}) : BIAS", "? BIAS : BIAS"),                                // per-neuron bias memory ignored
            ("cur_x = (SYN != 0) ?", "cur_x = (1'b0) ?"),                                                 // membrane integrates I, not the synapse
            (": !fires ? v", ": !crosses ? v"),                                                           // non-spiking still resets
            ("wire fires = (NONSPIKING == 0) && crosses;", "wire fires = crosses;"),                      // non-spiking spikes
            (".syn_q(st ? syn_r[a]", ".syn_q(ok ? syn_r[a]"),                                             // synapse not cleared between samples
        ]
        let mdir = scratch()
        for (i, (from, to)) in mutants.enumerated() {
            let mutant = unit.replacingOccurrences(of: from, with: to)
            XCTAssertNotEqual(mutant, unit, "mutant \(i) does not apply: \(from)")
            let path = mdir.appendingPathComponent("mutant\(i).v")
            try mutant.write(to: path, atomically: true, encoding: .utf8)
            var caught = false
            for nd in p.neurons where !caught {
                let out = try VectorsTests.iverilog(dir, population: nd.name, dut: path.path)
                caught = out.contains("MISMATCH") && !out.contains("PASS")
            }
            XCTAssertTrue(caught, "mutant \(i) (\(to)) passes every population")
        }
    }

    /// The braille RNNs (NIR CubaLIF, snnTorch exports) imported with 64 steps, on the ideal target, 2 samples of the
    /// synthetic input cut to 64 steps: subtract reset without biases, zero reset with per-neuron synaptic biases.
    func testIverilogTestbenchPassesOnBrailleNIRNetworks() throws {
        let full = try EventFile.read(Repo.path("examples/nir/braille-synthetic.xev"))
        let T = 64
        let data = EventDataset(channels: full.channels, timesteps: T, samples: full.samples.prefix(2).map {
            SpikeRaster(channels: $0.channels, timesteps: T, label: $0.label, active: Array($0.active.prefix(T)))
        })
        let target = try Repo.target("ideal")
        for (file, reset) in [("braille_noDelay_noBias_subtract", LIFParameters.Reset.subtract), ("braille_noDelay_bias_zero", .zero)] {
            let path = Repo.path("examples/nir/\(file).nir")
            let g = try NIRImporter.graph(from: try NIRReader.read(path: path),
                                          options: NIRImportOptions(dt: 1e-4, reset: reset, discretisation: .euler, timesteps: T, name: "braille"),
                                          file: path)
            let c = try Compiler.compile(g, target: target, options: CompileOptions(seed: 1), file: path)
            let p = c.program
            XCTAssertTrue(p.neurons.allSatisfy { $0.synapse != nil }, file)
            XCTAssertEqual(p.neurons.contains { $0.synapse?.neuronBias != nil }, reset == .zero, file)
            let chip = Chip(program: p, seed: 1, timing: target.timing)
            let src = VectorSource(program: file, programKind: "graph", targetArgument: "targets/ideal.toml", target: target,
                                   input: "braille-synthetic (64 steps)", samplesInFile: full.samples.count, seed: 1, idealDevice: false, ageS: nil)
            let set = try VectorBuilder.build(program: p, chip: chip, data: data, source: src, rtl: try VectorsTests.rtl())
            let dir = scratch().appendingPathComponent(file)
            try set.write(to: dir.path)
            var spikes = 0
            for nd in p.neurons {
                let out = try VectorsTests.iverilog(dir, population: nd.name)
                XCTAssertTrue(out.contains("PASS \(2 * T * nd.size) neuron updates of \(nd.name) checked (mem, spike, refr, count, syn)"), "\(file): \(out)")
                spikes += try Self.lif(dir, nd.name, p).filter { $0[6] == 1 }.count
                if nd.synapse?.neuronBias != nil {
                    XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("program/neuron.\(nd.name).synapse_bias.hex").path))
                }
            }
            XCTAssertGreaterThan(spikes, 20, file)
        }
    }
}
