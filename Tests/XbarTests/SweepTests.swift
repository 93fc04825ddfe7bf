import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
import XbarCore
import XbarEvents
import XbarGraph
@testable import XbarSweep

/// `xbar sweep`: spec validation, sampling, resumable and sharded runs, merge, Pareto, plots (docs/sweep.md).
final class SweepTests: XCTestCase {
    /// A small workload in a temporary folder: a 16 -> 8 LSM with a (random) trained readout, and 12 labelled samples.
    static func workload(in dir: URL) throws {
        var o = LSMBuilder.PaperOptions()
        o.inputs = 16
        o.neurons = 8
        o.timesteps = 10
        o.classes = 3
        var g = LSMBuilder.paper(o)
        let rng = Philox(seed: 5)
        g.readout?.weights = (0..<(3 * 8)).map { rng.normal(purpose: 99, 0, UInt32($0), 0) }
        g.readout?.bias = [0, 0, 0]
        try AtomicFile.write(GraphWriter.json(g), to: dir.appendingPathComponent("g.json").path)
        var d = EventDataset(channels: 16, timesteps: 10, samples: [])
        for s in 0..<12 {
            var active = [[Int32]](repeating: [], count: 10)
            for t in 0..<10 {
                for c in 0..<16 where rng.uniform(purpose: 98, UInt32(s), UInt32(t), UInt32(c)) < 0.3 { active[t].append(Int32(c)) }
            }
            d.samples.append(SpikeRaster(channels: 16, timesteps: 10, label: s % 3, active: active))
        }
        try EventFile.write(d, to: dir.appendingPathComponent("e.xev").path)
    }

    static let header = """
        [base]
        target = "rram-40nm-256kb"

        [workload]
        kind = "graph"
        graph = "g.json"
        input = "e.xev"
        samples = 6

        """

    var dir: URL!
    var env: SweepEnvironment { SweepEnvironment(targetSearchDirs: [Repo.path("targets")]) }

    override func setUpWithError() throws {
        dir = Repo.tempDir()
        try SweepTests.workload(in: dir)
    }

    override func tearDownWithError() throws {
        if let d = dir { try? FileManager.default.removeItem(at: d) }
    }

    func spec(_ body: String, name: String = "s.toml", metrics: String = "[\"accuracy\", \"energy_per_sample\", \"latency\", \"tops_per_w\", \"area\", \"ops\"]") throws -> String {
        let text = "[sweep]\nseed = 3\nmetrics = \(metrics)\n\n" + SweepTests.header + body
        let p = dir.appendingPathComponent(name).path
        try AtomicFile.write(text, to: p)
        return p
    }

    func plan(_ body: String) throws -> SweepPlan {
        try SweepPlan(spec: try SweepSpecLoader.load(try spec(body), environment: env))
    }

    func refused(_ body: String, metrics: String? = nil, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let p = metrics == nil ? try spec(body) : try spec(body, metrics: metrics!)
            _ = try SweepPlan(spec: try SweepSpecLoader.load(p, environment: env))
            XCTFail("accepted:\n\(body)", file: file, line: line)
            return ""
        } catch let e as XbarError {
            return e.description
        } catch {
            XCTFail("\(error)", file: file, line: line)
            return ""
        }
    }

    func run(_ plan: SweepPlan, _ out: String, shard: Shard = .whole, maxPoints: Int? = nil, jobs: Int = 2) throws -> SweepSummary {
        var o = SweepRunOptions()
        o.shard = shard
        o.maxPoints = maxPoints
        o.jobs = jobs
        return try SweepRunner.run(plan: plan, evaluator: try SweepEvaluator(spec: plan.spec, environment: env), output: out, options: o)
    }

    func rows(_ path: String) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try ResultsFile.read(path).rows.map { ($0.key, $0.deterministicText) })
    }

    // MARK: spec and plan

    func testGridPlanOrderRangesAndKeys() throws {
        let p = try plan("""
            [axes]
            "adc.bits" = [6, 8]
            timing.cols_per_adc = { from = 1, to = 16, factor = 4 }
            "cell.g_max_us" = { from = 24.0, to = 32.0, step = 4.0 }
            "device.read_noise.relative" = { from = 0.01, to = 0.1, count = 3, scale = "log" }
            "read.v_read_mv" = { from = 0.1, to = 0.3, step = 0.1 }
            """)
        XCTAssertEqual(p.spec.axes.map(\.name), ["adc.bits", "timing.cols_per_adc", "cell.g_max_us", "device.read_noise.relative", "read.v_read_mv"])
        XCTAssertEqual(p.spec.axes[1].domain, .values([.int(1), .int(4), .int(16)]))
        XCTAssertEqual(p.spec.axes[2].domain, .values([.double(24), .double(28), .double(32)]))
        XCTAssertEqual(p.spec.axes[3].domain, .values([.double(0.01), .double(0.0316227766017), .double(0.1)]))
        XCTAssertEqual(p.spec.axes[4].domain, .values([.double(0.1), .double(0.2), .double(0.3)]))
        XCTAssertEqual(p.points.count, 2 * 3 * 3 * 3 * 3)
        // First axis slowest, last fastest.
        XCTAssertEqual(p.points[0].values, [.int(6), .int(1), .double(24), .double(0.01), .double(0.1)])
        XCTAssertEqual(p.points[1].values, [.int(6), .int(1), .double(24), .double(0.01), .double(0.2)])
        XCTAssertEqual(p.points.last!.values, [.int(8), .int(16), .double(32), .double(0.1), .double(0.3)])
        XCTAssertEqual(Set(p.points.map(\.key)).count, p.points.count)
        XCTAssertTrue(p.points.allSatisfy { $0.key.count == 32 })
        // Keys depend only on the configuration: same spec, same keys; another seed, other keys.
        XCTAssertEqual(try plan("""
            [axes]
            "adc.bits" = [6, 8]
            timing.cols_per_adc = { from = 1, to = 16, factor = 4 }
            "cell.g_max_us" = { from = 24.0, to = 32.0, step = 4.0 }
            "device.read_noise.relative" = { from = 0.01, to = 0.1, count = 3, scale = "log" }
            "read.v_read_mv" = { from = 0.1, to = 0.3, step = 0.1 }
            """).points.map(\.key), p.points.map(\.key))
        let other = try SweepPlan(spec: try SweepSpecLoader.parse(
            try AtomicFile.readText(p.spec.path).replacingOccurrences(of: "seed = 3", with: "seed = 4"), path: p.spec.path, environment: env))
        XCTAssertTrue(Set(other.points.map(\.key)).isDisjoint(with: p.points.map(\.key)))
        XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testRandomAndLatinHypercubeSampling() throws {
        let body = """
            [sampling]
            method = "lhs"
            points = 20
            seed = 9

            [axes]
            "cell.g_max_us" = { from = 16.0, to = 48.0 }
            "adc.bits" = { from = 4, to = 12 }
            "energy.adc_per_step_fj" = { from = 1.0, to = 100.0, scale = "log" }
            """
        let p = try plan(body)
        XCTAssertEqual(p.points.count, 20)
        XCTAssertEqual(try plan(body).points, p.points, "same seed, same points")
        // Latin hypercube: every one of the 20 strata of a continuous axis holds exactly one point.
        let g = p.points.map { $0.values[0].number! }
        XCTAssertEqual(Set(g.map { Int(($0 - 16) / 32 * 20) }).count, 20)
        let e = p.points.map { $0.values[2].number! }
        XCTAssertEqual(Set(e.map { Int(Foundation.log10($0) / 2 * 20) }).count, 20)
        XCTAssertTrue(p.points.allSatisfy { if case let .int(b) = $0.values[1] { return b >= 4 && b <= 12 }; return false })
        let r = try plan(body.replacingOccurrences(of: "\"lhs\"", with: "\"random\""))
        XCTAssertEqual(r.points.count, 20)
        XCTAssertNotEqual(r.points.map(\.values), p.points.map(\.values))
        // Random draws of a small discrete space repeat: repeats are dropped, keys stay unique.
        let d = try plan("""
            [sampling]
            method = "random"
            points = 30

            [axes]
            "adc.bits" = [6, 8]
            "compile.seed" = [1, 2]
            """)
        XCTAssertEqual(d.points.count + d.duplicatesDropped, 30)
        XCTAssertLessThanOrEqual(d.points.count, 4)
    }

    func testBadSpecsAreRefusedNamingTheLine() throws {
        // The body starts after the [sweep] lines and the shared header; its axis is on the body's second line.
        let axesLine = ("[sweep]\nseed = 3\nmetrics = []\n\n" + SweepTests.header).filter { $0 == "\n" }.count + 2
        var m = refused("[axes]\n\"adc.bitz\" = [6, 8]\n")
        XCTAssertTrue(m.contains("line \(axesLine)") && m.contains("adc.bitz") && m.contains("unknown key"), m)
        m = refused("[axes]\nadcx.bits = [6, 8]\n")
        XCTAssertTrue(m.contains("line \(axesLine)") && m.contains("unknown parameter"), m)
        m = refused("[axes]\n\"adc.bits\" = [6, 30]\n")
        XCTAssertTrue(m.contains("line \(axesLine)") && m.contains("out of range"), m)
        m = refused("[axes]\n\"macro.rows\" = [256.5]\n")
        XCTAssertTrue(m.contains("line \(axesLine)") && m.contains("expected an integer"), m)
        m = refused("[axes]\n\"adc.bits\" = { from = 10, to = 6, step = 1 }\n")
        XCTAssertTrue(m.contains("line \(axesLine)") && m.contains("greater than"), m)
        m = refused("[axes]\n\"adc.bits\" = { from = 4, to = 8, step = 0 }\n")
        XCTAssertTrue(m.contains("line \(axesLine)") && m.contains("step must be > 0"), m)
        m = refused("[axes]\n\"adc.bits\" = { from = 4, to = 8, stride = 2 }\n")
        XCTAssertTrue(m.contains("line \(axesLine)") && m.contains("unknown range key"), m)
        m = refused("[axes]\n\"cell.g_max_us\" = { from = 0.0, to = 8.0, count = 3, scale = \"log\" }\n")
        XCTAssertTrue(m.contains("line \(axesLine)") && m.contains("log range"), m)
        m = refused("[axes]\n\"adc.bits\" = { from = 4, to = 8 }\n")
        XCTAssertTrue(m.contains("line \(axesLine)") && m.contains("grid needs values"), m)
        m = refused("[axes]\n\"workload.sample\" = [1, 2]\n")
        XCTAssertTrue(m.contains("line \(axesLine)") && m.contains("unknown parameter"), m)
        m = refused("[axes]\n\"compile.seed\" = [-1]\n")
        XCTAssertTrue(m.contains("line \(axesLine)") && m.contains("out of range"), m)
        m = refused("[axes]\n\"adc.bits\" = [6, 6]\n")
        XCTAssertTrue(m.contains("line \(axesLine)") && m.contains("repeats"), m)
        m = refused("[axes]\n\"adc.bits\" = [6, 8]\n", metrics: "[\"energy_per_sample\", \"joules\"]")
        XCTAssertTrue(m.contains("line 3") && m.contains("unknown metric \"joules\""), m)
        m = refused("[axes]\n\"adc.bits\" = [6]\n[samplin]\nmethod = \"grid\"\n")
        XCTAssertTrue(m.contains("line \(axesLine + 1)") && m.contains("unknown section"), m)
        m = refused("[axes]\n\"adc.bits\" = [6]\n[sampling]\nmethod = \"sobol\"\n")
        XCTAssertTrue(m.contains("line \(axesLine + 2)") && m.contains("sampling.method"), m)
        m = refused("[axes]\n\"adc.bits\" = [6]\n[sampling]\nmethod = \"random\"\n")
        XCTAssertTrue(m.contains("sampling.points"), m)
        // A value invalid on its own is refused by the loader, naming its axis.
        m = refused("[axes]\n\"cell.g_min_us\" = [2.0, 40.0]\n")
        XCTAssertTrue(m.contains("line \(axesLine)") && m.contains("value 40.0") && m.contains("greater than cell.g_min_us"), m)
        // A combination that only fails together (g_max below g_min) is refused before any point runs.
        let p = try spec("[axes]\n\"cell.g_min_us\" = [2.0, 20.0]\n\"cell.g_max_us\" = [10.0, 32.0]\n")
        let out = dir.appendingPathComponent("combo.jsonl").path
        XCTAssertThrowsError(try run(try SweepPlan(spec: try SweepSpecLoader.load(p, environment: env)), out)) { e in
            let d = (e as! XbarError).description
            XCTAssertTrue(d.contains("line \(axesLine + 1)") && d.contains("g_max_us"), d)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no point ran, no file written")
        // Through the CLI: exit 1, one line naming the file and line, no results file.
        let bad = try spec("[axes]\n\"adc.bitz\" = [6, 8]\n", name: "bad.toml")
        let (st, _, err) = try Repo.run(["sweep", bad])
        XCTAssertEqual(st, 1)
        XCTAssertTrue(err.contains("bad.toml: line \(axesLine): axis adc.bitz"), err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad.jsonl").path))
        // A broken table header (toml++ would assert and abort on it): exit 1 and one line, no crash.
        let header = try spec("[.01, to = 0.1, count = 4\n\"adc.bits\" = [6, 8]\n", name: "header.toml")
        let (hs, _, herr) = try Repo.run(["sweep", "plan", header])
        XCTAssertEqual(hs, 1, herr)
        XCTAssertEqual(herr.split(separator: "\n").count, 1, herr)
        XCTAssertTrue(herr.contains("header.toml: line \(axesLine - 1): TOML syntax: a table header must start with a key"), herr)
    }

    // MARK: running

    func testRunMetricsCacheAndDeterminism() throws {
        let p = try plan("""
            [axes]
            "adc.bits" = [6, 10]
            "energy.adc_per_step_fj" = [1.0, 5.0, 20.0]
            """)
        let out = dir.appendingPathComponent("r.jsonl").path
        let s = try run(p, out)
        XCTAssertEqual(s.ran, 6)
        XCTAssertEqual(s.failed, 0)
        let scan = try ResultsFile.read(out)
        XCTAssertEqual(scan.rows.count, 6)
        for r in scan.rows {
            XCTAssertEqual(r.metricNames, ["accuracy", "energy_per_sample_pj", "latency_s", "latency_cycles", "tops_per_w", "dense_tops_per_w",
                                           "area_mm2", "ops_per_sample", "dense_ops_per_sample"])
            XCTAssertEqual(r.value("seed"), .int(3))
            XCTAssertEqual(r.value("version"), .string(toolVersion))
            XCTAssertGreaterThan(r.value("energy_per_sample_pj")!.doubleValue!, 0)
            XCTAssertNotNil(r.value("accuracy")!.doubleValue)
        }
        // Energy-table points share the run: same accuracy, latency and ops; energy grows with the ADC energy.
        let byBits = Dictionary(grouping: scan.rows) { $0.value("adc.bits")!.serialized(indent: nil) }
        for (_, rs) in byBits {
            XCTAssertEqual(Set(rs.map { $0.value("latency_cycles")!.serialized(indent: nil) }).count, 1)
            XCTAssertEqual(Set(rs.map { $0.value("accuracy")!.serialized(indent: nil) }).count, 1)
            let e = rs.sorted { $0.value("energy.adc_per_step_fj")!.doubleValue! < $1.value("energy.adc_per_step_fj")!.doubleValue! }
                .map { $0.value("energy_per_sample_pj")!.doubleValue! }
            XCTAssertTrue(e[0] < e[1] && e[1] < e[2], "\(e)")
        }
        let ev = try SweepEvaluator(spec: p.spec, environment: env)
        for pt in p.points { _ = ev.evaluate(try ev.prepare(pt)) }
        XCTAssertEqual(ev.cacheHits, 4, "two runs, four re-pricings")
        // Another run, one job: every row identical but for wall_s.
        let out2 = dir.appendingPathComponent("r2.jsonl").path
        _ = try run(p, out2, jobs: 1)
        XCTAssertEqual(try rows(out), try rows(out2))
        XCTAssertTrue(try SweepCompare.compare(out, out2).equal)
        // Resuming a finished sweep runs nothing.
        XCTAssertEqual(try run(p, out).ran, 0)
    }

    func testResumeRepairsATornLastLineAndRefusesDamage() throws {
        let p = try plan("[axes]\n\"adc.bits\" = [5, 6, 7, 8, 9, 10]\n")
        let full = dir.appendingPathComponent("full.jsonl").path
        _ = try run(p, full)
        let out = dir.appendingPathComponent("part.jsonl").path
        XCTAssertEqual(try run(p, out, maxPoints: 3).ran, 3)
        // A writer killed in the middle of a line leaves a partial line without a newline.
        let h = FileHandle(forWritingAtPath: out)!
        h.seekToEndOfFile()
        h.write(Data("{\"key\":\"0123456789abcdef0123456789abcdef\",\"version\":\"0.1".utf8))
        h.closeFile()
        XCTAssertEqual(try ResultsFile.read(out).torn.count, 1)
        let s = try run(p, out)
        XCTAssertEqual(s.repairs.count, 1)
        XCTAssertTrue(s.repairs[0].contains("line 4") && s.repairs[0].contains("incomplete"), s.repairs[0])
        XCTAssertEqual(s.ran, 3)
        XCTAssertEqual(s.alreadyDone, 3)
        XCTAssertEqual(try rows(out), try rows(full))
        // A complete but unparsable last line (e.g. zeros after a power cut) is repaired too, and reported.
        try (try AtomicFile.readText(out) + "\u{0}\u{0}\u{0}\n").write(toFile: out, atomically: false, encoding: .utf8)
        let s2 = try run(p, out)
        XCTAssertEqual(s2.repairs.count, 1)
        XCTAssertTrue(s2.repairs[0].contains("not JSON"), s2.repairs[0])
        XCTAssertEqual(try rows(out), try rows(full))
        // A bad line followed by good ones is damage: refused, naming the line, nothing dropped.
        var lines = try AtomicFile.readText(out).split(separator: "\n").map(String.init)
        lines[1] = "garbage"
        try (lines.joined(separator: "\n") + "\n").write(toFile: out, atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try run(p, out)) { e in
            XCTAssertTrue((e as! XbarError).description.contains("line 2"), (e as! XbarError).description)
        }
        XCTAssertEqual(try AtomicFile.readText(out).split(separator: "\n").count, 6)
        // A second writer on the same file is refused while the first holds it.
        let w = try ResultsWriter(path: full, header: nil, policy: .never)
        XCTAssertThrowsError(try run(p, full)) { e in XCTAssertTrue("\(e)".contains("locked"), "\(e)") }
        _ = w
    }

    func testCSVOutputResumes() throws {
        let p = try plan("[axes]\n\"adc.bits\" = [6, 8, 10]\n\"read.v_read_mv\" = [100.0, 200.0]\n")
        let full = dir.appendingPathComponent("full.csv").path
        _ = try run(p, full)
        let text = try AtomicFile.readText(full)
        XCTAssertTrue(text.hasPrefix("key,version,seed,adc.bits,read.v_read_mv,accuracy,energy_per_sample_pj,"), text)
        let out = dir.appendingPathComponent("part.csv").path
        _ = try run(p, out, maxPoints: 2)
        let h = FileHandle(forWritingAtPath: out)!
        h.seekToEndOfFile()
        h.write(Data("0123456789abcdef0123456789abcdef,0.1.0,3,6".utf8))
        h.closeFile()
        let s = try run(p, out)
        XCTAssertEqual(s.repairs.count, 1)
        XCTAssertEqual(try rows(out), try rows(full))
        XCTAssertEqual(try ResultsFile.read(out).rows.count, 6)
    }

    /// The bar: `kill -9` in the middle of a sweep, start it again: the final file equals an uninterrupted run's.
    func testKill9MidSweepThenRestartEqualsUninterruptedRun() throws {
        let specPath = try spec("[axes]\n\"adc.bits\" = [4, 5, 6, 7, 8, 9, 10, 11, 12]\n\"timing.cols_per_adc\" = [1, 8]\n", name: "kill.toml")
        let whole = dir.appendingPathComponent("whole.jsonl").path
        let (st0, _, e0) = try Repo.run(["sweep", specPath, "--out", whole, "--quiet"])
        XCTAssertEqual(st0, 0, e0)
        let out = dir.appendingPathComponent("killed.jsonl").path
        var kills = 0
        for _ in 0..<3 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Repo.xbar)
            p.arguments = ["sweep", specPath, "--out", out, "--quiet", "--jobs", "2", "--fsync", "never"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            let before = (try? ResultsFile.read(out).rows.count) ?? 0
            let deadline = Date().addingTimeInterval(60)
            while p.isRunning && Date() < deadline {
                if ((try? ResultsFile.read(out).rows.count) ?? 0) >= before + 3 { break }
                usleep(2000)
            }
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                kills += 1
            }
            p.waitUntilExit()
        }
        XCTAssertGreaterThan(kills, 0, "the sweep finished before it could be killed")
        XCTAssertLessThan(try ResultsFile.read(out).rows.count, 18)
        let (st, o, e) = try Repo.run(["sweep", specPath, "--out", out, "--quiet"])
        XCTAssertEqual(st, 0, e)
        XCTAssertTrue(o.contains("18/18 points"), o)
        XCTAssertEqual(try ResultsFile.read(out).rows.count, 18, "no point lost, none run twice")
        XCTAssertEqual(try rows(out), try rows(whole))
        let (sc, so, _) = try Repo.run(["sweep", "compare", out, whole])
        XCTAssertEqual(sc, 0, so)
        // Merged (plan order, no wall-clock field), the two files are byte-identical.
        let m1 = dir.appendingPathComponent("m1.jsonl").path, m2 = dir.appendingPathComponent("m2.jsonl").path
        XCTAssertEqual(try Repo.run(["sweep", "merge", specPath, out, "--out", m1, "--strip-timing"]).0, 0)
        XCTAssertEqual(try Repo.run(["sweep", "merge", specPath, whole, "--out", m2, "--strip-timing"]).0, 0)
        XCTAssertEqual(try AtomicFile.read(m1), try AtomicFile.read(m2))
    }

    func testShardsMergeAndTheirChecks() throws {
        let p = try plan("[axes]\n\"adc.bits\" = [6, 7, 8, 9, 10]\n\"timing.cols_per_adc\" = [1, 4]\n")
        let whole = dir.appendingPathComponent("whole.jsonl").path
        _ = try run(p, whole)
        let base = dir.appendingPathComponent("sh.jsonl").path
        var files: [String] = []
        for i in 0..<3 {
            let f = SweepMerge.shardPath(base, Shard(index: i, count: 3))
            let s = try run(p, f, shard: Shard(index: i, count: 3))
            XCTAssertEqual(s.planned, [4, 3, 3][i])
            files.append(f)
        }
        XCTAssertEqual(SweepMerge.findShards(base), files)
        let merged = dir.appendingPathComponent("merged.jsonl").path
        XCTAssertEqual(try SweepMerge.merge(plan: p, inputs: files, output: merged, stripTiming: false).rows, 10)
        XCTAssertEqual(try rows(merged), try rows(whole))
        XCTAssertEqual(try ResultsFile.read(merged).rows.map(\.key), p.points.map(\.key), "plan order")
        // Missing: a shard not given.
        XCTAssertThrowsError(try SweepMerge.merge(plan: p, inputs: Array(files.prefix(2)), output: merged + "x", stripTiming: false)) { e in
            XCTAssertTrue("\(e)".contains("3 of 10 points missing"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: merged + "x"), "nothing written")
        // Duplicated: a row in two shards.
        let extra = try ResultsFile.read(files[0]).rows[0].line
        try (try AtomicFile.readText(files[1]) + extra + "\n").write(toFile: files[1], atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try SweepMerge.merge(plan: p, inputs: files, output: merged + "y", stripTiming: false)) { e in
            XCTAssertTrue("\(e)".contains("duplicated"), "\(e)")
        }
        // A torn shard is not merged.
        try (try AtomicFile.readText(files[2]) + "{\"key\":").write(toFile: files[2], atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try SweepMerge.merge(plan: p, inputs: [files[0], files[2]], output: merged + "z", stripTiming: false)) { e in
            XCTAssertTrue("\(e)".contains("did not finish cleanly"), "\(e)")
        }
    }

    /// Shards hold whole run groups (points differing only in energy/area/clock axes), so no run is repeated.
    func testShardsKeepRunGroupsTogether() throws {
        let p = try plan("[axes]\n\"adc.bits\" = [6, 7, 8, 9]\n\"energy.adc_per_step_fj\" = [1.0, 2.0, 3.0]\n\"clock.mhz\" = [100.0, 200.0]\n")
        XCTAssertEqual(p.runGroups, 4)
        var seen: [Int] = []
        for i in 0..<3 {
            let pts = p.points(in: Shard(index: i, count: 3))
            let groups = Set(pts.map { p.runGroup[$0.index] })
            XCTAssertEqual(pts.count, groups.count * 6, "whole groups")
            seen += groups
        }
        XCTAssertEqual(seen.sorted(), [0, 1, 2, 3])
        // Fewer groups than shards: points are dealt out one by one.
        let q = try plan("[axes]\n\"energy.adc_per_step_fj\" = [1.0, 2.0, 3.0, 4.0]\n")
        XCTAssertEqual(q.runGroups, 1)
        XCTAssertEqual(q.points(in: Shard(index: 1, count: 2)).map(\.index), [1, 3])
    }

    func testSlurmAndIndexedJobEnvironmentPickTheShard() throws {
        let specPath = try spec("[axes]\n\"adc.bits\" = [6, 7, 8, 9]\n", name: "env.toml")
        let base = dir.appendingPathComponent("env.jsonl").path
        let (st, o, e) = try Repo.run(["sweep", specPath, "--quiet"], env: ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "2",
                                                                              "SLURM_ARRAY_TASK_COUNT": "2"])
        XCTAssertEqual(st, 0, e)
        XCTAssertTrue(e.contains("shard 1/2 (from Slurm array task 3)"), e)
        XCTAssertTrue(o.contains("2/2 points of shard 1/2"), o)
        XCTAssertEqual(try ResultsFile.read(SweepMerge.shardPath(base, Shard(index: 1, count: 2))).rows.count, 2)
        let (st2, _, e2) = try Repo.run(["sweep", specPath, "--quiet", "--shards", "2"], env: ["JOB_COMPLETION_INDEX": "0"])
        XCTAssertEqual(st2, 0, e2)
        XCTAssertEqual(try ResultsFile.read(SweepMerge.shardPath(base, Shard(index: 0, count: 2))).rows.count, 2)
        let (st3, o3, e3) = try Repo.run(["sweep", "merge", specPath])
        XCTAssertEqual(st3, 0, e3)
        XCTAssertTrue(o3.contains("merged 4 points from 2 files"), o3)
        let (st4, _, e4) = try Repo.run(["sweep", specPath, "--shard", "2/2"])
        XCTAssertEqual(st4, 1)
        XCTAssertTrue(e4.contains("--shard"), e4)
    }

    // MARK: analysis

    func testParetoFrontAndPlot() throws {
        func row(_ k: Int, _ bits: Int, _ acc: Double, _ e: Double) -> String {
            let key = String(repeating: "0", count: 31) + String(k, radix: 16)
            return "{\"key\":\"\(key)\",\"version\":\"0.1.0\",\"seed\":1,\"point\":{\"adc.bits\":\(bits)},\"metrics\":{\"accuracy\":\(acc),\"energy_per_sample_pj\":\(e)},\"wall_s\":0.1}"
        }
        let lines = [row(1, 4, 0.70, 100), row(2, 6, 0.80, 200), row(3, 8, 0.78, 300), row(4, 10, 0.90, 1000), row(5, 12, 0.90, 50000),
                     row(6, 5, 0.60, 100)]
        let path = dir.appendingPathComponent("front.jsonl").path
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: path)
        let rs = try ResultsFile.read(path).rows
        let f = try SweepPareto.front(rs, try SweepPareto.objectives("accuracy,energy_per_sample"))
        XCTAssertEqual(f.map { $0.value("adc.bits")! }, [.int(10), .int(6), .int(4)])
        let g = try SweepPareto.front(rs, try SweepPareto.objectives("energy_per_sample_pj:min"))
        XCTAssertEqual(g.map { $0.value("adc.bits")! }, [.int(4)], "ties on all objectives: one representative")
        XCTAssertThrowsError(try SweepPareto.objectives("accuracy,joules"))
        var o = SweepPlot.Options(x: "energy_per_sample", y: "accuracy")
        o.color = "adc.bits"
        let svg = try SweepPlot.svg(rs, o, source: "front.jsonl")
        let doc = try XMLDocument(xmlString: svg)
        XCTAssertEqual(doc.rootElement()?.name, "svg")
        XCTAssertEqual(svg.components(separatedBy: "<title>").count - 1, 6, "one tooltip per point")
        XCTAssertTrue(svg.contains("<polyline"), "Pareto front drawn")
        XCTAssertTrue(svg.contains("log scale"), "energy spans 500x: log axis, and the label says so")
        XCTAssertTrue(svg.contains("adc.bits"), "legend")
        // Through the CLI.
        let svgPath = dir.appendingPathComponent("p.svg").path
        let (st, _, e) = try Repo.run(["sweep", "plot", path, "--color", "adc.bits", "-o", svgPath])
        XCTAssertEqual(st, 0, e)
        let (st2, o2, _) = try Repo.run(["sweep", "pareto", path, "--metrics", "accuracy,energy_per_sample"])
        XCTAssertEqual(st2, 0)
        XCTAssertTrue(o2.contains("3 of 6 points"), o2)
    }

    /// Accuracy from the LSM experiment driver (XbarLearn), energy from the same trained chip.
    func testExperimentWorkloadAccuracy() throws {
        let text = """
            [sweep]
            metrics = ["accuracy", "energy_per_sample"]

            [base]
            target = "rram-40nm-256kb"

            [workload]
            kind = "experiment"
            lsm = "paper"
            data = "digits-rate"
            digits_csv = "\(Repo.path("examples/digits/digits.csv"))"
            train_max = 60
            test_max = 20
            timesteps = 20

            [axes]
            "compile.seed" = [1, 2]
            "energy.adc_per_step_fj" = [1.0, 4.0]
            """
        let sp = dir.appendingPathComponent("exp.toml").path
        try AtomicFile.write(text, to: sp)
        let p = try SweepPlan(spec: try SweepSpecLoader.load(sp, environment: env))
        let out = dir.appendingPathComponent("exp.jsonl").path
        let s = try run(p, out)
        XCTAssertEqual(s.failed, 0)
        let rs = try ResultsFile.read(out).rows
        XCTAssertEqual(rs.count, 4)
        XCTAssertNil(rs.first?.error)
        for r in rs where r.error == nil {
            let a = r.value("accuracy")!.doubleValue!
            XCTAssertTrue(a > 0.1 && a <= 1, "\(a)")
            XCTAssertEqual(r.value("seed"), r.value("compile.seed"))
        }
    }
}
