import ArgumentParser
import Foundation
import XbarCore
import XbarCost
import XbarTarget

/// `xbar validate neurram`: the energy model against NeuRRAM's measured efficiency (docs/neurram-validation.md).
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate the energy model against published silicon measurements.",
        discussion: """
        neurram: prices one 256x256 MVM per published output/input bit width of NeuRRAM (Wan et al., Nature 2022) \
        with the target's [energy] table through the same cost model as emulated runs, and prints measured vs \
        predicted TOPS/W and the 3/1 energy breakdown as markdown (docs/neurram-validation.md embeds this output).
        """)

    @Argument(help: "What to validate against: neurram.") var chip: String
    @Option(help: "Target name (in targets/) or path to a target .toml.") var target: String = "neurram-130nm"
    @Option(help: "Fraction of (row, magnitude bit) pairs pulsed, 0...1.") var activity: Double = 1
    @Flag(help: "Print the comparison as JSON.") var json = false

    func validate() throws {
        if chip != "neurram" { throw ValidationError("unknown chip '\(chip)' (known: neurram)") }
        if !(activity >= 0 && activity <= 1) { throw ValidationError("--activity must be in 0...1 (got \(activity))") }
    }

    func run() throws {
        try reportingErrors {
            let t = try TargetLoader.resolve(target, searchDirs: targetSearchDirs())
            let v = NeuRRAMValidation.run(target: t, activity: activity)
            if json {
                print(v.json().serialized())
            } else {
                print(v.markdown(), terminator: "")
            }
        }
    }
}
