import ArgumentParser
import Foundation
import XbarCore
import XbarIR
import XbarLearn
import XbarGraph
import XbarTarget

/// `xbar models`: the registered neuron models and their checks (docs/ir.md, "Neuron models"; docs/izhikevich.md).
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the neuron models and check their fixed-point forms against their float references.",
        subcommands: [List.self, IzhikevichAgreementCommand.self, IzhikevichReservoirCommand.self],
        defaultSubcommand: List.self)

    /// `xbar models list`: every model with its IR fields, per-neuron lines and state.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Print every neuron model's IR fields and state.")

        func run() throws {
            print("lif (built in): mem decay threshold reset refractory bias count [nonspiking] [synapse] [biases]; state mem, refr, syn")
            for m in NeuronModels.registered {
                print("\(m.keyword): fields \(m.fields.map(\.key).joined(separator: " ")) count; per-neuron \(m.perNeuron.joined(separator: " ")); state \(m.stateNames.joined(separator: ", "))")
                for f in m.fields { print("  \(f.key): \(f.meaning)") }
            }
        }
    }
}

/// `xbar models izhikevich-agreement`: spike-time agreement of the fixed-point Izhikevich neuron with its double
/// reference, per fraction-bit width (the table of docs/izhikevich.md).
struct IzhikevichAgreementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "izhikevich-agreement",
        abstract: "Fixed-point Izhikevich vs its double-precision reference: spike-time agreement per fraction bits.")

    @Option(help: "Neurons (80 % excitatory).") var neurons = 1000
    @Option(help: "Timesteps of 1 ms.") var steps = 1000
    @Option(help: "Comma-separated fraction bits to tabulate.") var fracBits = "6,8,10,12,15,18,20"
    @Option(help: "Euler sub-steps per timestep.") var substeps = 2
    @Option(help: "Fraction bits of a and b.") var abFracBits = 24
    @Option(help: "Input noise in units of Izhikevich's thalamic amplitudes (5 and 2 mV/ms), low-pass filtered (tau 5 ms).") var noise = 3.0
    @Option(help: "Seed of parameters and inputs.") var seed: UInt64 = 1
    @Flag(help: "200 neurons x 500 steps at 8, 12 and 15 bits.") var quick = false
    @Flag(help: "Print CSV instead of a markdown table.") var csv = false

    func run() throws {
        try reportingErrors {
            let bits = quick ? [8, 12, 15] : fracBits.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !bits.isEmpty, bits.allSatisfy({ (0...24).contains($0) }) else {
                throw XbarError(file: "<args>", field: "--frac-bits", "expected a comma-separated list of integers in 0...24, found \"\(fracBits)\"")
            }
            let n = quick ? 200 : neurons, T = quick ? 500 : steps
            guard n >= 1 && n <= 1_000_000, T >= 1 && T <= 10_000_000 else {
                throw XbarError(file: "<args>", field: "--neurons/--steps", "expected 1...1000000 neurons and 1...10000000 steps")
            }
            print(csv ? "frac_bits,substeps,neurons,steps,float_spikes,fixed_spikes,matched,agreement,float_rate_hz,fixed_rate_hz,float_vs_perturbed_float"
                      : "| frac bits | float spikes | fixed spikes | matched (±1 step) | agreement | float rate (Hz) | fixed rate (Hz) | float vs float + 1e-9 |\n|---|---|---|---|---|---|---|---|")
            for F in bits {
                let r = try IzhikevichAgreement.run(neurons: n, steps: T, fracBits: F, abFracBits: abFracBits, substeps: substeps,
                                                    noise: noise, seed: seed)
                if csv {
                    print("\(F),\(r.substeps),\(r.neurons),\(r.steps),\(r.floatSpikes),\(r.fixedSpikes),\(r.matched),\(String(format: "%.5f", r.agreement)),\(String(format: "%.3f", r.floatRateHz)),\(String(format: "%.3f", r.fixedRateHz)),\(String(format: "%.5f", r.perturbedAgreement))")
                } else {
                    print("| \(F) | \(r.floatSpikes) | \(r.fixedSpikes) | \(r.matched) | \(String(format: "%.2f %%", 100 * r.agreement)) | \(String(format: "%.2f", r.floatRateHz)) | \(String(format: "%.2f", r.fixedRateHz)) | \(String(format: "%.2f %%", 100 * r.perturbedAgreement)) |")
                }
            }
        }
    }
}

/// `xbar models izhikevich-reservoir`: the 1000-neuron heterogeneous Izhikevich reservoir compiled onto a target and
/// emulated, against the graph's float twin (docs/izhikevich.md, "Reservoir").
struct IzhikevichReservoirCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "izhikevich-reservoir",
        abstract: "Compile and emulate the Izhikevich (2003) reservoir; compare firing rates with the float twin.")

    @Option(help: "Target name (in targets/) or path to a target .toml.") var target = "neurram-130nm"
    @Option(name: .customLong("set"), help: ArgumentHelp("Change one target value, e.g. --set timing.max_rows_driven=32 (repeatable).", valueName: "TABLE.KEY=VALUE"))
    var overrides: [String] = []
    @Option(help: "Samples of 1000 steps (1 s) of Poisson input.") var samples = 2
    @Option(help: "Seed of the network, the input and the chip.") var seed: UInt64 = 1
    @Flag(help: "Read the programmed codes exactly (no device effects).") var idealDevice = false
    @Flag(help: "One sample of 300 steps.") var quick = false
    @Option(help: "Scale of the paper's recurrent weights (excitatory uniform [0, 0.5], inhibitory [-1, 0]).") var recurrentScale = 0.25
    @Option(help: "Input channels' Poisson rate, Hz.") var inputRate = 25.0
    @Option(help: "Also write the reservoir's graph JSON to this path.") var writeGraph: String?

    func run() throws {
        try reportingErrors {
            let t = try TargetLoader.resolve(target, searchDirs: targetSearchDirs(), overrides: overrides)
            var o = IzhikevichReservoir.Options()
            o.samples = quick ? 1 : samples
            o.timesteps = quick ? 300 : 1000
            o.seed = seed
            o.recurrentScale = recurrentScale
            o.inputRateHz = inputRate
            guard o.samples >= 1 && o.samples <= 1000 else { throw XbarError(file: "<args>", field: "--samples", "expected 1...1000") }
            if let path = writeGraph {
                try AtomicFile.write(Data(GraphWriter.json(IzhikevichReservoir.graph(o)).utf8), to: path)
            }
            let c = try IzhikevichReservoir.compare(o, target: t, idealDevice: idealDevice)
            print("izhikevich reservoir on \(c.target) (\(c.arrays) arrays), \(o.samples) x \(o.timesteps) steps, seed \(seed)\(idealDevice ? ", ideal device" : "")")
            print("| population | chip mean (Hz) | twin mean (Hz) | mean error | chip sd (Hz) | twin sd (Hz) | chip active | twin active |")
            print("|---|---|---|---|---|---|---|---|")
            for pop in ["exc", "inh"] {
                let a = c.chip[pop]!, b = c.twin[pop]!
                print(String(format: "| %@ | %.2f | %.2f | %.2f %% | %.2f | %.2f | %.3f | %.3f |", pop, a.meanHz, b.meanHz,
                             100 * c.meanRateError(pop), a.sdHz, b.sdHz, a.activeFraction, b.activeFraction))
            }
        }
    }
}
