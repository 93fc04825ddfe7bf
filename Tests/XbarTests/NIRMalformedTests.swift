import Foundation
import XCTest
import XbarCore
import XbarGraph
import XbarNIR

/// Malformed or hostile `.nir` files (docs/nir.md, "Errors and limits"): each is refused with one line naming the file,
/// the node's HDF5 path and field and what was expected, through the library and through `xbar import` (exit status
/// 1), never a trap or a huge allocation. Also: node-file reset metadata, recurrent one-neuron nodes, and the cost of a
/// node split into thousands of populations.
final class NIRMalformedTests: XCTestCase {
    private static let scratch = TestScratch("nir-malformed")

    override class func tearDown() {
        scratch.remove()
        super.tearDown()
    }

    private func tmp(_ name: String) -> String { Self.scratch.path(name) }

    private func node(_ name: String, _ type: NIRNodeType, _ params: [String: NIRArray] = [:],
                      metadata: [String: NIRValue] = [:]) -> NIRNode {
        NIRNode(name: name, type: type, parameters: params, metadata: metadata)
    }

    private func input(_ shape: [Double]) -> NIRNode { node("in", .input, ["shape": NIRArray(shape)]) }

    /// An IF node of scalar parameters (its size comes from its input).
    private var ifNode: NIRNode { node("n", .if, ["r": NIRArray(scalar: 1), "v_threshold": NIRArray(scalar: 1)]) }

    private func lif(_ shape: [Int], name: String = "n", threshold: Double = 1, metadata: [String: NIRValue] = [:]) -> NIRNode {
        let n = shape.reduce(1, *)
        func a(_ v: Double) -> NIRArray { NIRArray(shape: shape, values: [Double](repeating: v, count: n)) }
        return node(name, .lif, ["tau": a(0.01), "r": a(1), "v_leak": a(0), "v_threshold": a(threshold)], metadata: metadata)
    }

    /// A chain in -> nodes... with edges in order.
    private func chain(_ nodes: [NIRNode]) -> NIRGraph {
        NIRGraph(nodes: nodes, edges: zip(nodes, nodes.dropFirst()).map { NIREdge($0.name, $1.name) })
    }

    private func lower(_ path: String, reset: LIFParameters.Reset = .zero) throws -> NIRImportResult {
        try NIRImporter.lower(try NIRReader.read(path: path), options: NIRImportOptions(dt: 1e-3, reset: reset), file: path)
    }

    /// The file is refused with one line holding every string of `expected`, by the library and by `xbar import`.
    private func assertRefused(_ path: String, _ expected: [String], line: UInt = #line) throws {
        do {
            _ = try lower(path)
            XCTFail("no error; expected one containing \(expected)", line: line)
        } catch let e as XbarError {
            XCTAssertFalse(e.description.contains("\n"), line: line)
            for s in expected { XCTAssertTrue(e.description.contains(s), "\"\(e.description)\" lacks \"\(s)\"", line: line) }
        }
        let (status, out, err) = try Repo.run(["import", path, "--dt", "1e-3", "--reset", "zero"])
        XCTAssertEqual(status, 1, line: line)
        XCTAssertEqual(out, "", line: line)
        let lines = err.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, err, line: line)
        XCTAssertTrue(err.hasPrefix("error: "), err, line: line)
        for s in expected { XCTAssertTrue(err.contains(s), "\"\(err)\" lacks \"\(s)\"", line: line) }
    }

    private func refuse(_ g: NIRGraph, _ name: String, _ expected: [String], line: UInt = #line) throws {
        let path = tmp(name)
        try NIRWriter.write(g, to: path)
        try assertRefused(path, [name + ": "] + expected, line: line)
    }

    // MARK: - Sizes that used to trap or allocate without bound

    func testHugeInputShape() throws {
        try refuse(chain([input([1e8, 1e8, 1e8]), ifNode]), "bigin.nir",
                   ["node/nodes/in/shape", "Input node 'in'", "holds more than 67108864 values"])
    }

    func testConvolutionPaddingOverflow() throws {
        let conv = node("c", .conv2d, ["weight": NIRArray(shape: [3, 2, 1, 1], values: [Double](repeating: 1, count: 6)),
                                       "padding": NIRArray([9e8, 9e8])])
        try refuse(chain([input([2, 4, 4]), conv, ifNode]), "convpad.nir",
                   ["node/nodes/c", "Conv2d node 'c'", "its output [3, 1800000004, 1800000004] x 2 taps each needs more than the limit 67108864"])
    }

    func testFlattenInfiniteDimension() throws {
        let f = node("f", .flatten, ["start_dim": NIRArray(scalar: .infinity), "end_dim": NIRArray(scalar: -1)])
        try refuse(chain([input([2, 2]), f, ifNode]), "flatinf.nir",
                   ["node/nodes/f/start_dim", "Flatten node 'f'", "expected one integer in -2...2"])
    }

    func testNestedInputShapeNaN() throws {
        let sub = NIRGraph(nodes: [node("i", .input, ["shape": NIRArray([.nan])]), lif([4], name: "l"),
                                   node("o", .output, ["shape": NIRArray([4])])],
                           edges: [NIREdge("i", "l"), NIREdge("l", "o")])
        let g = NIRGraph(nodes: [input([4]), NIRNode(name: "sub", type: .graph, subgraph: sub)], edges: [NIREdge("in", "sub")])
        try refuse(g, "nestnan.nir", ["node/nodes/sub/nodes/i/shape", "Input node 'sub.i'", "expected integers >= 1"])
    }

    func testOutputShapeNaNHugeOrOverflowing() throws {
        for (name, shape, text) in [("outnan.nir", [Double.nan], "expected integers >= 1"),
                                    ("outbig.nir", [1e30], "expected integers >= 1"),
                                    ("outprod.nir", [1e8, 1e8, 1e8], "holds more than 67108864")] {
            try refuse(chain([input([4]), lif([4]), node("out", .output, ["shape": NIRArray(shape)])]), name,
                       ["node/nodes/out/shape", "Output node 'out'", text])
        }
    }

    func testPoolPaddingTooLarge() throws {
        let pool = node("p", .sumPool2d, ["kernel_size": NIRArray([1, 1]), "stride": NIRArray([1, 1]),
                                          "padding": NIRArray([100_000, 100_000])])
        try refuse(chain([input([2, 34, 34]), pool, ifNode]), "poolpad.nir",
                   ["node/nodes/p", "SumPool2d node 'p'", "its output [2, 200034, 200034] x 1 taps each needs more than the limit 67108864"])
    }

    /// A 2^36-element chunked dataset in a file of a few kB is refused by path before anything is allocated.
    func testHugeDeclaredDataset() throws {
        let path = tmp("hugeds.nir")
        let w = try HDF5Writer(path: path)
        try w.group("node")
        try w.write("node/type", strings: ["NIRGraph"], shape: [])
        try w.group("node/nodes")
        try w.group("node/nodes/in")
        try w.write("node/nodes/in/type", strings: ["Input"], shape: [])
        try w.write("node/nodes/in/shape", [4])
        try w.group("node/nodes/n")
        try w.write("node/nodes/n/type", strings: ["LIF"], shape: [])
        try w.writeUnallocated("node/nodes/n/tau", shape: [1 << 36], chunk: [1024])
        try w.write("node/nodes/n/v_threshold", [1, 1, 1, 1])
        try w.write("node/edges", strings: ["in", "n"], shape: [1, 2])
        w.close()
        XCTAssertLessThan(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int, 100_000)
        try assertRefused(path, ["node/nodes/n/tau", "dataset holds 68719476736 values", "268435456"])
    }

    // MARK: - Files that used to import as silent nonsense

    func testEmptyScaleAndDelay() throws {
        try refuse(chain([input([4]), node("s", .scale, ["scale": NIRArray([])]), lif([4])]), "scaleempty.nir",
                   ["node/nodes/s/scale", "Scale node 's'", "expected 1 value or one per element, found none"])
        try refuse(chain([input([4]), node("d", .delay, ["delay": NIRArray([])]), lif([4])]), "delayempty.nir",
                   ["node/nodes/d/delay", "Delay node 'd'", "expected 1 value or one per element, found none"])
        // Two values for four elements is refused too.
        try refuse(chain([input([4]), node("s", .scale, ["scale": NIRArray([1, 2])]), lif([4])]), "scale2.nir",
                   ["nodes/s", "Scale node 's'", "size mismatch"])
    }

    func testZeroSizedWeights() throws {
        let conv = node("c", .conv2d, ["weight": NIRArray(shape: [3, 2, 0, 1], values: [])])
        try refuse(chain([input([2, 4, 4]), conv, ifNode]), "convk0.nir",
                   ["node/nodes/c/weight", "Conv2d node 'c'", "kernel sizes >= 1, found weight shape [3, 2, 0, 1]"])
        let linear = node("a", .linear, ["weight": NIRArray(shape: [0, 4], values: [])])
        try refuse(chain([input([4]), linear, ifNode]), "lin0.nir",
                   ["node/nodes/a/weight", "Linear node 'a'", "out, in >= 1, found shape [0, 4]"])
    }

    /// A 0-d Input shape is one element (numpy's rule; Python nir reads it); a zero extent is an error.
    func testInputShapeEmptyOrZero() throws {
        let path = tmp("in0d.nir")
        try NIRWriter.write(chain([input([]), ifNode]), to: path)
        XCTAssertEqual(try lower(path).graph.populations.map(\.size), [1, 1])
        try refuse(chain([input([2, 0]), ifNode]), "inzero.nir", ["node/nodes/in/shape", "Input node 'in'", "expected integers >= 1"])
    }

    // MARK: - Reset from the file, recurrent one-neuron nodes

    /// `xbar_reset` metadata on a spiking node wins over --reset; an invalid value names the node.
    func testResetMetadata() throws {
        let path = tmp("reset.nir")
        var n = lif([2], metadata: ["xbar_reset": .text(["subtract"])])
        n.parameters["v_reset"] = NIRArray([0.5, 0.5])   // allowed: the node resets by subtraction
        try NIRWriter.write(chain([input([2]), n, lif([2], name: "m")]), to: path)
        let g = try lower(path, reset: .zero).graph
        XCTAssertEqual(g.population(named: "n")?.lif?.reset, .subtract)
        XCTAssertEqual(g.population(named: "m")?.lif?.reset, .zero)
        try refuse(chain([input([2]), lif([2], metadata: ["xbar_reset": .text(["sometimes"])])]), "badreset.nir",
                   ["node/nodes/n/metadata/xbar_reset", "LIF node 'n'", "expected \"zero\" or \"subtract\", found [\"sometimes\"]"])
    }

    /// Python nir writes a one-neuron LIF with [1]-shaped parameters: [1] is one neuron, so a self-loop imports (the
    /// recurrent projection gets one step of delay). Scalar parameters take the size from the other incoming edge.
    func testRecurrentOneNeuronAndScalarNodes() throws {
        let path = tmp("rec1.nir")
        try NIRWriter.write(NIRGraph(nodes: [input([1]), node("w", .linear, ["weight": NIRArray(shape: [1, 1], values: [2])]),
                                             lif([1]), node("rw", .linear, ["weight": NIRArray(shape: [1, 1], values: [0.5])]),
                                             node("out", .output, ["shape": NIRArray([1])])],
                                     edges: [NIREdge("in", "w"), NIREdge("w", "n"), NIREdge("n", "rw"), NIREdge("rw", "n"),
                                             NIREdge("n", "out")]), to: path)
        let g = try lower(path).graph
        XCTAssertEqual(g.populations.map(\.size), [1, 1])
        XCTAssertEqual(g.projections.map { "\($0.from)->\($0.to)/\($0.delay)" }, ["in->n/0", "n->n/1"])

        let scalar = node("n", .lif, ["tau": NIRArray(scalar: 0.01), "v_threshold": NIRArray(scalar: 1)])
        let rw = node("rw", .linear, ["weight": NIRArray(shape: [2, 2], values: [0, 1, 1, 0])])
        let path2 = tmp("rec2.nir")
        try NIRWriter.write(NIRGraph(nodes: [input([2]), scalar, rw], edges: [NIREdge("in", "n"), NIREdge("n", "rw"),
                                                                              NIREdge("rw", "n")]), to: path2)
        let g2 = try lower(path2).graph
        XCTAssertEqual(g2.populations.map(\.size), [2, 2])
        XCTAssertEqual(g2.projections.map { "\($0.from)->\($0.to)/\($0.delay)" }, ["in->n/0", "n->n/1"])
        // The skipped edge is still checked: 3 values come back into a node of 2.
        let rw3 = node("rw", .linear, ["weight": NIRArray(shape: [3, 2], values: [1, 0, 0, 1, 1, 1])])
        try refuse(NIRGraph(nodes: [input([2]), scalar, rw3], edges: [NIREdge("in", "n"), NIREdge("n", "rw"), NIREdge("rw", "n")]),
                   "rec3.nir", ["node/nodes/n", "size mismatch between edge ends", "'rw' gives 3"])
        // Nothing else gives the size: still an error naming the node.
        try refuse(NIRGraph(nodes: [input([2]), scalar], edges: [NIREdge("n", "n")]), "rec4.nir",
                   ["node/nodes/n", "cannot infer the size of LIF node 'n'", "its only input depends on itself"])
    }

    // MARK: - Cost

    /// A 2000-neuron LIF whose thresholds all differ splits into 2000 populations, in well under a second.
    func testThousandsOfPopulationsImportQuickly() throws {
        let n = 2000
        var l = lif([n])
        l.parameters["v_threshold"] = NIRArray((0..<n).map { 1 + Double($0) / 1000 })
        let path = tmp("split.nir")
        try NIRWriter.write(chain([input([Double(n)]), node("s", .scale, ["scale": NIRArray(scalar: 2)]), l]), to: path)
        let start = Date()
        let r = try lower(path)
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(r.graph.populations.count, n + 1)
        XCTAssertEqual(r.graph.projections.count, n)
        XCTAssertEqual(r.origins["n.1999"]?.neurons, [1999])
        XCTAssertLessThan(elapsed, 1.0, "importing \(n) populations took \(elapsed) s")
    }
}
