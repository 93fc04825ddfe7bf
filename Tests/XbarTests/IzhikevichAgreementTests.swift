import XCTest
import XbarIR
import XbarLearn

/// The quick form of `xbar models izhikevich-agreement` (docs/izhikevich.md): the fixed-point Izhikevich neuron
/// against its double-precision reference on the same sub-steps.
final class IzhikevichAgreementTests: XCTestCase {
    func testQuickAgreementTable() throws {
        let f15 = try IzhikevichAgreement.run(neurons: 200, steps: 500, fracBits: 15)
        let f12 = try IzhikevichAgreement.run(neurons: 200, steps: 500, fracBits: 12)
        let f8 = try IzhikevichAgreement.run(neurons: 200, steps: 500, fracBits: 8)
        // Same seed: the reference is the same run in all three.
        XCTAssertEqual(f15.floatSpikes, 5086)
        XCTAssertEqual(f8.floatSpikes, 5086)
        // The default width (SpiNNaker's s16.15) agrees within one step on >= 99 % of spikes; fewer bits agree less.
        XCTAssertGreaterThanOrEqual(f15.agreement, 0.99)
        XCTAssertEqual(f15.matched, 5060)
        XCTAssertLessThan(f12.agreement, f15.agreement)
        XCTAssertLessThan(f8.agreement, f12.agreement)
        XCTAssertLessThan(f8.agreement, 0.97)
        // In this input regime the model itself is not sensitive: a 1e-9 mV/ms perturbation changes no spike.
        XCTAssertEqual(f15.perturbedAgreement, 1)
        // Rates agree to 0.1 %.
        XCTAssertEqual(f15.fixedRateHz, f15.floatRateHz, accuracy: f15.floatRateHz * 1e-3)
        // At Izhikevich's thalamic amplitudes (noise = 1: 5 and 2 mV/ms, filtered), the double model's own spike times move
        // with a 1e-9 perturbation: the ceiling no arithmetic can pass.
        let white = try IzhikevichAgreement.run(neurons: 200, steps: 500, fracBits: 15, noise: 1)
        XCTAssertLessThan(white.perturbedAgreement, 0.99)
    }

    func testSpikeMatchingPairsWithinTolerance() {
        XCTAssertEqual(IzhikevichAgreement.matches([1, 5, 9], [2, 7, 9, 12], tolerance: 1), 2)
        XCTAssertEqual(IzhikevichAgreement.matches([1, 2, 3], [2], tolerance: 1), 1)
        XCTAssertEqual(IzhikevichAgreement.matches([], [2], tolerance: 1), 0)
    }
}
