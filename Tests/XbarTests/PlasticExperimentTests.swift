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
        let rows = Array(try Digits.loadCSV(Repo.path("examples/digits/digits.csv")).prefix(100))
        var bin = BinOptions()
        bin.crop = nil
        bin.polarity = .both
        bin.timesteps = 20
        let set = LabelledSet.binning(DigitsEvents.recordings(rows, options: SaccadeOptions(), splitSeed: 1), bin)
        var o = LSMBuilder.NALSMOptions()
        o.neurons = 125
        o.timesteps = 20
        var spec = PlasticExperimentSpec(options: o, target: try Repo.target("rram-plastic-130nm"), seeds: [1])
        spec.variants = [.lsm, .stdp, .nalsm]
        spec.learnSamples = 6
        spec.branchingSamples = 5
        let r = try PlasticExperiment.run(spec, data: set)
        XCTAssertEqual(r.map { "\($0.variant.rawValue)/\($0.model.rawValue)" },
                       ["lsm/software", "lsm/chip", "lsm-stdp/software", "lsm-stdp/chip", "nalsm/software", "nalsm/chip"])
        // The seeded run's figures (20 test samples; 6 learning samples on a 125-neuron liquid).
        XCTAssertEqual(r.map(\.testAccuracy), [0.75, 0.65, 0.80, 0.75, 0.65, 0.70])
        XCTAssertEqual(r.map(\.pulses), [0, 0, 0, 215_908, 0, 276_126])
        XCTAssertEqual(r.map(\.meanSpikesPerSample), [285.05, 315.3, 236.55, 307.25, 1368.2, 659.3])
        let bf = r.compactMap(\.branchingFactor)
        for (got, want) in zip(bf, [1.068037, 0.991395, 1.451450]) { XCTAssertEqual(got, want, accuracy: 1e-6) }
        XCTAssertEqual(r[1].pulses, 0, "a fixed liquid writes nothing")
        XCTAssertGreaterThan(r[3].pulses, 0)
        XCTAssertGreaterThan(r[5].pulses, 0)
        for x in r where x.model == .chip { XCTAssertTrue(x.branchingFactor?.isFinite ?? false) }
    }
}
