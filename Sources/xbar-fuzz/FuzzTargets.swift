import Foundation
import XbarCore
import XbarEvents
import XbarGraph
import XbarIR
import XbarNIR
import XbarSweep
import XbarTarget

/// The in-process fuzz targets (docs/fuzzing.md): each feeds one input to one reader, as the command line would, and
/// ignores the error it reports. Only a crash, a trap or a hang is a finding.
enum FuzzTargets {
    /// Parser name -> the function that reads one input.
    static let all: [String: @Sendable (Data) -> Void] = [
        "graph": { data in _ = try? GraphJSON.parse(data, file: "fuzz.json") },
        "ir": { data in
            guard let p = try? IRParser.parse(String(decoding: data, as: UTF8.self), file: "fuzz.xir") else { return }
            _ = try? IRVerifier.verify(p, file: "fuzz.xir")
        },
        "target": { data in _ = try? TargetLoader.parse(String(decoding: data, as: UTF8.self), file: "fuzz.toml") },
        "sweep": { data in
            let env = SweepEnvironment(targetSearchDirs: [repoPath("targets")])
            _ = try? SweepSpecLoader.parse(String(decoding: data, as: UTF8.self), path: repoPath("examples/sweep/fuzz.toml"),
                                           environment: env)
        },
        "xev": { data in _ = try? EventFile.parse(String(decoding: data, as: UTF8.self), file: "fuzz.xev") },
        "nmnist": { data in
            guard let events = try? NMNIST.decode(data, file: "fuzz.bin") else { return }
            _ = NMNIST.bin(events, timesteps: 20)
        },
        // The NIR graph as the isolated reader hands it back, then the importer (HDF5 itself runs in the worker).
        "nir": { data in
            guard let g = try? NIRGraphCoding.decode(data) else { return }
            _ = try? NIRImporter.lower(g, options: NIRImportOptions(dt: 1e-4, reset: .zero, discretisation: .exact, timesteps: 10,
                                                                    name: "fuzz"), file: "fuzz.nir")
        },
    ]

    /// A path inside the repository (the executable lives in .build*/<configuration>/).
    static func repoPath(_ rel: String) -> String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent(rel).path
    }
}
