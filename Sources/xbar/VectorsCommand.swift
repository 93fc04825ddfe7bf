import ArgumentParser
import Foundation
import XbarCompiler
import XbarCore
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarTarget
import XbarVectors

/// `xbar vectors PROGRAM --input EVENTS --seed S --out DIR`: bit-exact test vectors for RTL and silicon (docs/vectors.md).
struct VectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors",
        abstract: "Write cycle-by-cycle test vectors: program image, stimulus, expected response, manifest, VCD and the RTL testbench.")

    @Argument(help: "Graph JSON or .nir file (compiled with --target and --seed), or IR program (.xir).") var program: String
    @Option(name: .shortAndLong, help: "Event input (.xev); default: the graph's example_input.") var input: String?
    @Option(name: .shortAndLong, help: "Target name (in targets/) or .toml path (default: rram-40nm-256kb for a graph, the program's target for an IR file).")
    var target: String?
    @Option(help: "Seed of the chip instance: forming at compile time and the device's randomness.") var seed: UInt64 = 1
    @Option(help: "Use the first N samples of the input.") var samples: Int = 1
    @Option(name: .shortAndLong, help: "Output directory (created; files listed by a previous manifest there are replaced).") var out: String
    @Option(help: "Seconds since programming at which the chip is read (default: the target's drift.age_s).") var age: Double?
    @Flag(help: "Read the programmed conductances exactly (no device effects), whatever the target says.") var idealDevice = false
    @Flag(help: "Allow the graph to use more macros than the target provides.") var replicateMacros = false
    @Option(name: .customLong("set"), help: ArgumentHelp("Change one target value (repeatable), as for compile.", valueName: "TABLE.KEY=VALUE"))
    var overrides: [String] = []
    @OptionGroup(title: "NIR input") var nir: NIRImportFlags

    func run() throws {
        try reportingErrors {
            guard samples >= 1 else { throw XbarError(file: "<command line>", field: "--samples", "expected >= 1") }
            // A .nir graph takes its timesteps from the --input file: read early, once, and reused below.
            var inputData: EventDataset?
            let isIR = !GraphInput.isNIR(program)
                && (program.hasSuffix(".xir") || (try? AtomicFile.readText(program))?.hasPrefix("xbar-ir") == true)
            let p: Program
            let t: Target
            let targetArg: String
            var inputPath = input
            if isIR {
                p = try ProgramFile.read(program)
                try IRVerifier.verify(p, file: program)
                targetArg = target ?? p.target
                t = try TargetLoader.resolve(targetArg, searchDirs: targetSearchDirs(), overrides: overrides)
            } else {
                if GraphInput.isNIR(program) { inputData = try input.map { try EventFile.read($0) } }
                let g = try GraphInput.load(program, nir: nir, defaultTimesteps: inputData?.timesteps ?? 100)
                targetArg = target ?? "rram-40nm-256kb"
                t = try TargetLoader.resolve(targetArg, searchDirs: targetSearchDirs(), overrides: overrides)
                p = try Compiler.compile(g, target: t, options: CompileOptions(replicateMacros: replicateMacros, seed: seed), file: program).program
                if inputPath == nil, let ex = g.exampleInput {
                    let d = (program as NSString).deletingLastPathComponent
                    inputPath = d.isEmpty ? ex : (d as NSString).appendingPathComponent(ex)
                }
            }
            guard let inPath = inputPath else {
                throw XbarError(file: program, field: "--input", "no --input given and no example_input in the graph")
            }
            var data = try inputData ?? EventFile.read(inPath)
            let inFile = data.samples.count
            guard inFile >= 1 else { throw XbarError(file: inPath, field: "samples", "the input has no samples") }
            data.samples = Array(data.samples.prefix(samples))
            let chip = idealDevice ? Chip(program: p, seed: seed, timing: t.timing) : try Chip(program: p, target: t, seed: seed, ageS: age)
            let rtl = try loadRTL()
            let src = VectorSource(program: program, programKind: isIR ? "ir" : "graph", targetArgument: targetArg, target: t, input: inPath,
                                   samplesInFile: inFile, seed: seed, idealDevice: idealDevice, ageS: age)
            let set = try VectorBuilder.build(program: p, chip: chip, data: data, source: src, rtl: rtl)
            try removePrevious(out)
            try set.write(to: out)
            let bytes = set.allFiles.reduce(0) { $0 + $1.1.count }
            print("wrote \(set.allFiles.count) files (\(bytes) bytes) to \(out): program \"\(p.name)\" on \(t.name), seed \(seed), \(data.samples.count) sample(s), \(set.cycles.reduce(0, +)) cycles")
            let w = set.allFiles.map { $0.0.count }.max() ?? 0
            for (path, d) in set.allFiles { print("  " + path + String(repeating: " ", count: w - path.count) + "  \(d.count) bytes") }
            print("RTL check: sh \(out)/tb/run_iverilog.sh   dump check: xbar check \(out) --dump FILE")
        }
    }

    /// Deletes the files a previous manifest in `dir` listed (so a re-run leaves no stale file behind).
    func removePrevious(_ dir: String) throws {
        let m = URL(fileURLWithPath: dir).appendingPathComponent(VectorSet.manifestName)
        guard let d = FileManager.default.contents(atPath: m.path), let r = try? JSONReader.parse(d, file: m.path),
              let files = try? r.field("files").array() else { return }
        for f in files {
            guard let rel = try? f.field("path").string(), !rel.hasPrefix("/"), !rel.contains("..") else { continue }
            try? FileManager.default.removeItem(at: URL(fileURLWithPath: dir).appendingPathComponent(rel))
        }
    }

    /// rtl/xbar_lif_unit.v and rtl/xbar_lif_tb.v from $XBAR_RTL, ./rtl or the repository of the executable.
    func loadRTL() throws -> RTLSources {
        let dirs = resourceDirs("rtl", env: "XBAR_RTL", marker: RTLSources.unitFile)
        for d in dirs {
            let u = (d as NSString).appendingPathComponent(RTLSources.unitFile)
            let tb = (d as NSString).appendingPathComponent(RTLSources.templateFile)
            if FileManager.default.fileExists(atPath: u) && FileManager.default.fileExists(atPath: tb) {
                var models: [String: String] = [:]
                for m in NeuronModels.registered {
                    for f in [m.rtl.unit, m.rtl.testbench] {
                        let path = (d as NSString).appendingPathComponent(f)
                        if FileManager.default.fileExists(atPath: path) { models[f] = try AtomicFile.readText(path) }
                    }
                }
                return RTLSources(unit: try AtomicFile.readText(u), testbenchTemplate: try AtomicFile.readText(tb), modelFiles: models)
            }
        }
        throw XbarError(file: RTLSources.unitFile, field: "rtl", "the Verilog sources were not found (looked in \(dirs.prefix(3).joined(separator: ", ")), ...; set XBAR_RTL to the repository's rtl/ directory)")
    }
}
