import XCTest
import XbarCompiler
import XbarCore
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarLearn
import XbarTarget

/// The placement pass (`order`, docs/compiler.md "Placement") and the sparsity statistics.
final class PlacementTests: XCTestCase {
    /// The ideal target cut to 64 x 64 arrays (16 neurons per column tile at 4 cells per weight), so small graphs span
    /// many tiles and the order matters.
    func smallIdeal() throws -> Target {
        try TargetOverride.load(Repo.path("targets/ideal.toml"), assignments: ["macro.rows=64", "macro.cols=64", "macro.count=4096"])
    }

    func testRenumberingByHand() {
        let g = Graph(name: "h", timesteps: 2, populations: [
            Population(name: "in", kind: .input, size: 3),
            Population(name: "n", kind: .lif, size: 4, lif: LIFParameters(decay: 0.5, threshold: 1, neuronBias: [0.1, 0.2, 0.3, 0.4])),
        ], projections: [
            Projection(name: "p", from: "in", to: "n", delay: 0, weights: .dense([1, 0, 0, 2,  0, 3, 0, 0,  0, 0, 4, 0])),
        ], readout: Readout(from: "n", classes: 1, weights: [10, 20, 30, 40], bias: [0]))
        // Physical position k holds graph neuron order[k].
        let p = Placement(mode: .metis, order: ["n": [3, 2, 1, 0], "in": [2, 0, 1]])
        XCTAssertNil(p.check(g))
        let h = p.apply(to: g)
        XCTAssertEqual(h.populations[1].lif?.neuronBias, [0.4, 0.3, 0.2, 0.1])
        XCTAssertEqual(h.readout?.weights, [40, 30, 20, 10])
        // in 0 -> n 0 (1) becomes physical in 1 -> n 3; in 0 -> n 3 (2): in 1 -> n 0; in 1 -> n 1 (3): in 2 -> n 2;
        // in 2 -> n 2 (4): in 0 -> n 1.
        XCTAssertEqual(h.projections[0].weights, .sparse([SparseEntry(pre: 0, post: 1, weight: 4), SparseEntry(pre: 1, post: 0, weight: 2),
                                                          SparseEntry(pre: 1, post: 3, weight: 1), SparseEntry(pre: 2, post: 2, weight: 3)]))
        XCTAssertEqual(p.inputChannelMap(g), [1, 2, 0])
        XCTAssertEqual(p.position("n", size: 4), [3, 2, 1, 0])
        XCTAssertEqual(Placement(mode: .spatial, order: ["n": [0, 1, 2, 3]]).isIdentity, true)
        XCTAssertEqual(Placement(mode: .metis, order: ["n": [0, 0, 1, 2]]).check(g), "order of n is not a permutation of 0..<4")
    }

    func testMortonOrderOfAGrid() throws {
        // A 4 x 2 x 1 grid: index = x + 4 y. Morton codes: (x, y) -> x0 | y0 << 1 | x1 << 3.
        let g = Graph(name: "m", timesteps: 1, populations: [
            Population(name: "in", kind: .input, size: 1),
            Population(name: "r", kind: .lif, size: 8, lif: LIFParameters(decay: 0.5, threshold: 1)),
        ], projections: [
            Projection(name: "i", from: "in", to: "r", delay: 0, weights: .dense([Double](repeating: 1, count: 8))),
            Projection(name: "s", from: "r", to: "r", delay: 1, weights: .spatial(SpatialWeights(grid: [4, 2, 1], lambda: 2, c: [0.3, 0.2, 0.4, 0.1],
                                                                                              w: [1, 2, 2, 1], inhibitoryFraction: 0.2, gain: 1, seed: 1))),
        ])
        var o = CompileOptions(placement: .spatial)
        o.placement = .spatial
        let c = try Compiler.compile(g, target: try smallIdeal(), options: o)
        // Codes: (0,0) 0, (1,0) 1, (0,1) 2, (1,1) 3, (2,0) 8, (3,0) 9, (2,1) 10, (3,1) 11.
        XCTAssertEqual(c.stats.placement.order["r"], [0, 1, 4, 5, 2, 3, 6, 7])
        XCTAssertNil(c.stats.placement.order["in"], "one input channel: nothing to reorder")
    }

    /// Eight cliques of 16 neurons, numbered at random: the identity order spreads each clique over every column
    /// tile; METIS finds the cliques, one per column tile, and the recurrent tiles off the diagonal are empty.
    func testMETISGathersScrambledCliques() throws {
        var rnd = RTRandom(seed: 3, id: 1)
        let n = 128
        var perm = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { perm.swapAt(i, rnd.int(0, i)) }
        var es: [SparseEntry] = []
        for a in 0..<n { for b in 0..<n where a != b && a / 16 == b / 16 { es.append(SparseEntry(pre: perm[a], post: perm[b], weight: 0.5)) } }
        let g = Graph(name: "cliques", timesteps: 4, populations: [
            Population(name: "in", kind: .input, size: n),
            Population(name: "r", kind: .lif, size: n, lif: LIFParameters(decay: 0.5, threshold: 1)),
        ], projections: [
            Projection(name: "x", from: "in", to: "r", delay: 0, weights: .sparse((0..<n).map { SparseEntry(pre: $0, post: $0, weight: 1) })),
            Projection(name: "rec", from: "r", to: "r", delay: 1, weights: .sparse(es)),
        ])
        let t = try smallIdeal()
        let identity = try Compiler.compile(g, target: t)
        let metis = try Compiler.compile(g, target: t, options: CompileOptions(placement: .metis))
        // Stacked rows: 128 inputs + 128 recurrent = 4 row tiles of 64; 8 column tiles of 16 neurons. The one-to-one
        // inputs fill one input row tile per column tile (8 tiles, the other 8 skipped as empty); the scrambled cliques
        // reach every column tile from both recurrent row tiles (16): 24 arrays.
        XCTAssertEqual(identity.stats.tiles.count, 24)
        // METIS: each column tile (one clique) needs the row tile of its inputs (barycentre order keeps them with their
        // neuron) and the row tile holding its own clique: 8 x 2 tiles.
        XCTAssertEqual(metis.stats.tiles.count, 16)
        XCTAssertEqual(metis.stats.nonZeroCells, identity.stats.nonZeroCells)
        XCTAssertEqual(identity.stats.nonZeroCells, (n + n * 15) * 4)
        XCTAssertEqual(identity.stats.arraysLowerBound, (n * 16 * 4 + 4095) / 4096)
        // Row slots: every input row and every recurrent row has at most 15 non-zeros, under 16 per column tile.
        XCTAssertEqual(identity.stats.rowSlots, 2 * n)
        XCTAssertEqual(metis.stats.arraysRowBound, 4)
    }

    /// On an ideal device, placement never changes what a network computes: over random graphs (inputs, two LIF
    /// populations, random sparse, recurrent and spatial projections, a readout), every placement gives the same
    /// spikes (mapped back to graph numbers) and the same readout as the graph order.
    func testPlacementNeverChangesResultsOnTheIdealDevice() throws {
        let t = try smallIdeal()
        for seed in 1...6 {
            var rnd = RTRandom(seed: UInt64(seed), id: 2)
            let nIn = rnd.int(20, 90), nA = rnd.int(10, 80), nB = 27
            func randomSparse(_ pre: Int, _ post: Int, _ d: Double) -> WeightSpec {
                var es: [SparseEntry] = []
                for a in 0..<pre { for b in 0..<post where rnd.chance(d) { es.append(SparseEntry(pre: a, post: b, weight: rnd.normal())) } }
                return .sparse(es)
            }
            let g = Graph(name: "r\(seed)", timesteps: 12, populations: [
                Population(name: "in", kind: .input, size: nIn),
                Population(name: "a", kind: .lif, size: nA, lif: LIFParameters(decay: 0.8, threshold: 1.5, neuronBias: (0..<nA).map { Double($0 % 5) * 0.05 })),
                Population(name: "b", kind: .lif, size: nB, lif: LIFParameters(decay: 0.9, threshold: 2, reset: .subtract)),
            ], projections: [
                Projection(name: "ia", from: "in", to: "a", delay: 0, weights: randomSparse(nIn, nA, 0.2)),
                Projection(name: "aa", from: "a", to: "a", delay: 1, weights: randomSparse(nA, nA, 0.1)),
                Projection(name: "ab", from: "a", to: "b", delay: 0, weights: .random(RandomWeights(distribution: .normal, a: 0, b: 1, gain: 1, density: 0.3, seed: UInt64(seed)))),
                Projection(name: "bb", from: "b", to: "b", delay: 1, weights: .spatial(SpatialWeights(grid: [3, 3, 3], lambda: 2, c: [0.3, 0.2, 0.4, 0.1],
                                                                                                   w: [1, 2, 2, 1], inhibitoryFraction: 0.2, gain: 1, seed: UInt64(seed)))),
            ], readout: Readout(from: "b", classes: 3, weights: (0..<(3 * nB)).map { _ in rnd.normal() }, bias: [0, 0.5, -0.5]))
            var active: [[Int32]] = []
            for _ in 0..<12 { active.append((0..<nIn).filter { _ in rnd.chance(0.3) }.map { Int32($0) }) }
            let raster = SpikeRaster(channels: nIn, timesteps: 12, active: active)
            func run(_ mode: PlacementMode) throws -> (SampleResult, Placement) {
                let c = try Compiler.compile(g, target: t, options: CompileOptions(placement: mode))
                let data = EventDataset(channels: nIn, timesteps: 12, samples: [raster])
                let placed = c.stats.placement.isIdentity ? data : data.remapped(channels: c.stats.placement.inputChannelMap(g))
                let binding = try InputBinding(program: c.program, channels: nIn, file: "<test>")
                return (FastEngine(chip: Chip(program: c.program, seed: 1)).run(placed.samples[0], binding: binding, trace: false), c.stats.placement)
            }
            let (ref, _) = try run(.identity)
            XCTAssertGreaterThan(ref.spikes["a"]!.count + ref.spikes["b"]!.count, 0, "seed \(seed): the network must spike")
            for mode in [PlacementMode.spatial, .metis] {
                let (r, p) = try run(mode)
                XCTAssertFalse(p.isIdentity, "seed \(seed) \(mode)")
                for pop in ["a", "b"] {
                    let o = p.order[pop] ?? Array(0..<(pop == "a" ? nA : nB))
                    let back = r.spikes[pop]!.map { Spike(step: $0.step, neuron: Int32(o[Int($0.neuron)])) }
                    XCTAssertEqual(Set(back), Set(ref.spikes[pop]!), "seed \(seed) \(mode) population \(pop)")
                    XCTAssertEqual(back.count, ref.spikes[pop]!.count)
                }
                XCTAssertEqual(r.readout, ref.readout, "seed \(seed) \(mode)")
            }
        }
    }

    /// The experiment's chip model with a placement: inputs moved to their physical channels, the readout trained on
    /// physical-order counts and put back in graph order. On the ideal device it classifies exactly as in graph order.
    func testExperimentWithPlacementMatchesGraphOrderOnTheIdealDevice() throws {
        XCTAssertEqual(Experiment.graphOrder([1, 2, 3, 10, 20, 30], [2, 0, 1]), [2, 3, 1, 20, 30, 10])
        let rows = Array(try Digits.loadCSV(Repo.path("examples/digits/digits.csv")).prefix(120))
        let set = LabelledSet.binning(DigitsEvents.recordings(rows, options: SaccadeOptions(), splitSeed: 1), BinOptions())
        var o = LSMBuilder.PaperOptions()
        o.recurrentGain = 0.25
        o.inputDensity = 0.3      // sparse inputs: their barycentres differ, so the input channels are reordered too
        o.recurrentDensity = 0.1
        var results: [ModelResult] = []
        for mode in [PlacementMode.identity, .metis] {
            var spec = ExperimentSpec(name: "t", graph: LSMBuilder.paper(o), target: try Repo.target("ideal"), seeds: [3])
            spec.models = [.chip]
            spec.placement = mode
            spec.trainer.standardise = false
            results += try Experiment.run(spec, data: set, hooks: ExperimentHooks())
            if mode == .metis {
                let c = try Compiler.compile(LSMBuilder.paper(o), target: spec.target, options: CompileOptions(placement: .metis))
                XCTAssertEqual(c.stats.placement.order.keys.sorted(), ["in", "lsm"])
            }
        }
        XCTAssertGreaterThan(results[0].testAccuracy, 0.5)
        XCTAssertEqual(results[1].confusion, results[0].confusion)
        XCTAssertEqual(results[1].testAccuracy, results[0].testAccuracy)
    }

    func testPlacementIsRefusedOnFormingTargets() throws {
        let g = LSMBuilder.paper(LSMBuilder.PaperOptions())
        XCTAssertThrowsError(try Compiler.compile(g, target: try Repo.target("rram-40nm-256kb"), options: CompileOptions(placement: .metis))) {
            XCTAssertTrue("\($0)".contains("--placement metis needs programmed weights"), "\($0)")
        }
    }

    func testCLIWritesThePlacementAndEmulatesAlike() throws {
        let dir = Repo.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let prog = dir.appendingPathComponent("p.ir").path
        let (s, out, err) = try Repo.run(["compile", "examples/lsm-paper/lsm-paper.json", "-t", "ideal", "--placement", "metis", "--stats", "-o", prog])
        XCTAssertEqual(s, 0, err)
        XCTAssertTrue(out.contains("placement metis: reordered lsm"), out)
        XCTAssertTrue(out.contains("non-zero cells: "), out)
        let json = try String(contentsOfFile: prog + ".placement.json", encoding: .utf8)
        XCTAssertTrue(json.hasPrefix("{\"format\": \"neuroxbar-placement\", \"version\": 1, \"mode\": \"metis\", \"order\": {\"lsm\": ["), json)
        var summaries: [String] = []
        for p in ["identity", "metis"] {
            let (s2, o2, e2) = try Repo.run(["emulate", "examples/lsm-paper/lsm-paper.json", "-t", "ideal", "--ideal-device", "--placement", p, "--json", "--samples", "20"])
            XCTAssertEqual(s2, 0, e2)
            // Predictions, readout values and per-sample spike totals do not depend on the order.
            let report = try JSONSerialization.jsonObject(with: Data(o2.utf8)) as! [String: Any]
            let samples = report["per_sample"] as! [[String: Any]]
            XCTAssertEqual(samples.count, 20)
            summaries.append(samples.map { "\($0["prediction"] ?? "-") \($0["spikes"] ?? "-") \($0["readout"] ?? "-")" }.joined(separator: "\n"))
        }
        // `run` with the placement file moves graph-order events to the physical channels: same as emulate.
        let (s3, o3, e3) = try Repo.run(["run", prog, "-i", "examples/digits/digits-test.xev", "--placement", prog + ".placement.json",
                                         "--ideal-device", "--json", "--samples", "20"])
        XCTAssertEqual(s3, 0, e3)
        let report = try JSONSerialization.jsonObject(with: Data(o3.utf8)) as! [String: Any]
        summaries.append((report["per_sample"] as! [[String: Any]]).map { "\($0["prediction"] ?? "-") \($0["spikes"] ?? "-") \($0["readout"] ?? "-")" }.joined(separator: "\n"))
        XCTAssertFalse(summaries[0].isEmpty)
        XCTAssertEqual(summaries[0], summaries[1])
        XCTAssertEqual(summaries[0], summaries[2])
        // A placement file that does not fit the program is a one-line error.
        try "{\"format\": \"neuroxbar-placement\", \"version\": 1, \"mode\": \"metis\", \"order\": {\"lsm\": [0, 1]}}".write(toFile: prog + ".bad.json", atomically: true, encoding: .utf8)
        let (s4, _, e4) = try Repo.run(["run", prog, "-i", "examples/digits/digits-test.xev", "--placement", prog + ".bad.json"])
        XCTAssertEqual(s4, 1)
        XCTAssertTrue(e4.contains("order.lsm: expected 200 entries (the population's size)"), e4)
    }
}
