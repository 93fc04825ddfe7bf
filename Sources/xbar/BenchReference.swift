import Foundation
import XbarCore
import XbarEvents
import XbarGraph
import XbarNIR

/// The external performance references of `xbar bench --reference` (scripts/bench_reference.py, docs/bench.md): the
/// same network (exported through NIR) on the same input raster, timed by the reference itself, on the same thread
/// count. They run in the test venv (`.venv`, made by scripts/python-reference.sh) or under $XBAR_PYTHON.
enum BenchReference {
    /// Which reference a workload is compared with.
    enum Engine: String {
        /// Batched float32 matrix products on NumPy/OpenBLAS (the seed paper's way of computing its LSM).
        case numpy
        /// Brian2 `cpp_standalone` with the same weights.
        case brian2
    }

    /// What a reference measured, or why it could not run.
    enum Outcome {
        case measured(label: String, samplesPerSecond: Double, spikes: Int)
        case unavailable(String)
    }

    /// The Python interpreter with the reference packages and the script, or the reason they are missing.
    static func locate() -> Result<(python: String, script: String), XbarError> {
        let scripts = resourceDirs("scripts", env: "XBAR_SCRIPTS", marker: "bench_reference.py")
        guard let dir = scripts.first(where: { FileManager.default.fileExists(atPath: $0 + "/bench_reference.py") }) else {
            return .failure(XbarError(file: "scripts/bench_reference.py", field: "", "not found beside the executable"))
        }
        let root = (dir as NSString).deletingLastPathComponent
        let python = ProcessInfo.processInfo.environment["XBAR_PYTHON"] ?? (root.isEmpty ? "." : root) + "/.venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            return .failure(XbarError(file: python, field: "", "no Python with the reference packages (run scripts/python-reference.sh, or set XBAR_PYTHON)"))
        }
        return .success((python, dir + "/bench_reference.py"))
    }

    /// Runs `engine` on `graph` and `data` with `threads` threads; the NIR and event files go to a scratch folder.
    static func run(_ engine: Engine, graph: Graph, data: EventDataset, threads: Int, repeats: Int) -> Outcome {
        let tools: (python: String, script: String)
        switch locate() {
        case let .success(t): tools = t
        case let .failure(e): return .unavailable(e.description)
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xbar-bench-\(getpid())-\(engine.rawValue)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let (nir, _) = try NIRExporter.nir(from: graph, options: NIRExportOptions(dt: 1e-3), file: graph.name)
            try NIRWriter.write(nir, to: dir + "/net.nir", gzip: false)
            try EventFile.write(data, to: dir + "/in.xev")
        } catch let e as XbarError {
            return .unavailable(e.description)
        } catch {
            return .unavailable("\(error)")
        }
        let args = [tools.script, engine.rawValue, "--nir", dir + "/net.nir", "--events", dir + "/in.xev", "--dt", "1e-3",
                    "--threads", "\(threads)", "--repeats", "\(max(1, repeats))", "--workdir", dir + "/brian2"]
        var env = ProcessInfo.processInfo.environment
        for k in ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"] { env[k] = "\(threads)" }
        // docs/bench.md: OpenBLAS core-type pins slow a current NumPy; they are dropped for the reference only.
        env["OPENBLAS_CORETYPE"] = nil
        env["OPENBLAS_L2_SIZE"] = nil
        return launch(tools.python, args, env: env, errorLog: dir + "/stderr.txt")
    }

    /// Runs the script and parses its one JSON line; its stderr goes to `errorLog` (a pipe could fill and block it).
    static func launch(_ python: String, _ args: [String], env: [String: String], errorLog: String) -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = args
        p.environment = env
        let out = Pipe()
        _ = FileManager.default.createFile(atPath: errorLog, contents: nil)
        guard let err = FileHandle(forWritingAtPath: errorLog) else { return .unavailable("cannot write \(errorLog)") }
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { return .unavailable("cannot start \(python): \(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try? err.close()
        let errText = (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? ""
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0, let line = text.split(separator: "\n").last,
              let v = try? JSONReader.parse(Data(line.utf8), file: "bench_reference.py"),
              let sps = try? v.field("samples_per_second").double(), let label = try? v.field("reference").string() else {
            let last = errText.split(separator: "\n").last.map(String.init) ?? "no output"
            return .unavailable("reference failed (exit \(p.terminationStatus)): \(last)")
        }
        let spikes = (try? v.field("spikes").int()) ?? 0
        return .measured(label: label, samplesPerSecond: sps, spikes: spikes)
    }
}
