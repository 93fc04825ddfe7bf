import ArgumentParser
import Foundation
import XbarCore

/// The `xbar` command: compile spiking networks onto RRAM crossbar targets and emulate them.
@main
struct Xbar: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xbar",
        abstract: "NeuroXbar: compile spiking networks to a fixed-point RRAM crossbar IR and emulate them.",
        version: toolVersion,
        subcommands: [EmulateCommand.self, CompileCommand.self, RunCommand.self, InspectCommand.self, LSMCommand.self,
                      EventsCommand.self, BenchCommand.self, DeviceCommand.self, ExperimentCommand.self,
                      ValidateCommand.self, VectorsCommand.self, CheckCommand.self, SweepCommand.self, ImportCommand.self,
                      ExportCommand.self, NIRWorkerCommand.self, NTIDIGITSWorkerCommand.self, ModelsCommand.self])
}

/// Turns any thrown error into one line on stderr and exit code 1 (argument errors keep ArgumentParser's usage text).
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as XbarError {
        FileHandle.standardError.write(Data(("error: " + e.description + "\n").utf8))
        throw ExitCode(1)
    }
}

/// Directories to look for a bundled resource folder `sub` in: $ENV, ./sub, and `sub` beside the repository of the
/// executable (the first ancestor, up to five levels, holding `sub/marker`).
func resourceDirs(_ sub: String, env: String, marker: String) -> [String] {
    var dirs: [String] = []
    if let e = ProcessInfo.processInfo.environment[env] { dirs.append(e) }
    dirs.append(sub)
    if let exe = Bundle.main.executablePath {
        var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
        for _ in 0..<5 {
            let cand = url.appendingPathComponent(sub)
            if FileManager.default.fileExists(atPath: cand.appendingPathComponent(marker).path) {
                dirs.append(cand.path)
                break
            }
            url = url.deletingLastPathComponent()
        }
    }
    return dirs
}

/// Where target names are looked up: $XBAR_TARGETS, ./targets, and targets/ beside the repository of the executable.
func targetSearchDirs() -> [String] { resourceDirs("targets", env: "XBAR_TARGETS", marker: "ideal.toml") }

/// True when stderr is a terminal (progress lines are shown only then).
var stderrIsTerminal: Bool { isatty(2) != 0 }

func progressLine(_ label: String) -> @Sendable (Int, Int) -> Void {
    guard stderrIsTerminal else { return { _, _ in } }
    let start = Date()
    let lock = NSLock()
    return { done, total in
        lock.lock()
        defer { lock.unlock() }
        let el = Date().timeIntervalSince(start)
        let rate = el > 0 ? Double(done) / el : 0
        let left = rate > 0 ? Double(total - done) / rate : 0
        let line = String(format: "\r%@ %d/%d samples  %.1f/s  %.0fs left ", label, done, total, rate, left)
        FileHandle.standardError.write(Data(line.utf8))
        if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
