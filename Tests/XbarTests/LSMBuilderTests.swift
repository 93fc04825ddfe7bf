import Foundation
import XCTest
import XbarCore
import XbarGraph
import XbarTarget
import XbarIR
import XbarCompiler

/// Repository root: this file is <root>/Tests/XbarTests/LSMBuilderTests.swift.
private let lbRepoRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func lbPath(_ relative: String) -> String { lbRepoRoot.appendingPathComponent(relative).path }

/// The default NALSM graph and its recurrent matrix, built once (materialising 1000 x 1000 takes a while in debug).
/// rram-40nm-256kb with its `[device]` tables removed: the same macro geometry, ADC and formats, but weights are
/// programmed (the shipped target electroforms them, which only "random" projections allow).
private func lbProgrammedRRAM() throws -> Target {
    let text = try String(contentsOfFile: lbPath("targets/rram-40nm-256kb.toml"), encoding: .utf8)
    let parts = text.components(separatedBy: "\n[device]")
    XCTAssertEqual(parts.count, 2, "expected one [device] table")
    return try TargetLoader.parse(parts[0], file: "rram-40nm-256kb-programmed.toml")
}

private let lbNALSM: (graph: Graph, spatial: SpatialWeights, weights: [Double], inhibitory: [Bool]) = {
    let g = LSMBuilder.nalsm(LSMBuilder.NALSMOptions())
    let rec = g.projections.first { $0.name == "w_rec" }!
    guard case let .spatial(s) = rec.weights else { fatalError("w_rec is not spatial") }
    return (g, s, Materialize.weights(rec, pre: 1000, post: 1000),
            Materialize.inhibitory(s, salt: Materialize.salt(rec.name), n: 1000))
}()

final class LSMBuilderTests: XCTestCase {
    func testPaperDefaultsOnRRAM40nm() throws {
        let g = LSMBuilder.paper(LSMBuilder.PaperOptions())
        XCTAssertEqual(g.name, "lsm-paper")
        XCTAssertEqual(g.timesteps, 50)
        XCTAssertEqual(g.populations.map { $0.size }, [256, 200])
        XCTAssertEqual(g.populations[1].lif, LIFParameters(decay: 0.9, threshold: 5, reset: .zero))
        XCTAssertEqual(g.projections.map { $0.delay }, [0, 1])
        XCTAssertEqual(g.readout, Readout(from: "lsm", classes: 10))
        // The builder's graph is the bundled example's network (the example adds a trained readout).
        let example = try GraphJSON.load(lbPath("examples/lsm-paper/lsm-paper.json"))
        XCTAssertEqual(example.populations, g.populations)
        XCTAssertEqual(example.projections, g.projections)

        let rram = try TargetLoader.load(lbPath("targets/rram-40nm-256kb.toml"))
        let c = try Compiler.compile(g, target: rram)
        XCTAssertEqual(c.stats.tiles.count, 1)
        XCTAssertEqual(c.stats.tiles.first?.rowsUsed, 456)
        XCTAssertEqual(c.stats.tiles.first?.colsUsed, 400)
        XCTAssertEqual(c.stats.tiles.first?.neurons, 0..<200)
        XCTAssertEqual(c.stats.tiles.first?.utilisation, 456.0 * 400.0 / (512.0 * 512.0))
        XCTAssertEqual(c.stats.macrosUsed, 1)
        XCTAssertEqual(c.program.arrays.count, 1)
        XCTAssertEqual(c.program.readouts.count, 0, "untrained readout")
        XCTAssertEqual(c.program.arrays.first?.formed, true, "rram-40nm-256kb electroforms its cells")
        // The [x; h] rows: 256 input rows at delay 0, then 200 recurrent rows at delay 1 (one read per block when formed).
        let reads = c.program.step.compactMap { op -> [RowSource]? in
            if case let .read(_, rows, _, _, _, _) = op.kind { return rows }
            return nil
        }
        XCTAssertEqual(reads, [[RowSource(rowStart: 0, source: "in", srcStart: 0, count: 256, delay: 0)],
                               [RowSource(rowStart: 256, source: "lsm", srcStart: 0, count: 200, delay: 1)]])
        // Programmed on the same geometry: one tile, one read of both blocks.
        let cp = try Compiler.compile(g, target: try lbProgrammedRRAM())
        XCTAssertEqual(cp.stats.tiles.map { [$0.rowsUsed, $0.colsUsed] }, [[456, 400]])
        XCTAssertEqual(cp.program.arrays.first?.formed, false)
        let preads = cp.program.step.compactMap { op -> [RowSource]? in
            if case let .read(_, rows, _, _, _, _) = op.kind { return rows }
            return nil
        }
        XCTAssertEqual(preads, [[RowSource(rowStart: 0, source: "in", srcStart: 0, count: 256, delay: 0),
                                 RowSource(rowStart: 256, source: "lsm", srcStart: 0, count: 200, delay: 1)]])
        // No self connections in the recurrent matrix.
        let rec = Materialize.weights(g.projections[1], pre: 200, post: 200)
        XCTAssertEqual((0..<200).filter { rec[$0 * 200 + $0] != 0 }.count, 0)
        XCTAssertEqual(rec.filter { $0 != 0 }.count, 200 * 199)
    }

    func testPaperOptionsChangeTheGeometry() throws {
        var o = LSMBuilder.PaperOptions()
        o.inputs = 64
        o.neurons = 32
        o.recurrentDensity = 0.25
        o.seed = 7
        let g = LSMBuilder.paper(o)
        let rram = try TargetLoader.load(lbPath("targets/rram-40nm-256kb.toml"))
        let c = try Compiler.compile(g, target: rram)
        XCTAssertEqual(c.stats.tiles.map { $0.rowsUsed }, [96])
        XCTAssertEqual(c.stats.tiles.map { $0.colsUsed }, [64])
        let rec = Materialize.weights(g.projections[1], pre: 32, post: 32)
        let nonzero = rec.filter { $0 != 0 }.count
        XCTAssertGreaterThan(nonzero, 32 * 31 / 8)
        XCTAssertLessThan(nonzero, 32 * 31 * 3 / 8)
    }

    func testNALSMGridAndTypes() {
        XCTAssertEqual(LSMBuilder.grid(for: 1000), [10, 10, 10])
        XCTAssertEqual(LSMBuilder.grid(for: 200), [8, 5, 5])
        XCTAssertEqual(LSMBuilder.grid(for: 7), [7, 1, 1])
        XCTAssertEqual(LSMBuilder.grid(for: 64), [4, 4, 4])
        let (g, s, _, inh) = lbNALSM
        XCTAssertEqual(g.populations.map { $0.size }, [2312, 1000])
        XCTAssertEqual(s.grid, [10, 10, 10])
        XCTAssertEqual(s.inhibitoryFraction, 0.2)
        let fraction = Double(inh.filter { $0 }.count) / 1000
        XCTAssertEqual(fraction, 0.2, accuracy: 0.03)
    }

    func testNALSMConnectivity() {
        let (_, s, w, inh) = lbNALSM
        let n = 1000
        var wrongSign = 0, selfConnections = 0, connections = 0
        // Pairs and connections by squared grid distance.
        var pairs = [Int: Int](), connected = [Int: Int]()
        func pos(_ i: Int) -> (Int, Int, Int) { (i % 10, (i / 10) % 10, i / 100) }
        for i in 0..<n {
            let pi = pos(i)
            for j in 0..<n {
                let v = w[i * n + j]
                if i == j {
                    if v != 0 { selfConnections += 1 }
                    continue
                }
                if inh[i] ? v > 0 : v < 0 { wrongSign += 1 }
                let pj = pos(j)
                let d2 = (pi.0 - pj.0) * (pi.0 - pj.0) + (pi.1 - pj.1) * (pi.1 - pj.1) + (pi.2 - pj.2) * (pi.2 - pj.2)
                pairs[d2, default: 0] += 1
                if v != 0 {
                    connected[d2, default: 0] += 1
                    connections += 1
                    // Magnitudes are W[type(i) type(j)] * gain.
                    let k = (inh[i] ? 2 : 0) + (inh[j] ? 1 : 0)
                    if abs(v) != s.w[k] * s.gain { wrongSign += 1 }
                }
            }
        }
        XCTAssertEqual(wrongSign, 0, "inhibitory neurons project only <= 0, excitatory only >= 0, with magnitude W[type]")
        XCTAssertEqual(selfConnections, 0)
        // Distance 1 (6 neighbours on the grid): P ~ C * exp(-1/4) ~ 0.78 C; distance 3: P ~ C * exp(-9/4) ~ 0.1 C.
        let p1 = Double(connected[1]!) / Double(pairs[1]!)
        let p9 = Double(connected[9] ?? 0) / Double(pairs[9]!)
        XCTAssertEqual(pairs[1], 2 * 3 * 10 * 10 * 9)  // adjacent ordered pairs along 3 axes
        XCTAssertGreaterThan(p1, 3 * p9)
        XCTAssertGreaterThan(p9, 0)
        // Probability keeps falling with distance.
        let p4 = Double(connected[4]!) / Double(pairs[4]!)
        XCTAssertGreaterThan(p1, p4)
        XCTAssertGreaterThan(p4, p9)
        XCTAssertEqual(connected[100] ?? 0, 0, "no connection 10 grid steps apart")
        XCTAssertGreaterThan(connections, 1000)
    }

    func testNALSMOnRRAM40nmNeedsReplication() throws {
        let g = lbNALSM.graph
        // The shipped (forming) target: one array, so the reservoir does not fit.
        let rram = try TargetLoader.load(lbPath("targets/rram-40nm-256kb.toml"))
        XCTAssertThrowsError(try Compiler.compile(g, target: rram, file: "nalsm.json")) { e in
            XCTAssertEqual((e as? XbarError)?.field, "populations.res")
            XCTAssertTrue("\(e)".contains("use --replicate-macros to allow more macros"), "\(e)")
        }
        // Same geometry with programmed weights: refused without replication, 7 row x 4 column tiles with it.
        let programmed = try lbProgrammedRRAM()
        XCTAssertEqual([programmed.macro.count, programmed.macro.arrays, programmed.macro.rows, programmed.macro.cols], [1, 1, 512, 512])
        XCTAssertEqual(programmed.mapping.slices, 1)
        XCTAssertThrowsError(try Compiler.compile(g, target: programmed, file: "nalsm.json")) { e in
            XCTAssertEqual((e as? XbarError)?.field, "populations.res")
            XCTAssertTrue("\(e)".contains("needs more than the 1 arrays of target rram-40nm-256kb"), "\(e)")
            XCTAssertTrue("\(e)".contains("--replicate-macros"), "\(e)")
        }
        let c = try Compiler.compile(g, target: programmed, options: CompileOptions(replicateMacros: true), file: "nalsm.json")
        // Rows: 2312 + 1000 = 3312 -> 7 tiles of 512; columns: 1000 neurons x 2 cells / 512 -> 4 tiles of 256 neurons.
        // The last row tile (reservoir neurons 760..<1000, grid z >= 7) reaches neurons 0..<256 (z <= 2) through no
        // synapse of the distance-dependent reservoir: that all-zero tile gets no array (docs/compiler.md, section 6).
        XCTAssertEqual(c.stats.skippedTiles, ["res.r6c0"])
        XCTAssertEqual(c.program.arrays.count, 27)
        XCTAssertEqual(c.stats.tiles.count, 27)
        XCTAssertEqual(Set(c.stats.tiles.map { $0.neurons }), [0..<256, 256..<512, 512..<768, 768..<1000])
        XCTAssertEqual(c.stats.tiles.filter { $0.neurons == 0..<256 }.map { $0.rowsUsed }, [512, 512, 512, 512, 512, 512])
        XCTAssertEqual(c.stats.tiles.filter { $0.neurons == 768..<1000 }.map { $0.rowsUsed }, [512, 512, 512, 512, 512, 512, 240])
        XCTAssertEqual(c.stats.tiles.filter { $0.neurons == 768..<1000 }.map { $0.colsUsed }, [464, 464, 464, 464, 464, 464, 464])
        XCTAssertEqual(c.program.arrays.map { $0.macro }, Array(0..<27))
        XCTAssertEqual(c.stats.macrosUsed, 27)
        XCTAssertEqual(c.stats.arraysAvailable, 1)
    }

    /// A forming target maps only random projections: the NALSM's spatial reservoir is refused by name.
    func testSmallNALSMRefusedByFormingTarget() throws {
        var o = LSMBuilder.NALSMOptions()
        o.neurons = 64
        o.inputs = 16
        let g = LSMBuilder.nalsm(o)
        let rram = try TargetLoader.load(lbPath("targets/rram-40nm-256kb.toml"))
        XCTAssertThrowsError(try Compiler.compile(g, target: rram, file: "small.json")) { e in
            XCTAssertEqual((e as? XbarError)?.field, "projections.w_rec.weights")
            XCTAssertTrue("\(e)".contains("electroforms its weights: only \"random\" projections can be mapped"), "\(e)")
        }
        let c = try Compiler.compile(g, target: try lbProgrammedRRAM())
        XCTAssertEqual(c.stats.tiles.map { [$0.rowsUsed, $0.colsUsed] }, [[80, 128]])
    }

    func testWriterRoundTrip() throws {
        for g in [LSMBuilder.paper(LSMBuilder.PaperOptions()), lbNALSM.graph] {
            let text = GraphWriter.json(g)
            XCTAssertEqual(try GraphJSON.parse(Data(text.utf8), file: "\(g.name).json"), g)
            XCTAssertEqual(GraphWriter.json(try GraphJSON.parse(Data(text.utf8), file: "\(g.name).json")), text)
        }
        // Non-default options survive too, including a trained readout.
        var o = LSMBuilder.NALSMOptions()
        o.neurons = 64
        o.inputs = 10
        o.lambda = 1.5
        o.c = [0.25, 0.5, 0.125, 0.75]
        o.inhibitoryFraction = 0.25
        o.seed = 12345
        var g = LSMBuilder.nalsm(o)
        XCTAssertEqual(g.projections[1].weights, .spatial(SpatialWeights(grid: [4, 4, 4], lambda: 1.5, c: [0.25, 0.5, 0.125, 0.75],
                                                                        w: [1, 2, 2, 1], inhibitoryFraction: 0.25, gain: 1, seed: 12345)))
        g.readout = Readout(from: "res", classes: 2, weights: (0..<128).map { Double($0) / 8 - 3 }, bias: [0.5, -0.25])
        XCTAssertEqual(try GraphJSON.parse(Data(GraphWriter.json(g).utf8), file: "small.json"), g)
    }
}
