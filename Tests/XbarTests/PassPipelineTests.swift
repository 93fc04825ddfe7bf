import Foundation
import XCTest
import XbarCore
@testable import XbarCompiler
import XbarDevice
import XbarGraph
import XbarIR
import XbarTarget

/// The compiler's pass pipeline (docs/compiler.md, "Pass pipeline"): one test per pass on a small hand-made graph,
/// the pass manager's verification and error order, the programming strategies, and `xbar compile --passes` /
/// `--print-after`.
final class PassPipelineTests: XCTestCase {
    // MARK: graphs

    private func input(_ name: String, _ size: Int) -> Population { Population(name: name, kind: .input, size: size) }

    private func lif(_ name: String, _ size: Int, decay: Double = 0.5, threshold: Double = 1.0, refractory: Int = 0) -> Population {
        Population(name: name, kind: .lif, size: size, lif: LIFParameters(decay: decay, threshold: threshold, refractory: refractory))
    }

    private func dense(_ name: String, _ from: String, _ to: String, _ rows: [[Double]], delay: Int = 0) -> Projection {
        Projection(name: name, from: from, to: to, delay: delay, weights: .dense(rows.flatMap { $0 }))
    }

    private func sparse(_ name: String, _ from: String, _ to: String, _ entries: [(Int, Int, Double)], delay: Int = 0) -> Projection {
        Projection(name: name, from: from, to: to, delay: delay,
                   weights: .sparse(entries.map { SparseEntry(pre: $0.0, post: $0.1, weight: $0.2) }))
    }

    private func random(_ name: String, _ from: String, _ to: String, delay: Int = 0, seed: UInt64 = 1) -> Projection {
        Projection(name: name, from: from, to: to, delay: delay,
                   weights: .random(RandomWeights(distribution: .normal, a: 0, b: 1, gain: 1, density: 1, seed: seed)))
    }

    /// The example of docs/graph.md: 3 inputs, 2 LIF neurons with a sparse recurrence, a trained readout.
    private var tiny: Graph {
        Graph(name: "tiny", timesteps: 4, populations: [input("in", 3), lif("out", 2)],
              projections: [dense("in->out", "in", "out", [[1.0, -0.5], [0.25, 0], [0, 2.0]]),
                            sparse("rec", "out", "out", [(0, 1, -0.75), (1, 0, 0.5)], delay: 1)],
              readout: Readout(from: "out", classes: 2, weights: [1, -1, -1, 1], bias: [0, 0.5]))
    }

    /// The tiny graph with random projections (forming targets map only those).
    private var tinyRandom: Graph {
        Graph(name: "tiny-random", timesteps: 4, populations: [input("in", 3), lif("out", 2)],
              projections: [random("w_in", "in", "out"), random("w_rec", "out", "out", delay: 1, seed: 2)])
    }

    /// 300 inputs into 300 neurons: 2 row tiles x 3 column tiles on a 256x256 target with one slice.
    private func wide(_ entries: [(Int, Int, Double)]? = nil) -> Graph {
        let w = entries.map { sparse("w", "in", "out", $0) } ?? random("w", "in", "out")
        return Graph(name: "wide", timesteps: 1, populations: [input("in", 300), lif("out", 300)], projections: [w])
    }

    private func state(_ g: Graph, _ t: Target, after pass: String, replicate: Bool = false) throws -> CompilationState {
        try Compiler.state(after: pass, g, target: t, options: CompileOptions(replicateMacros: replicate))
    }

    private func assertError(_ body: @autoclosure () throws -> Any, _ text: String, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { XCTAssertEqual("\($0)", text, line: line) }
    }

    // MARK: one test per pass

    func testBlocksMergesProjectionsPerSourceAndDelayInOrderOfFirstAppearance() throws {
        let g = Graph(name: "b", timesteps: 1, populations: [input("in", 3), lif("out", 2)], projections: [
            dense("a", "in", "out", [[1, 0], [0, 2], [0, 0]]),
            sparse("b", "out", "out", [(0, 1, -0.5)], delay: 1),
            sparse("c", "in", "out", [(2, 1, 4.0), (0, 0, 0.5)]),
            dense("d", "in", "out", [[1, 1], [1, 1], [1, 1]], delay: 2),
        ])
        let s = try state(g, try Repo.target("ideal"), after: "blocks")
        let w = s.populations[0]
        XCTAssertEqual(w.blocks.map { "\($0.source)@\($0.delay)x\($0.size)" }, ["in@0x3", "out@1x2", "in@2x3"])
        XCTAssertEqual(w.blocks.map { $0.projections.map { $0.name } }, [["a", "c"], ["b"], ["d"]])
        XCTAssertEqual(w.blocks[0].weights.dense, [1.5, 0, 0, 2, 0, 4])
        XCTAssertEqual(w.blocks[1].weights.dense, [0, -0.5, 0, 0])
        XCTAssertEqual(w.stacked.count, 8)
        XCTAssertEqual(w.stacked[4], StackedRow(block: 1, index: 1))
        XCTAssertEqual(w.stacked[5], StackedRow(block: 2, index: 0))
        XCTAssertTrue(s.program.arrays.isEmpty)

        let lonely = Graph(name: "l", timesteps: 1, populations: [input("in", 2), lif("a", 2), lif("b", 2)],
                           projections: [random("w", "in", "a")])
        assertError(try state(lonely, try Repo.target("ideal"), after: "blocks"),
                    "<graph>: populations.b: lif population has no incoming projection")
    }

    func testQuantiseChoosesTheFormatFromMaxWeightOnProgrammedTargetsOnly() throws {
        let s = try state(tiny, try Repo.target("ideal"), after: "quantise")
        let f = try XCTUnwrap(s.populations[0].format)
        XCTAssertEqual(f.qMax, 255)
        XCTAssertEqual(f.weightScale, 2.0 / 255)
        XCTAssertEqual(f.threshold, 32640)  // 1.0 x 256 / (2/255)
        XCTAssertEqual(f.decayMul, 32768)
        XCTAssertEqual(f.decayShift, 16)
        XCTAssertEqual(f.maxWeightError, 0.5 / 255, accuracy: 1e-15)  // 1.0 = 127.5 steps, rounded to 128
        let formed = try state(tinyRandom, try Repo.target("rram-40nm-256kb"), after: "quantise")
        XCTAssertNil(formed.populations[0].format)  // from the formed cells, in `scales`
    }

    func testTileDeclaresOneUnusedArrayPerTileColumnTileByColumnTile() throws {
        let t = try Repo.target("neurram-130nm")
        let s = try state(wide(), t, after: "tile")
        let w = s.populations[0]
        XCTAssertEqual(w.rowTiles, [0..<256, 256..<300])
        XCTAssertEqual(w.colTiles, [0..<128, 128..<256, 256..<300])  // 256 columns / 2 cells per weight
        XCTAssertEqual(s.program.arrays.map { $0.name }, ["out.r0c0", "out.r1c0", "out.r0c1", "out.r1c1", "out.r0c2", "out.r1c2"])
        XCTAssertEqual(s.program.arrays.map { $0.macro }, [0, 1, 2, 3, 4, 5])
        XCTAssertTrue(s.program.arrays.allSatisfy { $0.rows == 256 && $0.cols == 256 && !$0.formed })
        XCTAssertTrue(s.program.arrays.allSatisfy { a in a.codes.count == 65536 && a.codes.allSatisfy { $0 == 10 } })  // 0.1 uS
        XCTAssertEqual(w.tile(row: 1, col: 2), Tile(rowTile: 1, colTile: 2, rows: 256..<300, neurons: 256..<300, name: "out.r1c2", slot: 5))
        XCTAssertTrue(s.program.step.isEmpty && s.program.neurons.isEmpty)
    }

    func testSkipEmptyDropsAllZeroTilesButKeepsRowTileZeroOfAnEmptyColumnTile() throws {
        // Weights in r0c0, r0c1, r1c1; 1e-6 in r1c0 quantises to 0 (step 1/15); nothing in column tile 2.
        let g = wide([(0, 0, 1.0), (0, 130, 1.0), (260, 131, 1.0), (270, 5, 1e-6)])
        let s = try state(g, try Repo.target("neurram-130nm"), after: "skip-empty")
        XCTAssertEqual(s.skippedTiles, ["out.r1c0", "out.r1c2"])
        XCTAssertEqual(s.program.arrays.map { $0.name }, ["out.r0c0", "out.r0c1", "out.r1c1", "out.r0c2"])
        XCTAssertEqual(s.populations[0].tiles.map { $0.slot }, [0, nil, 1, 2, 3, nil])
        XCTAssertEqual(s.program.arrays.map { $0.macro }, [0, 2, 3, 4])  // still where `tile` put them
        XCTAssertEqual(s.stats.arraysSkipped, 2)
    }

    func testPlacePacksArraysOntoMacrosAndRefusesMoreThanTheTargetHas() throws {
        var t = try Repo.target("neurram-130nm")
        t.macro.count = 1
        t.macro.arrays = 2
        let g = wide([(0, 0, 1.0), (0, 130, 1.0), (260, 131, 1.0)])
        let s = try state(g, t, after: "place", replicate: true)
        XCTAssertEqual(s.program.arrays.map { [$0.macro, $0.index] }, [[0, 0], [0, 1], [1, 0], [1, 1]])
        XCTAssertEqual(s.tiles.map { $0.array }, ["out.r0c0", "out.r0c1", "out.r1c1", "out.r0c2"])
        XCTAssertEqual(s.tiles.map { [$0.rowsUsed, $0.colsUsed] }, [[256, 256], [256, 256], [44, 256], [256, 88]])
        XCTAssertEqual(s.cellsUsed, 65536 + 65536 + 11264 + 22528)
        assertError(try state(g, t, after: "place"),
                    "<graph>: populations.out: needs more than the 2 arrays of target neurram-130nm (1 macros x 2 arrays of 256x256); use --replicate-macros to allow more macros")
    }

    func testCellsWritesLevelCodesOrFormsCellPairs() throws {
        let s = try state(tiny, try Repo.target("ideal"), after: "cells")
        let a = s.program.arrays[0]
        // Row 0: 128 = 0 + 8 x 16 positive, -64 = 0 + 4 x 16 negative; row 3 (recurrent row 0): 0, then -96 = 6 x 16.
        XCTAssertEqual(Array(a.codes[0..<9]), [0, 0, 8, 0, 0, 0, 0, 4, 0])
        XCTAssertEqual(Array(a.codes[3 * 512..<3 * 512 + 8]), [0, 0, 0, 0, 0, 0, 0, 6])
        XCTAssertEqual(a.codeType, .u(4))
        XCTAssertTrue(s.populations[0].blocks.allSatisfy { $0.weights.isEmpty })  // released

        let t = try Repo.target("rram-40nm-256kb")
        let f = try state(tinyRandom, t, after: "cells")
        let fa = f.program.arrays[0]
        let physics = try CellPhysics(spec: t.device, cell: t.cell, seed: 1)
        XCTAssertTrue(fa.formed)
        XCTAssertEqual(fa.codes[0], Int32(Fixed.roundReal(physics.form(array: 0, row: 0, col: 0).gUS * 100, .halfEven)))
        XCTAssertEqual(fa.codes[4 * 512 + 3], Int32(Fixed.roundReal(physics.form(array: 0, row: 4, col: 3).gUS * 100, .halfEven)))
        XCTAssertEqual(fa.codes[4], 10)  // no neuron 2: pristine
        XCTAssertEqual(fa.codeType, .u(14))  // hi = stuck-on 60 uS = 6000 codes; 6000 + 3000 + 1 < 2^14
        XCTAssertEqual(f.formedCells, 2 * (3 * 2 + 2 * 2))
        XCTAssertEqual(f.populations[0].spread.map { $0.count }, [6, 4])
    }

    /// `cells` writes a row tile's arrays with one cursor per row, column tile after column tile, skipping the
    /// entries of a dropped tile (r1c0: only a weight that quantises to 0): the same codes as every cell of every tile
    /// written from a per-weight lookup (`denseCodes`), and what the pass stores. With the unused code at level 0 the
    /// arrays list only the non-zero weights' cells.
    func testCellsRowCursorsGiveEachTilesCodes() throws {
        var t = try Repo.target("neurram-130nm")
        try checkRowCursors(t, sparse: false)
        t.cell.unusedUS = t.cell.gMinUS
        try checkRowCursors(t, sparse: true)
    }

    private func checkRowCursors(_ t: Target, sparse: Bool) throws {
        let g = wide([(0, 0, 1.0), (0, 130, 1.0), (0, 260, -0.5), (5, 200, 0.75), (270, 5, 1e-6), (260, 131, 1.0), (280, 290, -0.25),
                      (299, 299, 0.5)])
        let placed = try state(g, t, after: "place")
        let cells = try state(g, t, after: "cells")
        let w = placed.populations[0], c = placed.context
        let strategy = try XCTUnwrap(c.strategy as? WriteVerifyProgramming)
        XCTAssertEqual(w.tiles.filter { $0.slot == nil }.map(\.name), ["out.r1c0"])
        for rt in 0..<2 {
            let tiles = w.tiles.filter { $0.rowTile == rt && $0.slot != nil }
            XCTAssertEqual(tiles.count, rt == 0 ? 3 : 2)
            let written = strategy.writeCells(ofRowTile: tiles, in: w, arrays: tiles.map { placed.program.arrays[$0.slot!] }, context: c)
            for (tile, a) in zip(tiles, written) {
                let expected = strategy.denseCodes(of: tile, in: w, rows: a.rows, cols: a.cols, zeroCells: c.map.cells(0), context: c)
                XCTAssertEqual(a.codes, expected, tile.name)
                XCTAssertEqual(a.codes, cells.program.arrays[tile.slot!].codes, tile.name)
                if sparse { XCTAssertNotNil(a.codes.exceptionCount, tile.name) }
            }
        }
        // Every non-zero weight lands in a kept array: 7 weights x 1 cell off level 0 each (one slice).
        if sparse { XCTAssertEqual(cells.program.arrays.reduce(0) { $0 + ($1.codes.exceptionCount ?? -1000) }, 7) }
    }

    func testGroupRowsSplitsAtMaxRowsDrivenAndFormingReadsEachBlockAlone() throws {
        let g = Graph(name: "g", timesteps: 1, populations: [input("in", 150), lif("out", 2)],
                      projections: [random("w_in", "in", "out"), random("w_rec", "out", "out", delay: 1, seed: 2)])
        var t = try Repo.target("neurram-130nm")
        t.timing.maxRowsDriven = 100
        let s = try state(g, t, after: "group-rows")
        XCTAssertEqual(s.populations[0].reads, [
            RowGroup(rowTile: 0, sources: [RowSource(rowStart: 0, source: "in", srcStart: 0, count: 100, delay: 0)], scaleGroup: 0),
            RowGroup(rowTile: 0, sources: [RowSource(rowStart: 100, source: "in", srcStart: 100, count: 50, delay: 0),
                                           RowSource(rowStart: 150, source: "out", srcStart: 0, count: 2, delay: 1)], scaleGroup: 0),
        ])
        var r = try Repo.target("rram-40nm-256kb")
        r.timing.maxRowsDriven = 100
        let f = try state(g, r, after: "group-rows")
        XCTAssertEqual(f.populations[0].reads.map { $0.sources.map { "\($0.rowStart):@\($0.source)[\($0.srcStart):\($0.count)]" } },
                       [["0:@in[0:100]"], ["100:@in[100:50]"], ["150:@out[0:2]"]])
        XCTAssertEqual(f.populations[0].reads.map { $0.scaleGroup }, [0, 0, 1])
    }

    func testScalesChoosesMultiplyAndShiftAndBoundsThePreActivation() throws {
        let n = try state(tiny, try Repo.target("neurram-130nm"), after: "scales").populations[0]
        XCTAssertEqual(n.scales, [[Multiplier(mul: 8003, shift: 4)]])  // 508 / 260 x 256 = 500.18
        let bound: Int64 = (255 * 8003) >> 4 + 1
        XCTAssertEqual(n.preBound, bound)
        let i = try state(tiny, try Repo.target("ideal"), after: "scales").populations[0]
        XCTAssertEqual(i.scales, [[Multiplier(mul: 256, shift: 0), Multiplier(mul: 4096, shift: 0)]])
        XCTAssertEqual(i.preBound, Int64(16_777_215) * (256 + 4096) + 2)
        // Forming: one scale group per block; the formed cells (seed 1) fix the second block's factor.
        let lsm = try GraphJSON.load(Repo.path("examples/lsm-paper/lsm-paper.json"))
        let f = try state(lsm, try Repo.target("rram-40nm-256kb"), after: "scales").populations[0]
        XCTAssertEqual(f.scales, [[Multiplier(mul: 256, shift: 0)], [Multiplier(mul: 4123, shift: 5)]])
        let formedBound: Int64 = (1023 * 256 + 1) + ((1023 * 4123) >> 5 + 1)
        XCTAssertEqual(f.preBound, formedBound)
        XCTAssertEqual(f.format?.threshold, 9901)
    }

    /// With 3 more fraction bits the ideal target's factors are 2048 and 32768: one read of the 24-bit ADC already
    /// bounds 16,777,215 x 34,816 + 2 = 584,115,552,258 > 2^39 - 1, so the bound is capped at i40 (docs/compiler.md,
    /// section 5) and the program still compiles, its pre-activation ops typed i40.
    func testScalesCapsThePreActivationBoundAtI40() throws {
        var t = try Repo.target("ideal")
        t.neuron.fracBits += 3
        let s = try state(tiny, t, after: "scales").populations[0]
        XCTAssertEqual(s.scales, [[Multiplier(mul: 2048, shift: 0), Multiplier(mul: 32768, shift: 0)]])
        XCTAssertGreaterThan(Int64(16_777_215) * (2048 + 32768) + 2, ScalesPass.widestBound)
        XCTAssertEqual(s.preBound, ScalesPass.widestBound)
        XCTAssertEqual(ScalesPass.widestBound, (Int64(1) << 39) - 1)
        let p = try Compiler.compile(tiny, target: t).program
        try IRVerifier.verify(p)
        let lif = try XCTUnwrap(p.step.first { $0.kind.updatedPopulation == "out" })
        let input = try XCTUnwrap(p.step.first { $0.result == lif.kind.operands[0] })
        XCTAssertEqual(input.type, .i(40))
    }

    func testNeuronsDeclaresEveryPopulationInGraphOrder() throws {
        // b is declared first but scheduled after a (a -> b at delay 0).
        let g = Graph(name: "n", timesteps: 1, populations: [input("in", 2), lif("b", 2), lif("a", 3)],
                      projections: [dense("x", "in", "a", [[1, 0, 0], [0, 1, 0]]), dense("y", "a", "b", [[1, 0], [0, 1], [1, 1]])])
        let s = try state(g, try Repo.target("ideal"), after: "neurons")
        XCTAssertEqual(s.populations.map { $0.name }, ["a", "b"])
        XCTAssertEqual(s.program.neurons.map { $0.name }, ["b", "a"])
        let a = try XCTUnwrap(s.program.neuron(named: "a"))
        XCTAssertEqual([a.threshold, a.decayMul, Int64(a.decayShift)], [65280, 32768, 16])  // step 1/255
        XCTAssertEqual(a.memType, .i(32))
        XCTAssertTrue(s.program.step.isEmpty)

        let slow = Graph(name: "r", timesteps: 1, populations: [input("in", 2), lif("out", 2, refractory: 20)],
                         projections: [random("w", "in", "out")])
        assertError(try state(slow, try Repo.target("neurram-130nm"), after: "neurons"),
                    "<graph>: populations.out.refractory: 20 steps does not fit the target's 4-bit refractory counter")
    }

    func testReadoutQuantisesTheTrainedReadout() throws {
        let s = try state(tiny, try Repo.target("ideal"), after: "readout")
        let r = try XCTUnwrap(s.program.readouts.first)
        XCTAssertEqual(r.weights, [127, -127, -127, 127])
        XCTAssertEqual(r.bias, [0, 64])  // 0.5 x 127 = 63.5, half-even
        XCTAssertEqual(r.scale, 1.0 / 127)
        XCTAssertEqual(s.readoutScale, 1.0 / 127)
        XCTAssertTrue(s.program.step.isEmpty)
        XCTAssertTrue(try state(tinyRandom, try Repo.target("ideal"), after: "readout").program.readouts.isEmpty)
    }

    func testEmitWritesOneTimestepAndCompletesTheProgram() throws {
        let t = try Repo.target("ideal")
        let s = try state(tiny, t, after: "emit")
        XCTAssertEqual(s.program.step.map { $0.kind.mnemonic },
                       ["read", "adc", "slice", "slice", "sub", "scale", "slice", "slice", "sub", "scale", "add", "lif"])
        XCTAssertEqual(s.program.step.map { $0.result }.last, "out.spk")
        XCTAssertEqual(s.program.step.last?.kind, .lif(population: "out", input: "out.r0c0.s1.acc"))
        XCTAssertEqual(s.program, try Compiler.compile(tiny, target: t).program)
        XCTAssertEqual(s.passesRun, PassManager.standard.names.dropLast())
        XCTAssertEqual(try state(tiny, t, after: "plasticity").program, s.program, "no rule: plasticity adds nothing")

        // Two reads in one row tile are numbered g0, g1.
        var n = try Repo.target("neurram-130nm")
        n.timing.maxRowsDriven = 2
        let split = try state(tiny, n, after: "emit")
        XCTAssertEqual(split.program.step.filter { $0.kind.mnemonic == "read" }.map { $0.result },
                       ["out.r0c0.g0.read", "out.r0c0.g1.read", "out.r0c0.g2.read"])
    }

    // MARK: the pass manager

    func testPassManagerListsThePipelineAndRefusesUnknownPasses() throws {
        XCTAssertEqual(PassManager.standard.names,
                       ["order", "blocks", "quantise", "skip-zero-rows", "tile", "skip-empty", "place", "cells", "group-rows", "scales", "neurons", "readout", "emit", "plasticity"])
        assertError(try Compiler.state(after: "tiel", tiny, target: try Repo.target("ideal")),
                    "--print-after: unknown pass \"tiel\" (expected one of: order, blocks, quantise, skip-zero-rows, tile, skip-empty, place, cells, group-rows, scales, neurons, readout, emit, plasticity)")
    }

    func testPassManagerVerifierCatchesABrokenState() throws {
        let pm = PassManager.standard
        var s = try state(wide([(0, 0, 1.0), (0, 130, 1.0)]), try Repo.target("neurram-130nm"), after: "place")
        XCTAssertNoThrow(try pm.verify(s, after: PlacePass()))
        s.program.arrays[1].macro = 0  // two arrays on macro 0, index 0
        assertError(try pm.verify(s, after: PlacePass()),
                    "<graph>: after pass place: array %out.r0c1: placed at macro 0 index 0, expected slot 1: macro 1 index 0")

        // The IR verifier on the partial program: an array with the wrong number of codes.
        var t = try state(tiny, try Repo.target("ideal"), after: "tile")
        t.program.arrays[0].codes = [0, 0, 0]
        assertError(try pm.verify(t, after: TilePass()), "<graph>: after pass tile: array %out.r0c0: expected 512x512 codes, found 3")

        // A pass's own postcondition: a read dropped by group-rows.
        var g = try state(tiny, try Repo.target("ideal"), after: "group-rows")
        g.populations[0].reads.removeAll()
        assertError(try pm.verify(g, after: GroupRowsPass()),
                    "<graph>: after pass group-rows: populations.out: the reads of row tile 0 do not drive rows 0..<5 once each, in order")
    }

    func testTheFirstFailingPopulationInUpdateOrderIsReported() throws {
        // p0 cannot be electroformed (dense weights); p1 needs two more arrays than the target's one. Lowering
        // population by population meets p0's error first, and so does the pass pipeline.
        let g = Graph(name: "e", timesteps: 1, populations: [input("in", 600), lif("p0", 2), lif("p1", 2)],
                      projections: [sparse("a", "in", "p0", [(0, 0, 1.0)]), random("b", "in", "p1")])
        assertError(try Compiler.compile(g, target: try Repo.target("rram-40nm-256kb")),
                    "<graph>: projections.a.weights: target rram-40nm-256kb electroforms its weights: only \"random\" projections can be mapped (found another kind; program trained weights with --set device.programming=write_verify)")
    }

    func testProgrammingStrategyFollowsTheTargetsDeviceProgramming() throws {
        let forming = try programmingStrategy(target: try Repo.target("rram-40nm-256kb"), seed: 1)
        let programmed = try programmingStrategy(target: try Repo.target("ideal"), seed: 1)
        XCTAssertTrue(forming is FormingProgramming)
        XCTAssertTrue(programmed is WriteVerifyProgramming)
        XCTAssertEqual([forming.slices, programmed.slices], [1, 2])
        XCTAssertEqual([forming.scaleGroup(ofBlock: 3), programmed.scaleGroup(ofBlock: 3)], [3, 0])
        let s = try state(tiny, try Repo.target("ideal"), after: "quantise")
        XCTAssertEqual(programmed.weightCode(1e-3, format: s.populations[0].format, context: s.context), 0)  // < half a step
        XCTAssertEqual(programmed.weightCode(-1.0, format: s.populations[0].format, context: s.context), -128)
        XCTAssertEqual(forming.weightCode(1e-3, format: nil, context: s.context), 1)
    }

    // MARK: xbar compile --passes / --print-after

    func testCompilePrintAfterTileAndPasses() throws {
        let (s, out, err) = try Repo.run(["compile", "examples/lsm-paper/lsm-paper.json", "-t", "neurram-130nm", "--print-after", "tile"])
        XCTAssertEqual(s, 0, err)
        XCTAssertTrue(out.hasPrefix("# the program after pass 5 of 14 (tile)"), out)
        for (k, a) in ["lsm.r0c0", "lsm.r1c0", "lsm.r0c1", "lsm.r1c1"].enumerated() {
            XCTAssertTrue(out.contains("array %\(a) macro \(k) index 0 rows 256 cols 256 code u13 gunit_ns 10.0 state programmed\n"), a)
        }
        XCTAssertFalse(out.contains(" = lif "))
        XCTAssertFalse(out.contains("neuron @"))
        XCTAssertNoThrow(try IRParser.parse(out, file: "after-tile"))

        let (s2, list, _) = try Repo.run(["compile", "--passes"])
        XCTAssertEqual(s2, 0)
        XCTAssertEqual(list.split(separator: "\n").map { String($0.split(separator: " ")[0]) }, PassManager.standard.names)

        let (s3, _, e3) = try Repo.run(["compile", "examples/lsm-paper/lsm-paper.json", "--print-after", "nope"])
        XCTAssertEqual(s3, 1)
        XCTAssertEqual(e3, "error: --print-after: unknown pass \"nope\" (expected one of: \(PassManager.standard.names.joined(separator: ", ")))\n")
    }
}
