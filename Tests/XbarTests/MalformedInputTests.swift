import Foundation
import XCTest
import XbarCore
import XbarGraph
import XbarTarget
import XbarIR
import XbarCompiler

/// Repository root: this file is <root>/Tests/XbarTests/MalformedInputTests.swift.
private let miRepoRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func miPath(_ relative: String) -> String { miRepoRoot.appendingPathComponent(relative).path }

/// `text` with `old` (which must occur exactly once) replaced by `new`.
private func miReplace(_ text: String, _ old: String, _ new: String, line: UInt = #line) -> String {
    let n = text.components(separatedBy: old).count - 1
    XCTAssertEqual(n, 1, "'\(old)' must occur exactly once in the base text", line: line)
    return text.replacingOccurrences(of: old, with: new)
}

/// 1-based number of the first line of `text` containing `needle`.
private func miLine(of needle: String, in text: String, line: UInt = #line) -> Int {
    let lines = text.components(separatedBy: "\n")
    guard let i = lines.firstIndex(where: { $0.contains(needle) }) else {
        XCTFail("'\(needle)' not found", line: line)
        return -1
    }
    return i + 1
}

/// Asserts `body` throws a one-line `XbarError` naming `file` and exactly `field`, whose message contains `message`.
private func miAssertError<T>(_ body: @autoclosure () throws -> T, file: String, field: String, message: String,
                              line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("no error; expected \(field): ...\(message)...", line: line)
    } catch let e as XbarError {
        XCTAssertEqual(e.file, file, line: line)
        XCTAssertEqual(e.field, field, "\(e)", line: line)
        XCTAssertTrue(e.message.contains(message), "\"\(e.message)\" lacks \"\(message)\"", line: line)
        XCTAssertFalse(e.description.contains("\n"), line: line)
        XCTAssertTrue(e.description.hasPrefix(field.isEmpty ? "\(file): " : "\(file): \(field): "), e.description, line: line)
    } catch {
        XCTFail("not an XbarError: \(error)", line: line)
    }
}

// MARK: - Graph JSON

final class MalformedInputTests: XCTestCase {
    static let graph = """
        {
          "format": "neuroxbar-graph",
          "version": 1,
          "name": "m",
          "timesteps": 5,
          "populations": [
            {"name": "in", "kind": "input", "size": 2},
            {"name": "a", "kind": "lif", "size": 3, "decay": 0.5, "threshold": 1.25},
            {"name": "b", "kind": "lif", "size": 2, "decay": 0.25, "threshold": 2, "refractory": 1}
          ],
          "projections": [
            {"name": "p0", "from": "in", "to": "a", "weights": {"kind": "dense", "values": [[1, 2, 3], [4, 5, 6]]}},
            {"name": "p1", "from": "a", "to": "b", "delay": 0, "weights": {"kind": "sparse", "entries": [[0, 1, 0.5], [2, 1, -0.5]]}}
          ],
          "readout": {"from": "b", "classes": 3, "weights": [[1, 2], [3, 4], [5, 6]], "bias": [0.1, 0.2, 0.3]}
        }
        """

    private func graph(_ text: String) throws -> Graph { try GraphJSON.parse(Data(text.utf8), file: "bad.json") }

    private func assertGraph(_ old: String, _ new: String, field: String, message: String, line: UInt = #line) {
        miAssertError(try graph(miReplace(Self.graph, old, new, line: line)), file: "bad.json", field: field, message: message,
                      line: line)
    }

    func testBaseGraphIsValid() throws {
        let g = try graph(Self.graph)
        XCTAssertEqual(g.populations.map { $0.size }, [2, 3, 2])
        XCTAssertEqual(g.populations[2].lif, LIFParameters(decay: 0.25, threshold: 2, reset: .zero, refractory: 1, bias: 0, compare: .gt))
        XCTAssertEqual(g.projections[0].weights, .dense([1, 2, 3, 4, 5, 6]))
        XCTAssertEqual(g.projections[0].delay, 0)
        XCTAssertEqual(g.readout, Readout(from: "b", classes: 3, weights: [1, 2, 3, 4, 5, 6], bias: [0.1, 0.2, 0.3]))
        XCTAssertEqual(try Schedule.order(g, file: "x"), ["a", "b"])
    }

    func testGraphSyntaxAndHeader() {
        miAssertError(try graph("{\"format\": \"neuroxbar-graph\", "), file: "bad.json", field: "", message: "invalid JSON")
        miAssertError(try graph("[1, 2]"), file: "bad.json", field: "(top level)", message: "expected an object")
        assertGraph("\"neuroxbar-graph\"", "\"neuroxbar-grph\"", field: "format", message: "expected \"neuroxbar-graph\"")
        assertGraph("\"version\": 1", "\"version\": 2", field: "version",
                    message: "this tool reads graph format version 1, found 2")
        assertGraph("\"timesteps\": 5", "\"timesteps\": 5, \"timestep\": 5", field: "timestep", message: "unknown field")
        assertGraph("\"timesteps\": 5", "\"timesteps\": 0", field: "timesteps", message: "0 out of range 1...1000000")
        assertGraph("  \"name\": \"m\",\n", "", field: "name", message: "missing (required)")
    }

    func testGraphPopulations() {
        assertGraph("\"decay\": 0.5,", "\"decay\": 0.5, \"leak\": 0.1,", field: "populations[1].leak",
                    message: "unknown field (expected one of: bias, compare, decay, kind, name, neuron_bias, refractory, reset, size, spiking, synapse, threshold)")
        assertGraph(", \"threshold\": 2,", ",", field: "populations[2].threshold", message: "missing (required)")
        assertGraph("\"size\": 2},", "\"size\": 0},", field: "populations[0].size", message: "0 out of range 1...4194304")
        assertGraph("\"size\": 2},", "\"size\": 100000000},", field: "populations[0].size",
                    message: "100000000 out of range 1...4194304")
        assertGraph("\"size\": 2},", "\"size\": 2.5},", field: "populations[0].size", message: "expected an integer, found 2.5")
        assertGraph("\"decay\": 0.5", "\"decay\": 1.5", field: "populations[1].decay", message: "1.5 out of range 0.0...1.0")
        assertGraph("\"threshold\": 1.25", "\"threshold\": true", field: "populations[1].threshold", message: "expected a number")
        assertGraph("\"threshold\": 1.25", "\"threshold\": \"1.25\"", field: "populations[1].threshold", message: "expected a number")
        assertGraph("\"refractory\": 1", "\"refractory\": false", field: "populations[2].refractory", message: "expected a number")
        assertGraph("\"kind\": \"input\"", "\"kind\": \"spiking\"", field: "populations[0].kind",
                    message: "expected one of \"input\", \"lif\", \"izhikevich\", found \"spiking\"")
        assertGraph("\"name\": \"b\"", "\"name\": \"a\"", field: "populations[2].name", message: "\"a\" declared twice")
        assertGraph("\"name\": \"b\"", "\"name\": \"b c\"", field: "populations[2].name", message: "expected letters, digits")
    }

    func testGraphProjections() {
        assertGraph("[[1, 2, 3], [4, 5, 6]]", "[[1, 2, 3], [4, 5, 6], [7, 8, 9]]", field: "projections[0].weights.values",
                    message: "expected 2 rows (one per presynaptic neuron), found 3")
        // A transposed matrix (same total) is caught by its row count.
        assertGraph("[[1, 2, 3], [4, 5, 6]]", "[[1, 4], [2, 5], [3, 6]]", field: "projections[0].weights.values",
                    message: "expected 2 rows (one per presynaptic neuron), found 3")
        assertGraph("[[1, 2, 3], [4, 5, 6]]", "[[1, 2, 3], [4, 5]]", field: "projections[0].weights.values[1]",
                    message: "row has 2 values, expected 3")
        assertGraph("[[1, 2, 3], [4, 5, 6]]", "[[1, 2, 3], [4, true, 6]]", field: "projections[0].weights.values[1][1]",
                    message: "expected a finite number")
        assertGraph("[2, 1, -0.5]", "[3, 1, -0.5]", field: "projections[1].weights.entries[1]", message: "index (3, 1) outside 3x2")
        assertGraph("[2, 1, -0.5]", "[2, 2, -0.5]", field: "projections[1].weights.entries[1]", message: "index (2, 2) outside 3x2")
        assertGraph("[2, 1, -0.5]", "[2, 1]", field: "projections[1].weights.entries[1]",
                    message: "expected [pre, post, weight] with non-negative integer indices")
        assertGraph("\"from\": \"a\", \"to\": \"b\"", "\"from\": \"a\", \"to\": \"in\"", field: "projections[1].to",
                    message: "\"in\" is an input population; projections must end on neurons")
        assertGraph("\"from\": \"in\", \"to\": \"a\"", "\"from\": \"x\", \"to\": \"a\"", field: "projections[0].from",
                    message: "no population \"x\"")
        assertGraph("\"delay\": 0,", "\"delay\": 4097,", field: "projections[1].delay", message: "4097 out of range 0...4096")
        assertGraph("\"kind\": \"dense\"", "\"kind\": \"dens\"", field: "projections[0].weights.kind",
                    message: "expected \"dense\", \"sparse\", \"random\" or \"spatial\", found \"dens\"")
    }

    func testGraphLoopsAndReadout() {
        let selfLoop = "{\"name\": \"p1\", \"from\": \"a\", \"to\": \"b\""
        assertGraph(selfLoop, "{\"name\": \"p2\", \"from\": \"b\", \"to\": \"b\", \"delay\": 0, \"weights\": {\"kind\": \"dense\", \"values\": [[1, 0], [0, 1]]}},\n    " + selfLoop,
                    field: "projections[1].delay", message: "a self-projection needs delay 1 (recurrence)")
        // a -> b at delay 0 plus b -> a at delay 0: a cycle within one step.
        assertGraph(selfLoop, "{\"name\": \"back\", \"from\": \"b\", \"to\": \"a\", \"delay\": 0, \"weights\": {\"kind\": \"random\", \"distribution\": \"normal\", \"seed\": 3}},\n    " + selfLoop,
                    field: "projections", message: "delay-0 projections form a cycle through \"a\"; give one edge of the cycle delay 1")
        // The same edge with delay 1 is fine.
        XCTAssertNoThrow(try graph(miReplace(Self.graph, selfLoop, "{\"name\": \"back\", \"from\": \"b\", \"to\": \"a\", \"delay\": 1, \"weights\": {\"kind\": \"random\", \"distribution\": \"normal\", \"seed\": 3}},\n    " + selfLoop)))
        assertGraph("[[1, 2], [3, 4], [5, 6]]", "[[1, 2, 3], [4, 5, 6], [7, 8, 9]]", field: "readout.weights[0]",
                    message: "row has 3 values, expected 2")
        assertGraph("[[1, 2], [3, 4], [5, 6]]", "[[1, 2], [3, 4], [5]]", field: "readout.weights[2]",
                    message: "row has 1 values, expected 2")
        assertGraph("[[1, 2], [3, 4], [5, 6]]", "[[1, 2], [3, 4]]", field: "readout.weights",
                    message: "expected 3 rows (one per classes), found 2")
        assertGraph("[[1, 2], [3, 4], [5, 6]]", "[[1, 3, 5], [2, 4, 6]]", field: "readout.weights",
                    message: "expected 3 rows (one per classes), found 2")
        assertGraph("[0.1, 0.2, 0.3]", "[0.1, 0.2]", field: "readout.bias", message: "expected 3 values, found 2")
        assertGraph("\"readout\": {\"from\": \"b\"", "\"readout\": {\"from\": \"in\"", field: "readout.from",
                    message: "expected a neuron population, found \"in\"")
    }

    /// Graphs built in code (the builders, tests) get the same checks from the validator.
    func testValidatorOnProgrammaticGraphs() throws {
        let base = try graph(Self.graph)
        var g = base
        g.projections[0].weights = .dense([1, 2, 3, 4, 5])
        miAssertError(try GraphValidator.validate(g, file: "g"), file: "g", field: "projections[0].weights.values",
                      message: "expected 2 rows of 3 values, found 5 values")
        g = base
        g.readout?.weights = [1, 2, 3]
        miAssertError(try GraphValidator.validate(g, file: "g"), file: "g", field: "readout.weights",
                      message: "expected 3 rows of 2 values, found 3 values")
        g = base
        g.readout?.weights = nil
        miAssertError(try GraphValidator.validate(g, file: "g"), file: "g", field: "readout.bias", message: "bias given without weights")
        g = base
        g.populations[1].size = 0
        miAssertError(try GraphValidator.validate(g, file: "g"), file: "g", field: "populations[1].size", message: "expected 1...4194304")
        g = base
        g.populations[2].lif = nil
        miAssertError(try GraphValidator.validate(g, file: "g"), file: "g", field: "populations[2]",
                      message: "lif population without parameters")
        g = base
        g.projections.append(Projection(name: "p0", from: "a", to: "b", delay: 1, weights: .dense([0, 0, 0, 0, 0, 0])))
        miAssertError(try GraphValidator.validate(g, file: "g"), file: "g", field: "projections[2].name", message: "\"p0\" declared twice")
        g = base
        g.projections.append(Projection(name: "big", from: "b", to: "a", delay: 1,
                                        weights: .random(RandomWeights(distribution: .normal, a: 0, b: 1, gain: 1, density: 1, seed: 1))))
        g.populations[2].size = 1 << 22
        g.populations[1].size = 1 << 22
        g.projections.removeFirst(2)
        miAssertError(try GraphValidator.validate(g, file: "g"), file: "g", field: "projections[0]",
                      message: "17592186044416 synapses (4194304 x 4194304) exceeds the limit 268435456")
    }

    // MARK: - Target TOML

    static let target = """
        [target]
        name = "t"
        technology_nm = 40

        [macro]
        count = 2
        arrays = 1
        rows = 64
        cols = 64

        [cell]
        g_min_us = 0.0
        g_max_us = 15.0
        levels = 16
        g_unit_ns = 1000.0
        unused_us = 0.0

        [read]
        v_read_mv = 200.0
        t_read_ns = 10.0

        [adc]
        bits = 12
        lsb_us = 1.0
        rounding = "half_even"

        [neuron]
        mem_bits = 32
        frac_bits = 8
        decay_bits = 16
        decay_rounding = "half_even"
        overflow = "sat"
        count_bits = 16
        refractory_bits = 8

        [readout]
        weight_bits = 8
        acc_bits = 32

        [mapping]
        slices = 2
        weight_rounding = "half_even"
        scale_rounding = "half_even"

        [clock]
        mhz = 100.0
        """

    private func assertTarget(_ old: String, _ new: String, field: String, message: String, line: UInt = #line) {
        miAssertError(try TargetLoader.parse(miReplace(Self.target, old, new, line: line), file: "bad.toml"), file: "bad.toml",
                      field: field, message: message, line: line)
    }

    func testBaseTargetIsValid() throws {
        let t = try TargetLoader.parse(Self.target, file: "ok.toml")
        XCTAssertEqual(t.name, "t")
        XCTAssertEqual(t.description, "")
        XCTAssertEqual([t.macro.count, t.macro.arrays, t.macro.rows, t.macro.cols], [2, 1, 64, 64])
        XCTAssertEqual(t.adc.lsbUS, 1.0)
        XCTAssertNil(t.adc.fullScaleUS)
        XCTAssertEqual(t.adc.offsetUS, 0)
        XCTAssertEqual(t.mapping.slices, 2)
    }

    func testTargetErrors() {
        // Syntax errors name the line.
        let broken = miReplace(Self.target, "levels = 16", "levels = = 16")
        miAssertError(try TargetLoader.parse(broken, file: "bad.toml"), file: "bad.toml",
                      field: "line \(miLine(of: "levels = = 16", in: broken))", message: "TOML syntax")
        let unclosed = miReplace(Self.target, "[readout]", "[readout")
        miAssertError(try TargetLoader.parse(unclosed, file: "bad.toml"), file: "bad.toml",
                      field: "line \(miLine(of: "[readout", in: unclosed))", message: "TOML syntax")
        // A table header that does not start with a key: toml++ asserts (aborting the process) on it, so TOMLText
        // reports it first, with its line; a bracket opening a line inside a multi-line array or a string is not one.
        let header = miReplace(Self.target, "[clock]", "[.01, to = 0.1, count = 4")
        miAssertError(try TargetLoader.parse(header, file: "bad.toml"), file: "bad.toml",
                      field: "line \(miLine(of: "[.01, to", in: header))",
                      message: "TOML syntax: a table header must start with a key, saw '.'")
        miAssertError(try TargetLoader.parse(miReplace(Self.target, "[clock]", "[[ =x]]"), file: "bad.toml"), file: "bad.toml",
                      field: "line \(miLine(of: "[[ =x]]", in: miReplace(Self.target, "[clock]", "[[ =x]]")))",
                      message: "a table header must start with a key, saw '='")
        let brace = miReplace(Self.target, "[clock]", "m = [\"a\", }b\"]\n[clock]")
        miAssertError(try TargetLoader.parse(brace, file: "bad.toml"), file: "bad.toml", field: "line \(miLine(of: "m = [", in: brace))",
                      message: "TOML syntax: expected a value, ',' or ']' in an array, saw '}'")
        XCTAssertNil(TOMLText.headerProblem("a = [{ x = 1 }, [2]]\nb = { c = [1] }\n"))
        XCTAssertNil(TOMLText.headerProblem("a = [\n  [1, 2],\n]\ns = \"\"\"\n[.x\n\"\"\"\nt = '[.y'\n[ \"q\" ]\n# [.z\n"))
        assertTarget("bits = 12", "bits = 12\nbitz = 3", field: "adc.bitz", message: "unknown key")
        assertTarget("[clock]", "[clocks]\nmhz = 1.0\n[clock]", field: "clocks", message: "unknown key")
        assertTarget("levels = 16\n", "", field: "cell.levels", message: "missing (required)")
        assertTarget("[clock]\nmhz = 100.0", "", field: "clock", message: "missing (required)")
        assertTarget("bits = 12", "bits = \"12\"", field: "adc.bits", message: "expected an integer")
        assertTarget("bits = 12", "bits = 12.5", field: "adc.bits", message: "expected an integer")
        assertTarget("name = \"t\"", "name = 7", field: "target.name", message: "expected a string")
        assertTarget("g_max_us = 15.0", "g_max_us = true", field: "cell.g_max_us", message: "expected a number")
        assertTarget("bits = 12", "bits = 40", field: "adc.bits", message: "40 out of range 1...24")
        assertTarget("levels = 16", "levels = 1", field: "cell.levels", message: "1 out of range 2...65536")
        assertTarget("mem_bits = 32", "mem_bits = 41", field: "neuron.mem_bits", message: "41 out of range 4...40")
        assertTarget("rounding = \"half_even\"\n\n[neuron]", "rounding = \"nearest\"\n\n[neuron]", field: "adc.rounding",
                     message: "expected one of floor, trunc, half_up, half_even, found \"nearest\"")
        assertTarget("lsb_us = 1.0", "lsb_us = 1.0\nfull_scale_us = 4095.0", field: "adc",
                     message: "give exactly one of lsb_us or full_scale_us")
        assertTarget("lsb_us = 1.0\n", "", field: "adc", message: "give exactly one of lsb_us or full_scale_us")
        assertTarget("g_max_us = 15.0", "g_max_us = 0.0", field: "cell.g_max_us", message: "must be greater than cell.g_min_us")
        assertTarget("cols = 64", "cols = 66", field: "macro.cols", message: "must be a multiple of 2 x mapping.slices")
    }

    func testShippedTargetsLoad() throws {
        for name in ["ideal", "rram-40nm-256kb", "neurram-130nm"] {
            XCTAssertEqual(try TargetLoader.resolve(name, searchDirs: [miPath("targets")]).name, name)
        }
        miAssertError(try TargetLoader.resolve("nope", searchDirs: [miPath("targets")]), file: "nope", field: "target",
                      message: "no such target")
    }

    // MARK: - IR text

    /// A small valid program (printed by IRPrinter, so it follows the current text form).
    static let program = Program(
        name: "m", target: "t", timesteps: 3, inputs: [InputDecl(name: "in", size: 3)],
        neurons: [NeuronDecl(name: "p", size: 2, memType: .i(16), memOverflow: .sat, decayMul: 1, decayShift: 1, decayRounding: .floor,
                             threshold: 10, compare: .gt, reset: .zero, refractory: 0, bias: 0, refractoryType: .u(1),
                             countType: .u(8))],
        arrays: [ArrayDecl(name: "a", macro: 0, index: 0, rows: 3, cols: 4, gUnitNS: 1000, codeType: .u(4),
                           codes: [1, 0, 2, 0, 3, 3, 3, 3, 0, 0, 0, 15])],
        readouts: [],
        step: [
            Op(result: "x", type: .u(6), length: 4,
               kind: .read(array: "a", rows: [RowSource(rowStart: 0, source: "in", srcStart: 0, count: 3, delay: 0)], colStart: 0,
                           cellsPerWeight: 2, vReadMV: 200, tReadNS: 10)),
            Op(result: "c", type: .u(6), length: 4, kind: .adc(operand: "x", bits: 6, lsb: 1, offset: 0, rounding: .halfEven)),
            Op(result: "e", type: .u(6), length: 2, kind: .slice(operand: "c", start: 0, stride: 2)),
            Op(result: "o", type: .u(6), length: 2, kind: .slice(operand: "c", start: 1, stride: 2)),
            Op(result: "d", type: .i(7), length: 2, kind: .sub(a: "e", b: "o", overflow: .sat)),
            Op(result: "s", type: .i(10), length: 2, kind: .scale(operand: "d", mul: 4, shift: 0, rounding: .halfEven, overflow: .sat)),
            Op(result: "spk", type: .u(1), length: 2, kind: .lif(population: "p", input: "s")),
        ])

    /// Parses and verifies, as `xbar run` does.
    private func loadIR(_ text: String) throws -> Program {
        let p = try IRParser.parse(text, file: "bad.ir")
        try IRVerifier.verify(p, file: "bad.ir")
        return p
    }

    private func assertIR(_ old: String, _ new: String, field: String? = nil, lineOf needle: String? = nil, message: String,
                          line: UInt = #line) {
        let text = miReplace(IRPrinter.print(Self.program), old, new, line: line)
        let f = field ?? "line \(miLine(of: needle ?? new, in: text, line: line))"
        miAssertError(try loadIR(text), file: "bad.ir", field: f, message: message, line: line)
    }

    func testBaseProgramIsValid() throws {
        let text = IRPrinter.print(Self.program)
        XCTAssertEqual(try loadIR(text), Self.program)
        XCTAssertTrue(text.contains("  0: 1 0 2 0\n  1: fill 3\n  2: 0 0 0 f\n"), text)
    }

    func testIRParseErrors() {
        assertIR("xbar-ir 1", "xbar-ir 4", message: "version: this tool reads IR versions 1...3, the file is version 4")
        assertIR("xbar-ir 1", "xbar-ir one", message: "version: expected an integer, found 'one'")
        assertIR("%d = sub %e %o sat", "%d = mul %e %o sat",
                 message: "unknown op 'mul' (expected read, adc, slice, concat, add, sub, scale, trace, stdp, modulator, homeostasis, lif, izhikevich)")
        assertIR("%d = sub %e %o sat : i7[2]", "%d = sub %e %o sat : q7[2]", message: "result type: expected like i24[200], found 'q7[2]'")
        assertIR("%d = sub %e %o sat : i7[2]", "%d = sub %e %o sat : i7[two]",
                 message: "result type: expected like i24[200], found 'i7[two]'")
        assertIR("%d = sub %e %o sat : i7[2]", "%d = sub %e %o sat : i63[2]",
                 message: "result type: expected like i24[200], found 'i63[2]'")
        assertIR("mem i16 sat", "mem x16 sat", message: "mem type: expected an integer type like i24 or u8, found 'x16'")
        assertIR("  2: 0 0 0 f", "  2: 0 0 f", message: "array %a row 2: expected 4 codes, found 3")
        assertIR("  2: 0 0 0 f", "  2: 0 0 0 f 1", message: "array %a row 2: expected 4 codes, found 5")
        assertIR("  2: 0 0 0 f", "  2: 0 0 0 g", message: "conductance code 'g': expected hex in 0...f")
        assertIR("%d = sub %e %o sat", "%d = sub %e %o saturate", message: "overflow: expected sat|wrap, found 'saturate'")
        assertIR("rows [0:@in[0:3]@0]", "rows [0:@in[0:3]]", lineOf: "rows [0:@in[0:3]]",
                 message: "row source '0:@in[0:3]': expected ROW:@name[START:COUNT]@DELAY")
    }

    func testIRVerifierErrors() {
        assertIR("%c = adc %x", "%c = adc %nope", field: "step op 1 (%c)", message: "operand %nope is not defined before this op")
        assertIR("%spk = lif @p %s : u1[2]", "%s3 = slice %c start 0 stride 1 : u6[3]\n  %spk = lif @p %s3 : u1[2]", field: "step op 7 (%spk)",
                 message: "input and result length must equal population size 2")
        // 3 driven rows x code max 15 = 45 needs u6.
        assertIR("%x = read %a cols 0 rows [0:@in[0:3]@0] cells_per_weight 2 vread_mv 200.0 tread_ns 10.0 : u6[4]",
                 "%x = read %a cols 0 rows [0:@in[0:3]@0] cells_per_weight 2 vread_mv 200.0 tread_ns 10.0 : u5[4]",
                 field: "step op 0 (%x)", message: "read result type must be unsigned and hold 3 rows x 15 = 45")
        assertIR("rows [0:@in[0:3]@0]", "rows [0:@in[0:2]@0, 1:@in[2:1]@0]", field: "step op 0 (%x)",
                 message: "row 1 is driven by two sources")
        assertIR("rows [0:@in[0:3]@0]", "rows [0:@in[0:3]@0, 2:@in[0:2]@1]", field: "step op 0 (%x)",
                 message: "row source @in rows 2..<4 exceed array's 3")
        assertIR("rows [0:@in[0:3]@0]", "rows [0:@in[1:3]@0]", field: "step op 0 (%x)",
                 message: "row source @in[1:3] exceeds its size 3")
        assertIR("rows [0:@in[0:3]@0]", "rows [0:@p[0:2]@0]", field: "step op 0 (%x)",
                 message: "row source @p@0 reads this step's spikes before its lif op")
        assertIR("input @in 3\n", "input @in 3\nneuron @q 1 mem i8 sat decay 0 shr 0 floor threshold 1 gt reset zero refractory 0 u1 bias 0 count u4\n",
                 field: "neuron @q", message: "never updated: no lif op in the step block")
        assertIR("%spk = lif @p %s : u1[2]", "%spk = lif @p %s : u1[2]\n  %spk2 = lif @p %s : u1[2]", field: "step op 7 (%spk2)",
                 message: "population @p updated twice in one step")
        assertIR("threshold 10 gt", "threshold 40000 gt", field: "neuron @p", message: "threshold 40000 does not fit i16")
        assertIR("decay 1 shr 1", "decay 3 shr 1", field: "neuron @p", message: "decay multiplier must be in 0...2^shift (2), found 3")
        assertIR("%e = slice %c start 0 stride 2 : u6[2]", "%e = slice %c start 2 stride 2 : u6[2]", field: "step op 2 (%e)",
                 message: "slice start 2 stride 2 x 2 exceeds operand length 4")
    }

    // MARK: - Compiler resource limits

    func testCompilerRefusesTooManyArraysUnlessReplicated() throws {
        let rram = try TargetLoader.load(miPath("targets/rram-40nm-256kb.toml"))
        XCTAssertEqual(rram.macro.count * rram.macro.arrays, 1)
        // 600 input rows + 100 recurrent rows: two 512-row tiles on a target with one array.
        let g = Graph(name: "wide", timesteps: 4,
                      populations: [Population(name: "in", kind: .input, size: 600),
                                    Population(name: "lsm", kind: .lif, size: 100, lif: LIFParameters(decay: 0.9, threshold: 5))],
                      projections: [
                          Projection(name: "w_in", from: "in", to: "lsm", delay: 0,
                                     weights: .random(RandomWeights(distribution: .normal, a: 0, b: 1, gain: 1, density: 1, seed: 1))),
                          Projection(name: "w_rec", from: "lsm", to: "lsm", delay: 1,
                                     weights: .random(RandomWeights(distribution: .normal, a: 0, b: 1, gain: 0.5, density: 1, seed: 1,
                                                                    noSelf: true))),
                      ])
        miAssertError(try Compiler.compile(g, target: rram, file: "wide.json"), file: "wide.json", field: "populations.lsm",
                      message: "needs more than the 1 arrays of target rram-40nm-256kb")
        miAssertError(try Compiler.compile(g, target: rram, file: "wide.json"), file: "wide.json", field: "populations.lsm",
                      message: "use --replicate-macros to allow more macros")
        let c = try Compiler.compile(g, target: rram, options: CompileOptions(replicateMacros: true), file: "wide.json")
        XCTAssertEqual(c.program.arrays.map { $0.name }, ["lsm.r0c0", "lsm.r1c0"])
        XCTAssertEqual(c.program.arrays.map { $0.macro }, [0, 1])
        XCTAssertEqual(c.stats.tiles.map { $0.rowsUsed }, [512, 188])
        XCTAssertEqual(c.stats.tiles.map { $0.colsUsed }, [200, 200])
        XCTAssertEqual(c.stats.macrosUsed, 2)
        XCTAssertEqual(c.stats.arraysAvailable, 1)
    }
}
