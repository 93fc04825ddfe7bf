import XCTest
import XbarCompiler
import XbarCore
@testable import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarTarget

extension RTGraphGenerator {
    /// `make(index, seed:)` with the neuron options of docs/graph.md drawn on top from a separate stream (so the plain
    /// graph is unchanged): per-neuron and synaptic biases, synapses, non-spiking populations (only those that feed
    /// no projection and no readout), delays 0...6 and extra projections repeating a pair at another delay.
    static func makeWithNeuronModels(_ index: Int, seed: UInt64) -> Graph {
        var g = make(index, seed: seed)
        var r = RTRandom(seed: seed ^ 0x0A11_CE00, id: UInt32(index), purposes: (910, 911))
        for k in g.populations.indices where g.populations[k].kind == .lif {
            let size = g.populations[k].size
            var l = g.populations[k].lif!
            let scale = 0.3 * l.threshold
            if r.chance(0.3) { l.neuronBias = (0..<size).map { _ in scale * (2 * r.uniform() - 1) } }
            if r.chance(0.4) {
                var y = SynapseParameters(decay: r.pick([0.0, 0.5, 1.0, r.uniform()]), bias: r.chance(0.5) ? 0 : scale * (2 * r.uniform() - 1))
                if r.chance(0.3) { y.neuronBias = (0..<size).map { _ in scale * (2 * r.uniform() - 1) } }
                l.synapse = y
            }
            let name = g.populations[k].name
            if !g.projections.contains(where: { $0.from == name }) && g.readout?.from != name && r.chance(0.5) { l.spiking = false }
            g.populations[k].lif = l
        }
        var extra: [Projection] = []
        for k in g.projections.indices {
            let pr = g.projections[k]
            if r.chance(0.5) { g.projections[k].delay = pr.delay == 0 ? r.pick([0, 2, 3, 6]) : r.int(1, 6) }
            if r.chance(0.3) {
                // Delay 0 only from inputs: a new delay-0 edge between lif populations could close a cycle.
                let fromInput = g.population(named: pr.from)?.kind == .input
                let d = r.int(fromInput ? 0 : 1, 6)
                if d != g.projections[k].delay { extra.append(Projection(name: pr.name + "+\(d)", from: pr.from, to: pr.to, delay: d, weights: pr.weights)) }
            }
        }
        g.projections += extra
        // Izhikevich neurons (a separate stream): a third of the spiking lif populations become heterogeneous
        // Izhikevich populations of the 2003 parameter spread with a tonic current, so lif and Izhikevich populations
        // share graphs, arrays and spike histories.
        var z = RTRandom(seed: seed ^ 0x12E_4E0C, id: UInt32(index), purposes: (912, 913))
        for k in g.populations.indices where g.populations[k].kind == .lif && g.populations[k].lif!.spiking && z.chance(0.33) {
            let size = g.populations[k].size
            var m = IzhikevichModel.heterogeneous(size: size, excitatory: z.int(0, size), seed: seed &+ UInt64(index))
            m.perNeuron["bias"] = (0..<size).map { _ in 12 * z.uniform() - 2 }
            m.scalars["substeps"] = Double(z.pick([1, 2, 4]))
            if z.chance(0.3) { m.scalars["frac_bits"] = Double(z.pick([8, 12])); m.scalars["v_bits"] = Double(z.pick([20, 24])) }
            g.populations[k] = Population(name: g.populations[k].name, kind: .izhikevich, size: size, model: m)
        }
        return g
    }
}

/// Fast and exact engines agree on compiled random graphs x seeds, on an ideal-like tiny target (row and column
/// splits, 2 bit slices, a coarse ADC) and on the same target with every device effect on; the graphs carry the
/// neuron options (synapses, non-spiking populations, per-neuron biases, delays up to 6). Small cases also run
/// the cycle engine.
final class RandomGraphEngineTests: XCTestCase {
    func testFastEqualsExactOnRandomGraphs() throws {
        let tiny = try TargetLoader.parse(rtTinyTargetTOML, file: "tiny.toml")
        var noisyText = rtTinyTargetTOML
        noisyText += """

        [device]
        programming = "one_shot"
        sigma_preset = "neurram-wan2022"
        [device.read_noise]
        relative = 0.05
        abs_us = 0.1
        [device.faults]
        stuck_on_rate = 0.02
        stuck_off_rate = 0.02
        stuck_on_us = 10.0
        [device.drift]
        nu = 0.01
        t0_s = 1.0
        relax_relative = 0.02
        relax_abs_us = 0.05
        age_s = 100.0
        [device.adc_noise]
        offset_sigma_us = 0.3
        gain_sigma = 0.01
        noise_sigma_us = 0.3
        """
        let noisy = try TargetLoader.parse(noisyText, file: "tiny-noisy.toml")
        var cases = 0, spikes = 0, overflowRuns = 0, cycleCases = 0
        var synapses = 0, nonSpiking = 0, biased = 0, longDelays = 0, pairsAtTwoDelays = 0
        var izhikevich = 0, mixed = 0
        var gi = 0
        while cases < 1000 {
            let g = RTGraphGenerator.makeWithNeuronModels(gi, seed: 77)
            gi += 1
            // Keep the exact engine's share of the suite's time small: up to 16 neurons per population, 20 steps.
            guard g.populations.allSatisfy({ $0.kind == .input || $0.size <= 16 }), g.timesteps <= 20 else { continue }
            let target = gi % 2 == 0 ? tiny : noisy
            let seed = UInt64(gi % 5 + 1)
            let c = try Compiler.compile(g, target: target, options: CompileOptions(replicateMacros: true, seed: seed))
            let chip = try Chip(program: c.program, target: target, seed: seed)
            let channels = c.program.inputs.reduce(0) { $0 + $1.size }
            let rng = Philox(seed: UInt64(gi))
            let active: [[Int32]] = (0..<c.program.timesteps).map { t in
                (0..<channels).compactMap { ch in rng.uniform(purpose: 5, UInt32(t), UInt32(ch), 0) < 0.3 ? Int32(ch) : nil }
            }
            let raster = SpikeRaster(channels: channels, timesteps: c.program.timesteps, label: nil, active: active)
            let b = try InputBinding(program: c.program, channels: channels, file: "r")
            let f = FastEngine(chip: chip).run(raster, index: gi, binding: b)
            let (e, report) = ExactEngine(chip: chip).run(raster, index: gi, binding: b)
            XCTAssertEqual(f, e, "graph \(gi)")
            if f != e { break }
            // The cycle engine steps every clock: only on every other graph whose step has few ops (test time).
            if gi % 2 == 0 && c.program.step.count <= 150 {
                let (y, _) = CycleEngine(chip: chip).run(raster, index: gi, binding: b)
                XCTAssertEqual(f, y, "graph \(gi): fast and cycle differ")
                if f != y { break }
                cycleCases += 1
            }
            let lifs = g.populations.compactMap(\.lif)
            izhikevich += g.populations.filter { $0.kind == .izhikevich }.count
            mixed += g.populations.contains { $0.kind == .izhikevich } && g.populations.contains { $0.kind == .lif } ? 1 : 0
            synapses += lifs.filter { $0.synapse != nil }.count
            nonSpiking += lifs.filter { !$0.spiking }.count
            biased += lifs.filter { $0.neuronBias != nil || $0.synapse?.neuronBias != nil }.count
            longDelays += g.projections.filter { $0.delay > 1 }.count
            pairsAtTwoDelays += Dictionary(grouping: g.projections, by: { "\($0.from)>\($0.to)" }).values
                .filter { Set($0.map(\.delay)).count > 1 }.count
            spikes += Int(f.counters.spikes)
            if report.total > 0 { overflowRuns += 1 }
            cases += 1
        }
        XCTAssertEqual(cases, 1000)
        XCTAssertGreaterThan(spikes, 10_000)
        XCTAssertGreaterThanOrEqual(cycleCases, 150)
        print("random graphs: \(cycleCases) of \(cases) also on the cycle engine")
        for (what, n) in [("synapse", synapses), ("non-spiking", nonSpiking), ("per-neuron bias", biased),
                          ("delay > 1", longDelays), ("pair at two delays", pairsAtTwoDelays), ("izhikevich", izhikevich),
                          ("lif and izhikevich in one graph", mixed)] {
            XCTAssertGreaterThan(n, 50, "\(what) in \(cases) random graphs")
        }
    }
}
