import Foundation
import XCTest
import XbarCompiler
import XbarCore
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarLearn

/// Readout training (LAPACK), quantisation equal to the compiler's, float twins, saccade events, N-MNIST folders with bad
/// files, and the `xbar experiment` command on small subsets (the full experiment is a command, not a test).
final class LearnTests: XCTestCase {
    // MARK: LAPACK / BLAS

    func testLinalgGramEigenAndCholesky() throws {
        // A = [[1,2],[3,4],[5,6]]: AᵀA = [[35,44],[44,56]].
        let a: [Double] = [1, 2, 3, 4, 5, 6]
        XCTAssertEqual(Linalg.gram(a, rows: 3, cols: 2), [35, 44, 44, 56])
        XCTAssertEqual(Linalg.transposeTimes(a, [1, 1, 1], rows: 3, colsA: 2, colsB: 1), [9, 12])
        XCTAssertEqual(Linalg.times(a, [1, 0, 0, 1], rows: 3, inner: 2, cols: 2), a)
        let s: [Double] = [4, 1, 1, 3]
        let e = try Linalg.symmetricEigen(s, size: 2)
        // Reconstruct V diag(w) Vᵀ.
        for i in 0..<2 {
            for j in 0..<2 {
                let v = (0..<2).reduce(0.0) { $0 + e.vectors[i * 2 + $1] * e.values[$1] * e.vectors[j * 2 + $1] }
                XCTAssertEqual(v, s[i * 2 + j], accuracy: 1e-12)
            }
        }
        let x = try Linalg.solvePositiveDefinite(s, [1, 2], size: 2, rhs: 1)
        XCTAssertEqual(4 * x[0] + x[1], 1, accuracy: 1e-12)
        XCTAssertEqual(x[0] + 3 * x[1], 2, accuracy: 1e-12)
        XCTAssertThrowsError(try Linalg.solvePositiveDefinite([1, 2, 2, 1], [1, 1], size: 2, rhs: 1))
    }

    func testRidgeLearnsSeparableClassesAndIsDeterministic() throws {
        // Three classes, each one "neuron" firing more; counts with seeded jitter.
        let rng = Philox(seed: 7)
        func sample(_ i: Int) -> ([Int64], Int) {
            let label = i % 3
            let c = (0..<6).map { j -> Int64 in
                let base: Double = j % 3 == label ? 12 : 4
                return Int64(base + 6 * rng.uniform(purpose: 99, UInt32(i), UInt32(j), 0))
            }
            return (c, label)
        }
        let tr = (0..<150).map(sample), va = (150..<200).map(sample), te = (200..<260).map(sample)
        let f = { (s: [([Int64], Int)]) in Features(counts: s.map { $0.0 }, labels: s.map { $0.1 }) }
        let fit = try RidgeTrainer.train(train: f(tr), val: f(va), classes: 3)
        let fit2 = try RidgeTrainer.train(train: f(tr), val: f(va), classes: 3)
        XCTAssertEqual(fit.readout, fit2.readout)
        XCTAssertGreaterThan(RidgeTrainer.accuracy(fit.quantised, f(te)), 0.95)
        XCTAssertEqual(fit.validation.count, RidgeTrainer.defaultLambdas.count)
        XCTAssertTrue(RidgeTrainer.defaultLambdas.contains(fit.lambda))
        // The Cholesky fit equals the eigen path at the chosen lambda (no refit).
        var o = RidgeTrainer.Options()
        o.refit = false
        o.lambdas = [0.1]
        let viaEigen = try RidgeTrainer.train(train: f(tr), val: f(va), classes: 3, options: o).readout
        let viaChol = try RidgeTrainer.fit(f(tr), classes: 3, lambda: 0.1)
        for (a, b) in zip(viaEigen.weights + viaEigen.bias, viaChol.weights + viaChol.bias) { XCTAssertEqual(a, b, accuracy: 1e-9) }
    }

    /// With fewer than half as many samples as features the ridge works on the n x n kernel matrix (the dual form):
    /// the same weights as the primal d x d form, on the penalty path and in the Cholesky fit.
    func testRidgeDualFormEqualsThePrimalForm() throws {
        XCTAssertEqual(Linalg.transposed([1, 2, 3, 4, 5, 6], rows: 2, cols: 3), [1, 4, 2, 5, 3, 6])
        // [[1,2,3],[4,5,6]] times its transpose: [[14, 32], [32, 77]].
        XCTAssertEqual(Linalg.kernel([1, 2, 3, 4, 5, 6], rows: 2, cols: 3), [14, 32, 32, 77])
        let rng = Philox(seed: 11)
        let n = 40, d = 120
        func count(_ i: Int, _ j: Int) -> Int64 {
            let jitter = Int64(20 * rng.uniform(purpose: 98, UInt32(i), UInt32(j), 0))
            return jitter + (j % 4 == i % 4 ? 9 : 0)
        }
        let counts: [[Int64]] = (0..<n).map { i in (0..<d).map { j in count(i, j) } }
        let f = Features(counts: counts, labels: (0..<n).map { $0 % 4 })
        for standardise in [false, true] {
            for lambda in [1e-3, 0.1, 3.0] {
                let primal = try RidgeTrainer.fit(f, classes: 4, lambda: lambda, standardise: standardise, dual: false)
                let dual = try RidgeTrainer.fit(f, classes: 4, lambda: lambda, standardise: standardise, dual: true)
                let scale = primal.weights.reduce(0.0) { max($0, abs($1)) }
                XCTAssertGreaterThan(scale, 0)
                for (a, b) in zip(primal.weights + primal.bias, dual.weights + dual.bias) { XCTAssertEqual(a, b, accuracy: 1e-9 * scale) }
                // The penalty path (here dual: d > 2n) at one penalty, without refit, equals the primal Cholesky fit.
                var o = RidgeTrainer.Options()
                o.refit = false
                o.lambdas = [lambda]
                o.standardise = standardise
                let path = try RidgeTrainer.train(train: f, val: f, classes: 4, options: o).readout
                for (a, b) in zip(primal.weights + primal.bias, path.weights + path.bias) { XCTAssertEqual(a, b, accuracy: 1e-9 * scale) }
            }
        }
    }

    func testQuantisedReadoutEqualsTheCompilersReadout() throws {
        let g = try GraphJSON.load(Repo.path("examples/lsm-paper/lsm-paper.json"))
        let r = g.readout!
        let t = try Repo.target("rram-40nm-256kb")
        let c = try Compiler.compile(g, target: t)
        let decl = c.program.readouts[0]
        let q = QuantisedReadout(LinearReadout(classes: r.classes, features: 200, weights: r.weights!, bias: r.bias!), target: t)
        XCTAssertEqual(decl.weights, q.weights)
        XCTAssertEqual(decl.bias, q.bias)
        XCTAssertEqual(decl.scale, q.scale)
        XCTAssertEqual(q.weights.map { abs($0) }.max(), 127)  // int8, symmetric, shared by the classes
    }

    // MARK: Float twins

    func testFloatLIFFollowsTheWrittenUpdate() throws {
        // One input -> one neuron, weight 3, decay 0.5, threshold 5: v = 3, 4.5, 5.25 (spike, reset), 3, 4.5.
        let g = Graph(name: "t", timesteps: 5,
                      populations: [Population(name: "in", kind: .input, size: 1),
                                    Population(name: "n", kind: .lif, size: 1, lif: LIFParameters(decay: 0.5, threshold: 5))],
                      projections: [Projection(name: "w", from: "in", to: "n", delay: 0, weights: .dense([3]))])
        let net = try FloatNetwork(graph: g)
        let s = SpikeRaster(channels: 1, timesteps: 5, active: [[0], [0], [0], [0], [0]])
        XCTAssertEqual(net.run(s).counts, [[1]])
        // No leak, weight 4: zero reset gives 4, 8* -> 0, 4, 8*, 4, 8* (3 spikes); subtractive reset keeps the excess:
        // 4, 8* -> 3, 7* -> 2, 6* -> 1, 5 (not > 5), 9* (4 spikes).
        var g2 = g
        g2.timesteps = 6
        g2.populations[1].lif!.decay = 1
        g2.projections[0].weights = .dense([4])
        let s6 = SpikeRaster(channels: 1, timesteps: 6, active: [[Int32]](repeating: [0], count: 6))
        XCTAssertEqual(try FloatNetwork(graph: g2).run(s6).counts, [[3]])
        g2.populations[1].lif!.reset = .subtract
        XCTAssertEqual(try FloatNetwork(graph: g2).run(s6).counts, [[4]])
        // Refractory 2: 4, 8* (silent 2 steps), -, -, 4, 8*.
        g2.populations[1].lif!.reset = .zero
        g2.populations[1].lif!.refractory = 2
        XCTAssertEqual(try FloatNetwork(graph: g2).run(s6).counts, [[2]])
    }

    func testChipTwinWeightsMatchTheGraphOnAProgrammedTarget() throws {
        var o = LSMBuilder.PaperOptions()
        o.inputs = 16
        o.neurons = 8
        o.recurrentGain = 0.25
        let g = LSMBuilder.paper(o)
        let t = try Repo.target("ideal")
        let c = try Compiler.compile(g, target: t)
        let twin = try FloatNetwork(program: c.program, codes: c.program.arrays.map(\.codes))
        let sw = try FloatNetwork(graph: g)
        let fmt = c.stats.formats[0]
        let unit = fmt.weightScale / Double(1 << fmt.fracBits)
        XCTAssertEqual(twin.neurons[0].threshold * unit, 5.0, accuracy: unit)
        for (e, se) in zip(twin.incoming[0].sorted { $0.delay < $1.delay }, sw.incoming[0].sorted { $0.delay < $1.delay }) {
            XCTAssertEqual(e.weights.count, se.weights.count)
            for (a, b) in zip(e.weights, se.weights) { XCTAssertEqual(a * unit, b, accuracy: fmt.weightScale * 0.5001) }
        }
    }

    // MARK: Saccade events and folders

    func testSaccadeRecordingsAreDeterministicAndInTheN_MNISTFormat() throws {
        let rows = try Digits.loadCSV(Repo.path("examples/digits/digits.csv"))
        let o = SaccadeOptions()
        let a = Saccades.convert(pixels: rows[5].pixels, sampleIndex: 5, options: o)
        XCTAssertEqual(a, Saccades.convert(pixels: rows[5].pixels, sampleIndex: 5, options: o))
        XCTAssertGreaterThan(a.count, 500)
        XCTAssertTrue(a.allSatisfy { Int($0.x) < 34 && Int($0.y) < 34 && Int($0.timestampUS) < o.durationUS })
        XCTAssertTrue(zip(a, a.dropFirst()).allSatisfy { $0.timestampUS <= $1.timestampUS })
        XCTAssertTrue(a.contains { $0.polarity } && a.contains { !$0.polarity })
        XCTAssertEqual(try NMNIST.decode(NMNIST.encode(a), file: "x"), a)
        // A different seed gives a different recording.
        var o2 = o
        o2.seed = 2
        XCTAssertNotEqual(a, Saccades.convert(pixels: rows[5].pixels, sampleIndex: 5, options: o2))
        // The split is fixed: 20% test, seeded.
        let test = DigitsEvents.testRows(count: rows.count, splitSeed: 1)
        XCTAssertEqual(test.count, 359)
        XCTAssertEqual(test, DigitsEvents.testRows(count: rows.count, splitSeed: 1))
    }

    func testFolderRoundTripAndBadFiles() throws {
        let rows = Array(try Digits.loadCSV(Repo.path("examples/digits/digits.csv")).prefix(30))
        let recs = DigitsEvents.recordings(rows, options: SaccadeOptions(), splitSeed: 1)
        let dir = Repo.tempDir().path
        try NMNISTFolder.write(recs, to: dir)
        let bin = BinOptions()
        let loaded = try NMNISTFolder.load(dir, bin: bin, onBadFile: .stop)
        let memory = LabelledSet.binning(recs, bin)
        XCTAssertEqual(loaded.train, memory.train)
        XCTAssertEqual(loaded.test, memory.test)
        XCTAssertEqual(loaded.trainNames, memory.trainNames)
        XCTAssertEqual(loaded.train.count + loaded.test.count, 30)
        // Corrupt two files: truncate one mid-event, empty another.
        let t0 = (dir as NSString).appendingPathComponent(memory.trainNames[0])
        let t1 = (dir as NSString).appendingPathComponent(memory.trainNames[1])
        let d = try Data(contentsOf: URL(fileURLWithPath: t0))
        try d.prefix(d.count - 2).write(to: URL(fileURLWithPath: t0))
        try Data().write(to: URL(fileURLWithPath: t1))
        let warnings = Lines()
        let skipped = try NMNISTFolder.load(dir, bin: bin, onBadFile: .skip, warn: { warnings.add($0) })
        XCTAssertEqual(skipped.badFiles.count, 2)
        XCTAssertEqual(skipped.train.count, memory.train.count - 2)
        XCTAssertEqual(warnings.all.count, 2)
        XCTAssertTrue(warnings.all[0].hasPrefix("warning: skipping \(t0): byte "), warnings.all[0])
        XCTAssertTrue(warnings.all[0].contains("truncated"), warnings.all[0])
        XCTAssertTrue(warnings.all[1].contains(t1), warnings.all[1])
        XCTAssertThrowsError(try NMNISTFolder.load(dir, bin: bin, onBadFile: .stop)) { e in
            XCTAssertTrue("\(e)".contains(t0), "\(e)")
        }
    }

    // MARK: The experiment

    func testExperimentRunsSoftwareTwinAndChipOnASubset() throws {
        let rows = Array(try Digits.loadCSV(Repo.path("examples/digits/digits.csv")).prefix(120))
        let set = LabelledSet.binning(DigitsEvents.recordings(rows, options: SaccadeOptions(), splitSeed: 1), BinOptions())
        var o = LSMBuilder.PaperOptions()
        o.recurrentGain = 0.25
        var spec = ExperimentSpec(name: "t", graph: LSMBuilder.paper(o), target: try Repo.target("rram-40nm-256kb"), seeds: [3])
        spec.trainer.standardise = false
        let checkpoints = Lines()
        var hooks = ExperimentHooks()
        hooks.checkpoint = { checkpoints.add("\($0.count)") }
        let r = try Experiment.run(spec, data: set, hooks: hooks)
        XCTAssertEqual(r.map(\.kind), [.software, .chipFloat, .chip])
        XCTAssertEqual(checkpoints.all, ["1", "2", "3"])
        for m in r {
            XCTAssertEqual(m.confusion.flatMap { $0 }.reduce(0, +), set.test.count)
            XCTAssertGreaterThan(m.testAccuracy, 0.5, "\(m.kind)")  // 96 training samples: far above chance (0.1)
        }
        // The chip ran the quantised readout: its predictions are those of the integer readout on its counts, so the
        // exported graph run by the emulator reproduces them (same instance, same sample indices).
        let chip = r[2]
        var g = Experiment.reseeded(spec.graph, seed: 3)
        g.readout = Readout(from: "lsm", classes: 10, weights: chip.readout.weights, bias: chip.readout.bias)
        let c = try Compiler.compile(g, target: spec.target, options: CompileOptions(seed: 3))
        let chipInstance = try Chip(program: c.program, target: spec.target, seed: 3)
        let out = try Runner(chip: chipInstance, engine: .fast, options: RunOptions(seed: 3))
            .run(EventDataset(channels: 256, timesteps: 50, samples: set.test), file: "test")
        let right = zip(out.samples, set.test).filter { $0.prediction("readout") == $1.label }.count
        XCTAssertEqual(Double(right) / Double(set.test.count), chip.testAccuracy)
    }

    func testExperimentCommandOnAFolderWithACorruptFile() throws {
        let rows = Array(try Digits.loadCSV(Repo.path("examples/digits/digits.csv")).prefix(60))
        let recs = DigitsEvents.recordings(rows, options: SaccadeOptions(), splitSeed: 1)
        let dir = Repo.tempDir().path
        try NMNISTFolder.write(recs, to: dir)
        let bad = (dir as NSString).appendingPathComponent(recs.first { $0.split == .train }!.name)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: bad))
        let out = Repo.tempDir().path
        let (s, o, e) = try Repo.run(["experiment", "--data", dir, "--seeds", "1,2", "--models", "software,chip", "--out", out])
        XCTAssertEqual(s, 0, e)
        XCTAssertTrue(e.contains("warning: skipping \(bad): byte 0: length 3 is not a multiple of 5"), e)
        XCTAssertTrue(e.contains("warning: 1 bad file skipped"), e)
        XCTAssertTrue(o.contains("| chip | int8 on chip |"), o)
        XCTAssertTrue(o.contains("energy per sample, chip: "), o)
        XCTAssertTrue(o.contains("latency per sample: "), o)
        let json = try String(contentsOfFile: (out as NSString).appendingPathComponent("results.json"), encoding: .utf8)
        XCTAssertTrue(json.contains("\"complete\": true"), json)
        XCTAssertTrue(json.contains("\"bad_files_skipped\": 1"), json)
        XCTAssertTrue(FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent("confusion-chip.csv")))
        // Stop: one line naming the file, exit 1.
        let (s2, _, e2) = try Repo.run(["experiment", "--data", dir, "--on-bad-file", "stop", "--seeds", "1", "--models", "software"])
        XCTAssertEqual(s2, 1)
        XCTAssertEqual(e2.filter { $0 == "\n" }.count, 1, e2)
        XCTAssertTrue(e2.hasPrefix("error: \(bad): byte 0"), e2)
    }
}

/// Thread-safe line collector.
final class Lines: @unchecked Sendable {
    private var v: [String] = []
    private let lock = NSLock()
    func add(_ s: String) { lock.lock(); v.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return v }
}
