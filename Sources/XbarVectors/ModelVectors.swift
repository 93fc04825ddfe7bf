import Foundation
import XbarCore
import XbarEmulator
import XbarEvents
import XbarIR

/// The unit-level vectors of every population of a registered neuron model (docs/vectors.md, "Neuron models"): per
/// sample, the model's testbench file (`ModelRTL`) from the engine's traces, the model's Verilog unit and testbench,
/// and `tb/run_models.sh` (Icarus Verilog) and `tb/run_models_verilator.sh`, which run each file through the testbench.
enum ModelVectors {
    static func files(_ p: Program, chip: Chip, data: EventDataset, binding: InputBinding, rtl: RTLSources) throws -> [VectorFile] {
        let models = p.neurons.compactMap { n in n.model.flatMap { NeuronModels.model($0.model) }.map { (n, $0) } }
        guard !models.isEmpty else { return [] }
        var files: [VectorFile] = []
        var scripts = RTLSimulator.allCases.map { $0.scriptHead("Runs the neuron-model unit testbenches") }
        var copied = Set<String>()
        for (_, m) in models {
            for (k, sim) in RTLSimulator.allCases.enumerated() where !copied.contains(m.rtl.testbench) {
                scripts[k] += sim.build(name: m.keyword, top: m.rtl.top, sources: ["tb/\(m.rtl.unit)", "tb/\(m.rtl.testbench)"], standard: 2012)
            }
            for f in [m.rtl.unit, m.rtl.testbench] where copied.insert(f).inserted {
                guard let text = rtl.modelFiles[f] else {
                    throw XbarError(file: f, field: "rtl", "the \(m.keyword) model's Verilog source was not found beside rtl/\(RTLSources.unitFile)")
                }
                files.append(VectorFile(path: "tb/\(f)", data: Data(text.utf8), entry: [
                    ("role", .string("rtl")), ("format", .string("verilog")),
                    ("description", .string("the repository's Verilog of the \(m.keyword) neuron unit or its testbench (rtl/\(f))")),
                ]))
            }
        }
        let engine = FastEngine(chip: chip)
        for (s, raster) in data.samples.enumerated() {
            let r = engine.run(raster, index: s, binding: binding, trace: true)
            for (n, m) in models {
                guard let tr = r.traces[n.name] else { continue }
                var spiked = [[Bool]](repeating: [Bool](repeating: false, count: n.size), count: p.timesteps)
                for x in r.spikes[n.name] ?? [] { spiked[Int(x.step)][Int(x.neuron)] = true }
                let text = m.unitVectors(n, steps: ModelStepRecords(input: tr.preActivation, membrane: tr.membrane, state: tr.state,
                                                                    spiked: spiked))
                let path = "models/\(n.name).s\(s).txt"
                files.append(VectorFile(path: path, data: Data(text.utf8), entry: [
                    ("role", .string("model_unit_vectors")), ("format", .string("text")),
                    ("description", .string("@\(n.name) (\(m.keyword)), sample \(s): the unit testbench's vector file (docs/rtl-\(m.keyword).md): parameters, then per step and neuron the input and the expected state")),
                ]))
                for (k, sim) in RTLSimulator.allCases.enumerated() {
                    scripts[k] += sim.run(name: m.keyword, args: "+\(m.rtl.vectorsArg)=\(path)",
                                          log: "tb/\(n.name).s\(s)\(sim == .iverilog ? "" : ".verilator").log")
                }
            }
        }
        for (k, sim) in RTLSimulator.allCases.enumerated() {
            files.append(VectorFile(path: sim == .iverilog ? "tb/run_models.sh" : "tb/run_models_\(sim.rawValue).sh", data: Data(scripts[k].utf8), entry: [
                ("role", .string("testbench")), ("format", .string("sh")),
                ("description", .string("builds every neuron-model unit testbench and runs it on its vector files with \(sim.displayName)")),
            ]))
        }
        return files
    }
}
