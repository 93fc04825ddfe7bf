import XCTest
import XbarCompiler
import XbarCore
import XbarIR
import XbarLearn
import XbarTarget

/// The 1000-neuron heterogeneous Izhikevich reservoir (docs/izhikevich.md, "Reservoir") compiled onto the two RRAM
/// targets and emulated with every device effect, against the graph's float twin (quick: one 300-step sample).
final class IzhikevichReservoirTests: XCTestCase {
    func quick() -> IzhikevichReservoir.Options {
        var o = IzhikevichReservoir.Options()
        o.samples = 1
        o.timesteps = 300
        return o
    }

    func testCompilesAndMatchesTheFloatTwinOnNeuRRAM() throws {
        let t = try Repo.target("neurram-130nm")
        let c = try IzhikevichReservoir.compare(quick(), target: t)
        let p = c.program
        XCTAssertEqual(p.version, 2)
        XCTAssertEqual(p.neurons.map(\.modelKeyword), ["izhikevich", "izhikevich"])
        XCTAssertEqual(p.step.filter { $0.kind.mnemonic == "izhikevich" }.map(\.result), ["exc.spk", "inh.spk"])
        // 400 input + 800 + 200 rows into 800 (7 column tiles of 128 neurons) and 200 (2) neurons, 256-row tiles.
        XCTAssertEqual(p.arrays.count, 54)
        XCTAssertEqual(try IRParser.parse(IRPrinter.print(p)), p)
        XCTAssertEqual(c.twin["exc"]!.meanHz, 15.41, accuracy: 0.005)
        XCTAssertLessThan(c.meanRateError("exc"), 0.05)
        XCTAssertLessThan(c.meanRateError("inh"), 0.05)
        XCTAssertEqual(c.chip["exc"]!.sdHz, c.twin["exc"]!.sdHz, accuracy: 0.1 * c.twin["exc"]!.sdHz)
    }

    func testWriteVerifiedOn40nmAndFormingIsRefused() throws {
        var t = try Repo.target("rram-40nm-256kb")
        // Forming realises zero-mean weights: the reservoir's positive input and excitatory weights cannot be formed.
        XCTAssertThrowsError(try Compiler.compile(IzhikevichReservoir.graph(quick()), target: t, options: CompileOptions(replicateMacros: true))) {
            XCTAssertTrue("\($0)".contains("projections.in->exc.weights: target rram-40nm-256kb electroforms its weights, which realises zero-mean random weights, but this projection has mean 0.5"), "\($0)")
        }
        t = try TargetLoader.resolve(Repo.path("targets/rram-40nm-256kb.toml"), searchDirs: [], overrides: ["device.programming=write_verify"])
        let c = try IzhikevichReservoir.compare(quick(), target: t)
        XCTAssertLessThan(c.meanRateError("exc"), 0.05)
        XCTAssertLessThan(c.meanRateError("inh"), 0.05)
        XCTAssertEqual(c.chip["inh"]!.activeFraction, 1)
    }
}
