import Foundation
import XCTest
import XbarCore
import XbarGraph
import XbarTarget
import XbarIR
import XbarCompiler

/// Repository root: this file is <root>/Tests/XbarTests/IRRoundTripTests.swift.
private let rtRepoRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func rtPath(_ relative: String) -> String { rtRepoRoot.appendingPathComponent(relative).path }

/// A small target on which nearly every layer is split across arrays both ways: 16 rows x 8 columns with
/// 2 slices (4 cells per weight, so 2 neurons per array), a 6-bit ADC set by its full scale (LSB 16 codes, a
/// non-integer fraction of the 30-code level step, so the slice scales need a multiply-and-shift).
let rtTinyTargetTOML = """
    # Test target: tiny arrays so that row and column splitting both happen.
    [target]
    name = "tiny-16x8"
    description = "16x8 arrays, 2 slices of 4 levels, 6-bit ADC"
    technology_nm = 28

    [macro]
    count = 8
    arrays = 4
    rows = 16
    cols = 8

    [cell]
    g_min_us = 1.0
    g_max_us = 10.0
    levels = 4
    g_unit_ns = 100.0
    unused_us = 0.05

    [read]
    v_read_mv = 150.0
    t_read_ns = 12.5

    [adc]
    bits = 6
    full_scale_us = 100.0
    offset_us = 0.5
    rounding = "half_up"

    [neuron]
    mem_bits = 24
    frac_bits = 4
    decay_bits = 10
    decay_rounding = "floor"
    overflow = "wrap"
    count_bits = 12
    refractory_bits = 4

    [readout]
    weight_bits = 6
    acc_bits = 24

    [mapping]
    slices = 2
    weight_rounding = "half_up"
    scale_rounding = "trunc"

    [clock]
    mhz = 50.0
    """

/// Random small valid graphs: 1-2 input populations, 1-3 lif populations with random parameters, dense, sparse
/// and random projections (input, recurrent delay-1, delay-0 feed-forward chains in graph order, delay-1
/// feedback), optional readout.
enum RTGraphGenerator {
    static let lifNames = ["exc", "hid.1", "out-2"]

    static func weights(_ r: inout RTRandom, pre: Int, post: Int, recurrent: Bool) -> WeightSpec {
        switch r.int(0, 2) {
        case 0:
            var v = [Double](repeating: 0, count: pre * post)
            for i in 0..<v.count where r.chance(0.8) { v[i] = (r.normal() * 1.5 * 1024).rounded() / 1024 }
            return .dense(v)
        case 1:
            var es: [SparseEntry] = []
            for _ in 0..<r.int(1, Swift.max(1, pre * post / 4)) {
                let sign: Double = r.chance(0.5) ? 1 : -1
                es.append(SparseEntry(pre: r.int(0, pre - 1), post: r.int(0, post - 1), weight: sign * (0.05 + 2 * r.uniform())))
            }
            if r.chance(0.3), let e = es.first { es.append(e) }  // duplicates are summed
            return .sparse(es)
        default:
            let normal = r.chance(0.5)
            let a = normal ? 0.2 * r.normal() : -1 - r.uniform()
            let b = normal ? 0.5 + r.uniform() : 0.5 + r.uniform()
            return .random(RandomWeights(distribution: normal ? .normal : .uniform, a: a, b: b,
                                         gain: 0.25 + 2 * r.uniform(), density: r.pick([1.0, 0.5, 0.1, 0.9]),
                                         seed: UInt64(r.int(0, 1 << 20)), noSelf: recurrent && r.chance(0.5)))
        }
    }

    static func make(_ index: Int, seed: UInt64 = 20_251_125) -> Graph {
        var r = RTRandom(seed: seed, id: UInt32(index))
        var pops: [Population] = []
        let nIn = r.int(1, 2)
        for k in 0..<nIn { pops.append(Population(name: "in\(k)", kind: .input, size: r.int(1, 40))) }
        let nLif = r.int(1, 3)
        for k in 0..<nLif {
            let th = 0.2 + 4 * r.uniform()
            let lif = LIFParameters(decay: r.pick([0.0, 1.0, 0.5, r.uniform(), r.uniform()]), threshold: th,
                                    reset: r.chance(0.5) ? .zero : .subtract, refractory: r.int(0, 5),
                                    bias: r.chance(0.5) ? 0 : 0.3 * th * (2 * r.uniform() - 1),
                                    compare: r.chance(0.5) ? .gt : .ge)
            pops.append(Population(name: lifNames[k], kind: .lif, size: r.skewedSize(300), lif: lif))
        }
        var projs: [Projection] = []
        for j in 0..<nLif {
            let post = pops[nIn + j]
            var incoming = 0
            func add(_ src: Population, _ delay: Int, _ r: inout RTRandom) {
                projs.append(Projection(name: "\(src.name)>\(post.name)@\(delay)", from: src.name, to: post.name, delay: delay,
                                        weights: weights(&r, pre: src.size, post: post.size, recurrent: src.name == post.name)))
                incoming += 1
            }
            for k in 0..<nIn where (j == 0 && k == 0) || r.chance(0.6) { add(pops[k], r.chance(0.2) ? 1 : 0, &r) }
            if r.chance(0.6) { add(post, 1, &r) }
            for i in 0..<j where r.chance(0.7) { add(pops[nIn + i], 0, &r) }  // feed-forward chain
            for i in (j + 1)..<nLif where r.chance(0.3) { add(pops[nIn + i], 1, &r) }  // feedback
            if incoming == 0 { add(pops[0], 0, &r) }
        }
        var readout: Readout? = nil
        if r.chance(0.7) {
            let src = pops[nIn + r.int(0, nLif - 1)]
            let classes = r.int(1, 5)
            var w: [Double]? = nil, b: [Double]? = nil
            if r.chance(0.7) {
                w = (0..<(classes * src.size)).map { _ in r.normal() }
                if r.chance(0.5) { b = (0..<classes).map { _ in 2 * r.uniform() - 1 } }
            }
            readout = Readout(from: src.name, classes: classes, weights: w, bias: b)
        }
        let name = r.pick(["rand-\(index)", "net \"\(index)\"", "back\\slash \(index)", "g.\(index)"])
        return Graph(name: name, timesteps: r.int(1, 30), populations: pops, projections: projs, readout: readout)
    }
}

final class IRRoundTripTests: XCTestCase {
    /// Prints, parses back and checks both directions; returns the text.
    @discardableResult
    private func assertRoundTrip(_ p: Program, _ what: String, verify: Bool = true, line: UInt = #line) throws -> String {
        let text = IRPrinter.print(p)
        let parsed: Program
        do {
            parsed = try IRParser.parse(text, file: what)
        } catch {
            XCTFail("\(what): parse failed: \(error)", line: line)
            throw error
        }
        XCTAssertEqual(parsed, p, "\(what): parse(print(p)) != p", line: line)
        XCTAssertEqual(IRPrinter.print(parsed), text, "\(what): print(parse(text)) != text", line: line)
        if verify { XCTAssertNoThrow(try IRVerifier.verify(parsed, file: what), line: line) }
        return text
    }

    func testLSMPaperRoundTripOnShippedTargets() throws {
        let g = try GraphJSON.load(rtPath("examples/lsm-paper/lsm-paper.json"))
        // Expected arrays: ideal has 4 cells per weight (128 neurons per 512 columns) -> 2 column tiles;
        // rram-40nm-256kb has 2 cells per weight and 512 rows -> 1 tile; neurram has 256x256 -> 2 x 2 tiles.
        // rram-40nm-256kb electroforms its cells: one read per block, so the last partial is the recurrent read's.
        let expected: [(String, Int, Int, String, Bool)] = [("ideal", 2, 4, "lsm.pre", false),
                                                            ("rram-40nm-256kb", 1, 2, "lsm.r0c0.g1.s0.acc", true),
                                                            ("neurram-130nm", 4, 2, "lsm.pre", false)]
        for (name, arrays, cpw, lifInput, formed) in expected {
            let t = try TargetLoader.load(rtPath("targets/\(name).toml"))
            XCTAssertEqual(t.name, name)
            let c = try Compiler.compile(g, target: t, file: "lsm-paper.json")
            let p = c.program
            XCTAssertEqual(p.name, "lsm-paper")
            XCTAssertEqual(p.target, name)
            XCTAssertEqual(p.timesteps, 50)
            XCTAssertEqual(p.inputs, [InputDecl(name: "in", size: 256)])
            XCTAssertEqual(p.neurons.map { $0.name }, ["lsm"])
            XCTAssertEqual(p.arrays.count, arrays, name)
            XCTAssertEqual(c.stats.tiles.count, arrays, name)
            // The example's readout is compiled when it carries trained weights.
            if let w = g.readout?.weights {
                XCTAssertEqual(p.readouts.count, 1)
                XCTAssertEqual(p.readouts.first?.source, "lsm")
                XCTAssertEqual(p.readouts.first?.classes, 10)
                XCTAssertEqual(p.readouts.first?.weights.count, w.count)
                XCTAssertEqual(w.count, 2000)
            } else {
                XCTAssertEqual(p.readouts.count, 0)
            }
            for op in p.step {
                if case let .read(_, _, _, k, _, _) = op.kind { XCTAssertEqual(k, cpw, name) }
            }
            XCTAssertEqual(p.step.last?.kind, .lif(population: "lsm", input: lifInput), name)
            XCTAssertEqual(p.arrays.map { $0.formed }, [Bool](repeating: formed, count: arrays), name)
            let text = try assertRoundTrip(p, "lsm-paper@\(name)")
            XCTAssertTrue(text.hasPrefix("xbar-ir 1\nprogram \"lsm-paper\" target \"\(name)\" timesteps 50\n"))
            XCTAssertTrue(text.contains("rows [0:@in[0:256]@0"), name)
        }
    }

    func testRandomGraphsRoundTripOnIdealAndTinyTarget() throws {
        let ideal = try TargetLoader.load(rtPath("targets/ideal.toml"))
        let tiny = try TargetLoader.parse(rtTinyTargetTOML, file: "tiny.toml")
        XCTAssertEqual(tiny.macro.rows, 16)
        XCTAssertEqual(tiny.macro.cols, 8)
        XCTAssertEqual(tiny.mapping.slices, 2)
        XCTAssertEqual(tiny.adc.fullScaleUS, 100)
        XCTAssertNil(tiny.adc.lsbUS)

        let graphs = 200
        var programs = 0
        var rowSplitLayers = 0, colSplitLayers = 0, bothSplitLayers = 0
        var idealColSplit = 0
        var sawDelay0Chain = false, sawRecurrent = false, sawInputDelay1 = false, sawReadoutWeights = false
        var sawReplicated = false
        var maxLif = 0
        for gi in 0..<graphs {
            let g = RTGraphGenerator.make(gi)
            XCTAssertNoThrow(try GraphValidator.validate(g, file: "rand\(gi)"), "graph \(gi)")
            maxLif = Swift.max(maxLif, g.populations.filter { $0.kind == .lif }.map { $0.size }.max() ?? 0)
            for pr in g.projections {
                let src = g.population(named: pr.from)!
                if src.kind == .lif && pr.delay == 0 { sawDelay0Chain = true }
                if pr.from == pr.to { sawRecurrent = true }
                if src.kind == .input && pr.delay == 1 { sawInputDelay1 = true }
            }
            if g.readout?.weights != nil { sawReadoutWeights = true }
            for (t, replicate) in [(ideal, false), (tiny, true)] {
                let c: Compiled
                do {
                    c = try Compiler.compile(g, target: t, options: CompileOptions(replicateMacros: replicate), file: "rand\(gi)")
                } catch {
                    XCTFail("graph \(gi) on \(t.name): \(error)")
                    continue
                }
                // The compiler verified the program; parsed == program, so it need not be verified again.
                try assertRoundTrip(c.program, "rand\(gi)@\(t.name)", verify: false)
                programs += 1
                if c.program.arrays.count > t.macro.count * t.macro.arrays { sawReplicated = true }
                for pop in g.populations where pop.kind == .lif {
                    let tiles = c.stats.tiles.filter { $0.population == pop.name }
                    let skipped = c.stats.skippedTiles.filter { $0.hasPrefix(pop.name + ".r") }
                    let stacked = g.projections.filter { $0.to == pop.name }
                        .reduce(into: [String: Int]()) { $0["\($1.from)@\($1.delay)"] = g.population(named: $1.from)!.size }
                        .values.reduce(0, +)
                    let rowTiles = (stacked + t.macro.rows - 1) / t.macro.rows
                    let perTile = t.macro.cols / (2 * t.mapping.slices)
                    let colTiles = (pop.size + perTile - 1) / perTile
                    // The tiles and the skipped (all-zero) tiles form the rowTiles x colTiles grid, each column tile
                    // keeping at least one array.
                    XCTAssertEqual(tiles.count + skipped.count, rowTiles * colTiles, "graph \(gi) \(pop.name): tiles form a grid")
                    XCTAssertEqual(Set(tiles.map { $0.neurons.lowerBound }).count, colTiles, "graph \(gi) \(pop.name) column tiles")
                    for tile in tiles {
                        let rt = Int(tile.array.split(separator: ".").last!.dropFirst().prefix { $0 != "c" })!
                        XCTAssertEqual(tile.rowsUsed, Swift.min(t.macro.rows, stacked - rt * t.macro.rows), "graph \(gi) \(tile.array)")
                    }
                    if t.name == "tiny-16x8" {
                        if rowTiles > 1 { rowSplitLayers += 1 }
                        if colTiles > 1 { colSplitLayers += 1 }
                        if rowTiles > 1 && colTiles > 1 { bothSplitLayers += 1 }
                    } else if colTiles > 1 {
                        idealColSplit += 1
                    }
                }
            }
        }
        XCTAssertEqual(programs, 2 * graphs)
        XCTAssertGreaterThan(maxLif, 200, "the generator reaches large populations")
        XCTAssertTrue(sawDelay0Chain && sawRecurrent && sawInputDelay1 && sawReadoutWeights && sawReplicated)
        XCTAssertGreaterThanOrEqual(rowSplitLayers, 300, "row-split layers on the tiny target")
        XCTAssertGreaterThanOrEqual(colSplitLayers, 300, "column-split layers on the tiny target")
        XCTAssertGreaterThanOrEqual(bothSplitLayers, 250, "layers split both ways on the tiny target")
        XCTAssertGreaterThanOrEqual(idealColSplit, 5, "column-split layers on ideal")
    }

    /// Hand-made programs: every op kind, fill rows, escaped names, wide codes.
    func testHandWrittenProgramRoundTrip() throws {
        let a = ArrayDecl(name: "a.0", macro: 0, index: 1, rows: 3, cols: 4, gUnitNS: 12.5, codeType: .u(13),
                          codes: [0, 8191, 17, 17, 5, 5, 5, 5, 0, 1, 2, 3])
        let n = NeuronDecl(name: "p-1", size: 2, memType: .i(20), memOverflow: .wrap, decayMul: 3, decayShift: 2,
                           decayRounding: .trunc, threshold: -7, compare: .ge, reset: .subtract, refractory: 3, bias: -2,
                           refractoryType: .u(2), countType: .u(9))
        let p = Program(
            name: "h \"q\" \\ x", target: "t", timesteps: 7, inputs: [InputDecl(name: "in", size: 3)], neurons: [n],
            arrays: [a, ArrayDecl(name: "b", macro: 1, index: 0, rows: 1, cols: 1, gUnitNS: 1000, codeType: .u(1), codes: [1],
                                  formed: true)],
            readouts: [ReadoutDecl(name: "r", source: "p-1", classes: 2, weightType: .i(4), accType: .i(12), accOverflow: .wrap,
                                   weights: [-8, 7, 0, -1], bias: [-2048, 2047], scale: 1e-5)],
            step: [
                Op(result: "x", type: .u(15), length: 4,
                   kind: .read(array: "a.0", rows: [RowSource(rowStart: 0, source: "in", srcStart: 1, count: 2, delay: 1),
                                                    RowSource(rowStart: 2, source: "p-1", srcStart: 1, count: 1, delay: 1)],
                               colStart: 0, cellsPerWeight: 2, vReadMV: 0.1, tReadNS: 1e-3)),
                Op(result: "c", type: .u(5), length: 4, kind: .adc(operand: "x", bits: 5, lsb: 3, offset: -4, rounding: .floor)),
                Op(result: "e", type: .u(5), length: 2, kind: .slice(operand: "c", start: 0, stride: 2)),
                Op(result: "o", type: .u(5), length: 2, kind: .slice(operand: "c", start: 1, stride: 2)),
                Op(result: "d", type: .i(6), length: 2, kind: .sub(a: "e", b: "o", overflow: .wrap)),
                Op(result: "s", type: .i(12), length: 2, kind: .scale(operand: "d", mul: -3, shift: 1, rounding: .halfUp, overflow: .sat)),
                Op(result: "s2", type: .i(12), length: 2, kind: .add(a: "s", b: "s", overflow: .sat)),
                Op(result: "cat", type: .i(13), length: 4, kind: .concat(operands: ["s", "s2"])),
                Op(result: "i", type: .i(13), length: 2, kind: .slice(operand: "cat", start: 1, stride: 2)),
                Op(result: "spk", type: .u(1), length: 2, kind: .lif(population: "p-1", input: "i")),
            ])
        try IRVerifier.verify(p, file: "hand")
        let text = try assertRoundTrip(p, "hand")
        let expectedArray = """
            array %a.0 macro 0 index 1 rows 3 cols 4 code u13 gunit_ns 12.5 state programmed
              0: 0000 1fff 0011 0011
              1: fill 0005
              2: 0000 0001 0002 0003
            end
            """
        XCTAssertTrue(text.contains(expectedArray), text)
        XCTAssertTrue(text.contains("array %b macro 1 index 0 rows 1 cols 1 code u1 gunit_ns 1000.0 state formed\n  0: fill 1\nend\n"), text)
        XCTAssertTrue(text.contains("program \"h \\\"q\\\" \\\\ x\" target \"t\" timesteps 7\n"), text)
        XCTAssertTrue(text.contains("  %x = read %a.0 cols 0 rows [0:@in[1:2]@1, 2:@p-1[1:1]@1] cells_per_weight 2 vread_mv 0.1 tread_ns 0.001 : u15[4]\n"), text)
        XCTAssertTrue(text.contains("neuron @p-1 2 mem i20 wrap decay 3 shr 2 trunc threshold -7 ge reset subtract refractory 3 u2 bias -2 count u9\n"), text)
        XCTAssertTrue(text.contains("readout @r from @p-1 classes 2 weight i4 acc i12 wrap scale 1e-05\n  w 0: -8 7\n  w 1: 0 -1\n  bias: -2048 2047\nend\n"), text)
        // Comments and blank lines are ignored by the parser.
        let commented = text.replacingOccurrences(of: "\nstep\n", with: "\n# a comment\n\nstep   # trailing\n")
        XCTAssertEqual(try IRParser.parse(commented, file: "c"), p)
    }

    /// Array rows are read by a byte scanner when plain and by the token path otherwise (comments, blank lines between
    /// rows, odd spacing, a '+' or nine digits, errors): every spelling below means the same codes, and a CRLF file
    /// parses like its LF form.
    func testArrayRowSpellingsParseToTheSameCodes() throws {
        func program(_ rows: [String], newline: String = "\n") throws -> Program {
            let lines = ["xbar-ir 1", "program \"rows\" target \"t\" timesteps 1", "input @in 4",
                         "array %a macro 0 index 0 rows 5 cols 4 code u13 gunit_ns 10.0 state programmed"] + rows + ["end", "step", "end"]
            return try IRParser.parse(lines.joined(separator: newline) + newline, file: "rows.xir")
        }
        let expected: [Int32] = [0x0, 0x1fff, 0x11, 0x11, 5, 5, 5, 5, 0, 1, 2, 3, 0xab, 0xab, 0xab, 0xab, 7, 0, 0x10, 9]
        let plain = ["  0: 0000 1fff 0011 0011", "  1: fill 0005", "  2: 0000 0001 0002 0003", "  3: fill 00ab", "  4: 7 0 10 9"]
        XCTAssertEqual(try program(plain).arrays[0].codes.array, expected)
        let odd = ["0:\t0 1FFF 11  11", "  1: fill 5   # a comment", "", "# between rows", "  2:   0 1 2 3\t",
                   "  3: fill +ab", "  4: 000000007 0 10 9"]
        XCTAssertEqual(try program(odd).arrays[0].codes.array, expected)
        XCTAssertEqual(try program(plain, newline: "\r\n").arrays[0].codes.array, expected)
        // Errors keep the token path's words and line numbers.
        for (rows, message) in [
            (["  0: 0 0 0 0", "  01: fill 0"], "line 6: array %a: expected row '1:', found '01:'"),
            (["  0: 0 0 0 2000"], "line 5: conductance code '2000': expected hex in 0...1fff"),
            (["  0: 0 0 0 g"], "line 5: conductance code 'g': expected hex in 0...1fff"),
            (["  0: 0 0 0"], "line 5: array %a row 0: expected 4 codes, found 3"),
        ] {
            XCTAssertThrowsError(try program(rows)) { XCTAssertTrue("\($0)".contains(message), "\($0)") }
        }
    }
}
