import XCTest
import XbarCore
@testable import XbarEmulator
import XbarCompiler
import XbarEvents
import XbarGraph
import XbarIR
import XbarVectors

/// The `izhikevich` neuron model (docs/ir.md, "`izhikevich`"): hand-computed integer traces on the three engines,
/// the exact engine's saturation report, the text form (IR version 2) and the verifier's rules.
final class IzhikevichTests: XCTestCase {
    /// A population of `size` neurons with the given per-neuron parameters (state LSBs 2^-F, a and b 2^-G).
    static func population(_ name: String = "z", size: Int, F: Int, G: Int, K: Int, quad: Int64, qshr: Int64,
                           rnd: Rounding, v: IntType = .i(32), u: IntType = .i(32), a: [Int64], b: [Int64], c: [Int64],
                           d: [Int64], bias: [Int64], v0: [Int64], u0: [Int64]) -> NeuronDecl {
        var p = ModelParameters(model: "izhikevich")
        p.types = ["v": v, "u": u]
        p.integers = ["frac": Int64(F), "substeps": Int64(K), "abfrac": Int64(G), "quad": quad, "qshr": qshr,
                      "peak": 30 << Int64(F)]
        p.roundings = ["rnd": rnd]
        p.perNeuron = ["a": a, "b": b, "c": c, "d": d, "bias": bias, "v0": v0, "u0": u0]
        return NeuronDecl(name: name, size: size, model: p, countType: .u(8), membraneType: v)
    }

    /// Input @x[1] drives a 1 x n array (codes `codes`); `adc lsb 1` then `scale mul 2^inShift` is the input current.
    static func program(timesteps: Int, codes: [Int32], inShift: Int, neuron n: NeuronDecl) -> Program {
        let L = codes.count
        let ops = [
            Op(result: "r", type: .u(8), length: L,
               kind: .read(array: "a", rows: [RowSource(rowStart: 0, source: "x", srcStart: 0, count: 1, delay: 0)],
                           colStart: 0, cellsPerWeight: 1, vReadMV: 200, tReadNS: 10)),
            Op(result: "c", type: .u(8), length: L, kind: .adc(operand: "r", bits: 8, lsb: 1, offset: 0, rounding: .floor)),
            Op(result: "i", type: .i(32), length: L,
               kind: .scale(operand: "c", mul: Int64(1) << inShift, shift: 0, rounding: .floor, overflow: .sat)),
            Op(result: "s", type: .u(1), length: L, kind: .neuron(model: "izhikevich", population: n.name, input: "i")),
        ]
        var p = Program(name: "izhikevich", target: "test", timesteps: timesteps, inputs: [InputDecl(name: "x", size: 1)],
                        neurons: [n],
                        arrays: [ArrayDecl(name: "a", macro: 0, index: 0, rows: 1, cols: L, gUnitNS: 1, codeType: .u(8), codes: codes)],
                        readouts: [], step: ops)
        p.version = 2
        return p
    }

    static func raster(_ T: Int, _ steps: Set<Int>) -> SpikeRaster {
        SpikeRaster(channels: 1, timesteps: T, active: (0..<T).map { steps.contains($0) ? [0] : [] })
    }

    /// Regular spiking with F = 4, G = 8, one sub-step, floor rounding, 0.04 ~ 41 / 2^10, a tonic bias of 10 mV/ms.
    static func handNeuron(v: IntType = .i(24)) -> NeuronDecl {
        population(size: 1, F: 4, G: 8, K: 1, quad: 41, qshr: 10, rnd: .floor, v: v,
                   a: [5], b: [51], c: [-65 * 16], d: [8 * 16], bias: [160], v0: [-1040], u0: [-208])
    }

    func testHandComputedTraceOnAllEngines() throws {
        // x = 0 + 160. Step 0: q = fl(1040^2 / 16) = 67600; fl(67600 * 41 / 1024) = 2706;
        //   dv = 2706 - 5200 + 2240 + 208 + 160 = 114; v = -926; bv = fl(51 * -926 / 256) = -185;
        //   u = -208 + fl(5 * 23 / 256) = -208.
        // Step 1: q = fl(926^2 / 16) = 53592; fl(53592 * 41 / 1024) = 2145; dv = 2145 - 4630 + 2240 + 208 + 160 = 123;
        //   v = -803; bv = fl(-40953 / 256) = -160; u = -208 + fl(240 / 256) = -208.
        // Step 2: q = fl(803^2 / 16) = 40300; fl(40300 * 41 / 1024) = 1613; dv = 1613 - 4015 + 2240 + 208 + 160 = 206;
        //   v = -597; bv = fl(-30447 / 256) = -119; u = -208 + fl(5 * 89 / 256) = -207.
        let p = Self.program(timesteps: 40, codes: [0], inShift: 4, neuron: Self.handNeuron())
        let (r, report) = try runOnAllEngines(p, Self.raster(40, []))
        XCTAssertEqual(Array(r.traces["z"]!.membrane.map { $0[0] }.prefix(3)), [-926, -803, -597])
        XCTAssertEqual(Array(r.traces["z"]!.state["u"]!.map { $0[0] }.prefix(3)), [-208, -208, -207])
        XCTAssertEqual(report.total, 0)
        // A tonic 10 mV/ms regular-spiking neuron fires; after a spike v restarts at c and u has grown by d.
        let first = try XCTUnwrap(r.spikes["z"]!.first).step
        XCTAssertGreaterThanOrEqual(r.traces["z"]!.membrane[Int(first)][0], 480)
        XCTAssertGreaterThanOrEqual(r.traces["z"]!.state["u"]![Int(first)][0] - r.traces["z"]!.state["u"]![Int(first) - 1][0],
                                    128, "u jumps by d = 8 mV at the spike (plus its own drift)")
        XCTAssertEqual(r.traces["z"]!.membrane[Int(first) + 1][0] < 0, true, "v restarts from c = -65 mV")
        XCTAssertEqual(r.counts["z"]!, [Int64(r.spikes["z"]!.count)])
        XCTAssertEqual(r.state["z"]!["v"]!, r.membrane["z"]!)
    }

    func testSaturationIsReportedAtTheStateSite() throws {
        // A 12-bit v (-2048 ... 2047 = 128 mV at F = 4) saturates on the upstroke of the first spike.
        let p = Self.program(timesteps: 40, codes: [0], inShift: 4, neuron: Self.handNeuron(v: .i(12)))
        let (r, report) = try runOnAllEngines(p, Self.raster(40, []))
        XCTAssertGreaterThan(report.total, 0)
        XCTAssertEqual(report.events.first?.site, "@z.v")
        XCTAssertEqual(report.events.first?.stored, 2047)
        XCTAssertFalse(r.spikes["z"]!.isEmpty)
    }

    func testTextFormIsVersionTwoAndRoundTrips() throws {
        let p = Self.program(timesteps: 5, codes: [3, 7], inShift: 4,
                             neuron: Self.population(size: 2, F: 15, G: 16, K: 2, quad: 10486, qshr: 18, rnd: .halfUp,
                                                     a: [1311, 6554], b: [13107, 13107], c: [-2129920, -2129920],
                                                     d: [262144, 65536], bias: [0, 5], v0: [-2129920, -2129920],
                                                     u0: [-425984, -425984]))
        let text = IRPrinter.print(p)
        XCTAssertTrue(text.hasPrefix("xbar-ir 2\n"))
        XCTAssertTrue(text.contains("neuron @z 2 izhikevich v i32 u i32 frac 15 substeps 2 abfrac 16 quad 10486 qshr 18 peak 983040 rnd half_up count u8\n  a: 1311 6554\n"))
        XCTAssertTrue(text.contains("%s = izhikevich @z %i : u1[2]"))
        XCTAssertEqual(try IRParser.parse(text), p)
        XCTAssertNoThrow(try IRVerifier.verify(try IRParser.parse(text)))
        // Version 1 has no models; a model line in a version-1 file is refused with a one-line error.
        let v1 = text.replacingOccurrences(of: "xbar-ir 2", with: "xbar-ir 1")
        XCTAssertThrowsError(try IRParser.parse(v1)) { XCTAssertTrue("\($0)".contains("expected 'mem', found 'izhikevich'"), "\($0)") }
    }

    func testVerifierRules() throws {
        var n = Self.handNeuron()
        n.model!.integers["substeps"] = 3
        XCTAssertThrowsError(try IRVerifier.verify(Self.program(timesteps: 2, codes: [0], inShift: 4, neuron: n))) {
            XCTAssertTrue("\($0)".contains("neuron @z: substeps must be a power of two"), "\($0)")
        }
        n = Self.handNeuron()
        n.model!.integers["qshr"] = 30
        n.model!.integers["quad"] = 1 << 30
        XCTAssertThrowsError(try IRVerifier.verify(Self.program(timesteps: 2, codes: [0], inShift: 4, neuron: n))) {
            XCTAssertTrue("\($0)".contains("quadratic term"), "\($0)")
        }
        n = Self.handNeuron()
        n.model!.perNeuron["c"] = [1 << 40]
        XCTAssertThrowsError(try IRVerifier.verify(Self.program(timesteps: 2, codes: [0], inShift: 4, neuron: n))) {
            XCTAssertTrue("\($0)".contains("c[0] = 1099511627776 does not fit i24"), "\($0)")
        }
        var p = Self.program(timesteps: 2, codes: [0], inShift: 4, neuron: Self.handNeuron())
        p.version = 1
        XCTAssertThrowsError(try IRVerifier.verify(p)) { XCTAssertTrue("\($0)".contains("needs version 2"), "\($0)") }
    }
}

/// Izhikevich vectors from the engines against rtl/xbar_izh_unit.v in Icarus Verilog (docs/rtl-izhikevich.md).
final class IzhikevichRTLTests: XCTestCase {
    func testEngineVectorsPassTheRTLTestbenchAndAFlippedValueFails() throws {
        // Regular spiking, fast spiking, chattering and intrinsically bursting (Izhikevich 2003) at the default widths
        // (s16.15, a and b at 2^-24, two sub-steps), driven by 10 mV/ms pulses of the input and a tonic bias.
        let F = 15, G = 24
        let sets = IzhikevichModel.classic
        let n = IzhikevichTests.population(size: 4, F: F, G: G, K: 2, quad: 20972, qshr: 19, rnd: .halfUp,
                                           a: sets.map { Fixed.roundReal($0.a * 0x1p24, .halfEven) },
                                           b: sets.map { Fixed.roundReal($0.b * 0x1p24, .halfEven) },
                                           c: sets.map { Int64($0.c) << 15 }, d: sets.map { Int64($0.d) << 15 },
                                           bias: [4 << 15, 4 << 15, 4 << 15, 4 << 15], v0: [Int64](repeating: -65 << 15, count: 4),
                                           u0: [Int64](repeating: -13 << 15, count: 4))
        let T = 300
        let p = IzhikevichTests.program(timesteps: T, codes: [10, 10, 10, 10], inShift: F, neuron: n)
        let rasters = (0..<2).map { s in SpikeRaster(channels: 1, timesteps: T, active: (0..<T).map { ($0 / (40 + 20 * s)) % 2 == 0 ? [0] : [] }) }
        // All three engines agree on every sample (the vectors come from the fast engine).
        for r in rasters { _ = try runOnAllEngines(p, r) }
        let t = try Repo.target("ideal")
        let src = VectorSource(program: "p.xir", programKind: "ir", targetArgument: "ideal", target: t, input: "synthetic",
                               samplesInFile: 2, seed: 1, idealDevice: true, ageS: nil)
        var rtl = try VectorsTests.rtl()
        for f in ["xbar_izh_unit.v", "xbar_izh_tb.v"] { rtl.modelFiles[f] = try String(contentsOfFile: Repo.path("rtl/\(f)"), encoding: .utf8) }
        let set = try VectorBuilder.build(program: p, chip: Chip(program: p, seed: 1, timing: t.timing),
                                          data: EventDataset(channels: 1, timesteps: T, samples: rasters), source: src, rtl: rtl)
        let dir = Repo.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try set.write(to: dir.path)
        let vectors = dir.appendingPathComponent("models/z.s0.txt")
        let lines = try String(contentsOf: vectors, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "4 \(T) 1 15 24 20972 19 983040 2 32 32 8")
        XCTAssertEqual(lines.count, 1 + 4 + 4 * T)
        let spikes = lines.dropFirst(5).map { $0.split(separator: " ")[4] }.filter { $0 == "1" }.count
        XCTAssertGreaterThan(spikes, 20, "the neurons fire")
        let run = try VectorsTests.sh("/bin/sh", [dir.appendingPathComponent("tb/run_models.sh").path], cwd: dir)
        XCTAssertEqual(run.0, 0, run.1)
        XCTAssertTrue(run.1.contains("PASS 4 neurons \(T) steps"), run.1)
        // Verilator runs the same testbench on the same files with the same result.
        let vl = try VectorsTests.sh("/bin/sh", [dir.appendingPathComponent("tb/run_models_verilator.sh").path], cwd: dir)
        XCTAssertEqual(vl.0, 0, vl.1)
        XCTAssertEqual(vl.1.split(separator: "\n").filter { $0.hasPrefix("PASS") }, run.1.split(separator: "\n").filter { $0.hasPrefix("PASS") })
        // Flip one expected u (a value the unit recomputes) in sample 0: the testbench fails.
        var flipped = lines
        var f = flipped[5 + 4 * 100 + 2].split(separator: " ").map { Int64($0)! }
        f[3] += 1
        flipped[5 + 4 * 100 + 2] = f.map(String.init).joined(separator: " ")
        try (flipped.joined(separator: "\n") + "\n").write(to: vectors, atomically: true, encoding: .utf8)
        let bad = try VectorsTests.sh("/bin/sh", [dir.appendingPathComponent("tb/run_models.sh").path], cwd: dir)
        XCTAssertNotEqual(bad.0, 0)
        XCTAssertTrue(bad.1.contains("FAIL"), bad.1)
        let vlBad = try VectorsTests.sh(dir.appendingPathComponent("tb/verilator/izhikevich/izhikevich").path, ["+vectors=models/z.s0.txt"], cwd: dir)
        XCTAssertTrue(vlBad.1.contains("FAIL") && !vlBad.1.contains("PASS"), vlBad.1)
    }
}

/// The native kernel and the exact update against scripts/izh_reference.py, an independent integer-only Python
/// implementation of docs/ir.md: the four classic sets (regular spiking, fast spiking, chattering, intrinsically
/// bursting) first, then the 2003 heterogeneous network, over rounding modes, sub-steps and narrow widths.
final class IzhikevichReferenceTests: XCTestCase {
    func testKernelAndExactUpdateEqualThePythonReference() throws {
        let configs: [[String]] = [
            ["--seed", "1"],
            ["--seed", "2", "--rnd", "floor", "--substeps", "1", "--frac", "12", "--vbits", "30"],
            ["--seed", "3", "--rnd", "half_even", "--substeps", "4", "--frac", "8", "--vbits", "28", "--abfrac", "20"],
            ["--seed", "4", "--rnd", "trunc", "--vbits", "20", "--ubits", "20", "--frac", "12", "--cbits", "4", "--heavy", "0.05"],
        ]
        for args in configs {
            let dir = Repo.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let file = dir.appendingPathComponent("v.txt")
            let r = try VectorsTests.sh("/usr/bin/env", ["python3", Repo.path("scripts/izh_reference.py"), "--out", file.path,
                                                         "--neurons", "12", "--steps", "400", "--quiet"] + args, cwd: dir)
            XCTAssertEqual(r.0, 0, r.1)
            try Self.check(file, "\(args)")
        }
    }

    /// Replays a vector file through the native kernel and the exact update (MPZ) and compares every field.
    static func check(_ file: URL, _ what: String) throws {
        let nums = try String(contentsOf: file, encoding: .utf8).split(whereSeparator: { $0 == " " || $0 == "\n" }).map { Int64($0)! }
        let (N, T, H, F, G, Q, S, PK, R) = (Int(nums[0]), Int(nums[1]), nums[2], nums[3], nums[4], nums[5], nums[6], nums[7], Int(nums[8]))
        let (VB, UB, CB) = (Int(nums[9]), Int(nums[10]), Int(nums[11]))
        var at = 12
        var cols = [[Int64]](repeating: [], count: 7)
        for _ in 0..<N { for k in 0..<7 { cols[k].append(nums[at]); at += 1 } }
        let rnd: [Rounding] = [.floor, .trunc, .halfUp, .halfEven]
        let n = IzhikevichTests.population(size: N, F: Int(F), G: Int(G), K: 1 << Int(H), quad: Q, qshr: S, rnd: rnd[R],
                                           v: .i(VB), u: .i(UB), a: cols[0], b: cols[1], c: cols[2], d: cols[3], bias: cols[4],
                                           v0: cols[5], u0: cols[6])
        var p = n.model!
        p.integers["peak"] = PK
        let kernel = IzhikevichModel.kernel(p, size: N)
        let v = UnsafeMutablePointer<Int64>.allocate(capacity: N), u = UnsafeMutablePointer<Int64>.allocate(capacity: N)
        let count = UnsafeMutablePointer<Int64>.allocate(capacity: N), out = UnsafeMutablePointer<Int64>.allocate(capacity: N)
        let tr = UnsafeMutablePointer<Int64>.allocate(capacity: N), sp = UnsafeMutablePointer<Int32>.allocate(capacity: N)
        let input = UnsafeMutablePointer<Int64>.allocate(capacity: N)
        defer { for q in [v, u, count, out, tr, input] { q.deallocate() }; sp.deallocate() }
        v.initialize(from: cols[5], count: N); u.initialize(from: cols[6], count: N); count.initialize(repeating: 0, count: N)
        var exact = (0..<N).map { [MPZ(cols[5][$0]), MPZ(cols[6][$0])] }
        var exactCount = [Int64](repeating: 0, count: N)
        let countMax = IntType.u(CB).max
        var spikes = 0
        for t in 0..<T {
            let rows = (0..<N).map { i in (0..<6).map { nums[at + 6 * i + $0] } }
            at += 6 * N
            for i in 0..<N { input[i] = rows[i][0] }
            _ = kernel.update(lo: 0, hi: N, input: input, state: [v, u], count: count, countMax: countMax, out: out, trace: tr, spikes: sp)
            for i in 0..<N {
                let want = rows[i]
                let got = [input[i], tr[i], v[i], u[i], out[i], count[i]]
                guard got == want else { return XCTFail("\(what): native step \(t) neuron \(i): got \(got), want \(want)") }
                let (s, trace) = IzhikevichModel.exactUpdate(p, neuron: i, input: MPZ(want[0]), state: &exact[i]) { x, type, _ in
                    x.fitted(to: type, .sat).value
                }
                exactCount[i] = Swift.min(exactCount[i] + (s ? 1 : 0), countMax)
                let e = [want[0], trace.int64!, exact[i][0].int64!, exact[i][1].int64!, s ? 1 : 0, exactCount[i]]
                guard e == want else { return XCTFail("\(what): exact step \(t) neuron \(i): got \(e), want \(want)") }
                spikes += s ? 1 : 0
            }
        }
        XCTAssertGreaterThan(spikes, 20, what)
    }
}

/// The graph's `rounding` key of an Izhikevich population (docs/graph.md): it reaches the IR's `rnd`, survives the
/// graph writer, and a bad value is a one-line error naming the key.
final class IzhikevichGraphRoundingTests: XCTestCase {
    static func graph(_ rounding: String) -> String {
        """
        {"format": "neuroxbar-graph", "version": 1, "name": "z", "timesteps": 10, "populations": [
          {"name": "in", "kind": "input", "size": 2},
          {"name": "z", "kind": "izhikevich", "size": 2, "a": 0.02, "b": 0.2, "c": -65, "d": [8, 2]\(rounding)}],
         "projections": [{"name": "p", "from": "in", "to": "z", "delay": 0, "weights": {"kind": "dense", "values": [[1, 2], [3, 4]]}}]}
        """
    }

    func testRoundingReachesTheIRAndBadValuesAreNamed() throws {
        let t = try Repo.target("ideal")
        for (word, want) in [("floor", Rounding.floor), ("trunc", .trunc), ("half_even", .halfEven), ("half_up", .halfUp)] {
            let g = try GraphJSON.parse(Data(Self.graph(", \"rounding\": \"\(word)\"").utf8), file: "g.json")
            XCTAssertEqual(try GraphJSON.parse(Data(GraphWriter.json(g).utf8), file: "w.json"), g)
            let p = try Compiler.compile(g, target: t).program
            XCTAssertEqual(p.neurons.first { $0.name == "z" }?.model?.roundings["rnd"], want, word)
            XCTAssertTrue(IRPrinter.print(p).contains(word), word)
        }
        // Without the key: half_up, as before.
        let plain = try Compiler.compile(GraphJSON.parse(Data(Self.graph("").utf8), file: "g.json"), target: t).program
        XCTAssertEqual(plain.neurons.first { $0.name == "z" }?.model?.roundings["rnd"], .halfUp)
        let bad: [(String, String)] = [
            (", \"rounding\": \"nearest\"", "g.json: populations.z.rounding: expected one of \"floor\", \"trunc\", \"half_up\", \"half_even\", found \"nearest\""),
            (", \"rounding\": 2", "g.json: populations.z.rounding: expected one of \"floor\", \"trunc\", \"half_up\", \"half_even\""),
            (", \"peak\": \"high\"", "g.json: populations.z.peak: expected a number or one number per neuron, found \"high\""),
        ]
        for (extra, message) in bad {
            let g = try GraphJSON.parse(Data(Self.graph(extra).utf8), file: "g.json")
            XCTAssertThrowsError(try Compiler.compile(g, target: t, file: "g.json")) { XCTAssertEqual("\($0)", message) }
        }
    }
}
