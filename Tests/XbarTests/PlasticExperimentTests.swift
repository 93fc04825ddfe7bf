import XCTest
import XbarCore
import XbarEvents
import XbarGraph
import XbarLearn
import XbarTarget

/// `xbar experiment --config nalsm-stdp` on a small seeded subset: the figures of one seeded run (any change to the
/// rules, the device model, the engines or the readout shows here), and the shape of the result.
final class PlasticExperimentTests: XCTestCase {
    func testNALSMExperimentOnASubset() throws {
        let rows = Array(try Digits.loadCSV(Repo.path("examples/digits/digits.csv")).prefix(60))
        var bin = BinOptions()
        bin.crop = nil
        bin.polarity = .both
        bin.timesteps = 16
        let set = LabelledSet.binning(DigitsEvents.recordings(rows, options: SaccadeOptions(), splitSeed: 1), bin)
        var o = LSMBuilder.NALSMOptions()
        o.neurons = 125
        o.timesteps = 16
        var spec = PlasticExperimentSpec(options: o, target: try Repo.target("rram-plastic-130nm"), seeds: [1])
        spec.variants = [.lsm, .stdp, .nalsm]
        spec.learnSamples = 4
        spec.branchingSamples = 5
        let r = try PlasticExperiment.run(spec, data: set)
        XCTAssertEqual(r.map { "\($0.variant.rawValue)/\($0.model.rawValue)" },
                       ["lsm/software", "lsm/chip", "lsm-stdp/software", "lsm-stdp/chip", "nalsm/software", "nalsm/chip"])
        // The seeded run's figures (12 test samples; 4 learning samples of 16 steps on a 125-neuron liquid).
        XCTAssertEqual(r.map { Int(($0.testAccuracy * 12).rounded()) }, [8, 8, 10, 8, 9, 9])
        XCTAssertEqual(r.map(\.pulses), [0, 0, 0, 110_144, 0, 102_751])
        XCTAssertEqual(r.map { $0.meanSpikesPerSample * 12 }, [3007, 3263, 2719, 3285, 7196, 4574])
        let bf = r.compactMap(\.branchingFactor)
        for (got, want) in zip(bf, [1.1538656799593274, 1.0409449901883421, 1.2752592745801716]) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        XCTAssertEqual(r[1].pulses, 0, "a fixed liquid writes nothing")
        XCTAssertGreaterThan(r[3].pulses, 0)
        XCTAssertGreaterThan(r[5].pulses, 0)
        for x in r where x.model == .chip { XCTAssertTrue(x.branchingFactor?.isFinite ?? false) }
    }
}
