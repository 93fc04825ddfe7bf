import Foundation
import XbarCore

/// Reads an untrusted `.nir` file in a separate worker process, so that the HDF5 library it goes through cannot crash,
/// corrupt or hang the caller (docs/nir.md, "Reading untrusted files"). The worker (`xbar nir-read-worker`, which
/// calls `runWorker`) limits its own address space and CPU time, reads the file with `NIRReader`, and hands back the
/// graph in `NIRGraphCoding`'s plain binary form; a reader error comes back as its field and message. A worker that
/// dies on a signal, or gives no result within the time limit (it is then killed), becomes one line naming the file.
public enum NIRIsolatedReader {
    /// Wall-clock limit of one read: `baseSeconds`, plus one second per `bytesPerSecond` bytes of file.
    public static let baseSeconds = 4.0
    public static let bytesPerSecond = 50_000_000.0
    /// Limits the worker sets on itself.
    static let addressSpaceBytes: UInt64 = 8 << 30
    static let cpuSeconds: UInt64 = 60

    /// The graph in `path`, read by the worker executable `worker` (normally this program itself).
    public static func read(path: String, allowDanglingEdges: Bool = false, worker: URL) throws -> NIRGraph {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw XbarError(file: path, field: "", "no such file")
        }
        let size = (attributes[.size] as? NSNumber)?.doubleValue ?? 0
        let limit = baseSeconds + size / bytesPerSecond
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xbar-nir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = dir.appendingPathComponent("graph.bin"), failure = dir.appendingPathComponent("error.txt")

        let p = Process()
        p.executableURL = worker
        p.arguments = ["nir-read-worker", path, result.path, failure.path] + (allowDanglingEdges ? ["--allow-dangling-edges"] : [])
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        do { try p.run() } catch {
            throw XbarError(file: path, field: "", "cannot start the NIR reader process \(worker.path): \(error.localizedDescription)")
        }
        if done.wait(timeout: .now() + limit) == .timedOut {
            kill(p.processIdentifier, SIGKILL)
            done.wait()
            throw XbarError(file: path, field: "", String(format: "the HDF5 library gave no result within %.0f s: the file is corrupt", limit))
        }
        if p.terminationReason == .uncaughtSignal {
            throw XbarError(file: path, field: "",
                            "the HDF5 library crashed reading the file (signal \(p.terminationStatus)): the file is corrupt")
        }
        if let text = try? String(contentsOf: failure, encoding: .utf8), let tab = text.firstIndex(of: "\t") {
            throw XbarError(file: path, field: String(text[..<tab]), String(text[text.index(after: tab)...]))
        }
        guard p.terminationStatus == 0, let data = try? Data(contentsOf: result), let g = try? NIRGraphCoding.decode(data) else {
            throw XbarError(file: path, field: "", "the NIR reader process failed (exit status \(p.terminationStatus)) without a result")
        }
        return g
    }

    /// The worker's side: limits itself, reads `path` and writes the graph to `resultPath`, or the reader's error as
    /// "field<TAB>message" to `errorPath`. Returns the exit status.
    public static func runWorker(path: String, resultPath: String, errorPath: String, allowDanglingEdges: Bool) -> Int32 {
        var memory = rlimit(rlim_cur: rlim_t(addressSpaceBytes), rlim_max: rlim_t(addressSpaceBytes))
        var cpu = rlimit(rlim_cur: rlim_t(cpuSeconds), rlim_max: rlim_t(cpuSeconds))
        setrlimit(Int32(RLIMIT_AS.rawValue), &memory)
        setrlimit(Int32(RLIMIT_CPU.rawValue), &cpu)
        do {
            let g = try NIRReader.read(path: path, allowDanglingEdges: allowDanglingEdges)
            try NIRGraphCoding.encode(g).write(to: URL(fileURLWithPath: resultPath))
            return 0
        } catch let e as XbarError {
            try? Data("\(e.field)\t\(e.message)".utf8).write(to: URL(fileURLWithPath: errorPath))
            return 1
        } catch {
            try? Data("\t\(error)".utf8).write(to: URL(fileURLWithPath: errorPath))
            return 1
        }
    }
}
