import Foundation
import XCTest
import XbarCompiler
import XbarCore
import XbarEmulator
import XbarEvents
import XbarGraph
@testable import XbarLearn
import XbarTarget

/// The heterogeneous-delay experiment's parts (docs/experiment.md, "Heterogeneous delays"): the change detector, the
/// motif and texture generators, the detector's potentials and geometry against hand calculations, the compiler's
/// `skip-zero-rows`, the chip firing exactly as the float detector where no potential is near its threshold, and a
/// small seeded run with its figures pinned.
final class DelayTests: XCTestCase {
    func testChangeDetectorEmitsOneEventPerThresholdCrossed() {
        var d = ChangeDetector(levels: [0, 1], contrast: 0.2, sigma: 0) { _ in 0 }
        var events: [Bool] = []
        d.update(0, level: 0.45) { events.append($0) }   // two ON: the level moves to 0.4
        XCTAssertEqual(events, [true, true])
        XCTAssertEqual(d.reference[0], 0.4, accuracy: 1e-15)
        events = []
        d.update(0, level: 0.1) { events.append($0) }    // |0.1 - 0.4| = 0.3: one OFF, level 0.2
        XCTAssertEqual(events, [false])
        XCTAssertEqual(d.reference[0], 0.2, accuracy: 1e-15)
        events = []
        d.update(1, level: 0.85) { events.append($0) }   // below one threshold: nothing
        XCTAssertEqual(events, [])
        // Thresholds: contrast + sigma x draw, at least 0.02.
        XCTAssertEqual(ChangeDetector(levels: [0, 0], contrast: 0.1, sigma: 0.5) { $0 == 0 ? 1 : -1 }.thresholds, [0.6, 0.02])
    }

    func testSpikeMotifSetKernelsOnsetsAndDeterminism() {
        var o = SpikeMotifSet.Options()
        o.channels = 20
        o.motifs = 3
        o.delays = 10
        o.steps = 300
        o.onsetRate = 0.01
        o.motifDensity = 0.05
        let set = SpikeMotifSet(o)
        for k in 0..<3 { XCTAssertEqual(set.kernels[k].reduce(0) { $0 + $1.count }, 10) }  // 5 % of 200 entries
        // The kept logits are the largest of the motif's draws: all positive here (top 5 % of 4 N(0, 1)).
        XCTAssertTrue(set.kernels.allSatisfy { $0.allSatisfy { $0.allSatisfy { $0.logit > 0 } } })
        let a = set.trial(7), b = SpikeMotifSet(o).trial(7)
        XCTAssertEqual(a.raster, b.raster)
        XCTAssertEqual(a.onsets, b.onsets)
        XCTAssertTrue(a.onsets.allSatisfy { $0.allSatisfy { (0...(300 - 10)).contains($0) } })
        XCTAssertEqual(a.ends(delays: 10)[0], a.onsets[0].map { $0 + 9 })
        XCTAssertNotEqual(set.trial(8).raster, a.raster)
        // With p_B = 0 and p_A -> 0 nothing spikes.
        o.onsetRate = 0
        o.backgroundRate = 1e-12
        XCTAssertTrue(SpikeMotifSet(o).trial(0).raster.active.allSatisfy { $0.isEmpty })
    }

    func testMovingTexturesAreLabelledByDirectionAndDeterministic() {
        var o = MovingTextures.Options()
        o.side = 6
        o.directions = 4
        o.steps = 10
        let m = MovingTextures(o)
        XCTAssertEqual((0..<8).map { m.sample($0).label! }, [0, 1, 2, 3, 0, 1, 2, 3])
        XCTAssertEqual(m.sample(5), MovingTextures(o).sample(5))
        let r = m.sample(1)
        XCTAssertEqual(r.channels, 72)
        XCTAssertTrue(r.active.allSatisfy { row in row == row.sorted() && row.allSatisfy { $0 >= 0 && $0 < 72 } })
        let on = r.active.reduce(0) { $0 + $1.filter { $0 < 36 }.count }, off = r.active.reduce(0) { $0 + $1.filter { $0 >= 36 }.count }
        XCTAssertGreaterThan(on, 10)
        XCTAssertGreaterThan(off, 10)
        // A texture that does not move gives only noise events: none with noise off.
        o.speed = 0
        o.noiseRate = 0
        XCTAssertTrue(MovingTextures(o).sample(1).active.allSatisfy { $0.isEmpty })
    }

    func testPotentialsAndPatchGeometryByHand() {
        // Dense: 2 channels, delays 0 and 1, one class. W[(c, d)]: (0,0) 1, (0,1) 2, (1,0) -3, (1,1) 0.5; bias 0.25.
        var det = DelayDetector(geometry: .dense(channels: 2), delays: 2, classes: 1)
        det.weights = [1, 2, -3, 0.5]
        det.bias = [0.25]
        let r = SpikeRaster(channels: 2, timesteps: 3, active: [[0], [0, 1], []])
        // t0: (0,0) -> 1.25; t1: (0,0) + (1,0) + (0,1) -> 1 - 3 + 2 + 0.25 = 0.25; t2: (0,1) + (1,1) -> 2.75.
        XCTAssertEqual(det.potentials(r), [1.25, 0.25, 2.75])
        det.thresholds = [1]
        XCTAssertEqual(det.firing(r), [[0, 2]])
        // Patches on a 5 x 5 field, radius 1, stride 2: centres 1 and 3, 4 positions x 2 branches; taps (pol, dy, dx).
        let g = DelayGeometry.patches(side: 5, polarities: 2, radius: 1, stride: 2, polarityInvariant: true)
        XCTAssertEqual(g.positions, 8)
        XCTAssertEqual(g.pool, 2)
        XCTAssertEqual(g.taps, 18)
        XCTAssertEqual(g.connections[0].map { [$0.position, $0.tap] }, [[0, 0], [4, 9]])           // ON (0, 0)
        XCTAssertEqual(g.connections[25 + 12].map { [$0.position, $0.tap] }.sorted { $0.lexicographicallyPrecedes($1) },
                       [[0, 17], [1, 15], [2, 11], [3, 9], [4, 8], [5, 6], [6, 2], [7, 0]])         // OFF (2, 2): every patch
    }

    func testTrainingLearnsAPlantedCoincidence() {
        // Class 0 whenever channels 0 and 1 spike one step apart (0 first), never otherwise.
        var samples: [DelayDetector.Sample] = []
        for i in 0..<8 {
            var active = [[Int32]](repeating: [], count: 20)
            var events: [Int] = []
            for t in stride(from: 2 + i % 3, to: 19, by: 5) { active[t - 1].append(0); active[t].append(1); events.append(t) }
            active[(i * 7) % 20].append(2)
            samples.append(.init(raster: SpikeRaster(channels: 3, timesteps: 20, active: active.map { Array(Set($0)).sorted() }), events: [events]))
        }
        var det = DelayDetector(geometry: .dense(channels: 3), delays: 2, classes: 1)
        var o = DelayDetector.Training()
        o.epochs = 200
        o.learningRate = 0.05
        det.train(samples, loss: .binary, options: o)
        // W[(0, 1)] and W[(1, 0)] carry the detection; the bias is negative.
        XCTAssertGreaterThan(det.weights[0 * 2 + 1], 1)
        XCTAssertGreaterThan(det.weights[1 * 2 + 0], 1)
        XCTAssertLessThan(det.bias[0], -1)
        det.calibrate(samples.map(\.raster), rate: [Double(samples.reduce(0) { $0 + $1.events[0].count }) / 160])
        for s in samples { XCTAssertEqual(det.firing(s.raster)[0], s.events[0]) }
    }

    func testSkipZeroRowsDropsAllZeroRowsAndKeepsTheSpikes() throws {
        // Rows 1 and 3 of w are zero: with skip-zero-rows they get no cells and are never driven.
        let w: [[Double]] = [[1, 0], [0, 0], [0, 1], [0, 0]]
        let g = Graph(name: "z", timesteps: 3,
                      populations: [Population(name: "in", kind: .input, size: 4),
                                    Population(name: "out", kind: .lif, size: 2, lif: LIFParameters(decay: 0, threshold: 0.5))],
                      projections: [Projection(name: "w", from: "in", to: "out", delay: 0, weights: .dense(w.flatMap { $0 }))])
        let t = try Repo.target("ideal")
        let all = try Compiler.compile(g, target: t)
        let skip = try Compiler.compile(g, target: t, options: CompileOptions(skipZeroRows: true))
        XCTAssertEqual(all.stats.skippedRows, 0)
        XCTAssertEqual(skip.stats.skippedRows, 2)
        XCTAssertEqual(skip.stats.tiles.map(\.rowsUsed), [2])
        let r = SpikeRaster(channels: 4, timesteps: 3, active: [[0, 1, 2, 3], [1, 3], [2]])
        func run(_ c: Compiled) throws -> SampleResult {
            try FastEngine(chip: Chip(program: c.program, target: t, seed: 1))
                .run(r, binding: InputBinding(program: c.program, channels: 4, file: "<test>"))
        }
        let a = try run(all), b = try run(skip)
        XCTAssertEqual(a.spikes, b.spikes)
        XCTAssertEqual(b.spikes["out"]!.map { [$0.step, $0.neuron] }, [[0, 0], [0, 1], [2, 1]])
        XCTAssertEqual(a.counters.wlActivations, 7)
        XCTAssertEqual(b.counters.wlActivations, 3)  // rows 0 and 2 at step 0, row 2 at step 2
        // Every row zero: the population keeps its first row.
        let empty = Graph(name: "e", timesteps: 1, populations: g.populations,
                          projections: [Projection(name: "w", from: "in", to: "out", delay: 0, weights: .dense([Double](repeating: 0, count: 8)))])
        XCTAssertEqual(try Compiler.compile(empty, target: t, options: CompileOptions(skipZeroRows: true)).stats.skippedRows, 3)
    }

    func testChipFiresExactlyAsTheFloatDetectorAwayFromThresholds() throws {
        // Weights on a 1/8 grid, thresholds midway between attainable potentials: the 16-bit chip fires as the float model.
        var det = DelayDetector(geometry: .dense(channels: 3), delays: 3, classes: 2)
        det.weights = [1, -0.5, 0.25, 0.75, 2, 0, -1, 0.5, 0.125, -0.25, 1.5, 1, 0.5, 0.5, -0.75, 0.25, 0, 1]
        det.bias = [0.0625, -0.0625]
        det.thresholds = [0.9375, 0.4375]
        let r = SpikeRaster(channels: 3, timesteps: 12, active: [[0], [1, 2], [], [0, 1, 2], [2], [0], [1], [], [0, 2], [1], [0, 1], [2]])
        let g = det.graph(name: "hd", timesteps: 12)
        let t = try Repo.target("ideal-hp")
        let c = try Compiler.compile(g, target: t, options: CompileOptions(skipZeroRows: true))
        let res = try FastEngine(chip: Chip(program: c.program, target: t, seed: 1)).run(r, binding: InputBinding(program: c.program, channels: 3, file: "<test>"))
        var chip = [[Int]](repeating: [], count: 2)
        for s in res.spikes["det"] ?? [] { chip[Int(s.neuron)].append(Int(s.step)) }
        let float = det.firing(r)
        XCTAssertEqual(chip, float)
        XCTAssertFalse(float[0].isEmpty || float[1].isEmpty)
    }

    func testQuickRunFigures() throws {
        var spec = DelaySpec(target: try Repo.target("neurram-130nm"), seeds: [1])
        DelayExperiment.quick(&spec)
        spec.threads = 1
        let rs = try DelayExperiment.run(spec)
        func score(_ d: DelayDataset, _ p: Double, _ m: ModelKind) -> Double { rs.first { $0.dataset == d && $0.pruned == p && $0.model == m }!.score }
        XCTAssertEqual(rs.count, 8)
        // Pinned from the seeded run (docs/experiment.md): 20 of 22 motif occurrences found at their end step,
        // every texture direction right, pruning 90 % of the weights.
        XCTAssertEqual(score(.motifs, 0, .software), 20.0 / 22, accuracy: 1e-12)
        XCTAssertEqual(score(.motifs, 0, .chip), 20.0 / 22, accuracy: 1e-12)
        XCTAssertEqual(score(.textures, 0, .software), 1)
        XCTAssertEqual(score(.textures, 0.9, .chip), 1)
        let pruned = rs.first { $0.dataset == .textures && $0.pruned == 0.9 && $0.model == .chip }!
        let full = rs.first { $0.dataset == .textures && $0.pruned == 0 && $0.model == .chip }!
        XCTAssertEqual(full.weights, 800)
        XCTAssertEqual(pruned.weights, 80)
        XCTAssertLessThan(pruned.rows!, full.rows!)
        XCTAssertLessThan(pruned.energyPerSamplePJ!, full.energyPerSamplePJ!)
    }
}
