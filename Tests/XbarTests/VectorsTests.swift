import Foundation
import XCTest
import XbarCore
import XbarEmulator
import XbarEvents
import XbarIR
import XbarTarget
@testable import XbarVectors

/// `xbar vectors` / `xbar check` / rtl/ (docs/vectors.md): deterministic bit-exact vectors, a manifest that documents
/// every file, a VCD that readers parse, and the Verilog LIF unit checked against the vectors with Icarus Verilog.
final class VectorsTests: XCTestCase {
    /// The front end of the hand-built test programs: read array "a" (rows driven by input "in", 2n columns), a 7-bit
    /// ADC, the positive and negative columns sliced apart, their saturating difference and a x3 scale: "s" is i12[n].
    static func differentialFrontEnd(rows: Int, n: Int) -> [Op] {
        [
            Op(result: "r", type: .u(7), length: 2 * n, kind: .read(array: "a", rows: [RowSource(rowStart: 0, source: "in", srcStart: 0, count: rows, delay: 0)],
                                                                    colStart: 0, cellsPerWeight: 2, vReadMV: 100, tReadNS: 10)),
            Op(result: "c", type: .u(7), length: 2 * n, kind: .adc(operand: "r", bits: 7, lsb: 1, offset: 0, rounding: .floor)),
            Op(result: "p", type: .u(7), length: n, kind: .slice(operand: "c", start: 0, stride: 2)),
            Op(result: "m", type: .u(7), length: n, kind: .slice(operand: "c", start: 1, stride: 2)),
            Op(result: "d", type: .i(8), length: n, kind: .sub(a: "p", b: "m", overflow: .sat)),
            Op(result: "s", type: .i(12), length: n, kind: .scale(operand: "d", mul: 3, shift: 0, rounding: .floor, overflow: .sat)),
        ]
    }

    // MARK: - Shared fixture: the bundled LSM on the forming target with every noise source on.

    nonisolated(unsafe) static var lsmDir: URL?
    static let lock = NSLock()

    static let lsmArgs = ["examples/lsm-paper/lsm-paper.json", "--input", "examples/digits/digits-test.xev",
                          "--target", "targets/rram-40nm-256kb.toml", "--seed", "1"]

    override class func tearDown() {
        if let d = lsmDir { try? FileManager.default.removeItem(at: d.deletingLastPathComponent()) }
        lsmDir = nil
        super.tearDown()
    }

    /// A fresh temporary directory, removed after the test.
    func scratch() -> URL {
        let d = Repo.tempDir()
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func lsmVectors() throws -> URL {
        Self.lock.lock()
        defer { Self.lock.unlock() }
        if let d = Self.lsmDir { return d }
        let d = Repo.tempDir().appendingPathComponent("lsm")
        let r = try Repo.run(["vectors"] + Self.lsmArgs + ["--out", d.path])
        guard r.0 == 0 else { throw XbarError(file: "xbar vectors", field: "", "exit \(r.0): \(r.2)") }
        Self.lsmDir = d
        return d
    }

    static func manifest(_ dir: URL) throws -> [String: Any] {
        let d = try Data(contentsOf: dir.appendingPathComponent("manifest.json"))
        return try JSONSerialization.jsonObject(with: d) as! [String: Any]
    }

    static func fileEntries(_ m: [String: Any]) -> [[String: Any]] { m["files"] as! [[String: Any]] }

    /// Runs a program; returns (status, stdout + stderr).
    @discardableResult
    static func sh(_ exe: String, _ args: [String], cwd: URL) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = cwd
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self))
    }

    static func which(_ tool: String) -> String? {
        for d in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") + ["/usr/bin", "/usr/local/bin"] {
            let p = "\(d)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Compiles and runs a generated testbench with Icarus Verilog; returns the simulator output, and checks its exit
    /// status: 0 with PASS, 1 after a MISMATCH.
    static func iverilog(_ dir: URL, population: String, dut: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let iv = which("iverilog"), let vvp = which("vvp") else {
            throw XbarError(file: "iverilog", field: "", "Icarus Verilog not found: install it (apt-get install iverilog, or scripts/setup.sh)")
        }
        let out = "tb/tb_lif.\(population).vvp"
        let c = try sh(iv, ["-g2005", "-o", out, "tb/tb_lif.\(population).v", dut ?? "tb/xbar_lif_unit.v"], cwd: dir)
        guard c.0 == 0 else { throw XbarError(file: "iverilog", field: "", "compile failed: \(c.1)") }
        let r = try sh(vvp, ["-n", out], cwd: dir)
        XCTAssertEqual(r.0, r.1.contains("PASS") ? 0 : 1, "vvp exit status: \(r.1)", file: file, line: line)
        return r.1
    }

    static func lines(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.hasPrefix("//") }
    }

    static func rtl() throws -> RTLSources {
        RTLSources(unit: try String(contentsOfFile: Repo.path("rtl/xbar_lif_unit.v"), encoding: .utf8),
                   testbenchTemplate: try String(contentsOfFile: Repo.path("rtl/xbar_lif_tb.v"), encoding: .utf8))
    }

    // MARK: - SHA-256

    func testSHA256KnownVectorsAndSha256sum() throws {
        // FIPS 180-2 examples.
        XCTAssertEqual(SHA256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Streaming in odd pieces equals one shot; padding boundaries (55, 56, 63, 64, 65 bytes) against sha256sum.
        var h = SHA256()
        let text = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
        h.update(text.prefix(13)); h.update(Array(text[13..<200])); h.update(text.suffix(from: 200))
        XCTAssertEqual(h.finalize().map { String(format: "%02x", $0) }.joined(), SHA256.hex(text))
        guard let sum = Self.which("sha256sum") else { return XCTFail("sha256sum not found (coreutils)") }
        let dir = scratch()
        for n in [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000] {
            let f = dir.appendingPathComponent("f\(n)")
            try text.prefix(n).write(to: f)
            let r = try Self.sh(sum, [f.path], cwd: dir)
            XCTAssertEqual(String(r.1.prefix(64)), SHA256.hex(text.prefix(n)), "length \(n)")
        }
    }

    // MARK: - Determinism and the manifest

    func testSameProgramInputAndSeedGiveByteIdenticalFiles() throws {
        let a = try lsmVectors()
        let b = scratch().appendingPathComponent("lsm-again")
        let r = try Repo.run(["vectors"] + Self.lsmArgs + ["--out", b.path])
        XCTAssertEqual(r.0, 0, r.2)
        let fa = try FileManager.default.subpathsOfDirectory(atPath: a.path).filter { !$0.hasSuffix(".vvp") && !$0.hasSuffix(".log") }.sorted()
        let fb = try FileManager.default.subpathsOfDirectory(atPath: b.path).sorted()
        XCTAssertEqual(fa, fb)
        var compared = 0
        for f in fb {
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: b.appendingPathComponent(f).path, isDirectory: &isDir)
            if isDir.boolValue { continue }
            XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(f)), try Data(contentsOf: b.appendingPathComponent(f)), "\(f) differs")
            compared += 1
        }
        XCTAssertGreaterThanOrEqual(compared, 20)
    }

    func testManifestDocumentsEveryFile() throws {
        let dir = try lsmVectors()
        let m = try Self.manifest(dir)
        XCTAssertEqual(m["format"] as? String, "neuroxbar-vectors")
        XCTAssertEqual(m["version"] as? String, toolVersion)
        XCTAssertEqual(m["seed"] as? Int, 1)
        XCTAssertEqual((m["target"] as! [String: Any])["name"] as? String, "rram-40nm-256kb")
        let dev = m["device"] as! [String: Any]
        for k in ["read_noise", "adc_noise", "faults", "drift", "ir_drop"] { XCTAssertEqual(dev[k] as? Bool, true, k) }
        XCTAssertEqual(dev["programming"] as? String, "forming")
        let cycles = m["cycles"] as! [String: Any]
        XCTAssertGreaterThan(cycles["total"] as! Int, 0)
        let files = Self.fileEntries(m)
        let listed = Set(files.map { $0["path"] as! String })
        let onDisk = Set(try FileManager.default.subpathsOfDirectory(atPath: dir.path).filter {
            var d: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).path, isDirectory: &d)
            return !d.boolValue && $0 != "manifest.json" && !$0.hasSuffix(".vvp") && !$0.hasSuffix(".log")
        })
        XCTAssertEqual(listed, onDisk)
        for want in ["program/program.xir", "program/array.lsm.r0c0.programmed.hex", "program/array.lsm.r0c0.realised.hex",
                     "stimulus/steps.vec", "stimulus/issue.vec", "stimulus/wl.lsm.r0c0.vec", "stimulus/input.in.vec",
                     "response/adc.lsm.r0c0.g0.adc.vec", "response/acc.lsm.r0c0.g1.s0.acc.vec", "response/lif.lsm.vec",
                     "response/queue.lsm.vec", "response/readout.readout.vec", "waves.vcd", "tb/tb_lif.lsm.v", "tb/xbar_lif_unit.v"] {
            XCTAssertTrue(listed.contains(want), want)
        }
        for f in files {
            let path = f["path"] as! String
            let data = try Data(contentsOf: dir.appendingPathComponent(path))
            XCTAssertEqual(f["sha256"] as? String, SHA256.hex(data), path)
            XCTAssertEqual(f["bytes"] as? Int, data.count, path)
            XCTAssertNotNil(f["description"] as? String, path)
            XCTAssertNotNil(f["role"] as? String, path)
            switch f["format"] as! String {
            case "vec":
                // Every record has the declared fields, each with exactly ceil(bits/4) hex digits.
                let fields = f["fields"] as! [[String: Any]]
                let recs = try Self.lines(dir.appendingPathComponent(path))
                XCTAssertEqual(recs.count, f["records"] as? Int, path)
                let digits = fields.map { (($0["bits"] as! Int) + 3) / 4 }
                for line in recs {
                    let w = line.split(separator: " ")
                    XCTAssertEqual(w.map { $0.count }, digits, "\(path): \(line)")
                    if w.map({ $0.count }) != digits { break }
                    XCTAssertTrue(w.allSatisfy { $0.allSatisfy { $0.isHexDigit && !$0.isUppercase } }, line)
                }
            case "readmemh":
                let words = try Self.lines(dir.appendingPathComponent(path))
                XCTAssertEqual(words.count, f["words"] as? Int, path)
                let digits = ((f["word_bits"] as! Int) + 3) / 4
                XCTAssertTrue(words.allSatisfy { $0.count == digits }, path)
            default: break
            }
        }
        // The realised image differs from the programmed one on a device with relaxation and IR drop, and both
        // match the chip the vectors ran on.
        let prog = try Self.lines(dir.appendingPathComponent("program/array.lsm.r0c0.programmed.hex"))
        let real = try Self.lines(dir.appendingPathComponent("program/array.lsm.r0c0.realised.hex"))
        XCTAssertNotEqual(prog, real)
        let arrays = m["arrays"] as! [[String: Any]]
        XCTAssertEqual(arrays[0]["cells_differing_from_programmed"] as? Int, zip(prog, real).filter { Int($0, radix: 16) != Int($1, radix: 16) }.count)
        // The lif file holds one record per neuron per step; its populations entry gives every parameter the RTL needs.
        let pops = m["populations"] as! [[String: Any]]
        XCTAssertEqual(pops.count, 1)
        for k in ["decay_mul", "decay_shift", "decay_rounding", "threshold", "compare", "reset", "refractory", "bias", "mem", "count",
                  "refractory_counter", "input_current", "neuron_lanes"] {
            XCTAssertNotNil(pops[0][k], k)
        }
        XCTAssertEqual(try Self.lines(dir.appendingPathComponent("response/lif.lsm.vec")).count, 200 * 50)
    }

    // MARK: - RTL cross-check with Icarus Verilog

    func testIverilogTestbenchPassesOnLSMWithDeviceNoise() throws {
        let dir = try lsmVectors()
        let out = try Self.iverilog(dir, population: "lsm")
        XCTAssertTrue(out.contains("PASS 10000 neuron updates of lsm"), out)
        XCTAssertFalse(out.contains("MISMATCH"), out)
    }

    func testIverilogTestbenchFailsOnAFlippedValueNamingCycleAndSignal() throws {
        let src = try lsmVectors()
        let dir = scratch().appendingPathComponent("flipped")
        try FileManager.default.copyItem(at: src, to: dir)
        // Flip one bit of the membrane of a record in the middle of the run.
        let path = dir.appendingPathComponent("response/lif.lsm.vec")
        var text = try String(contentsOf: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let recIdx = text.indices.filter { !text[$0].hasPrefix("//") && !text[$0].isEmpty }[5017]
        var w = text[recIdx].split(separator: " ").map(String.init)
        let memOld = Int64(w[5], radix: 16)!
        let memNew = memOld ^ 0x10
        w[5] = Hex.word(memNew, bits: 24)
        text[recIdx] = w.joined(separator: " ")
        try text.joined(separator: "\n").write(to: path, atomically: true, encoding: .utf8)
        let cycle = Int64(w[1], radix: 16)!, step = Int64(w[2], radix: 16)!, neuron = Int64(w[3], radix: 16)!
        func signed24(_ v: Int64) -> Int64 { v >= (1 << 23) ? v - (1 << 24) : v }
        let out = try Self.iverilog(dir, population: "lsm")
        XCTAssertFalse(out.contains("PASS"), out)
        XCTAssertTrue(out.contains("MISMATCH cycle \(cycle) sample 0 step \(step) signal mem.lsm[\(neuron)] expected \(signed24(memNew)) got \(signed24(memOld))"), out)

        // A neuron unit with the wrong rounding (floor instead of half_up) fails on the unmodified vectors.
        let unit = try String(contentsOf: src.appendingPathComponent("tb/xbar_lif_unit.v"), encoding: .utf8)
        let mutant = unit.replacingOccurrences(of: "2: round_up = (SHIFT > 0) && (r2 >= d2);", with: "2: round_up = 1'b0;")
        XCTAssertNotEqual(unit, mutant)
        let mpath = scratch().appendingPathComponent("mutant.v")
        try mutant.write(to: mpath, atomically: true, encoding: .utf8)
        let out2 = try Self.iverilog(src, population: "lsm", dut: mpath.path)
        XCTAssertTrue(out2.contains("MISMATCH cycle ") && out2.contains("signal mem.lsm["), out2)
    }

    /// Synthetic programs exercising what the LSM does not: every rounding, wrap and saturation of a narrow membrane,
    /// ge/gt, subtract reset, refractory periods, negative bias, an unsigned input, spike-count saturation, partial
    /// neuron groups and a stalling spike queue.
    func testIverilogTestbenchPassesOnEveryNeuronMode() throws {
        struct Mode { var rounding: Rounding; var ovf: Overflow; var cmp: Compare; var reset: ResetMode; var refr: Int
            var mul: Int64; var shift: Int; var threshold: Int64; var bias: Int64; var unsignedInput = false }
        let modes = [
            Mode(rounding: .floor, ovf: .sat, cmp: .gt, reset: .zero, refr: 0, mul: 3, shift: 2, threshold: 60, bias: 0),
            Mode(rounding: .trunc, ovf: .wrap, cmp: .ge, reset: .subtract, refr: 1, mul: 1, shift: 1, threshold: 50, bias: -3),
            Mode(rounding: .halfUp, ovf: .sat, cmp: .ge, reset: .subtract, refr: 2, mul: 5, shift: 3, threshold: 90, bias: 2),
            Mode(rounding: .halfEven, ovf: .wrap, cmp: .gt, reset: .zero, refr: 3, mul: 1, shift: 1, threshold: 40, bias: -5),
            Mode(rounding: .halfEven, ovf: .sat, cmp: .gt, reset: .subtract, refr: 0, mul: 7, shift: 3, threshold: 100, bias: -1),
            Mode(rounding: .halfUp, ovf: .wrap, cmp: .gt, reset: .subtract, refr: 0, mul: 4, shift: 2, threshold: 120, bias: 7),
            Mode(rounding: .trunc, ovf: .sat, cmp: .gt, reset: .zero, refr: 1, mul: 0, shift: 0, threshold: -20, bias: -30),
            Mode(rounding: .floor, ovf: .wrap, cmp: .ge, reset: .zero, refr: 2, mul: 3, shift: 2, threshold: 30, bias: 0, unsignedInput: true),
            // Nearly every neuron fires every step: the 2-deep spike queue stalls the pipeline.
            Mode(rounding: .halfUp, ovf: .sat, cmp: .ge, reset: .subtract, refr: 0, mul: 2, shift: 2, threshold: -100, bias: 1),
        ]
        let target = try Repo.target("ideal")
        let rtl = try Self.rtl()
        var spikes = 0, refractory = 0, countSat = 0, memAtBound = 0, negative = 0, stalls = 0
        var dirs: [URL] = []
        for (mi, m) in modes.enumerated() {
            var rng: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(mi)
            func next(_ n: Int) -> Int {
                rng = rng &* 6364136223846793005 &+ 1442695040888963407
                return Int((rng >> 33) % UInt64(n))
            }
            let rows = 6, n = 7
            let codes = (0..<(rows * 2 * n)).map { _ in Int32(next(16)) }
            let nd = NeuronDecl(name: "n", size: n, memType: .i(8), memOverflow: m.ovf, decayMul: m.mul, decayShift: m.shift,
                                decayRounding: m.rounding, threshold: m.threshold, compare: m.cmp, reset: m.reset, refractory: m.refr,
                                bias: m.bias, refractoryType: .u(2), countType: .u(3))
            var ops = Self.differentialFrontEnd(rows: rows, n: n)
            ops.append(Op(result: "spk", type: .u(1), length: n, kind: .lif(population: "n", input: m.unsignedInput ? "p" : "s")))
            let p = Program(name: "mode\(mi)", target: "ideal", timesteps: 40, inputs: [InputDecl(name: "in", size: rows)], neurons: [nd],
                            arrays: [ArrayDecl(name: "a", macro: 0, index: 0, rows: rows, cols: 2 * n, gUnitNS: 1000, codeType: .u(4), codes: codes)],
                            readouts: [ReadoutDecl(name: "ro", source: "n", classes: 2, weightType: .i(4), accType: .i(12), accOverflow: .sat,
                                                   weights: (0..<(2 * n)).map { _ in Int32(next(15)) - 7 }, bias: [3, -4], scale: 1)],
                            step: ops)
            try IRVerifier.verify(p)
            let spec = TimingSpec(maxRowsDriven: 512, colsPerADC: 4, adcKind: .sar, adcCyclesPerBit: 1, adcOverheadCycles: 1, settleCycles: 1,
                                  integrateCycles: 1, digitalLanes: 3, neuronUnits: 2, neuronPipeline: 2, routerQueue: 2,
                                  routerSpikesPerCycle: 1, readoutMACs: 4)
            let chip = Chip(program: p, seed: 1, timing: spec)
            let samples = (0..<2).map { _ in
                SpikeRaster(channels: rows, timesteps: 40, label: nil,
                            active: (0..<40).map { _ in (0..<rows).filter { _ in next(3) > 0 }.map { Int32($0) } })
            }
            let data = EventDataset(channels: rows, timesteps: 40, samples: samples)
            let src = VectorSource(program: "mode\(mi)", programKind: "ir", targetArgument: "ideal", target: target, input: "synthetic",
                                   samplesInFile: 2, seed: 1, idealDevice: true, ageS: nil)
            let set = try VectorBuilder.build(program: p, chip: chip, data: data, source: src, rtl: rtl)
            // The vectors agree with the fast engine's results.
            let fast = FastEngine(chip: chip)
            let binding = try InputBinding(program: p, channels: rows, file: "synthetic")
            for (s, raster) in samples.enumerated() { XCTAssertEqual(fast.run(raster, index: s, binding: binding, trace: false), set.results[s]) }
            let dir = scratch().appendingPathComponent("mode\(mi)")
            try set.write(to: dir.path)
            dirs.append(dir)
            let out = try Self.iverilog(dir, population: "n")
            XCTAssertTrue(out.contains("PASS \(2 * 40 * n) neuron updates"), "mode \(mi): \(out)")
            for line in try Self.lines(dir.appendingPathComponent("response/lif.n.vec")) {
                let w = line.split(separator: " ")
                let mem = Hex.decode(w[5], bits: 8, signed: true)!
                spikes += w[6] == "1" ? 1 : 0
                refractory += w[7] != "0" ? 1 : 0
                countSat += w[8] == "7" ? 1 : 0
                memAtBound += (mem == 127 || mem == -128) ? 1 : 0
                negative += mem < 0 ? 1 : 0
            }
            // Exit attempts beyond one per group are stalls (a group waits while the 2-deep queue drains).
            stalls += try Self.lines(dir.appendingPathComponent("response/queue.n.vec")).count - 2 * 40 * 4
        }
        print("neuron modes: \(spikes) spikes, \(refractory) refractory updates, \(countSat) saturated counts, \(memAtBound) membranes at a bound, \(negative) negative, \(stalls) router stalls")
        XCTAssertGreaterThan(stalls, 10)

        // The vectors catch every single-point bug of the neuron unit: each mutant fails on at least one mode.
        let unit = rtl.unit
        let mutants: [(String, String)] = [
            ("1: round_up = prod[XW-1] && nonzero_r;", "1: round_up = 1'b0;"),                                 // trunc as floor
            ("(SHIFT > 0) && (r2 >= d2);", "(SHIFT > 0) && (r2 > d2);"),                          // half_up ties down
            ("((r2 == d2) && q[0])", "((r2 == d2) && 1'b1)"),                                                   // half_even ties up
            ("(SAT != 0 && x > MAX) ?", "(1'b0) ?"),                                                               // no upper saturation
            ("(SAT != 0 && x < MIN) ?", "(1'b0) ?"),                                                               // no lower saturation
            ("wire crosses = (CMP_GE != 0) ? (v >= THRESHOLD) : (v > THRESHOLD);", "wire crosses = (v > THRESHOLD);"), // ge as gt
            ("wire crosses = (CMP_GE != 0) ? (v >= THRESHOLD) : (v > THRESHOLD);", "wire crosses = (v >= THRESHOLD);"), // gt as ge
            (": (RESET_SUB != 0) ? v_sub : {MEM_W{1'b0}};", ": v_sub;"),                                        // always subtract
            (": (RESET_SUB != 0) ? v_sub : {MEM_W{1'b0}};", ": {MEM_W{1'b0}};"),                                // always zero
            (": fires ? REFRACTORY : {REFR_W{1'b0}};", ": {REFR_W{1'b0}};"),                                    // no refractory period
            ("assign mem_d  = refractory ? mem_q", "assign mem_d  = refractory ? v"),                          // refractory not silent
            ("(spike && count_q != {COUNT_W{1'b1}})", "(spike)"),                                               // count wraps
            ("IN_SIGNED != 0 ? in_current[IN_W-1] : 1'b0", "in_current[IN_W-1]"),                              // unsigned input sign-extended
            (".x(decayed + cur_x + bias_x)", ".x(decayed + cur_x)"),                                             // bias dropped
        ]
        let mdir = scratch()
        for (i, (from, to)) in mutants.enumerated() {
            let mutant = unit.replacingOccurrences(of: from, with: to)
            XCTAssertNotEqual(mutant, unit, "mutant \(i) does not apply: \(from)")
            let path = mdir.appendingPathComponent("mutant\(i).v")
            try mutant.write(to: path, atomically: true, encoding: .utf8)
            var caught = false
            // Modes in an order that catches most mutants early (any order is correct, this one is faster).
            for dir in [1, 2, 3, 8, 7, 0, 4, 5, 6].map({ dirs[$0] }) where !caught {
                let out = try Self.iverilog(dir, population: "n", dut: path.path)
                caught = out.contains("MISMATCH") && !out.contains("PASS")
            }
            XCTAssertTrue(caught, "mutant \(i) (\(to)) passes every mode")
        }
        XCTAssertGreaterThan(spikes, 100)
        XCTAssertGreaterThan(refractory, 50)
        XCTAssertGreaterThan(countSat, 20)
        XCTAssertGreaterThan(memAtBound, 5)
        XCTAssertGreaterThan(negative, 50)
    }

    /// The bundled LSM on the other shipped target (programmed weights, two row tiles), from an IR file.
    func testVectorsFromIRProgramOnNeuRRAM() throws {
        let dir = scratch()
        let xir = dir.appendingPathComponent("lsm.xir").path
        let c = try Repo.run(["compile", "examples/lsm-paper/lsm-paper.json", "--target", "neurram-130nm", "--seed", "2", "-o", xir])
        XCTAssertEqual(c.0, 0, c.2)
        let out = dir.appendingPathComponent("v")
        let r = try Repo.run(["vectors", xir, "--input", "examples/digits/digits-test.xev", "--seed", "2", "--samples", "2", "--out", out.path])
        XCTAssertEqual(r.0, 0, r.2)
        let m = try Self.manifest(out)
        XCTAssertEqual((m["program"] as! [String: Any])["kind"] as? String, "ir")
        XCTAssertEqual((m["target"] as! [String: Any])["name"] as? String, "neurram-130nm")
        XCTAssertEqual((m["input"] as! [String: Any])["samples"] as? Int, 2)
        let sim = try Self.iverilog(out, population: "lsm")
        XCTAssertTrue(sim.contains("PASS 20000 neuron updates of lsm"), sim)
    }

    // MARK: - VCD

    /// A minimal VCD reader, independent of the writer: scopes, vars, timestamps, scalar and vector changes.
    struct VCD {
        var vars: [String: (name: String, width: Int)] = [:]
        var changes: [String: [(Int64, String)]] = [:]
        var timescale = ""

        init(_ text: String) throws {
            var scope: [String] = []
            let tok = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
            var i = 0
            var time: Int64 = 0
            var inDefs = true
            while i < tok.count {
                let t = tok[i]
                if inDefs {
                    switch t {
                    case "$scope": scope.append(String(tok[i + 2])); i += 4
                    case "$upscope": scope.removeLast(); i += 2
                    case "$var":
                        let w = Int(tok[i + 2])!, id = String(tok[i + 3]), name = String(tok[i + 4])
                        vars[id] = ((scope + [name]).joined(separator: "."), w)
                        changes[(scope + [name]).joined(separator: ".")] = []
                        while tok[i] != "$end" { i += 1 }
                        i += 1
                    case "$timescale":
                        i += 1
                        while tok[i] != "$end" { timescale += tok[i]; i += 1 }
                        i += 1
                    case "$enddefinitions": inDefs = false; i += 2
                    default:
                        if t.hasPrefix("$") { while tok[i] != "$end" { i += 1 } }
                        i += 1
                    }
                    continue
                }
                if t.hasPrefix("#") {
                    time = Int64(t.dropFirst())!
                    i += 1
                } else if t == "$dumpvars" || t == "$end" {
                    i += 1
                } else if t.hasPrefix("b") {
                    guard let v = vars[String(tok[i + 1])] else { throw XbarError(file: "vcd", field: "", "unknown id \(tok[i + 1])") }
                    changes[v.name]!.append((time, String(t.dropFirst())))
                    i += 2
                } else {
                    guard let v = vars[String(t.dropFirst())] else { throw XbarError(file: "vcd", field: "", "unknown id in \(t)") }
                    changes[v.name]!.append((time, String(t.prefix(1))))
                    i += 1
                }
            }
        }

        /// Value (bit string) of `name` at time t: its last change at or before t.
        func value(_ name: String, at t: Int64) -> String? {
            guard let ch = changes[name], !ch.isEmpty else { return nil }
            var lo = 0, hi = ch.count - 1
            if ch[0].0 > t { return nil }
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if ch[mid].0 <= t { lo = mid } else { hi = mid - 1 }
            }
            return ch[lo].1
        }

        func int(_ name: String, at t: Int64, signed: Bool = false) -> Int64? {
            guard let s = value(name, at: t), let u = UInt64(s, radix: 2) else { return nil }
            let w = vars.values.first { $0.name == name }!.width
            if signed && w < 64 && (u >> UInt64(w - 1)) & 1 == 1 { return Int64(bitPattern: u | ~((UInt64(1) << UInt64(w)) - 1)) }
            return Int64(bitPattern: u)
        }
    }

    static func records(_ dir: URL, _ path: String) throws -> [[Substring]] {
        try lines(dir.appendingPathComponent(path)).map { $0.split(separator: " ") }
    }

    func testVCDParsesAndHoldsTheDocumentedSignalsAndValues() throws {
        let dir = try lsmVectors()
        let m = try Self.manifest(dir)
        let doc = m["vcd"] as! [String: Any]
        let vcd = try VCD(try String(contentsOf: dir.appendingPathComponent("waves.vcd"), encoding: .utf8))
        XCTAssertEqual(vcd.timescale, "1ps")
        let P = Int64(doc["period_ps"] as! Int)
        XCTAssertEqual(P, 5000)  // 200 MHz
        let documented = (doc["signals"] as! [[String: Any]]).map { ($0["name"] as! String, $0["width"] as! Int) }
        XCTAssertEqual(Set(documented.map { $0.0 }), Set(vcd.vars.values.map { $0.name }))
        for (n, w) in documented { XCTAssertEqual(vcd.vars.values.first { $0.name == n }?.width, w, n) }
        for n in ["xbar.clk", "xbar.step", "xbar.step_start", "xbar.array_lsm_r0c0.wl", "xbar.array_lsm_r0c0.adc0_code",
                  "xbar.digital.lane0", "xbar.neuron_lsm.mem7", "xbar.neuron_lsm.spike0", "xbar.neuron_lsm.queue", "xbar.readout_readout.y9"] {
            XCTAssertNotNil(vcd.changes[n], n)
        }
        // One clock per cycle.
        let total = Int64((m["cycles"] as! [String: Any])["total"] as! Int)
        XCTAssertEqual(Int64(vcd.changes["xbar.clk"]!.filter { $0.1 == "1" }.count), total + 1)
        // Steps.
        for r in try Self.records(dir, "stimulus/steps.vec") {
            let t = Int64(r[1], radix: 16)! * P
            XCTAssertEqual(vcd.int("xbar.step", at: t), Int64(r[2], radix: 16)!)
            XCTAssertEqual(vcd.value("xbar.step_start", at: t), "1")
        }
        // Word lines: the recorded vector, held for the read's duration, then released.
        let issue = Dictionary(try Self.records(dir, "stimulus/issue.vec").map { ("\($0[1]) \($0[2])", Int64(UInt32($0[3], radix: 16)!)) },
                               uniquingKeysWith: { a, _ in a })
        for r in try Self.records(dir, "stimulus/wl.lsm.r0c0.vec") {
            let t = Int64(r[1], radix: 16)! * P
            let bits = vcd.value("xbar.array_lsm_r0c0.wl", at: t)!
            let set = Set(bits.reversed().enumerated().filter { $0.element == "1" }.map { $0.offset })
            let want = Set((0..<512).filter { (UInt8(String(r[3][r[3].index(r[3].startIndex, offsetBy: 127 - $0 / 4)]), radix: 16)! >> UInt8($0 % 4)) & 1 == 1 })
            XCTAssertEqual(set, want)
            let dur = issue["\(r[1]) \(r[2])"]!
            XCTAssertEqual(dur, 4)  // settle 2 + integrate 2
            XCTAssertEqual(vcd.value("xbar.array_lsm_r0c0.wl", at: t + (dur - 1) * P), bits)
            XCTAssertFalse(vcd.value("xbar.array_lsm_r0c0.wl", at: t + dur * P)!.contains("1"))
            XCTAssertEqual(vcd.int("xbar.array_lsm_r0c0.read_op", at: t), Int64(r[2], radix: 16)!)
        }
        // ADC codes: on ADC (column / cols_per_adc) at the cycle the round ends.
        for (op, c0) in [("lsm.r0c0.g0.adc", 0), ("lsm.r0c0.g1.adc", 0)] {
            for r in try Self.records(dir, "response/adc.\(op).vec") {
                let t = Int64(r[1], radix: 16)! * P
                let col = Int64(r[2], radix: 16)! + Int64(c0)
                XCTAssertEqual(vcd.value("xbar.array_lsm_r0c0.adc_valid", at: t), "1")
                XCTAssertEqual(vcd.int("xbar.array_lsm_r0c0.adc\(col / 8)_col", at: t), col)
                XCTAssertEqual(vcd.int("xbar.array_lsm_r0c0.adc\(col / 8)_code", at: t), Int64(r[3], radix: 16)!)
            }
        }
        // Every neuron update: lane (neuron mod 8) of the neuron unit at its cycle.
        var checked = 0
        for r in try Self.records(dir, "response/lif.lsm.vec") {
            let t = Int64(r[1], radix: 16)! * P
            let n = Int(r[3], radix: 16)!, lane = n % 8
            XCTAssertEqual(vcd.value("xbar.neuron_lsm.valid", at: t), "1")
            XCTAssertEqual(vcd.int("xbar.neuron_lsm.base", at: t), Int64(n - lane))
            XCTAssertEqual(vcd.int("xbar.neuron_lsm.in\(lane)", at: t, signed: true), Hex.decode(r[4], bits: 20, signed: true))
            XCTAssertEqual(vcd.int("xbar.neuron_lsm.mem\(lane)", at: t, signed: true), Hex.decode(r[5], bits: 24, signed: true))
            XCTAssertEqual(vcd.value("xbar.neuron_lsm.spike\(lane)", at: t), String(r[6]))
            XCTAssertEqual(vcd.int("xbar.neuron_lsm.count\(lane)", at: t), Int64(r[8], radix: 16)!)
            checked += 1
        }
        XCTAssertEqual(checked, 10000)
        // Digital lanes and the readout.
        for r in try Self.records(dir, "response/acc.lsm.r0c0.g1.s0.acc.vec") {
            let t = Int64(r[1], radix: 16)! * P
            let e = Int(r[2], radix: 16)!
            XCTAssertEqual(vcd.int("xbar.digital.lane\(e % 32)", at: t, signed: true), Hex.decode(r[3], bits: 20, signed: true))
        }
        for r in try Self.records(dir, "response/readout.readout.vec") {
            let t = Int64(r[1], radix: 16)! * P
            XCTAssertEqual(vcd.value("xbar.readout_readout.valid", at: t), "1")
            XCTAssertEqual(vcd.int("xbar.readout_readout.y\(Int(r[2], radix: 16)!)", at: t, signed: true), Hex.decode(r[3], bits: 32, signed: true))
        }
        // GTKWave's own reader, when GTKWave is installed: vcd2fst converts the file, fst2vcd gives back every timestamp.
        if let v2f = Self.which("vcd2fst"), let f2v = Self.which("fst2vcd") {
            let fst = scratch().appendingPathComponent("waves.fst")
            XCTAssertEqual(try Self.sh(v2f, [dir.appendingPathComponent("waves.vcd").path, fst.path], cwd: dir).0, 0)
            let back = try Self.sh(f2v, [fst.path], cwd: dir)
            XCTAssertEqual(back.0, 0)
            XCTAssertEqual(Int64(back.1.split(separator: "\n").filter { $0.hasPrefix("#") }.count), 2 * total + 1)
            XCTAssertTrue(back.1.contains("$var wire 512 % wl [511:0] $end"))
        } else {
            print("note: GTKWave (vcd2fst) not installed; the VCD was checked with the Swift reader only here")
        }
    }

    /// The same VCD through a third-party reader (vcdvcd from PyPI, in .venv, created here if missing).
    /// Set XBAR_VCD_PYTHON=0 to skip it explicitly (the Swift reader above still runs).
    func testVCDWithPythonReader() throws {
        if ProcessInfo.processInfo.environment["XBAR_VCD_PYTHON"] == "0" {
            print("note: XBAR_VCD_PYTHON=0: the Python VCD reader check is skipped by request")
            return
        }
        let dir = try lsmVectors()
        let venv = Repo.root.appendingPathComponent(".venv")
        let py = venv.appendingPathComponent("bin/python").path
        var importable = false
        if FileManager.default.isExecutableFile(atPath: py) { importable = try Self.sh(py, ["-c", "import vcdvcd"], cwd: Repo.root).0 == 0 }
        if !importable {
            guard let sys = Self.which("python3") else {
                return XCTFail("python3 not found: the VCD reader check needs Python 3 with venv and pip (or set XBAR_VCD_PYTHON=0)")
            }
            if !FileManager.default.isExecutableFile(atPath: py) {  // scripts/python-reference.sh may have made it
                let mk = try Self.sh(sys, ["-m", "venv", venv.path], cwd: Repo.root)
                guard mk.0 == 0 else { return XCTFail("cannot create \(venv.path) (python3 -m venv): \(mk.1)") }
            }
            let pip = try Self.sh(venv.appendingPathComponent("bin/pip").path, ["install", "--disable-pip-version-check", "-q", "vcdvcd"], cwd: Repo.root)
            guard pip.0 == 0 else { return XCTFail("pip install vcdvcd into \(venv.path) failed (is PyPI reachable?): \(pip.1)") }
        }
        let script = #"""
import json, sys, vcdvcd
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
v = vcdvcd.VCDVCD(d + "/waves.vcd")
names = {s.split("[")[0]: s for s in v.signals}
P = m["vcd"]["period_ps"]
doc = [s["name"] for s in m["vcd"]["signals"]]
errors = []
if sorted(names) != sorted(doc):
    errors.append("signals differ: %s" % sorted(set(names) ^ set(doc))[:10])
def val(name, t, bits, signed):
    x = int(v[names[name]][t], 2)
    return x - (1 << bits) if signed and x >> (bits - 1) else x
n = 0
for line in open(d + "/response/lif.lsm.vec"):
    if line.startswith("//"): continue
    f = line.split()
    t = int(f[1], 16) * P
    neuron = int(f[3], 16); lane = neuron % 8
    mem = int(f[5], 16); mem = mem - (1 << 24) if mem >> 23 else mem
    got = val("xbar.neuron_lsm.mem%d" % lane, t, 24, True)
    if got != mem or v[names["xbar.neuron_lsm.valid"]][t] != "1" or v[names["xbar.neuron_lsm.spike%d" % lane]][t] != f[6]:
        errors.append("cycle %d neuron %d: mem %d expected %d" % (int(f[1], 16), neuron, got, mem))
    n += 1
print(json.dumps({"signals": len(names), "checked": n, "endtime": v.endtime, "errors": errors[:5]}))
"""#
        let sp = scratch().appendingPathComponent("check_vcd.py")
        try script.write(to: sp, atomically: true, encoding: .utf8)
        let r = try Self.sh(py, [sp.path, dir.path], cwd: Repo.root)
        XCTAssertEqual(r.0, 0, r.1)
        guard let line = r.1.split(separator: "\n").last, let j = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            return XCTFail("unexpected output of the Python reader: \(r.1)")
        }
        let m = try Self.manifest(dir)
        XCTAssertEqual(j["signals"] as? Int, ((m["vcd"] as! [String: Any])["signals"] as! [Any]).count)
        XCTAssertEqual(j["checked"] as? Int, 10000)
        XCTAssertEqual(j["errors"] as? [String], [])
    }

    // MARK: - xbar check

    func testCheckAcceptsTheExpectedVectorsAndNamesTheFirstMismatch() throws {
        let dir = try lsmVectors()
        let ok = try Repo.run(["check", dir.path, "--dump", dir.appendingPathComponent("response").path])
        XCTAssertEqual(ok.0, 0, ok.1 + ok.2)
        XCTAssertTrue(ok.1.contains("match response/lif.lsm.vec: 10000 records"), ok.1)
        XCTAssertTrue(ok.1.contains("match response/adc.lsm.r0c0.g0.adc.vec"), ok.1)

        // A dump with one value changed (and written without leading zeros, as a simulator's %h might not pad).
        let tmp = scratch()
        let name = "acc.lsm.r0c0.g1.s0.cur.vec"
        var recs = try Self.records(dir, "response/" + name).map { $0.map(String.init) }
        let k = 4321
        let exp = Hex.decode(Substring(recs[k][3]), bits: 20, signed: true)!
        recs[k][3] = Hex.word(exp + 3, bits: 20)
        let dump = recs.map { r in r.map { w in String(w.drop { $0 == "0" }.isEmpty ? "0" : w.drop { $0 == "0" }) }.joined(separator: " ") }
        let dumpPath = tmp.appendingPathComponent(name)
        try ("// captured\n" + dump.joined(separator: "\n") + "\n").write(to: dumpPath, atomically: true, encoding: .utf8)
        let bad = try Repo.run(["check", dir.path, "--dump", dumpPath.path])
        XCTAssertEqual(bad.0, 1)
        let cycle = Int(recs[k][1], radix: 16)!, elem = Int(recs[k][2], radix: 16)!
        XCTAssertTrue(bad.1.contains("record \(k) (dump line \(k + 2)): cycle \(cycle) (sample 0), signal acc.lsm.r0c0.g1.s0.cur[\(elem)]: expected \(exp) (0x\(Hex.word(exp, bits: 20))), got \(exp + 3)"), bad.1)

        // A truncated dump, under another name with --expected.
        let short = tmp.appendingPathComponent("capture.txt")
        try (try Self.lines(dir.appendingPathComponent("response/lif.lsm.vec")).prefix(100).joined(separator: "\n") + "\n")
            .write(to: short, atomically: true, encoding: .utf8)
        let trunc = try Repo.run(["check", dir.path, "--dump", short.path, "--expected", "response/lif.lsm.vec"])
        XCTAssertEqual(trunc.0, 1)
        XCTAssertTrue(trunc.1.contains("record 100") && trunc.1.contains("the dump ends after 100 records"), trunc.1)

        // The library comparison agrees on an unmodified copy.
        let specs = try VectorCheck.specs(dir: dir.path)
        let lif = specs.first { $0.path == "response/lif.lsm.vec" }!
        let text = try String(contentsOf: dir.appendingPathComponent(lif.path), encoding: .utf8)
        guard case .match(10000) = VectorCheck.compare(expected: text, dump: text, spec: lif) else { return XCTFail("expected a match") }
    }
}
