import ArgumentParser
import Foundation
import XbarCore
import XbarNIR

/// `xbar nir-read-worker`: the isolated NIR reader process (not for direct use; `NIRIsolatedReader` starts it).
struct NIRWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nir-read-worker", abstract: "Read one .nir file in an isolated process (internal).", shouldDisplay: false)

    @Argument var file: String
    @Argument var result: String
    @Argument var error: String
    @Flag var allowDanglingEdges = false

    func run() throws {
        let status = NIRIsolatedReader.runWorker(path: file, resultPath: result, errorPath: error, allowDanglingEdges: allowDanglingEdges)
        if status != 0 { throw ExitCode(status) }
    }
}

extension NIRIsolatedReader {
    /// Reads `path` in a worker process started from this very executable.
    static func read(path: String, allowDanglingEdges: Bool) throws -> NIRGraph {
        try read(path: path, allowDanglingEdges: allowDanglingEdges, worker: IsolatedWorker.currentExecutable)
    }
}

/// `xbar ntidigits-read-worker`: the isolated N-TIDIGITS reader process (not for direct use; `NTIDIGITSReader` starts it).
struct NTIDIGITSWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntidigits-read-worker", abstract: "Read one N-TIDIGITS .hdf5 file in an isolated process (internal).", shouldDisplay: false)

    @Argument var file: String
    @Argument var result: String
    @Argument var error: String

    func run() throws {
        let status = NTIDIGITSReader.runWorker(path: file, resultPath: result, errorPath: error)
        if status != 0 { throw ExitCode(status) }
    }
}
