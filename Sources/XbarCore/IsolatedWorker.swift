import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a reader of untrusted files in a separate worker process, so that a C library it goes through (HDF5) cannot
/// crash, corrupt or hang the caller (docs/nir.md, "Reading untrusted files"). The caller `run`s the worker executable
/// with its arguments plus a result path and an error path; the worker calls `serve`, which limits its own address
/// space and CPU time, runs the reader, and writes the reader's bytes to the result path or its error as
/// "field<TAB>message" to the error path. A worker that dies on a signal, or gives no result within the time limit (it
/// is then killed), becomes one line naming the file.
public enum IsolatedWorker {
    /// Limits the worker sets on itself.
    public static let addressSpaceBytes: UInt64 = 8 << 30
    public static let cpuSeconds: UInt64 = 60

    /// The executable of this very process (a worker is normally `xbar` itself).
    public static var currentExecutable: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    }

    /// Starts `worker arguments... RESULT ERROR` for the file `path`, waits at most `limit` seconds, and returns the
    /// result bytes. `library` names what can fail in messages ("the HDF5 library"), `reader` the worker ("the NIR reader").
    public static func run(path: String, worker: URL, arguments: [String], limit: Double, library: String, reader: String) throws -> Data {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xbar-worker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = dir.appendingPathComponent("result.bin"), failure = dir.appendingPathComponent("error.txt")
        let p = Process()
        p.executableURL = worker
        p.arguments = arguments + [result.path, failure.path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        do { try p.run() } catch {
            throw XbarError(file: path, field: "", "cannot start the \(reader) process \(worker.path): \(error.localizedDescription)")
        }
        if done.wait(timeout: .now() + limit) == .timedOut {
            kill(p.processIdentifier, SIGKILL)
            done.wait()
            throw XbarError(file: path, field: "", String(format: "%@ gave no result within %.0f s: the file is corrupt", library, limit))
        }
        if p.terminationReason == .uncaughtSignal {
            throw XbarError(file: path, field: "", "\(library) crashed reading the file (signal \(p.terminationStatus)): the file is corrupt")
        }
        if let text = try? String(contentsOf: failure, encoding: .utf8), let tab = text.firstIndex(of: "\t") {
            throw XbarError(file: path, field: String(text[..<tab]), String(text[text.index(after: tab)...]))
        }
        guard p.terminationStatus == 0, let data = try? Data(contentsOf: result) else {
            throw XbarError(file: path, field: "", "the \(reader) process failed (exit status \(p.terminationStatus)) without a result")
        }
        return data
    }

    /// The worker's side: limits itself, runs `body` and writes its bytes to `resultPath`, or its error to `errorPath`.
    /// Returns the exit status.
    public static func serve(resultPath: String, errorPath: String, _ body: () throws -> Data) -> Int32 {
        var memory = rlimit(rlim_cur: rlim_t(addressSpaceBytes), rlim_max: rlim_t(addressSpaceBytes))
        var cpu = rlimit(rlim_cur: rlim_t(cpuSeconds), rlim_max: rlim_t(cpuSeconds))
        setrlimit(Int32(RLIMIT_AS.rawValue), &memory)
        setrlimit(Int32(RLIMIT_CPU.rawValue), &cpu)
        do {
            try body().write(to: URL(fileURLWithPath: resultPath))
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
