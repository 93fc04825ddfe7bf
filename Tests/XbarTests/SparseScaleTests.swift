import Foundation
import XCTest
import XbarCompiler
import XbarCore
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarLearn

/// Large sparse graphs (docs/bench.md, "A 100,000-neuron sparse reservoir"): fixed fan-out random projections, arrays
/// held as one fill code plus their other cells, and the `*: fill` array body of the binary form's skeleton.
final class SparseScaleTests: XCTestCase {
    // MARK: CellCodes

    func testCellCodesSparseAndDenseHoldTheSameValues() {
        var s = CellCodes(repeating: 3, count: 40)
        var d = CellCodes([Int32](repeating: 3, count: 40))
        for (i, v) in [(5, 9), (2, 1), (39, 0), (5, 3), (7, 8)] as [(Int, Int32)] {
            s[i] = v
            d[i] = v
        }
        // (5, 3) set cell 5 back to the fill: the sparse store lists 2, 7 and 39 only.
        XCTAssertEqual(s.exceptionCount, 3)
        XCTAssertNil(d.exceptionCount)
        var expected = [Int32](repeating: 3, count: 40)
        expected[2] = 1; expected[7] = 8; expected[39] = 0
        XCTAssertEqual(Array(s), expected)
        XCTAssertEqual(s.array, expected)
        XCTAssertEqual(s, d)
        XCTAssertEqual(s, CellCodes(expected))
        XCTAssertEqual(s.range, 0...8)
        var listed: [Int] = []
        s.forEachCell(differingFrom: 3) { i, _ in listed.append(i) }
        XCTAssertEqual(listed, [2, 7, 39])
        listed = []
        s.forEachCell(differingFrom: 8) { i, _ in listed.append(i) }
        XCTAssertEqual(listed.count, 39)  // every cell but 7, through the general path
        XCTAssertEqual(s.withCells(1..<9) { Array($0) }, [3, 1, 3, 3, 3, 3, 8, 3])
        XCTAssertEqual(d.withCells(1..<9) { Array($0) }, [3, 1, 3, 3, 3, 3, 8, 3])
        XCTAssertEqual(s.withContiguousCodes { Array($0) }, expected)
        var other = s
        other[39] = 3
        XCTAssertNotEqual(other, s)
        XCTAssertEqual(s[39], 0, "a copy changes independently")
    }

    func testCellCodesTurnDenseBeyondAQuarterOfTheCells() {
        var s = CellCodes(repeating: 0, count: 16)
        for i in 0..<4 { s[i * 3] = 1 }
        XCTAssertEqual(s.exceptionCount, 4, "4 of 16 listed: still sparse")
        s[15] = 2
        XCTAssertNil(s.exceptionCount, "5 of 16: dense")
        XCTAssertEqual(Array(s), [1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 2])
    }

    // MARK: Fixed fan-out

    /// Floyd's algorithm as docs/graph.md states it, written out again here: the targets of row i.
    func floydTargets(seed: UInt64, salt: UInt32, row i: Int, k: Int, post: Int, noSelf: Bool) -> [Int] {
        let rng = Philox(seed: seed)
        let m = post - (noSelf && i < post ? 1 : 0)
        var s: [Int] = []
        for j in (m - k)..<m {
            let u = rng.uniform(purpose: 33, salt, UInt32(i), UInt32(j))
            let t = Int((u * Double(j + 1)).rounded(.down))
            s.append(s.contains(t) ? j : t)
        }
        return s.map { noSelf && $0 >= i ? $0 + 1 : $0 }.sorted()
    }

    func testFanoutDrawsKDistinctTargetsPerRowByFloydsAlgorithm() {
        let spec = RandomWeights(distribution: .uniform, a: 1, b: 2, gain: 0.5, density: 1, seed: 7, noSelf: true, fanout: 6)
        let pr = Projection(name: "rec", from: "r", to: "r", delay: 1, weights: .random(spec))
        var rows = [[Int]](repeating: [], count: 30)
        var weights: [Double] = []
        Materialize.forEachNonZero(pr, pre: 30, post: 30) { i, j, w in rows[i].append(j); weights.append(w) }
        let salt = Materialize.salt("rec"), rng = Philox(seed: 7)
        for i in 0..<30 {
            XCTAssertEqual(rows[i], floydTargets(seed: 7, salt: salt, row: i, k: 6, post: 30, noSelf: true), "row \(i)")
            XCTAssertEqual(Set(rows[i]).count, 6)
            XCTAssertFalse(rows[i].contains(i), "no self-connection")
        }
        // Weights: gain x (low + (high - low) x U(1, salt, i, j)), as for the density form.
        XCTAssertEqual(weights[0], 0.5 * (1 + rng.uniform(purpose: 1, salt, 0, UInt32(rows[0][0]))))
        XCTAssertTrue(weights.allSatisfy { $0 >= 0.5 && $0 < 1 })
        // Every candidate is equally likely: 30 rows x 6 of 29 candidates, over 2,000 rows the counts stay near 6/29.
        let big = Projection(name: "big", from: "a", to: "b", delay: 0,
                             weights: .random(RandomWeights(distribution: .normal, a: 0, b: 1, gain: 1, density: 1, seed: 1, fanout: 10)))
        var count = [Int](repeating: 0, count: 50)
        Materialize.forEachNonZero(big, pre: 2000, post: 50) { _, j, _ in count[j] += 1 }
        XCTAssertEqual(count.reduce(0, +), 20_000)
        // Expected 400 each (binomial sd 18): all within 5 sd.
        XCTAssertTrue(count.allSatisfy { abs($0 - 400) < 90 }, "\(count)")
    }

    func testFanoutInTheGraphFormat() throws {
        func graph(_ weights: String, pre: Int = 20, post: Int = 10) -> Data {
            Data("""
            {"format": "neuroxbar-graph", "version": 1, "name": "g", "timesteps": 3,
             "populations": [{"name": "in", "kind": "input", "size": \(pre)},
                             {"name": "n", "kind": "lif", "size": \(post), "decay": 0.5, "threshold": 1}],
             "projections": [{"from": "in", "to": "n", "weights": \(weights)}]}
            """.utf8)
        }
        let ok = try GraphJSON.parse(graph(#"{"kind": "random", "distribution": "normal", "fanout": 4, "seed": 3}"#), file: "g.json")
        guard case let .random(r) = ok.projections[0].weights else { return XCTFail("not random") }
        XCTAssertEqual(r.fanout, 4)
        XCTAssertEqual(try GraphJSON.parse(Data(GraphWriter.json(ok).utf8), file: "w.json"), ok, "writer round trip")
        XCTAssertThrowsError(try GraphJSON.parse(graph(#"{"kind": "random", "distribution": "normal", "fanout": 4, "density": 0.5, "seed": 3}"#), file: "g.json")) {
            XCTAssertTrue("\($0)".contains("give either density or fanout, not both"), "\($0)")
        }
        XCTAssertThrowsError(try GraphJSON.parse(graph(#"{"kind": "random", "distribution": "normal", "fanout": 11, "seed": 3}"#), file: "g.json")) {
            XCTAssertEqual("\($0)", "g.json: projections[0].weights.fanout: 11 exceeds the 10 candidate targets of each presynaptic neuron")
        }
        // The synapse bound counts pre x fanout: 100,000 x 100,000 with fan-out 100 is 10 M synapses, accepted; with a
        // density it would be 10^10 slots, refused.
        let wide = #"{"kind": "random", "distribution": "normal", "fanout": 100, "seed": 3}"#
        XCTAssertNoThrow(try GraphJSON.parse(graph(wide, pre: 100_000, post: 100_000), file: "g.json"))
        XCTAssertThrowsError(try GraphJSON.parse(graph(#"{"kind": "random", "distribution": "normal", "density": 0.001, "seed": 3}"#, pre: 100_000, post: 100_000), file: "g.json")) {
            XCTAssertTrue("\($0)".contains("10000000000 synapses (100000 x 100000) exceeds the limit 268435456"), "\($0)")
        }
        // What needs the dense matrix refuses it by name.
        XCTAssertThrowsError(try FloatNetwork(graph: try GraphJSON.parse(graph(wide, pre: 100_000, post: 100_000), file: "g.json"), file: "g.json")) {
            XCTAssertTrue("\($0)".contains("the float twin needs the dense 100000 x 100000 matrix"), "\($0)")
        }
    }

    // MARK: Sparse arrays through the pipeline

    /// A fan-out reservoir compiles into sparse arrays; the program prints, parses and round-trips through the binary
    /// form unchanged; and every engine gives the same spikes whether the arrays are held sparse or dense.
    func testSparseArraysGiveTheSameProgramAndResultsAsDense() throws {
        var o = LSMBuilder.PaperOptions()
        o.inputs = 64; o.neurons = 600; o.inputFanout = 20; o.recurrentFanout = 12; o.timesteps = 12
        let compiled = try Compiler.compile(LSMBuilder.paper(o), target: try Repo.target("ideal"),
                                            options: CompileOptions(replicateMacros: true)).program
        XCTAssertTrue(compiled.arrays.allSatisfy { $0.codes.exceptionCount != nil }, "every array sparse")
        var dense = compiled
        for k in dense.arrays.indices { dense.arrays[k].codes.makeDense() }
        XCTAssertEqual(dense, compiled)
        let text = IRPrinter.print(compiled)
        XCTAssertEqual(IRPrinter.print(dense), text)
        XCTAssertEqual(try IRParser.parse(text, file: "p.xir"), compiled)
        let back = try ProgramFile.decode(ProgramFile.encode(compiled), file: "p.xbir")
        XCTAssertEqual(back, compiled)
        XCTAssertEqual(IRPrinter.print(back), text)
        var events = "xbar-events 1\nchannels 64\ntimesteps 12\nsamples 3\n"
        let rng = Philox(seed: 5)
        for s in 0..<3 {
            events += "sample \(s) label -\n"
            for t in 0..<12 {
                let on = (0..<64).filter { rng.uniform(purpose: 4, UInt32(s), UInt32(t), UInt32($0)) < 0.3 }
                if !on.isEmpty { events += "\(t): " + on.map(String.init).joined(separator: " ") + "\n" }
            }
            events += "end\n"
        }
        let data = try EventFile.parse(events, file: "e.xev")
        func run(_ p: Program, _ engine: EngineKind) throws -> [SampleResult] {
            try Runner(chip: Chip(program: p, seed: 1), engine: engine, options: RunOptions(threads: 2)).run(data, file: "e.xev").samples
        }
        let sparseRun = try run(compiled, .fast)
        XCTAssertEqual(try run(dense, .fast), sparseRun)
        XCTAssertEqual(try run(compiled, .exact), sparseRun)
        XCTAssertEqual(try run(compiled, .cycle), sparseRun)
        var spikes = 0
        for s in sparseRun { for v in s.spikes.values { spikes += v.count } }
        XCTAssertGreaterThan(spikes, 100, "the reservoir spikes")
    }

    /// `*: fill F` as an array's whole body means every row is F (any IR version).
    func testStarFillBodyParses() throws {
        var o = LSMBuilder.PaperOptions()
        o.inputs = 8; o.neurons = 4
        var p = try Compiler.compile(LSMBuilder.paper(o), target: try Repo.target("ideal")).program
        let a = p.arrays[0]
        p.arrays[0].codes = CellCodes(repeating: 6, count: a.rows * a.cols)
        let rows = IRPrinter.print(p)
        let six = String(rows.split(separator: "\n").first { $0.hasPrefix("  0: fill ") }!.dropFirst("  0: fill ".count))
        let star = rows.replacingOccurrences(of: (0..<a.rows).map { "  \($0): fill \(six)\n" }.joined(), with: "  *: fill \(six)\n")
        XCTAssertNotEqual(star, rows, "the rows were replaced")
        let parsed = try IRParser.parse(star, file: "p.xir")
        XCTAssertEqual(parsed, p)
        XCTAssertTrue(parsed.arrays[0].codes.allSatisfy { $0 == 6 })
    }
}
