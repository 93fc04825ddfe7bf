import XCTest
import XbarCompiler
import XbarCore
@testable import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarLearn
import XbarTarget
import XbarVectors

/// The neuron options of docs/ir.md (synapse current, non-spiking, per-neuron bias) and row-source delays beyond 1:
/// hand-computed traces on the three engines, the text form, the compiler's lowering (against the float twin) and
/// the tiler's skipping of all-zero tiles.
final class NeuronModelTests: XCTestCase {
    // MARK: Helpers


    private func neuron(_ name: String = "n", size: Int = 1, mem: IntType = .i(16), mul: Int64, shift: Int,
                        threshold: Int64, reset: ResetMode = .zero, refractory: Int = 0, bias: Int64 = 0,
                        neuronBias: [Int64]? = nil, synapse: SynapseDecl? = nil, spiking: Bool = true) -> NeuronDecl {
        NeuronDecl(name: name, size: size, memType: mem, memOverflow: .sat, decayMul: mul, decayShift: shift,
                   decayRounding: .floor, threshold: threshold, compare: .gt, reset: reset, refractory: refractory,
                   bias: bias, refractoryType: .u(3), countType: .u(8), neuronBias: neuronBias, synapse: synapse,
                   spiking: spiking)
    }

    /// Input @x[1] drives a 1 x cols array (codes `codes`) at `delay`; `adc lsb 1` gives c[j] = codes[j] when the
    /// row is driven; every population in `neurons` takes c as its input current.
    private func program(timesteps: Int, codes: [Int32], delay: Int = 0, neurons: [NeuronDecl]) -> Program {
        let L = codes.count
        var ops = [
            Op(result: "r", type: .u(8), length: L,
               kind: .read(array: "a", rows: [RowSource(rowStart: 0, source: "x", srcStart: 0, count: 1, delay: delay)],
                           colStart: 0, cellsPerWeight: 1, vReadMV: 200, tReadNS: 10)),
            Op(result: "c", type: .u(8), length: L, kind: .adc(operand: "r", bits: 8, lsb: 1, offset: 0, rounding: .floor)),
        ]
        for n in neurons { ops.append(Op(result: "s.\(n.name)", type: .u(1), length: L, kind: .lif(population: n.name, input: "c"))) }
        return Program(name: "neuron-models", target: "test", timesteps: timesteps, inputs: [InputDecl(name: "x", size: 1)],
                       neurons: neurons,
                       arrays: [ArrayDecl(name: "a", macro: 0, index: 0, rows: 1, cols: L, gUnitNS: 1, codeType: .u(8), codes: codes)],
                       readouts: [], step: ops)
    }

    private func raster(_ T: Int, _ steps: Set<Int>) -> SpikeRaster {
        SpikeRaster(channels: 1, timesteps: T, active: (0..<T).map { steps.contains($0) ? [0] : [] })
    }

    // MARK: Hand-computed traces (docs/ir.md, "lif")

    func testSynapseTraceWithRefractoryAndSubtractReset() throws {
        // I = 40 when @x spikes (steps 0 1 2). Synapse i16 sat, decay 3/4 floor, bias 2. Membrane decay 1/2 floor,
        // bias 1, threshold 60 gt, reset subtract, refractory 1.
        //  t0: c = 0 + 40 + 2 = 42;              v = 0 + 42 + 1 = 43
        //  t1: c = fl(31.5) = 31 + 42 = 73;       v = fl(21.5) = 21 + 73 + 1 = 95 > 60: spike, mem 35, refr 1
        //  t2: c = fl(54.75) = 54 + 42 = 96;      refractory: mem held 35 (c still integrates)
        //  t3: c = 72 + 0 + 2 = 74;               v = fl(17.5) = 17 + 74 + 1 = 92: spike, mem 32, refr 1
        //  t4: c = fl(55.5) = 55 + 2 = 57;        refractory: 32
        //  t5: c = fl(42.75) = 42 + 2 = 44;       v = 16 + 44 + 1 = 61: spike, mem 1, refr 1
        //  t6: c = 33 + 2 = 35;                   refractory: 1
        //  t7: c = fl(26.25) = 26 + 2 = 28;       v = fl(0.5) = 0 + 28 + 1 = 29
        let syn = SynapseDecl(type: .i(16), overflow: .sat, decayMul: 3, decayShift: 2, decayRounding: .floor, bias: 2)
        let n = neuron(mul: 1, shift: 1, threshold: 60, reset: .subtract, refractory: 1, bias: 1, synapse: syn)
        let (r, report) = try runOnAllEngines(program(timesteps: 8, codes: [40], neurons: [n]), raster(8, [0, 1, 2]))
        XCTAssertEqual(r.traces["n"]!.synapse.map { $0[0] }, [42, 73, 96, 74, 57, 44, 35, 28])
        XCTAssertEqual(r.traces["n"]!.membrane.map { $0[0] }, [43, 95, 35, 92, 32, 61, 1, 29])
        XCTAssertEqual(r.traces["n"]!.preActivation.map { $0[0] }, [40, 40, 40, 0, 0, 0, 0, 0])
        XCTAssertEqual(r.spikes["n"]!.map(\.step), [1, 3, 5])
        XCTAssertEqual(r.counts["n"]!, [3])
        XCTAssertEqual(r.membrane["n"]!, [29])
        XCTAssertEqual(r.synapse["n"]!, [28])
        XCTAssertEqual(r.state["n"]!, ["mem": [29], "syn": [28]], "state by name, on every engine")
        XCTAssertEqual(r.counters.neuronUpdates, 8)
        XCTAssertEqual(report.total, 0)

        // A 7-bit synapse (-64...63) saturates at t1: exact 73 stored 63, reported at @n.syn;
        // v = 21 + 63 + 1 = 85: spike.
        var narrow = n
        narrow.synapse!.type = .i(7)
        let (r2, rep2) = try runOnAllEngines(program(timesteps: 2, codes: [40], neurons: [narrow]), raster(2, [0, 1]))
        XCTAssertEqual(rep2.events, [OverflowEvent(step: 1, site: "@n.syn", index: 0, exact: "73", stored: 63)])
        XCTAssertEqual(r2.traces["n"]!.membrane.map { $0[0] }, [43, 85])
    }

    func testNonSpikingNeuronIsALeakyIntegrator() throws {
        // I = 40 at steps 0 1 2; decay 1/2 floor, bias -3; threshold 10, refractory 2 and reset are ignored.
        //  v: 37, fl(18.5) 18 + 37 = 55, fl(27.5) 27 + 37 = 64, 32 - 3 = 29, fl(14.5) 14 - 3 = 11, 5 - 3 = 2,
        //     1 - 3 = -2, fl(-1) -1 - 3 = -4
        let n = neuron(mul: 1, shift: 1, threshold: 10, reset: .subtract, refractory: 2, bias: -3, spiking: false)
        let (r, _) = try runOnAllEngines(program(timesteps: 8, codes: [40], neurons: [n]), raster(8, [0, 1, 2]))
        XCTAssertEqual(r.traces["n"]!.membrane.map { $0[0] }, [37, 55, 64, 29, 11, 2, -2, -4])
        XCTAssertEqual(r.traces["n"]!.synapse, [])
        XCTAssertEqual(r.spikes["n"]!, [])
        XCTAssertEqual(r.counts["n"]!, [0])
        XCTAssertEqual(r.membrane["n"]!, [-4])
        XCTAssertNil(r.synapse["n"])
        XCTAssertEqual(r.counters.spikes, 0)

        // A non-spiking population can be neither a row source nor a readout source.
        var p = program(timesteps: 2, codes: [40], neurons: [n, neuron("m", mul: 0, shift: 0, threshold: 5)])
        p.arrays.append(ArrayDecl(name: "b", macro: 0, index: 1, rows: 1, cols: 1, gUnitNS: 1, codeType: .u(8), codes: [1]))
        p.step.insert(Op(result: "rb", type: .u(8), length: 1,
                         kind: .read(array: "b", rows: [RowSource(rowStart: 0, source: "n", srcStart: 0, count: 1, delay: 1)],
                                     colStart: 0, cellsPerWeight: 1, vReadMV: 200, tReadNS: 10)), at: 0)
        XCTAssertThrowsError(try IRVerifier.verify(p, file: "p.xir")) {
            XCTAssertEqual(String(describing: $0),
                           "p.xir: step op 0 (%rb): row source @n: population n is non-spiking; crossbar rows take 1-bit spikes")
        }
        var q = program(timesteps: 2, codes: [40], neurons: [n])
        q.readouts = [ReadoutDecl(name: "ro", source: "n", classes: 1, weightType: .i(4), accType: .i(8), accOverflow: .sat,
                                  weights: [1], bias: [0], scale: 1)]
        XCTAssertThrowsError(try IRVerifier.verify(q, file: "q.xir")) {
            XCTAssertTrue(String(describing: $0).contains("readout @ro: source @n is non-spiking"), "\($0)")
        }
    }

    func testPerNeuronBiases() throws {
        // Codes [10, 20]: I = [10, 20] at step 0 only; no decay, threshold 1000.
        // @m: bias 2, per-neuron [3, -7]: v = I + [5, -5] -> t0 [15, 15], t1 [5, -5].
        // @s: membrane bias 0; synapse decay 0, bias 1, per-neuron [0, 4]: c = I + [1, 5] -> t0 [11, 25], t1 [1, 5];
        //     v = c.
        let m = neuron("m", size: 2, mul: 0, shift: 0, threshold: 1000, bias: 2, neuronBias: [3, -7])
        let syn = SynapseDecl(type: .i(12), overflow: .sat, decayMul: 0, decayShift: 0, decayRounding: .floor, bias: 1,
                              neuronBias: [0, 4])
        let s = neuron("s", size: 2, mul: 0, shift: 0, threshold: 1000, synapse: syn)
        let (r, _) = try runOnAllEngines(program(timesteps: 2, codes: [10, 20], neurons: [m, s]), raster(2, [0]))
        XCTAssertEqual(r.traces["m"]!.membrane, [[15, 15], [5, -5]])
        XCTAssertEqual(r.traces["s"]!.synapse, [[11, 25], [1, 5]])
        XCTAssertEqual(r.traces["s"]!.membrane, [[11, 25], [1, 5]])
        XCTAssertEqual(r.membrane, ["m": [5, -5], "s": [1, 5]])
    }

    func testDelayThreeAndTwoDelaysBetweenOnePair() throws {
        // @x spikes at 0 and 2; the row reads @x@3: I = 40 at steps 3 and 5.
        let n = neuron(mul: 0, shift: 0, threshold: 1000)
        let (r, _) = try runOnAllEngines(program(timesteps: 7, codes: [40], delay: 3, neurons: [n]), raster(7, [0, 2]))
        XCTAssertEqual(r.traces["n"]!.preActivation.map { $0[0] }, [0, 0, 0, 40, 0, 40, 0])
        XCTAssertEqual(r.counters.wlActivations, 2)
        XCTAssertEqual(r.counters.denseSynapticOps, 7)

        // @a (threshold 0, no decay) spikes whenever @x does: steps 0 and 1. @b reads @a twice: row 0 (code 1) at
        // delay 2 and row 1 (code 10) at delay 5: I_b[t] = a(t-2) + 10 a(t-5) = [0, 0, 1, 1, 0, 10, 10, 0].
        var p = program(timesteps: 8, codes: [40], neurons: [neuron("a", mul: 0, shift: 0, threshold: 0)])
        p.neurons.append(neuron("b", mul: 0, shift: 0, threshold: 1000))
        p.arrays.append(ArrayDecl(name: "ab", macro: 0, index: 1, rows: 2, cols: 1, gUnitNS: 1, codeType: .u(4), codes: [1, 10]))
        p.step += [
            Op(result: "rb", type: .u(5), length: 1,
               kind: .read(array: "ab", rows: [RowSource(rowStart: 0, source: "a", srcStart: 0, count: 1, delay: 2),
                                               RowSource(rowStart: 1, source: "a", srcStart: 0, count: 1, delay: 5)],
                           colStart: 0, cellsPerWeight: 1, vReadMV: 200, tReadNS: 10)),
            Op(result: "cb", type: .u(5), length: 1, kind: .adc(operand: "rb", bits: 5, lsb: 1, offset: 0, rounding: .floor)),
            Op(result: "s.b", type: .u(1), length: 1, kind: .lif(population: "b", input: "cb")),
        ]
        let (r2, _) = try runOnAllEngines(p, raster(8, [0, 1]))
        XCTAssertEqual(r2.spikes["a"]!.map(\.step), [0, 1])
        XCTAssertEqual(r2.traces["b"]!.preActivation.map { $0[0] }, [0, 0, 1, 1, 0, 10, 10, 0])
        // Delays are bounded by 4096.
        var far = program(timesteps: 1, codes: [40], delay: 4097, neurons: [n])
        XCTAssertThrowsError(try IRVerifier.verify(far, file: "f")) {
            XCTAssertTrue(String(describing: $0).contains("delay 4097 outside 0...4096"), "\($0)")
        }
        far = program(timesteps: 1, codes: [40], delay: 4096, neurons: [n])
        XCTAssertNoThrow(try IRVerifier.verify(far))
    }

    // MARK: Text form

    func testTextFormOfTheNewFields() throws {
        let syn = SynapseDecl(type: .i(30), overflow: .wrap, decayMul: 3, decayShift: 2, decayRounding: .halfUp, bias: -4,
                              neuronBias: [1, 0, -1])
        let a = neuron("a", size: 3, mul: 1, shift: 1, threshold: 7, bias: 2, neuronBias: [5, -6, 7], synapse: syn)
        var b = neuron("b", size: 3, mul: 1, shift: 1, threshold: 0, synapse: SynapseDecl(type: .i(20), overflow: .sat, decayMul: 1,
                                                                                           decayShift: 3, decayRounding: .floor),
                       spiking: false)
        b.synapse!.neuronBias = [0, 0, 9]
        let c = neuron("c", size: 3, mul: 1, shift: 1, threshold: 3, neuronBias: [0, 1, 2], spiking: false)
        var p = program(timesteps: 3, codes: [1, 2, 3], delay: 4096, neurons: [a, b, c])
        p.step[0] = Op(result: "r", type: .u(8), length: 3,
                       kind: .read(array: "a", rows: [RowSource(rowStart: 0, source: "x", srcStart: 0, count: 1, delay: 4096)],
                                   colStart: 0, cellsPerWeight: 1, vReadMV: 200, tReadNS: 10))
        try IRVerifier.verify(p)
        let text = IRPrinter.print(p)
        XCTAssertTrue(text.contains("""
            neuron @a 3 mem i16 sat decay 1 shr 1 floor threshold 7 gt reset zero refractory 0 u3 bias 2 count u8 synapse i30 wrap decay 3 shr 2 half_up bias -4 biases
              bias: 5 -6 7
              synapse_bias: 1 0 -1
            end
            neuron @b 3 mem i16 sat decay 1 shr 1 floor threshold 0 gt reset zero refractory 0 u3 bias 0 count u8 nonspiking synapse i20 sat decay 1 shr 3 floor bias 0 biases
              synapse_bias: 0 0 9
            end
            neuron @c 3 mem i16 sat decay 1 shr 1 floor threshold 3 gt reset zero refractory 0 u3 bias 0 count u8 nonspiking biases
              bias: 0 1 2
            end

            """), text)
        XCTAssertTrue(text.contains("rows [0:@x[0:1]@4096]"), text)
        XCTAssertEqual(try IRParser.parse(text, file: "t"), p)
        // A plain population prints exactly the version-1 line (no new clause).
        let plain = IRPrinter.print(program(timesteps: 1, codes: [1], neurons: [neuron(mul: 1, shift: 1, threshold: 3)]))
        XCTAssertTrue(plain.contains("neuron @n 1 mem i16 sat decay 1 shr 1 floor threshold 3 gt reset zero refractory 0 u3 bias 0 count u8\n\n"), plain)
        // Malformed blocks fail with one line naming the file and line.
        let bad = text.replacingOccurrences(of: "  bias: 5 -6 7\n", with: "  bias: 5 -6\n")
        XCTAssertThrowsError(try IRParser.parse(bad, file: "bad.xir")) {
            XCTAssertEqual(String(describing: $0), "bad.xir: line 6: neuron @a: 'bias:' has 2 values, expected 3 (one per neuron)")
        }
        let noEnd = text.replacingOccurrences(of: "  bias: 0 1 2\nend\n", with: "  bias: 0 1 2\n")
        XCTAssertThrowsError(try IRParser.parse(noEnd, file: "e.xir")) {
            XCTAssertTrue(String(describing: $0).hasPrefix("e.xir: line "), "\($0)")
            XCTAssertFalse(String(describing: $0).contains("\n"))
        }
    }

    /// The RTL neuron unit implements every neuron option: `xbar vectors` makes vectors for a synapse population, a
    /// non-spiking one and per-neuron biases (read at delay 3), `xbar check` accepts them against themselves, and
    /// names a flipped synaptic current by its signal `syn.P[neuron]`.
    func testGoldenVectorsOfSynapseNonSpikingAndBiasPopulations() throws {
        let syn = SynapseDecl(type: .i(16), overflow: .sat, decayMul: 3, decayShift: 2, decayRounding: .floor, bias: 2, neuronBias: [0, -5])
        let p = program(timesteps: 12, codes: [40, 25], delay: 3, neurons: [
            neuron("s", size: 2, mul: 1, shift: 1, threshold: 60, reset: .subtract, refractory: 1, bias: 1, synapse: syn),
            neuron("ns", size: 2, mul: 1, shift: 1, threshold: 5, neuronBias: [3, -4], spiking: false),
            neuron("b", size: 2, mul: 1, shift: 1, threshold: 30, neuronBias: [7, -7]),
        ])
        try IRVerifier.verify(p)
        let t = try Repo.target("ideal")
        let raster = SpikeRaster(channels: 1, timesteps: 12, active: (0..<12).map { $0 % 3 == 2 ? [] : [0] })
        let src = VectorSource(program: "p.xir", programKind: "ir", targetArgument: "ideal", target: t, input: "synthetic", samplesInFile: 1,
                               seed: 1, idealDevice: true, ageS: nil)
        let rtl = RTLSources(unit: try String(contentsOfFile: Repo.path("rtl/xbar_lif_unit.v"), encoding: .utf8),
                             testbenchTemplate: try String(contentsOfFile: Repo.path("rtl/xbar_lif_tb.v"), encoding: .utf8))
        let set = try VectorBuilder.build(program: p, chip: Chip(program: p, seed: 1, timing: t.timing),
                                          data: EventDataset(channels: 1, timesteps: 12, samples: [raster]), source: src, rtl: rtl)
        let dir = Repo.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try set.write(to: dir.path)
        let ok = try Repo.run(["check", dir.path, "--dump", dir.appendingPathComponent("response").path])
        XCTAssertEqual(ok.0, 0, ok.1 + ok.2)
        for (pop, n) in [("s", 24), ("ns", 24), ("b", 24)] { XCTAssertTrue(ok.1.contains("match response/lif.\(pop).vec: \(n) records"), ok.1) }
        // Flip the synaptic current (last field, i16) of record 9 of @s.
        var recs = try String(contentsOf: dir.appendingPathComponent("response/lif.s.vec"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("//") }.map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(recs[9].count, 10)
        let e = Hex.decode(Substring(recs[9][9]), bits: 16, signed: true)!
        XCTAssertNotEqual(e, 0)
        recs[9][9] = Hex.word(e + 1, bits: 16)
        let dump = dir.appendingPathComponent("capture.vec")
        try (recs.map { $0.joined(separator: " ") }.joined(separator: "\n") + "\n").write(to: dump, atomically: true, encoding: .utf8)
        let bad = try Repo.run(["check", dir.path, "--dump", dump.path, "--expected", "response/lif.s.vec"])
        XCTAssertEqual(bad.0, 1)
        let cycle = Int(recs[9][1], radix: 16)!, neuron = Int(recs[9][3], radix: 16)!
        XCTAssertTrue(bad.1.contains("record 9 (dump line 10): cycle \(cycle) (sample 0), signal syn.s[\(neuron)]: expected \(e) (0x\(Hex.word(e, bits: 16))), got \(e + 1)"), bad.1)
        // The bias memories of the program image hold b_i and sb_i.
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("program/neuron.ns.bias.hex"), encoding: .utf8), "0003\nfffc\n")
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("program/neuron.s.synapse_bias.hex"), encoding: .utf8), "0002\nfffd\n")
    }

    // MARK: Compiler

    /// in[3] -> cuba (a non-spiking CubaLI with per-neuron biases) and in -> lif (a spiking synapse population):
    /// weights are multiples of the weight step (max 2.55 -> s = 0.01) and decays and biases are exact in the IR, so
    /// the only differences from the float twin are the run-time decay roundings.
    static func synapseGraph() -> Graph {
        let w: [Double] = [1.0, -0.5, 2.55, 0.25, 0.01, -1.2]  // 3 x 2
        let cuba = LIFParameters(decay: 0.75, threshold: 1, bias: 0.25, neuronBias: [0.125, -0.5],
                                 synapse: SynapseParameters(decay: 0.5, bias: -0.0625, neuronBias: [0, 0.25]), spiking: false)
        let lif = LIFParameters(decay: 0.5, threshold: 1.5, reset: .subtract, refractory: 1,
                                synapse: SynapseParameters(decay: 0.25))
        return Graph(name: "cuba", timesteps: 24,
                     populations: [Population(name: "in", kind: .input, size: 3),
                                   Population(name: "cuba", kind: .lif, size: 2, lif: cuba),
                                   Population(name: "lif", kind: .lif, size: 2, lif: lif)],
                     projections: [Projection(name: "w", from: "in", to: "cuba", delay: 0, weights: .dense(w)),
                                   Projection(name: "w2", from: "in", to: "lif", delay: 2, weights: .dense(w)),
                                   Projection(name: "w5", from: "in", to: "lif", delay: 5, weights: .sparse([SparseEntry(pre: 0, post: 1, weight: 0.5)]))])
    }

    func testCompiledSynapsePopulationFollowsTheFloatTwin() throws {
        let g = Self.synapseGraph()
        let t = try Repo.target("ideal")
        let c = try Compiler.compile(g, target: t)
        let p = c.program
        let lsb = try XCTUnwrap(c.membraneLSB(of: "cuba"))
        XCTAssertEqual(lsb, 0.01 / 256, accuracy: 1e-18)
        let cuba = try XCTUnwrap(p.neuron(named: "cuba"))
        // decay 0.75 -> 49152/2^16, synapse 0.5 -> 32768/2^16; bias 0.25 / lsb = 6400, per neuron
        // (0.25 + 0.125) / lsb - 6400 = 3200 and (0.25 - 0.5) / lsb - 6400 = -12800; synapse bias -1600, [0, 6400].
        XCTAssertEqual(cuba.decayMul, 49152)
        XCTAssertEqual(cuba.bias, 6400)
        XCTAssertEqual(cuba.neuronBias, [3200, -12800])
        XCTAssertFalse(cuba.spiking)
        XCTAssertEqual(cuba.threshold, 0)
        XCTAssertEqual(cuba.synapse, SynapseDecl(type: .i(38), overflow: .sat, decayMul: 32768, decayShift: 16,
                                                 decayRounding: .halfEven, bias: -1600, neuronBias: [0, 6400]))
        // Two blocks of @in into @lif, at delays 2 and 5.
        let delays = p.step.flatMap { op -> [Int] in
            if case let .read(_, rows, _, _, _, _) = op.kind, op.result.hasPrefix("lif.") { return rows.map(\.delay) }
            return []
        }
        XCTAssertEqual(delays, [2, 5])
        XCTAssertEqual(try IRParser.parse(IRPrinter.print(p), file: "p"), p)

        // Emulation against the float twin (graph semantics in Double), every step and neuron of @cuba.
        // With exact weights, decays and biases, each step adds at most r = 1/2 LSB of decay rounding (half_even) to
        // c, and r to v on top of c's error: |e_c| <= r / (1 - 0.5) = 1, |e_v| <= (r + 1) / (1 - 0.75) = 6 LSBs.
        let bound = 6.0
        let twin = try FloatNetwork(graph: g)
        let rng = Philox(seed: 42)
        let active: [[Int32]] = (0..<g.timesteps).map { s in (0..<3).compactMap { rng.uniform(purpose: 5, UInt32(s), UInt32($0), 0) < 0.5 ? Int32($0) : nil } }
        let raster = SpikeRaster(channels: 3, timesteps: g.timesteps, active: active)
        let (r, report) = try runOnAllEngines(p, raster)
        XCTAssertEqual(report.total, 0)
        let f = twin.simulate(raster, trace: true)
        let ci = try XCTUnwrap(twin.neuronIndex("cuba"))
        var worst = 0.0
        for step in 0..<g.timesteps {
            for i in 0..<2 {
                let e = Double(r.traces["cuba"]!.membrane[step][i]) - f.membraneTrace[ci][step][i] / lsb
                worst = Swift.max(worst, abs(e))
                XCTAssertLessThanOrEqual(abs(e), bound, "step \(step) neuron \(i)")
                let ec = Double(r.traces["cuba"]!.synapse[step][i]) - f.synapseTrace[ci][step][i] / lsb
                XCTAssertLessThanOrEqual(abs(ec), 1.0, "synapse step \(step) neuron \(i)")
            }
        }
        XCTAssertGreaterThan(abs(f.membrane[ci][0]), 100 * lsb, "the membrane moves")
        print("cuba: largest |emulated - float| membrane difference \(worst) LSBs (bound \(bound))")
        // The spiking synapse population's first steps see nothing before the delayed rows arrive.
        XCTAssertEqual(r.traces["lif"]!.preActivation[0], [0, 0])
        XCTAssertEqual(r.traces["lif"]!.preActivation[1], [0, 0])
    }

    func testGraphValidatorRefusesNonSpikingSources() throws {
        var g = Self.synapseGraph()
        g.projections.append(Projection(name: "bad", from: "cuba", to: "lif", delay: 1, weights: .dense([1, 1, 1, 1])))
        XCTAssertThrowsError(try GraphValidator.validate(g, file: "g.json")) {
            XCTAssertEqual(String(describing: $0),
                           "g.json: projections[3].from: population cuba is non-spiking; crossbar rows take 1-bit spikes")
        }
        var h = Self.synapseGraph()
        h.readout = Readout(from: "cuba", classes: 2)
        XCTAssertThrowsError(try GraphValidator.validate(h, file: "h.json")) {
            XCTAssertTrue(String(describing: $0).hasPrefix("h.json: readout.from: population cuba is non-spiking"), "\($0)")
        }
    }

    // MARK: Tile skipping

    func testAllZeroTilesAreSkipped() throws {
        // The ideal target with 16x8 arrays: 4 cells per weight -> 2 neurons per array. A block-diagonal 32 -> 8
        // projection (rows 0-15 feed neurons 0-3, rows 16-31 neurons 4-7) is a 2 x 4 grid of tiles, of which the 4
        // off-diagonal ones are all zero.
        var toml = try String(contentsOfFile: Repo.path("targets/ideal.toml"), encoding: .utf8)
        toml = toml.replacingOccurrences(of: "rows = 512", with: "rows = 16").replacingOccurrences(of: "cols = 512", with: "cols = 8")
        let t = try TargetLoader.parse(toml, file: "ideal-16x8.toml")
        var entries: [SparseEntry] = []
        var q = [[Int64]](repeating: [Int64](repeating: 0, count: 8), count: 32)
        for pre in 0..<32 {
            for post in 0..<8 where (pre < 16) == (post < 4) && (pre + 3 * post) % 4 != 0 {
                let w = Int64((pre * 7 + post * 13) % 511) - 255  // |w| <= 255: with max 255 the weight step is 1
                entries.append(SparseEntry(pre: pre, post: post, weight: Double(w)))
                q[pre][post] = w
            }
        }
        entries.append(SparseEntry(pre: 1, post: 1, weight: 255))
        q[1][1] += 255
        let g = Graph(name: "blocks", timesteps: 6,
                      populations: [Population(name: "in", kind: .input, size: 32),
                                    Population(name: "out", kind: .lif, size: 8, lif: LIFParameters(decay: 0.5, threshold: 1e6))],
                      projections: [Projection(name: "p", from: "in", to: "out", delay: 0, weights: .sparse(entries))])
        let c = try Compiler.compile(g, target: t)
        XCTAssertEqual(c.program.arrays.map(\.name), ["out.r0c0", "out.r0c1", "out.r1c2", "out.r1c3"])
        XCTAssertEqual(c.stats.skippedTiles, ["out.r1c0", "out.r1c1", "out.r0c2", "out.r0c3"])
        XCTAssertEqual(c.stats.arraysSkipped, 4)
        XCTAssertEqual(c.program.step.filter { if case .read = $0.kind { return true } else { return false } }.count, 4)
        // The emulated pre-activation equals the dense product of the quantised weights with the spikes (x 2^8).
        let rng = Philox(seed: 7)
        let active: [[Int32]] = (0..<6).map { s in (0..<32).compactMap { rng.uniform(purpose: 5, UInt32(s), UInt32($0), 0) < 0.4 ? Int32($0) : nil } }
        let (r, _) = try runOnAllEngines(c.program, SpikeRaster(channels: 32, timesteps: 6, active: active))
        for s in 0..<6 {
            let dense = (0..<8).map { j in active[s].reduce(Int64(0)) { $0 + q[Int($1)][j] } * 256 }
            XCTAssertEqual(r.traces["out"]!.preActivation[s], dense, "step \(s)")
        }
        // A column tile whose every tile is zero keeps its first array: neuron 7 gets no synapse at all.
        var h = g
        h.projections[0].weights = .sparse(entries.filter { $0.post < 6 })
        let c2 = try Compiler.compile(h, target: t)
        XCTAssertEqual(c2.program.arrays.map(\.name), ["out.r0c0", "out.r0c1", "out.r1c2", "out.r0c3"])
    }
}
