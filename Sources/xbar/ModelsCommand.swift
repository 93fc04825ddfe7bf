import ArgumentParser
import Foundation
import XbarCore
import XbarIR
import XbarLearn

/// `xbar models`: the registered neuron models and their checks (docs/ir.md, "Neuron models"; docs/izhikevich.md).
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the neuron models and check their fixed-point forms against their float references.",
        subcommands: [List.self, IzhikevichAgreementCommand.self],
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
