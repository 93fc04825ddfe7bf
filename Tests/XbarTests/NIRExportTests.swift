import Foundation
import XCTest
import XbarCompiler
import XbarCore
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarNIR

/// `NIRExporter` / `xbar export` (docs/nir.md, "Export"): graph -> NIR -> graph gives the same network back, and the
/// file is one Python `nir.read` accepts.
final class NIRExportTests: XCTestCase {
    private static let scratch = TestScratch("nir-export")

    override class func tearDown() {
        scratch.remove()
        super.tearDown()
    }

    private func tmp(_ name: String) -> String { Self.scratch.path(name) }

    /// A graph using every feature the exporter maps: a plain LIF with per-neuron biases, an IF (decay 1), a
    /// current-based LIF with synaptic biases, a Threshold-like neuron (decay 0), a non-spiking leaky integrator,
    /// a non-spiking current-based integrator, delays 0, 2 and 3, and a recurrent delay-1 projection.
    static func featureGraph() -> Graph {
        let pops = [
            Population(name: "in", kind: .input, size: 3),
            Population(name: "lif", kind: .lif, size: 4, lif: LIFParameters(decay: 0.9, threshold: 1, neuronBias: [0.1, -0.2, 0, 0.05])),
            Population(name: "ifn", kind: .lif, size: 2, lif: LIFParameters(decay: 1, threshold: 2, reset: .subtract)),
            Population(name: "cuba", kind: .lif, size: 3,
                       lif: LIFParameters(decay: 0.8, threshold: 1.5,
                                          synapse: SynapseParameters(decay: 0.6, neuronBias: [0.01, 0.02, 0.03]))),
            Population(name: "thr", kind: .lif, size: 2, lif: LIFParameters(decay: 0, threshold: 0.5)),
            Population(name: "li", kind: .lif, size: 2, lif: LIFParameters(decay: 0.95, threshold: 1, spiking: false)),
            Population(name: "cli", kind: .lif, size: 2,
                       lif: LIFParameters(decay: 0.7, threshold: 1, synapse: SynapseParameters(decay: 0.5), spiking: false)),
        ]
        func dense(_ pre: Int, _ post: Int, _ seed: Double) -> WeightSpec {
            .dense((0..<(pre * post)).map { Double(($0 * 7 + 3) % 11) / 10 - 0.45 + seed })
        }
        let projs = [
            Projection(name: "in_lif", from: "in", to: "lif", delay: 0, weights: dense(3, 4, 0.01)),
            Projection(name: "lif_lif", from: "lif", to: "lif", delay: 1, weights: dense(4, 4, -0.02)),
            Projection(name: "in_ifn", from: "in", to: "ifn", delay: 2, weights: dense(3, 2, 0.03)),
            Projection(name: "lif_cuba", from: "lif", to: "cuba", delay: 0, weights: .sparse([
                SparseEntry(pre: 0, post: 1, weight: 0.5), SparseEntry(pre: 3, post: 2, weight: -0.25)])),
            Projection(name: "lif_cuba_late", from: "lif", to: "cuba", delay: 3, weights: .sparse([
                SparseEntry(pre: 1, post: 0, weight: 0.75)])),
            Projection(name: "ifn_thr", from: "ifn", to: "thr", delay: 0, weights: dense(2, 2, 0)),
            Projection(name: "thr_li", from: "thr", to: "li", delay: 0, weights: dense(2, 2, 0.1)),
            Projection(name: "cuba_cli", from: "cuba", to: "cli", delay: 0, weights: dense(3, 2, -0.1)),
        ]
        return Graph(name: "features", timesteps: 20, populations: pops, projections: projs)
    }

    /// The network as (pre, post, delay) -> summed weight per target, and per-population parameters, so graphs that
    /// split projections differently but mean the same compare equal.
    struct Meaning: Equatable {
        var synapses: [String: [String: Double]] = [:]
        var neurons: [String: [Double]] = [:]
        /// The reset rule of each spiking population.
        var resets: [String: LIFParameters.Reset] = [:]
    }

    static func meaning(_ g: Graph) -> Meaning {
        var m = Meaning()
        for pr in g.projections {
            let pre = g.population(named: pr.from)!.size, post = g.population(named: pr.to)!.size
            let w = Materialize.weights(pr, pre: pre, post: post)
            for a in 0..<pre { for b in 0..<post where w[a * post + b] != 0 {
                m.synapses[pr.to, default: [:]]["\(pr.from)[\(a)]@\(pr.delay)->\(b)", default: 0] += w[a * post + b]
            } }
        }
        for p in g.populations where p.kind == .lif {
            let l = p.lif!
            var v = [l.decay, l.spiking ? l.threshold : 0, l.spiking ? 1 : 0, l.synapse?.decay ?? -1]
            v += (0..<p.size).map { l.bias(of: $0) } + (0..<p.size).map { l.synapse?.bias(of: $0) ?? 0 }
            m.neurons[p.name] = v
            if l.spiking { m.resets[p.name] = l.reset }
        }
        return m
    }

    private func assertClose(_ a: Meaning, _ b: Meaning, _ tol: Double = 1e-9, line: UInt = #line) {
        XCTAssertEqual(a.resets, b.resets, "reset rules", line: line)
        XCTAssertEqual(Set(a.neurons.keys), Set(b.neurons.keys), line: line)
        for (k, v) in a.neurons {
            guard let w = b.neurons[k], w.count == v.count else { XCTFail("population \(k) differs", line: line); continue }
            for (x, y) in zip(v, w) { XCTAssertEqual(x, y, accuracy: tol * max(1, abs(x)), "population \(k)", line: line) }
        }
        XCTAssertEqual(Set(a.synapses.keys), Set(b.synapses.keys), line: line)
        for (k, v) in a.synapses {
            let w = b.synapses[k] ?? [:]
            XCTAssertEqual(Set(v.keys), Set(w.keys), "synapses into \(k)", line: line)
            for (s, x) in v { XCTAssertEqual(x, w[s] ?? .nan, accuracy: tol * max(1, abs(x)), "\(k) \(s)", line: line) }
        }
    }

    private func roundTrip(_ g: Graph, _ d: NIRImportOptions.Discretisation, reset: LIFParameters.Reset = .zero) throws -> Graph {
        let path = tmp("\(g.name)-\(d.rawValue).nir")
        let (nir, _) = try NIRExporter.nir(from: g, options: NIRExportOptions(dt: 1e-3, discretisation: d), file: "g.json")
        try NIRWriter.write(nir, to: path)
        let back = try NIRReader.read(path: path)
        return try NIRImporter.graph(from: back, options: NIRImportOptions(dt: 1e-3, reset: reset, discretisation: d,
                                                                            timesteps: g.timesteps, name: g.name), file: path)
    }

    /// Every feature survives export + import, under both discretisations, reset rules included (each spiking node's
    /// `xbar_reset` metadata wins over --reset, which is zero here).
    func testFeatureGraphRoundTrip() throws {
        let g = Self.featureGraph()
        for d in NIRImportOptions.Discretisation.allCases {
            let back = try roundTrip(g, d)
            assertClose(Self.meaning(g), Self.meaning(back))
            XCTAssertEqual(back.population(named: "ifn")?.lif?.reset, .subtract)   // from the file's xbar_reset metadata
        }
    }

    /// The exported node types, parameters and delays, from hand: R = 1/(1-decay), w_in = 1/(1-decay_syn),
    /// exact tau = -dt/ln(decay); IF R = 1/dt; delay d -> Delay node of d*dt seconds; biases on an Affine.
    func testExportedNodes() throws {
        let (nir, notes) = try NIRExporter.nir(from: Self.featureGraph(), options: NIRExportOptions(dt: 1e-3), file: "g.json")
        XCTAssertEqual(notes, [])
        func node(_ n: String) throws -> NIRNode { try XCTUnwrap(nir.node(named: n), n) }
        XCTAssertEqual(try node("in").type, .input)
        XCTAssertEqual(try node("in").parameters["shape"]?.values, [3])
        let lif = try node("lif")
        XCTAssertEqual(lif.type, .lif)
        XCTAssertEqual(lif.parameters["tau"]!.values[0], -1e-3 / log(0.9), accuracy: 1e-18)
        XCTAssertEqual(lif.parameters["r"]!.values[0], 10, accuracy: 1e-12)
        XCTAssertEqual(try node("ifn").type, .if)
        XCTAssertEqual(try node("ifn").parameters["r"]!.values, [1000, 1000])
        XCTAssertEqual(try node("ifn").metadata["xbar_reset"], .text(["subtract"]))
        let cuba = try node("cuba")
        XCTAssertEqual(cuba.type, .cubaLIF)
        XCTAssertEqual(cuba.parameters["w_in"]!.values[0], 2.5, accuracy: 1e-12)
        XCTAssertEqual(cuba.parameters["r"]!.values[0], 5, accuracy: 1e-12)
        XCTAssertEqual(try node("thr").type, .threshold)
        XCTAssertEqual(try node("li").type, .li)
        XCTAssertEqual(try node("cli").type, .cubaLI)
        // The first projection into `lif` carries its biases; the one into `cuba` carries the synaptic biases.
        XCTAssertEqual(try node("in_lif").type, .affine)
        XCTAssertEqual(try node("in_lif").parameters["bias"]?.values, [0.1, -0.2, 0, 0.05])
        XCTAssertEqual(try node("lif_lif").type, .linear)
        XCTAssertEqual(try node("lif_cuba").parameters["bias"]?.values, [0.01, 0.02, 0.03])
        // weight is [post][pre]: lif_cuba's entry pre 3 -> post 2 sits at row 2, column 3.
        XCTAssertEqual(try node("lif_cuba").parameters["weight"]?.shape, [3, 4])
        XCTAssertEqual(try node("lif_cuba").parameters["weight"]?.values[2 * 4 + 3], -0.25)
        XCTAssertEqual(try node("in_ifn_delay").parameters["delay"]!.values, [0.002, 0.002, 0.002])
        XCTAssertEqual(try node("lif_cuba_late_delay").parameters["delay"]!.values, [0.003, 0.003, 0.003, 0.003])
        XCTAssertTrue(nir.edges.contains(NIREdge("lif", "lif_lif_delay")))
        XCTAssertTrue(nir.edges.contains(NIREdge("in_ifn_delay", "in_ifn")))
        XCTAssertEqual(Set(nir.nodes.filter { $0.type == .output }.map(\.name)), ["li_output", "cli_output"])
    }

    /// The bundled paper LSM (random weights, recurrent delay-1 reservoir, a trained readout) round-trips; the readout
    /// is reported as not written.
    func testPaperLSMRoundTrip() throws {
        let g = try GraphJSON.load(Repo.path("examples/lsm-paper/lsm-paper.json"))
        let (_, notes) = try NIRExporter.nir(from: g, options: NIRExportOptions(dt: 1e-3), file: "lsm.json")
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes[0].contains("readout"))
        assertClose(Self.meaning(g), Self.meaning(try roundTrip(g, .exact)))
    }

    /// Names with '/' (an HDF5 path separator) become '_' and stay unique; a leaky population no projection reaches
    /// carries its bias as v_leak = bias / (1 - decay) and gets it back on import; an IF cannot, and says so.
    func testAwkwardNamesAndUnreachedBias() throws {
        let g = Graph(name: "odd", timesteps: 5, populations: [
            Population(name: "in/put", kind: .input, size: 2),
            Population(name: "a/b", kind: .lif, size: 2, lif: LIFParameters(decay: 0.9, threshold: 1)),
            Population(name: "a_b", kind: .lif, size: 1, lif: LIFParameters(decay: 0.8, threshold: 1, neuronBias: [0.05])),
        ], projections: [Projection(name: "w/1", from: "in/put", to: "a/b", delay: 0, weights: .dense([1, 2, 3, 4]))])
        let (nir, _) = try NIRExporter.nir(from: g, options: NIRExportOptions(dt: 1e-3), file: "odd.json")
        XCTAssertEqual(nir.nodes.map(\.name), ["in_put", "a_b", "a_b_1", "w_1", "a_b_output", "a_b_1_output"])
        XCTAssertEqual(nir.node(named: "a_b_1")!.parameters["v_leak"]!.values[0], 0.25, accuracy: 1e-12)
        let path = tmp("odd.nir")
        try NIRWriter.write(nir, to: path)
        let back = try NIRImporter.graph(from: try NIRReader.read(path: path), options: NIRImportOptions(dt: 1e-3, reset: .zero),
                                         file: path)
        XCTAssertEqual(back.population(named: "a_b_1")?.lif?.bias(of: 0) ?? .nan, 0.05, accuracy: 1e-12)
        XCTAssertEqual(back.population(named: "a_b")?.size, 2)
        var ifGraph = g
        ifGraph.populations[2].lif!.decay = 1
        XCTAssertThrowsError(try NIRExporter.nir(from: ifGraph, options: NIRExportOptions(dt: 1e-3), file: "odd.json")) {
            XCTAssertTrue("\($0)".contains("population \"a_b\"") && "\($0)".contains("no leak term"), "\($0)")
        }
    }

    /// What NIR cannot say is a one-line error naming the population.
    func testUnexportable() {
        func expectError(_ l: LIFParameters, _ text: String, line: UInt = #line) {
            let g = Graph(name: "x", timesteps: 5, populations: [
                Population(name: "in", kind: .input, size: 1), Population(name: "p", kind: .lif, size: 1, lif: l)],
                projections: [Projection(name: "w", from: "in", to: "p", delay: 0, weights: .dense([1]))])
            XCTAssertThrowsError(try NIRExporter.nir(from: g, options: NIRExportOptions(dt: 1e-3), file: "x.json"), line: line) { e in
                let s = "\(e)"
                XCTAssertTrue(s.contains("population \"p\"") && s.contains(text), s, line: line)
                XCTAssertFalse(s.contains("\n"), line: line)
            }
        }
        expectError(LIFParameters(decay: 0.9, threshold: 1, refractory: 2), "refractory")
        expectError(LIFParameters(decay: 0.9, threshold: 1, compare: .ge), "compare ge")
        expectError(LIFParameters(decay: 0, threshold: 1, reset: .subtract), "decay 0")
        expectError(LIFParameters(decay: 1, threshold: 1, synapse: SynapseParameters(decay: 0.5)), "strictly between 0 and 1")
    }

    /// `xbar export` writes the file atomically and refuses bad input without leaving one.
    func testExportCommand() throws {
        let out = tmp("cli.nir")
        let (code, stdout, _) = try Repo.run(["export", Repo.path("examples/lsm-paper/lsm-paper.json"), "-o", out, "--dt", "1e-3"])
        XCTAssertEqual(code, 0)
        XCTAssertTrue(stdout.contains("wrote \(out)"))
        let back = try NIRReader.read(path: out)
        XCTAssertEqual(back.node(named: "lsm")?.type, .lif)
        let bad = tmp("bad.json")
        try #"{"format": "neuroxbar-graph", "version": 1, "name": "b", "timesteps": 3, "populations": [{"name": "i", "kind": "input", "size": 1}, {"name": "p", "kind": "lif", "size": 1, "decay": 0.5, "threshold": 1, "refractory": 1}], "projections": [{"name": "w", "from": "i", "to": "p", "weights": {"kind": "dense", "values": [[1]]}}]}"#
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let out2 = tmp("bad.nir")
        let (code2, _, err2) = try Repo.run(["export", bad, "-o", out2, "--dt", "1e-3"])
        XCTAssertEqual(code2, 1)
        XCTAssertTrue(err2.contains("refractory"), err2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out2))
    }

    /// Python's reference reader (`nir.read`, with its type checks) accepts the export and sees the same nodes.
    /// Runs when a Python with the `nir` package is available (.venv/bin/python, which scripts/setup.sh tries to
    /// create, or XBAR_PYTHON); skipped otherwise.
    func testPythonNIRReadsExport() throws {
        let path = tmp("py.nir")
        let (nir, _) = try NIRExporter.nir(from: Self.featureGraph(), options: NIRExportOptions(dt: 1e-3), file: "g.json")
        try NIRWriter.write(nir, to: path, gzip: true)
        let script = """
        import sys, nir
        g = nir.read(sys.argv[1])
        for k in sorted(g.nodes): print(k, type(g.nodes[k]).__name__)
        print(sorted(g.edges) == sorted(set(g.edges)), len(g.edges))
        print(float(g.nodes['lif_cuba'].weight[2, 3]), [float(d) for d in g.nodes['in_ifn_delay'].delay])
        """
        let (status, out, err) = try runPythonNIR(script, [path])
        XCTAssertEqual(status, 0, err)
        let expected = nir.nodes.map { "\($0.name) \($0.type.rawValue)" }.sorted().joined(separator: "\n")
        XCTAssertEqual(out, expected + "\nTrue \(nir.edges.count)\n-0.25 [0.002, 0.002, 0.002]\n")
    }

    /// The exportable graphs of the checks below: the bundled paper LSM, the NALSM liquid, and random graphs of the IR
    /// round-trip generator that NIR can express (no refractory period, no `ge` compare).
    static func exportableGraphs(random count: Int) -> [Graph] {
        var out = [try! GraphJSON.load(Repo.path("examples/lsm-paper/lsm-paper.json")), LSMBuilder.nalsm(.init())]
        var i = 0
        while out.count < count + 2 {
            let g = RTGraphGenerator.make(i)
            i += 1
            if (try? NIRExporter.nir(from: g, options: NIRExportOptions(dt: 1e-3), file: "g.json")) != nil { out.append(g) }
        }
        return out
    }

    /// Python's `nir.read` with its default type checking (which needs an Output to infer types from) accepts every
    /// export: every example graph and 100 random graphs (recurrent reservoirs that only read themselves included).
    func testPythonNIRTypeChecksEveryExport() throws {
        var paths: [String] = []
        for (i, g) in Self.exportableGraphs(random: 100).enumerated() {
            let (nir, _) = try NIRExporter.nir(from: g, options: NIRExportOptions(dt: 1e-3), file: "g.json")
            XCTAssertFalse(nir.nodes.filter { $0.type == .output }.isEmpty, g.name)
            let path = tmp("typed-\(i).nir")
            try NIRWriter.write(nir, to: path)
            paths.append(path)
        }
        let script = """
        import sys, nir
        for f in sys.argv[1:]:
            g = nir.read(f)
            print(len(g.nodes), sum(type(n).__name__ == "Output" for n in g.nodes.values()))
        """
        let (status, out, err) = try runPythonNIR(script, paths)
        XCTAssertEqual(status, 0, String(err.suffix(2000)))
        let lines = out.split(separator: "\n")
        XCTAssertEqual(lines.count, paths.count)
        for l in lines { XCTAssertGreaterThan(Int(l.split(separator: " ")[1]) ?? 0, 0, String(l)) }
    }

    /// A trained readout is written as a Linear (weight[class][neuron]) into an Output of one value per class, and its
    /// source population gets no second Output.
    func testReadoutExport() throws {
        let g = try GraphJSON.load(Repo.path("examples/lsm-paper/lsm-paper.json"))
        let r = try XCTUnwrap(g.readout)
        let (nir, _) = try NIRExporter.nir(from: g, options: NIRExportOptions(dt: 1e-3), file: "g.json")
        let linear = try XCTUnwrap(nir.node(named: "readout_lsm"))
        XCTAssertEqual(linear.type, .linear)
        XCTAssertEqual(linear.parameters["weight"]?.shape, [r.classes, 200])
        XCTAssertEqual(linear.parameters["weight"]?.values, r.weights)
        XCTAssertEqual(nir.node(named: "readout_lsm_output")?.parameters["shape"]?.values, [Double(r.classes)])
        XCTAssertTrue(nir.edges.contains(NIREdge("lsm", "readout_lsm")))
        XCTAssertEqual(nir.nodes.filter { $0.type == .output }.map(\.name), ["readout_lsm_output"])
    }

    /// Export then import gives a graph whose emulation on `ideal-hp` is identical (every population's spikes, every
    /// sample): the paper LSM and 20 random graphs.
    func testRoundTripEmulatesIdentically() throws {
        let target = try Repo.target("ideal-hp")
        var spiking = 0
        for g in Self.exportableGraphs(random: 20) {
            let back = try roundTrip(g, .exact)
            var original = g
            original.readout = nil
            let options = CompileOptions(replicateMacros: true)
            let a = try Compiler.compile(original, target: target, options: options).program
            let b = try Compiler.compile(back, target: target, options: options).program
            let channels = a.inputs.reduce(0) { $0 + $1.size }
            var rng = RTRandom(seed: UInt64(g.populations.count * 7919 + g.timesteps), id: 1)
            let raster = SpikeRaster(channels: channels, timesteps: a.timesteps, label: nil, active: (0..<a.timesteps).map { _ in
                (0..<channels).compactMap { rng.chance(0.2) ? Int32($0) : nil }
            })
            let ra = FastEngine(chip: try Chip(program: a, target: target, seed: 1))
                .run(raster, binding: try InputBinding(program: a, channels: channels, file: "a"))
            let rb = FastEngine(chip: try Chip(program: b, target: target, seed: 1))
                .run(raster, binding: try InputBinding(program: b, channels: channels, file: "b"))
            XCTAssertEqual(ra.spikes, rb.spikes, g.name)
            if ra.spikes.values.contains(where: { !$0.isEmpty }) { spiking += 1 }
        }
        XCTAssertGreaterThanOrEqual(spiking, 15)  // the comparison is not vacuous: most graphs spike
    }

    /// Runs `script` under the Python that has the `nir` package (XBAR_PYTHON, else .venv/bin/python, which
    /// scripts/python-reference.sh makes); skips the test when there is none. Returns (status, stdout, stderr).
    private func runPythonNIR(_ script: String, _ args: [String]) throws -> (Int32, String, String) {
        let candidates = [ProcessInfo.processInfo.environment["XBAR_PYTHON"], Repo.path(".venv/bin/python")].compactMap { $0 }
        guard let python = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("no Python with nir (set XBAR_PYTHON or run scripts/setup.sh)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script] + args
        let pipe = Pipe(), errPipe = Pipe()
        p.standardOutput = pipe
        p.standardError = errPipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationStatus != 0 && err.contains("No module named 'nir'") { throw XCTSkip("\(python) has no nir package") }
        return (p.terminationStatus, out, err)
    }
}
