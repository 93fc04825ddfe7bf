import ArgumentParser
import Foundation
import XbarCore
import XbarGraph
import XbarNIR

/// Options that say how a `.nir` file given where a graph is expected is discretised (docs/nir.md). Shared by
/// `import`, `compile`, `emulate`, `run`-style commands; ignored for graph JSON files.
struct NIRImportFlags: ParsableArguments {
    @Option(help: "NIR input only: timestep in seconds (required for .nir).") var dt: Double?
    @Option(help: "NIR input only: reset after a spike, zero or subtract (required for .nir).") var reset: String?
    @Option(help: "NIR input only: neuron discretisation, exact or euler.") var discretisation: String = "exact"
    @Option(help: "NIR input only: timesteps of the imported graph (default: the event input's, else 100).")
    var timesteps: Int?

    /// The importer options for `file`, or a one-line error saying which flag is missing or wrong.
    func options(file: String, name: String, defaultTimesteps: Int = 100) throws -> NIRImportOptions {
        guard let dt, dt > 0, dt.isFinite else {
            throw XbarError(file: file, field: "--dt", "a .nir graph needs --dt, the timestep in seconds (NIR is continuous-time)")
        }
        guard let r = reset.flatMap(LIFParameters.Reset.init(rawValue:)) else {
            throw XbarError(file: file, field: "--reset", "a .nir graph needs --reset zero or --reset subtract (NIR stores no reset rule)")
        }
        guard let d = NIRImportOptions.Discretisation(rawValue: discretisation) else {
            throw XbarError(file: file, field: "--discretisation", "expected exact or euler, got '\(discretisation)'")
        }
        let steps = timesteps ?? defaultTimesteps
        guard steps >= 1 && steps <= 1_000_000 else {
            throw XbarError(file: file, field: "--timesteps", "expected 1...1000000, got \(steps)")
        }
        return NIRImportOptions(dt: dt, reset: r, discretisation: d, timesteps: steps, name: name)
    }
}

/// Loads the graph a command was given: graph JSON, or a NIR file (by its `.nir` extension) imported on the fly.
enum GraphInput {
    static func isNIR(_ path: String) -> Bool { URL(fileURLWithPath: path).pathExtension.lowercased() == "nir" }

    static func load(_ path: String, nir flags: NIRImportFlags, defaultTimesteps: Int = 100) throws -> Graph {
        guard isNIR(path) else { return try GraphJSON.load(path) }
        let base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let opts = try flags.options(file: path, name: base, defaultTimesteps: defaultTimesteps)
        return try NIRImporter.graph(from: try NIRReader.read(path: path), options: opts, file: path)
    }
}
