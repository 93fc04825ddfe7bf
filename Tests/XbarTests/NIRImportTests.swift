import Foundation
import XCTest
import XbarCore
import XbarGraph
import XbarNIR

/// Lowering NIR to the graph format (docs/nir.md, "Lowering"): nested graphs, composed linear maps (conv, pool,
/// flatten, delay, scale), every neuron type, splits, and the upstream example files.
final class NIRImportTests: XCTestCase {
    private func example(_ name: String) -> String { Repo.path("examples/nir/\(name)") }

    private static let scratch = TestScratch("nir-import-tests")

    override class func tearDown() {
        scratch.remove()
        super.tearDown()
    }

    private func tmp(_ name: String) -> String { Self.scratch.path(name) }

    /// Writes `nir` with NIRWriter, reads it back and lowers it.
    private func lower(_ nir: NIRGraph, _ name: String, dt: Double = 1e-3, reset: LIFParameters.Reset = .zero,
                       discretisation: NIRImportOptions.Discretisation = .exact) throws -> NIRImportResult {
        let path = tmp(name)
        try NIRWriter.write(nir, to: path)
        return try NIRImporter.lower(try NIRReader.read(path: path),
                                     options: NIRImportOptions(dt: dt, reset: reset, discretisation: discretisation), file: path)
    }

    private func assertError<T>(_ body: @autoclosure () throws -> T, _ expected: [String], line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("no error; expected one containing \(expected)", line: line)
        } catch let e as XbarError {
            XCTAssertFalse(e.description.contains("\n"), line: line)
            for s in expected { XCTAssertTrue(e.description.contains(s), "\"\(e.description)\" lacks \"\(s)\"", line: line) }
        } catch {
            XCTFail("unexpected error \(error)", line: line)
        }
    }

    /// W[pre][post] of a dense or sparse projection as rows.
    private func matrix(_ p: Projection, _ g: Graph) -> [[Double]] {
        let rows = g.population(named: p.from)!.size, cols = g.population(named: p.to)!.size
        var m = [[Double]](repeating: [Double](repeating: 0, count: cols), count: rows)
        switch p.weights {
        case let .dense(v): for i in 0..<rows { for j in 0..<cols { m[i][j] = v[i * cols + j] } }
        case let .sparse(es): for e in es { m[e.pre][e.post] += e.weight }
        default: XCTFail("dense or sparse weights expected")
        }
        return m
    }

    private func projection(_ g: Graph, _ name: String) throws -> Projection {
        try XCTUnwrap(g.projections.first { $0.name == name }, "no projection \(name) in \(g.projections.map(\.name))")
    }

    private func node(_ name: String, _ type: NIRNodeType, _ params: [String: NIRArray] = [:], text: [String: [String]] = [:]) -> NIRNode {
        NIRNode(name: name, type: type, parameters: params, textParameters: text)
    }

    private func ones(_ n: Int) -> NIRArray { NIRArray([Double](repeating: 1, count: n)) }

    // MARK: - Upstream files

    /// Every upstream .nir file (copies in examples/nir) lowers; sizes and projections as listed in docs/nir.md.
    func testEveryExampleFileImports() throws {
        let expected: [String: (dt: Double, pops: String, projs: String)] = [
            "lif_norse.nir": (1e-4, "input:1 1:1", "input->1/0"),
            "lif_rockpool.nir": (1e-4, "input:1 1_LIFNeuronTorch:1", "input->1_LIFNeuronTorch/0"),
            "two_lif_neurons.nir": (1e-4, "in:1 lif1:1 lif2:1", "in->lif1/0 lif1->lif2/0"),
            "braille_noDelay_bias_zero.nir": (1e-4, "input:12 lif1.lif:38 lif2:7", "input->lif1.lif/0 lif1.lif->lif1.lif/1 lif1.lif->lif2/0"),
            "braille_noDelay_bias_zero_subgraph.nir": (1e-4, "input:12 lif1.lif1:38 lif2:7",
                                                       "input->lif1.lif1/0 lif1.lif1->lif1.lif1/1 lif1.lif1->lif2/0"),
            "braille_noDelay_noBias_subtract.nir": (1e-4, "input:12 lif1.lif:40 lif2:7", "input->lif1.lif/0 lif1.lif->lif1.lif/1 lif1.lif->lif2/0"),
            "cnn_sinabs.nir": (1, "input:2312 1:4096 3:4096 6:512 10:256 12:10", "input->1/0 1->3/0 3->6/0 6->10/0 10->12/0"),
        ]
        let files = try FileManager.default.contentsOfDirectory(atPath: Repo.path("examples/nir")).filter { $0.hasSuffix(".nir") }.sorted()
        XCTAssertEqual(files, expected.keys.sorted())
        for f in files {
            let (dt, pops, projs) = expected[f]!
            let repair = f.contains("subgraph")
            let r = try NIRImporter.lower(try NIRReader.read(path: example(f), allowDanglingEdges: repair),
                                          options: NIRImportOptions(dt: dt, reset: .subtract, repairDanglingEdges: repair), file: f)
            XCTAssertEqual(r.graph.populations.map { "\($0.name):\($0.size)" }.joined(separator: " "), pops, f)
            XCTAssertEqual(r.graph.projections.map { "\($0.from)->\($0.to)/\($0.delay)" }.joined(separator: " "), projs, f)
            XCTAssertEqual(r.outputs.count, 1, f)
            XCTAssertTrue(r.outputs[0].direct, f)
            XCTAssertEqual(r.outputs[0].populations, [r.graph.populations.last!.name], f)
            XCTAssertEqual(r.warnings.count, repair ? 1 : 0, f)
        }
    }

    /// The nested-graph variant with --repair-dangling gives the flat file's graph (up to the nested node's name); without
    /// the option the dangling edge is an error.
    func testSubgraphRepairEqualsFlatGraph() throws {
        let opts = NIRImportOptions(dt: 1e-4, reset: .zero, discretisation: .euler, name: "braille")
        let flatPath = example("braille_noDelay_bias_zero.nir"), subPath = example("braille_noDelay_bias_zero_subgraph.nir")
        let flat = try NIRImporter.graph(from: try NIRReader.read(path: flatPath), options: opts, file: flatPath)
        var repair = opts
        repair.repairDanglingEdges = true
        let r = try NIRImporter.lower(try NIRReader.read(path: subPath, allowDanglingEdges: true), options: repair, file: subPath)
        XCTAssertEqual(r.warnings, ["\(subPath): node/nodes/lif1/edges: edge end 'lif' (4 edge ends) names no node; rebound to "
                                    + "'lif1', the only node of this graph without incoming and outgoing edges"])
        // Rename the inlined node lif1.lif1 to the flat file's lif1.lif and compare everything else.
        let renamed = try GraphJSON.parse(Data(GraphWriter.json(r.graph).replacingOccurrences(of: "lif1.lif1", with: "lif1.lif").utf8),
                                          file: "<renamed>")
        XCTAssertEqual(renamed, flat)

        let lenient = try NIRReader.read(path: subPath, allowDanglingEdges: true)
        assertError(try NIRImporter.graph(from: lenient, options: opts, file: subPath),
                    [subPath, "node/nodes/lif1/edges[0]", "input -> lif", "'lif'", "--repair-dangling"])
        // CLI: the warning goes to stderr, prefixed.
        let (st, _, err) = try Repo.run(["import", "examples/nir/braille_noDelay_bias_zero_subgraph.nir", "--dt", "1e-4",
                                         "--reset", "zero", "--repair-dangling", "-o", tmp("sub.json")])
        XCTAssertEqual(st, 0, err)
        XCTAssertTrue(err.hasPrefix("warning: examples/nir/braille_noDelay_bias_zero_subgraph.nir: node/nodes/lif1/edges: "), err)
        XCTAssertTrue(err.contains("note: examples/nir/braille_noDelay_bias_zero_subgraph.nir: output 'output' (7 values) is fed directly by lif2"), err)
        let (st2, _, err2) = try Repo.run(["import", "examples/nir/braille_noDelay_bias_zero_subgraph.nir", "--dt", "1e-4", "--reset", "zero"])
        XCTAssertEqual(st2, 1)
        XCTAssertTrue(err2.contains("names node 'lif', which is not in the graph"), err2)
    }

    /// snnTorch `Synaptic` exports (dt = 1e-4): euler gives back alpha, beta and the trained weights.
    func testBrailleEulerRecoversSnnTorchParameters() throws {
        let opts = NIRImportOptions(dt: 1e-4, reset: .zero, discretisation: .euler)
        for (file, hasBias, alphaBeta) in [("braille_noDelay_bias_zero.nir", true, [0.55, 0.9, 0.5, 0.55]),
                                           ("braille_noDelay_noBias_subtract.nir", false, [0.75, 0.85, 0.45, 0.7])] {
            let path = example(file)
            let nir = try NIRReader.read(path: path)
            let g = try NIRImporter.graph(from: nir, options: opts, file: path)
            let l1 = try XCTUnwrap(g.populations[1].lif), l2 = try XCTUnwrap(g.populations[2].lif)
            for (x, y) in zip([l1.synapse!.decay, l1.decay, l2.synapse!.decay, l2.decay], alphaBeta) { XCTAssertEqual(x, y, accuracy: 1e-6, file) }
            XCTAssertTrue(l1.spiking && l2.spiking)
            XCTAssertEqual(l1.threshold, 1)
            // Weights: W_ours[pre][post] = weight_nir[post][pre] (scale 1 up to float32 rounding of tau, r and w_in).
            let pairs = [("fc1", "input->lif1.lif"), ("lif1.w_rec", "lif1.lif->lif1.lif"), ("fc2", "lif1.lif->lif2")]
            for (nirNode, proj) in pairs {
                let w = nir.node(named: nirNode)!.parameters["weight"]!
                let m = matrix(try projection(g, proj), g)
                for post in 0..<w.shape[0] {
                    for pre in 0..<w.shape[1] {
                        XCTAssertEqual(m[pre][post], w.values[post * w.shape[1] + pre], accuracy: 1e-6 * max(1, abs(m[pre][post])))
                    }
                }
            }
            XCTAssertEqual(try projection(g, "lif1.lif->lif1.lif").delay, 1)
            if hasBias {
                // fc1's and w_rec's biases both arrive at lif1 (summed), fc2's at lif2: all into the synapse.
                let b1 = nir.node(named: "fc1")!.parameters["bias"]!.values, br = nir.node(named: "lif1.w_rec")!.parameters["bias"]!.values
                let s1 = try XCTUnwrap(l1.synapse?.neuronBias)
                for i in 0..<38 { XCTAssertEqual(s1[i], b1[i] + br[i], accuracy: 1e-6) }
                let s2 = try XCTUnwrap(l2.synapse?.neuronBias)
                for (x, y) in zip(s2, nir.node(named: "fc2")!.parameters["bias"]!.values) { XCTAssertEqual(x, y, accuracy: 1e-6) }
                XCTAssertEqual(l1.synapse!.bias, 0)
            } else {
                XCTAssertNil(l1.synapse!.neuronBias)
                XCTAssertEqual(l1.synapse!.bias, 0)
            }
            XCTAssertNil(l1.neuronBias)
            XCTAssertEqual(l1.bias, 0)  // v_leak = 0
        }
    }

    /// The sinabs CNN: conv0 unrolled from the [2, 34, 34] input (channel = p*1156 + y*34 + x).
    func testCNNConvolutionEntries() throws {
        let path = example("cnn_sinabs.nir")
        let g = try NIRImporter.graph(from: try NIRReader.read(path: path), options: NIRImportOptions(dt: 1, reset: .subtract), file: path)
        let conv0 = try projection(g, "input->1")
        guard case let .sparse(es) = conv0.weights else { return XCTFail("sparse conv0 expected") }
        // python3 -c "print(sum(0<=2*o-1+k<34 for o in range(16) for k in range(5))**2*2*16)"  -> 199712
        XCTAssertEqual(es.count, 199712)
        let byPair = Dictionary(es.map { ($0.pre * 4096 + $0.post, $0.weight) }, uniquingKeysWith: +)
        func w(_ pre: Int, _ post: Int) -> Double? { byPair[pre * 4096 + post] }
        // h5py: w = File('cnn_sinabs.nir')['node/nodes/0/weight']; float(w[0,0,1,1]), float(w[1,1,2,1]), float(w[15,0,4,4])
        XCTAssertEqual(w(0, 0), 0.11605429649353027)            // out (0, 0, 0) <- in (0, 0, 0): ky = kx = 1
        XCTAssertEqual(w(1 * 1156 + 7 * 34 + 10, 256 + 3 * 16 + 5), 0.1440415233373642)  // out (1, 3, 5) <- in (1, 7, 10)
        XCTAssertEqual(w(33 * 34 + 33, 4095), 0.06393551826477051)  // out (15, 15, 15) <- in (0, 33, 33)
        XCTAssertNil(w(34 * 34 - 1, 0))  // outside the receptive field
        for p in g.populations.dropFirst() {
            XCTAssertEqual(p.lif?.decay, 1)  // IF
            XCTAssertEqual(p.lif?.threshold, 1)
            XCTAssertEqual(p.lif?.reset, .subtract)
        }
        guard case let .sparse(pool) = try projection(g, "3->6").weights else { return XCTFail("sparse 3->6 expected") }
        XCTAssertEqual(pool.count, 247808)  // conv5 after SumPool2d 4, composed (checked against numpy, all entries)
        guard case .dense = try projection(g, "6->10").weights else { return XCTFail("dense 6->10 expected (100% density)") }
    }

    /// A nested graph is inlined: `sub` as an edge end means its Input (target) or Output (source); `sub.lif` its child.
    func testNestedGraphInlining() throws {
        let sub = NIRGraph(nodes: [
            node("input", .input, ["shape": NIRArray([2])]),
            node("fc", .linear, ["weight": NIRArray(shape: [2, 2], values: [1, 2, 3, 4])]),
            node("lif", .if, ["r": ones(2), "v_threshold": ones(2)]),
            node("output", .output, ["shape": NIRArray([2])]),
        ], edges: [NIREdge("input", "fc"), NIREdge("fc", "lif"), NIREdge("lif", "output")])
        let nir = NIRGraph(nodes: [
            node("in", .input, ["shape": NIRArray([2])]),
            NIRNode(name: "sub", type: .graph, subgraph: sub),
            node("out", .output), node("tap", .output),
        ], edges: [NIREdge("in", "sub"), NIREdge("sub", "out"), NIREdge("sub.lif", "tap")])
        let r = try lower(nir, "nested.nir", dt: 1)
        XCTAssertEqual(r.graph.populations.map(\.name), ["in", "sub.lif"])
        XCTAssertEqual(matrix(try projection(r.graph, "in->sub.lif"), r.graph), [[1, 3], [2, 4]])
        XCTAssertEqual(r.outputs, [NIROutputBinding(output: "out", size: 2, populations: ["sub.lif"], direct: true),
                                   NIROutputBinding(output: "tap", size: 2, populations: ["sub.lif"], direct: true)])
    }

    // MARK: - Linear maps

    /// Conv2d (stride 2, padding 1, dilation 2, groups 2, bias) -> SumPool2d (kernel 2, stride 2, padding 1) -> Flatten
    /// -> Affine -> IF, against a nested-loop computation of the same network.
    func testConvPoolFlattenAgainstDirectComputation() throws {
        var rnd = RTRandom(seed: 7, id: 1)
        let (C, H, W, cOut, kh, kw, groups) = (4, 7, 6, 6, 3, 2, 2)
        let convW = (0..<(cOut * (C / groups) * kh * kw)).map { _ in rnd.uniform() - 0.5 }
        let convB = (0..<cOut).map { _ in rnd.uniform() }
        let (oh, ow) = ((H + 2 - 2 * (kh - 1) - 1) / 2 + 1, (W + 2 - 2 * (kw - 1) - 1) / 2 + 1)  // 3, 3
        let (ph, pw) = ((oh + 2 - 2) / 2 + 1, (ow + 2 - 2) / 2 + 1)  // 2, 2
        let flat = cOut * ph * pw
        let affW = (0..<(5 * flat)).map { _ in rnd.uniform() - 0.5 }, affB = (0..<5).map { _ in rnd.uniform() }
        let nir = NIRGraph(nodes: [
            node("in", .input, ["shape": NIRArray([Double(C), Double(H), Double(W)])]),
            node("conv", .conv2d, ["weight": NIRArray(shape: [cOut, C / groups, kh, kw], values: convW), "bias": NIRArray(convB),
                                  "stride": NIRArray([2, 2]), "padding": NIRArray([1, 1]), "dilation": NIRArray([2, 2]),
                                  "groups": NIRArray(scalar: 2)]),
            node("pool", .sumPool2d, ["kernel_size": NIRArray([2, 2]), "stride": NIRArray([2, 2]), "padding": NIRArray([1, 1])]),
            node("flat", .flatten, ["start_dim": NIRArray(scalar: 0), "end_dim": NIRArray(scalar: -1)]),
            node("fc", .affine, ["weight": NIRArray(shape: [5, flat], values: affW), "bias": NIRArray(affB)]),
            node("if", .if, ["r": ones(5), "v_threshold": ones(5)]),
            node("out", .output),
        ], edges: [NIREdge("in", "conv"), NIREdge("conv", "pool"), NIREdge("pool", "flat"), NIREdge("flat", "fc"),
                   NIREdge("fc", "if"), NIREdge("if", "out")])
        let g = try lower(nir, "conv.nir", dt: 1).graph
        XCTAssertEqual(g.populations.map(\.size), [C * H * W, 5])
        let m = matrix(try projection(g, "in->if"), g), lif = g.populations[1].lif!
        XCTAssertEqual(lif.decay, 1)

        func direct(_ x: [Double]) -> [Double] {
            var conv = [Double](repeating: 0, count: cOut * oh * ow)
            for co in 0..<cOut {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var s = convB[co]
                        for cl in 0..<(C / groups) {
                            for ky in 0..<kh {
                                for kx in 0..<kw {
                                    let iy: Int = oy * 2 - 1 + 2 * ky, ix: Int = ox * 2 - 1 + 2 * kx
                                    if iy < 0 || iy >= H || ix < 0 || ix >= W { continue }
                                    let ci = (co / (cOut / groups)) * (C / groups) + cl
                                    s += convW[((co * (C / groups) + cl) * kh + ky) * kw + kx] * x[(ci * H + iy) * W + ix]
                                }
                            }
                        }
                        conv[(co * oh + oy) * ow + ox] = s
                    }
                }
            }
            var pooled: [Double] = []
            for c in 0..<cOut {
                for py in 0..<ph {
                    for px in 0..<pw {
                        var s = 0.0
                        for dy in 0..<2 {
                            for dx in 0..<2 {
                                let y = py * 2 - 1 + dy, x = px * 2 - 1 + dx
                                if y >= 0, y < oh, x >= 0, x < ow { s += conv[(c * oh + y) * ow + x] }
                            }
                        }
                        pooled.append(s)
                    }
                }
            }
            var out: [Double] = []
            for o in 0..<5 {
                var s: Double = affB[o]
                for i in 0..<flat { s += affW[o * flat + i] * pooled[i] }
                out.append(s)
            }
            return out
        }
        for _ in 0..<4 {
            let x = (0..<(C * H * W)).map { _ in rnd.uniform() < 0.3 ? 1.0 : 0.0 }
            let want = direct(x)
            for j in 0..<5 {
                var got: Double = lif.bias(of: j)
                for i in 0..<(C * H * W) { got += m[i][j] * x[i] }
                XCTAssertEqual(got, want[j], accuracy: 1e-12)
            }
        }
    }

    /// Conv1d with padding 'same' (a text parameter) and dilation 2 on a [2, 5] input.
    func testConv1dSamePadding() throws {
        let w = [1.0, 2, 3, -1, -2, -3, 0.5, 0, 0.25, 1, 1, 1]  // [2 out, 2 in, 3]
        let nir = NIRGraph(nodes: [
            node("in", .input, ["shape": NIRArray([2, 5])]),
            node("c", .conv1d, ["weight": NIRArray(shape: [2, 2, 3], values: w), "dilation": NIRArray(scalar: 2),
                               "stride": NIRArray(scalar: 1), "groups": NIRArray(scalar: 1)], text: ["padding": ["same"]]),
            node("n", .if, ["r": ones(10), "v_threshold": ones(10)]),
        ], edges: [NIREdge("in", "c"), NIREdge("c", "n")])
        let g = try lower(nir, "conv1d.nir", dt: 1).graph
        let m = matrix(try projection(g, "in->n"), g)
        // out[o][t] = sum_i sum_k w[o][i][k] * x[i][t - 2 + 2k] (PyTorch 'same': pad = dilation*(k-1)/2 = 2 each side).
        for o in 0..<2 {
            for t in 0..<5 {
                for i in 0..<2 {
                    for s in 0..<5 {
                        var want = 0.0
                        for k in 0..<3 where t - 2 + 2 * k == s { want += w[(o * 2 + i) * 3 + k] }
                        XCTAssertEqual(m[i * 5 + s][o * 5 + t], want, "o \(o) t \(t) i \(i) s \(s)")
                    }
                }
            }
        }
    }

    /// Scale folds into the weights: W = Linear * diag(scale), times the LIF's input gain.
    func testScaleFoldedIntoWeights() throws {
        let nir = NIRGraph(nodes: [
            node("in", .input, ["shape": NIRArray([2])]),
            node("s", .scale, ["scale": NIRArray([2, -3])]),
            node("fc", .linear, ["weight": NIRArray(shape: [1, 2], values: [0.5, 4])]),
            node("lif", .lif, ["tau": NIRArray([0.01]), "r": NIRArray([1]), "v_leak": NIRArray([0]), "v_threshold": NIRArray([1])]),
        ], edges: [NIREdge("in", "s"), NIREdge("s", "fc"), NIREdge("fc", "lif")])
        let g = try lower(nir, "scale.nir", dt: 1e-3, discretisation: .euler).graph
        XCTAssertEqual(g.projections.count, 1)
        XCTAssertEqual(matrix(g.projections[0], g).map { $0[0] }, [0.5 * 2 * 0.1, 4 * -3 * 0.1].map { $0 })
        XCTAssertEqual(g.populations[1].lif!.decay, 0.9, accuracy: 1e-15)
    }

    /// A parameter array whose values do not fill its shape (HDF5 cannot give one; a graph built in code, or decoded
    /// from bytes, can) is refused by name instead of being indexed out of range (found by the `nir` fuzz target).
    func testParameterShorterThanItsShapeIsRefused() {
        let nir = NIRGraph(nodes: [
            node("in", .input, ["shape": NIRArray([3])]),
            node("fc", .linear, ["weight": NIRArray(shape: [2, 3], values: [1, 2, 3, 4])]),
            node("n", .if, ["r": NIRArray([1000, 1000]), "v_threshold": ones(2)]),
        ], edges: [NIREdge("in", "fc"), NIREdge("fc", "n")])
        XCTAssertThrowsError(try NIRImporter.lower(nir, options: NIRImportOptions(dt: 1e-3, reset: .zero), file: "short.nir")) { e in
            let d = (e as? XbarError)?.description ?? "\(e)"
            XCTAssertTrue(d.hasPrefix("short.nir: ") && d.contains("weight") && d.contains("holds 4 values but its shape [2, 3] needs 6"), d)
        }
    }

    /// Per-element delays of 1, 3 and 3 steps split the composed map into one projection per delay.
    func testDelaySplitsProjectionsByDelay() throws {
        let dt = 1e-3
        let nir = NIRGraph(nodes: [
            node("in", .input, ["shape": NIRArray([3])]),
            node("d", .delay, ["delay": NIRArray([1 * dt, 3 * dt, 3 * dt])]),
            node("fc", .linear, ["weight": NIRArray(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])]),
            node("n", .if, ["r": NIRArray([1000, 1000]), "v_threshold": ones(2)]),
        ], edges: [NIREdge("in", "d"), NIREdge("d", "fc"), NIREdge("fc", "n")])
        let g = try lower(nir, "delay.nir", dt: dt).graph
        XCTAssertEqual(g.projections.map { "\($0.name)/\($0.delay)" }, ["in->n@1/1", "in->n@3/3"])
        // IF gain r*dt = 1, so the entries are the Linear weights, W[pre][post] = weight[post][pre].
        XCTAssertEqual(matrix(g.projections[0], g), [[1, 4], [0, 0], [0, 0]])
        XCTAssertEqual(matrix(g.projections[1], g), [[0, 0], [2, 5], [3, 6]])
        var bad = nir
        bad.nodes[1].parameters["delay"] = NIRArray([1.5 * dt])
        assertError(try lower(bad, "baddelay.nir", dt: dt), ["nodes/d/delay", "Delay node 'd'", "whole number"])
    }

    /// A LIF whose tau differs between neurons becomes one population per tau, with remapped indices; a recurrent
    /// Linear between the parts gets delay 1 everywhere (the NIR edge closing the cycle, not the population edge).
    func testHeterogeneousTauSplitsPopulations() throws {
        let nir = NIRGraph(nodes: [
            node("in", .input, ["shape": NIRArray([1])]),
            node("fc", .linear, ["weight": NIRArray(shape: [4, 1], values: [1, 2, 3, 4])]),
            node("lif", .lif, ["tau": NIRArray([0.01, 0.02, 0.01, 0.02]), "r": NIRArray([1, 1, 1, 2]), "v_leak": NIRArray([0, 0, 0, 1]),
                               "v_threshold": ones(4)]),
            node("rec", .linear, ["weight": NIRArray(shape: [4, 4], values: (0..<16).map { Double($0) })]),
        ], edges: [NIREdge("in", "fc"), NIREdge("fc", "lif"), NIREdge("lif", "rec"), NIREdge("rec", "lif")])
        let r = try lower(nir, "split.nir", dt: 1e-3, discretisation: .euler)
        let g = r.graph
        XCTAssertEqual(g.populations.map(\.name), ["in", "lif", "lif.1"])
        XCTAssertEqual(r.origins["lif"], NIRPopulationOrigin(node: "lif", neurons: [0, 2]))
        XCTAssertEqual(r.origins["lif.1"], NIRPopulationOrigin(node: "lif", neurons: [1, 3]))
        XCTAssertEqual(g.populations[1].lif!.decay, 0.9, accuracy: 1e-15)
        XCTAssertEqual(g.populations[2].lif!.decay, 0.95, accuracy: 1e-15)
        // r differs inside lif.1 (1, 2) and v_leak too: folded into the weights and a per-neuron bias, not a split.
        XCTAssertEqual(g.populations[2].lif!.neuronBias!, [0, 0.05], accuracy: 1e-15)
        XCTAssertEqual(matrix(try projection(g, "in->lif"), g)[0], [1 * 0.1, 3 * 0.1], accuracy: 1e-15)
        XCTAssertEqual(matrix(try projection(g, "in->lif.1"), g)[0], [2 * 0.05, 4 * 0.05 * 2], accuracy: 1e-15)
        XCTAssertEqual(g.projections.map { "\($0.from)->\($0.to)/\($0.delay)" },
                       ["in->lif/0", "lif->lif/1", "lif.1->lif/1", "in->lif.1/0", "lif->lif.1/1", "lif.1->lif.1/1"])
        // rec[post][pre] = 4*post + pre; lif.1 neuron 1 is NIR neuron 3 (r = 2, k = 0.05), lif neuron 1 is NIR neuron 2.
        XCTAssertEqual(matrix(try projection(g, "lif->lif.1"), g)[1][1], Double(4 * 3 + 2) * 0.05 * 2, accuracy: 1e-12)
        XCTAssertEqual(matrix(try projection(g, "lif.1->lif"), g)[0][1], Double(4 * 2 + 1) * 0.1, accuracy: 1e-12)
    }

    // MARK: - Neurons

    /// CubaLIF, exact form: decay exp(-dt/tau) and gain 1 - decay for each stage. dt = 1 ms, tau_syn = 2 ms,
    /// tau_mem = 5 ms, r = 2, w_in = 3, v_leak = 0.5, Affine weight 1.5, bias 0.2.
    func testCubaLIFExactForm() throws {
        let nir = NIRGraph(nodes: [
            node("in", .input, ["shape": NIRArray([1])]),
            node("fc", .affine, ["weight": NIRArray(shape: [1, 1], values: [1.5]), "bias": NIRArray([0.2])]),
            node("n", .cubaLIF, ["tau_syn": NIRArray([2e-3]), "tau_mem": NIRArray([5e-3]), "r": NIRArray([2]), "w_in": NIRArray([3]),
                                 "v_leak": NIRArray([0.5]), "v_threshold": NIRArray([1])]),
        ], edges: [NIREdge("in", "fc"), NIREdge("fc", "n")])
        let g = try lower(nir, "cuba.nir", dt: 1e-3).graph
        let l = g.populations[1].lif!
        // python3: ds = exp(-0.5); dm = exp(-0.2); s = (1-dm)*2*(1-ds)*3; 1.5*s, 0.2*s, (1-dm)*0.5
        XCTAssertEqual(l.synapse!.decay, 0.6065306597126334, accuracy: 1e-15)
        XCTAssertEqual(l.decay, 0.8187307530779818, accuracy: 1e-15)
        XCTAssertEqual(matrix(g.projections[0], g)[0][0], 0.6419150190071483, accuracy: 1e-15)
        XCTAssertEqual(l.synapse!.bias, 0.08558866920095311, accuracy: 1e-15)
        XCTAssertEqual(l.bias, 0.09063462346100909, accuracy: 1e-15)
        XCTAssertTrue(l.spiking)
    }

    /// LI, I and CubaLI are non-spiking and may feed Output nodes; LI feeding a Linear is an error.
    func testNonSpikingNodes() throws {
        let nir = NIRGraph(nodes: [
            node("in", .input, ["shape": NIRArray([1])]),
            node("li", .li, ["tau": NIRArray([0.01]), "r": NIRArray([1]), "v_leak": NIRArray([0])]),
            node("i", .i, ["r": NIRArray([3])]),
            node("cli", .cubaLI, ["tau_syn": NIRArray([0.002]), "tau_mem": NIRArray([0.01]), "r": NIRArray([1]), "v_leak": NIRArray([0]),
                                  "w_in": NIRArray([1])]),
            node("o1", .output), node("o2", .output), node("o3", .output),
        ], edges: [NIREdge("in", "li"), NIREdge("in", "i"), NIREdge("in", "cli"), NIREdge("li", "o1"), NIREdge("i", "o2"),
                   NIREdge("cli", "o3")])
        let r = try lower(nir, "li.nir", dt: 1e-3)
        let (li, i, cli) = (r.graph.population(named: "li")!.lif!, r.graph.population(named: "i")!.lif!, r.graph.population(named: "cli")!.lif!)
        XCTAssertFalse(li.spiking || i.spiking || cli.spiking)
        XCTAssertEqual(li.decay, exp(-0.1), accuracy: 1e-15)
        XCTAssertEqual(i.decay, 1)
        XCTAssertEqual(matrix(try projection(r.graph, "in->i"), r.graph)[0][0], 3e-3, accuracy: 1e-15)  // r*dt
        XCTAssertEqual(cli.synapse!.decay, exp(-0.5), accuracy: 1e-15)
        XCTAssertEqual(r.outputs.map(\.populations), [["li"], ["i"], ["cli"]])

        var bad = nir
        bad.nodes.append(node("fc", .linear, ["weight": NIRArray(shape: [1, 1], values: [1])]))
        bad.nodes.append(node("lif", .lif, ["tau": NIRArray([0.01]), "r": NIRArray([1]), "v_leak": NIRArray([0]), "v_threshold": NIRArray([1])]))
        bad.edges += [NIREdge("li", "fc"), NIREdge("fc", "lif")]
        assertError(try lower(bad, "libad.nir", dt: 1e-3), ["nodes/li", "LI node 'li' feeds", "does not spike", "only feed Output"])
    }

    /// Threshold is a stateless spiking neuron: decay 0, reset zero, the given threshold.
    func testThresholdNode() throws {
        let nir = NIRGraph(nodes: [
            node("in", .input, ["shape": NIRArray([2])]),
            node("t", .threshold, ["threshold": NIRArray([0.5, 0.5])]),
        ], edges: [NIREdge("in", "t")])
        let l = try lower(nir, "thr.nir", reset: .subtract).graph.populations[1].lif!
        XCTAssertEqual([l.decay, l.threshold], [0, 0.5])
        XCTAssertEqual(l.reset, .zero)
    }

    // MARK: - Errors

    func testLoweringErrors() throws {
        let input = node("in", .input, ["shape": NIRArray([4, 3, 3])])
        let ifNode = node("n", .if, ["r": ones(18), "v_threshold": ones(18)])
        // Conv whose groups do not divide C_in.
        let conv = node("c", .conv2d, ["weight": NIRArray(shape: [2, 2, 1, 1], values: [1, 1, 1, 1]), "groups": NIRArray(scalar: 3),
                                       "stride": NIRArray(scalar: 1), "padding": NIRArray(scalar: 0), "dilation": NIRArray(scalar: 1)])
        assertError(try lower(NIRGraph(nodes: [input, conv, ifNode], edges: [NIREdge("in", "c"), NIREdge("c", "n")]), "e1.nir"),
                    ["e1.nir: node/nodes/c/groups", "Conv2d node 'c'", "groups 3"])
        // Flatten with no input_type and nothing feeding it.
        let lonely = NIRGraph(nodes: [input, node("f", .flatten), ifNode], edges: [NIREdge("f", "n")])
        assertError(try lower(lonely, "e2.nir"), ["nodes/f", "Flatten node 'f'", "input shape unknown"])
        // Size mismatch between an edge's ends (36 values into 18 neurons).
        assertError(try lower(NIRGraph(nodes: [input, ifNode], edges: [NIREdge("in", "n")]), "e3.nir"),
                    ["nodes/n", "size mismatch", "36 values", "18 neurons"])
        // A cycle of linear nodes.
        let cyc = NIRGraph(nodes: [node("in", .input, ["shape": NIRArray([1])]), node("a", .scale, ["scale": NIRArray([1])]),
                                   node("b", .scale, ["scale": NIRArray([1])]), node("n", .if, ["r": ones(1), "v_threshold": ones(1)])],
                           edges: [NIREdge("in", "a"), NIREdge("a", "b"), NIREdge("b", "a"), NIREdge("b", "n")])
        assertError(try lower(cyc, "e4.nir"), ["cycle of linear nodes", "Scale node"])
        // Absurd size: a 'same' 3x3 convolution with 64 outputs over a 2048 x 2048 input, refused before unrolling.
        let big = NIRGraph(nodes: [node("in", .input, ["shape": NIRArray([1, 2048, 2048])]),
                                   node("c", .conv2d, ["weight": NIRArray(shape: [64, 1, 3, 3], values: [Double](repeating: 1, count: 576))],
                                        text: ["padding": ["same"]]),
                                   node("n", .if, ["r": ones(1), "v_threshold": ones(1)])],
                           edges: [NIREdge("in", "c"), NIREdge("c", "n")])
        assertError(try lower(big, "e5.nir"), ["Conv2d node 'c'", "more than the limit 67108864"])
        // Non-zero v_reset with --reset zero.
        let reset = NIRGraph(nodes: [node("in", .input, ["shape": NIRArray([1])]),
                                     node("n", .lif, ["tau": NIRArray([0.01]), "r": ones(1), "v_leak": NIRArray([0]),
                                                      "v_threshold": ones(1), "v_reset": NIRArray([-0.5])])],
                             edges: [NIREdge("in", "n")])
        assertError(try lower(reset, "e6.nir"), ["nodes/n/v_reset", "LIF node 'n'", "v_reset -0.5 is not 0"])
        XCTAssertEqual(try lower(reset, "e6.nir", reset: .subtract).graph.populations[1].lif!.reset, .subtract)
        // Euler with dt > tau.
        assertError(try lower(reset, "e7.nir", dt: 0.02, reset: .subtract, discretisation: .euler), ["nodes/n/tau", "negative decay"])
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
