import ArgumentParser
import Foundation
import XbarCore
import XbarGraph
import XbarNIR

/// Options that say how a `.nir` file given where a graph is expected is discretised (docs/nir.md). Shared by
/// `import`, `compile`, `emulate`, `run`-style commands; ignored for graph JSON files.
struct NIRImportFlags: ParsableArguments {
    @Option(help: "Timestep in seconds (required for a .nir graph).") var dt: Double?
    @Option(help: "Reset after a spike, zero or subtract (required for a .nir graph).") var reset: String?
    @Option(help: "Neuron discretisation of a .nir graph: exact or euler.") var discretisation: String = "exact"
    @Option(help: "Timesteps of a graph imported from .nir (default: the event input's, else 100).")
    var timesteps: Int?
    @Flag(help: "For a .nir graph: rebind an edge end naming no node to the only node of its (nested) graph without an edge on that side, with a warning.")
    var repairDangling = false

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
        return NIRImportOptions(dt: dt, reset: r, discretisation: d, timesteps: steps, name: name,
                                repairDanglingEdges: repairDangling)
    }
}

/// Loads the graph a command was given: graph JSON, or a NIR file (by its `.nir` extension) imported on the fly.
enum GraphInput {
    static func isNIR(_ path: String) -> Bool { URL(fileURLWithPath: path).pathExtension.lowercased() == "nir" }

    static func load(_ path: String, nir flags: NIRImportFlags, defaultTimesteps: Int = 100) throws -> Graph {
        guard isNIR(path) else { return try GraphJSON.load(path) }
        return try lower(path, flags: flags, defaultTimesteps: defaultTimesteps).graph
    }

    /// Reads and lowers a NIR file, printing the importer's warnings on stderr.
    static func lower(_ path: String, flags: NIRImportFlags, name: String? = nil, defaultTimesteps: Int = 100,
                      parsed: NIRGraph? = nil) throws -> NIRImportResult {
        let base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let opts = try flags.options(file: path, name: name ?? base, defaultTimesteps: defaultTimesteps)
        let nir = try parsed ?? NIRIsolatedReader.read(path: path, allowDanglingEdges: flags.repairDangling)
        let result = try NIRImporter.lower(nir, options: opts, file: path)
        for w in result.warnings { FileHandle.standardError.write(Data(("warning: " + w + "\n").utf8)) }
        return result
    }
}
