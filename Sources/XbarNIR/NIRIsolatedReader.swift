import Foundation
import XbarCore

/// Reads an untrusted `.nir` file in a separate worker process (`IsolatedWorker`), so that the HDF5 library it goes
/// through cannot crash, corrupt or hang the caller (docs/nir.md, "Reading untrusted files"). The worker
/// (`xbar nir-read-worker`, which calls `runWorker`) reads the file with `NIRReader` and hands back the graph in
/// `NIRGraphCoding`'s plain binary form.
public enum NIRIsolatedReader {
    /// Wall-clock limit of one read: `baseSeconds`, plus one second per `bytesPerSecond` bytes of file.
    public static let baseSeconds = 4.0
    public static let bytesPerSecond = 50_000_000.0

    /// The time limit of a worker reading `path` (`baseSeconds` plus its size over `bytesPerSecond`); an error if the
    /// file does not exist.
    public static func limit(_ path: String) throws -> Double {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw XbarError(file: path, field: "", "no such file")
        }
        return baseSeconds + ((attributes[.size] as? NSNumber)?.doubleValue ?? 0) / bytesPerSecond
    }

    /// The graph in `path`, read by the worker executable `worker` (normally this program itself).
    public static func read(path: String, allowDanglingEdges: Bool = false, worker: URL) throws -> NIRGraph {
        let data = try IsolatedWorker.run(path: path, worker: worker,
                                          arguments: ["nir-read-worker", path] + (allowDanglingEdges ? ["--allow-dangling-edges"] : []),
                                          limit: try limit(path), library: "the HDF5 library", reader: "NIR reader")
        guard let g = try? NIRGraphCoding.decode(data) else {
            throw XbarError(file: path, field: "", "the NIR reader process failed (exit status 0) without a result")
        }
        return g
    }

    /// The worker's side: reads `path` and writes the graph to `resultPath`, or the reader's error to `errorPath`.
    /// Returns the exit status.
    public static func runWorker(path: String, resultPath: String, errorPath: String, allowDanglingEdges: Bool) -> Int32 {
        IsolatedWorker.serve(resultPath: resultPath, errorPath: errorPath) {
            try NIRGraphCoding.encode(NIRReader.read(path: path, allowDanglingEdges: allowDanglingEdges))
        }
    }
}
