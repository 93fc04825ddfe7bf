import XCTest
import XbarCompiler
import XbarCore
import XbarEmulator
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

/// `FloatNetwork(program:codes:)` covers registered-model populations (the chip-weight float twin of an Izhikevich
/// program): on an ideal chip its firing rates follow the fixed-point engine's, and its parameters are the IR's.
final class IzhikevichProgramTwinTests: XCTestCase {
    func testProgramTwinOfTheReservoirFollowsTheEngine() throws {
        var o = IzhikevichReservoir.Options()
        o.samples = 1
        o.timesteps = 300
        let t = try Repo.target("ideal")
        let p = try Compiler.compile(IzhikevichReservoir.graph(o), target: t, options: CompileOptions(replicateMacros: true, seed: o.seed)).program
        let data = IzhikevichReservoir.input(o)
        let chip = Chip(program: p, seed: 1, timing: t.timing)
        let engine = try Runner(chip: chip, engine: .fast, options: RunOptions(seed: 1, threads: 1)).run(data, file: "synthetic")
        let twin = try FloatNetwork(program: p, codes: chip.codes)
        let graphTwin = try FloatNetwork(graph: IzhikevichReservoir.graph(o))
        let r = twin.run(data.samples[0]), g = graphTwin.run(data.samples[0])
        for (k, pop) in ["exc", "inh"].enumerated() {
            let chipTotal = Double(engine.samples[0].counts[pop]!.reduce(0, +))
            let twinTotal = Double(r.counts[k].reduce(0, +)), graphTotal = Double(g.counts[k].reduce(0, +))
            XCTAssertGreaterThan(chipTotal, 100, pop)
            XCTAssertEqual(twinTotal, chipTotal, accuracy: 0.03 * chipTotal, pop)
            XCTAssertEqual(twinTotal, graphTotal, accuracy: 0.05 * graphTotal, pop)
        }
        // One neuron's parameters read back as reals: the IR's c and 0.04 as Q / 2^S.
        let z = IzhikevichModel.floatDynamics(program: p.neurons[0].model!, size: p.neurons[0].size) as! InputScaledDynamics
        let f = z.inner as! IzhikevichFloat
        XCTAssertEqual(z.scale, 1.0 / 32768)
        XCTAssertEqual(f.c[0], Double(p.neurons[0].model!.vector("c")[0]) / 32768)
        XCTAssertEqual(f.quad, 20972.0 / 524288)
    }
}
