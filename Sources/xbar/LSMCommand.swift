import ArgumentParser
import Foundation
import XbarCore
import XbarGraph

/// `xbar lsm paper|nalsm -o GRAPH`: build the reference liquid state machines as graph JSON.
struct LSMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lsm", abstract: "Build reference liquid state machine graphs.",
                                                    subcommands: [Paper.self, NALSM.self])

    struct Common: ParsableArguments {
        @Option(name: .shortAndLong, help: "Output graph JSON (default: stdout).") var output: String?
        @Option(help: "Seed of the random weights.") var seed: UInt64 = 1
        @Option(help: "Timesteps per sample.") var timesteps: Int = 50
        @Option(help: "Membrane decay per step.") var decay: Double = 0.9
        @Option(help: "Firing threshold.") var threshold: Double = 5.0
        @Option(help: "Input weight gain (std of the normal weights).") var inputGain: Double = 1.0
        @Option(help: "Input connection density.") var inputDensity: Double?
        @Option(help: "Recurrent weight gain.") var recurrentGain: Double?
        @Option(help: "Readout classes.") var classes: Int = 10
        @Option(help: "example_input path written into the graph.") var exampleInput: String?

        func emit(_ g: Graph) throws {
            var g = g
            g.exampleInput = exampleInput
            let text = GraphWriter.json(g)
            // The full reader's checks (ranges included), so a written graph always loads.
            _ = try GraphJSON.parse(Data(text.utf8), file: output ?? "<stdout>")
            if let o = output { try AtomicFile.write(text, to: o) } else { print(text, terminator: "") }
        }
    }

    struct Paper: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lin et al.'s LSM: 256 inputs -> 200 LIF, decay 0.9, threshold 5.0, 50 steps.")
        @OptionGroup var common: Common
        @Option(help: "Input channels.") var inputs: Int = 256
        @Option(help: "Reservoir neurons.") var neurons: Int = 200
        @Option(help: "Recurrent connection density.") var recurrentDensity: Double = 1.0
        @Option(help: "Each input drives exactly this many neurons (instead of --input-density).") var inputFanout: Int?
        @Option(help: "Each neuron drives exactly this many others (instead of --recurrent-density).") var recurrentFanout: Int?

        func run() throws {
            try reportingErrors {
                var o = LSMBuilder.PaperOptions()
                o.inputs = inputs; o.neurons = neurons; o.timesteps = common.timesteps; o.decay = common.decay
                o.threshold = common.threshold; o.inputGain = common.inputGain; o.seed = common.seed; o.classes = common.classes
                o.inputDensity = common.inputDensity ?? 1.0
                o.recurrentGain = common.recurrentGain ?? 0.5
                o.recurrentDensity = recurrentDensity
                o.inputFanout = inputFanout
                o.recurrentFanout = recurrentFanout
                try common.emit(LSMBuilder.paper(o))
            }
        }
    }

    struct NALSM: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "nalsm", abstract: "NALSM-style 3-D reservoir: N neurons on a grid, 80/20 E/I, P = C exp(-(D/lambda)^2).")
        @OptionGroup var common: Common
        @Option(help: "Input channels (34x34x2 = 2312 for N-MNIST).") var inputs: Int = 2312
        @Option(help: "Reservoir neurons.") var neurons: Int = 1000
        @Option(help: "Connection length scale lambda (grid units).") var lambda: Double = 2.0
        @Option(help: "Inhibitory fraction.") var inhibitory: Double = 0.2

        func run() throws {
            try reportingErrors {
                var o = LSMBuilder.NALSMOptions()
                o.inputs = inputs; o.neurons = neurons; o.timesteps = common.timesteps; o.decay = common.decay
                o.threshold = common.threshold; o.inputGain = common.inputGain; o.seed = common.seed; o.classes = common.classes
                o.lambda = lambda; o.inhibitoryFraction = inhibitory
                o.inputDensity = common.inputDensity ?? 0.1
                o.recurrentGain = common.recurrentGain ?? 1.0
                try common.emit(LSMBuilder.nalsm(o))
            }
        }
    }
}
