import ArgumentParser
import Foundation
import XbarCore
import XbarVectors

/// `xbar check DIR --dump FILE`: compares a captured dump (in the .vec format) with the expected vectors.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compare a captured dump (.vec format) with the expected vectors of `xbar vectors`; report the first mismatch.")

    @Argument(help: "Vector directory written by `xbar vectors`.") var dir: String
    @Option(help: "Captured dump: a .vec file, or a directory whose files are matched to the manifest by relative path or name.")
    var dump: String
    @Option(help: "The expected file to compare a dump file with (path relative to DIR, e.g. response/lif.lsm.vec); default: the manifest file of the same name.")
    var expected: String?

    func run() throws {
        let failed = try reportingErrors { () throws -> Bool in
            let specs = try VectorCheck.specs(dir: dir)
            var pairs: [(VectorCheck.VecSpec, String)] = []
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dump, isDirectory: &isDir) else {
                throw XbarError(file: dump, field: "--dump", "no such file or directory")
            }
            if isDir.boolValue {
                for s in specs {
                    let byPath = (dump as NSString).appendingPathComponent(s.path)
                    let byName = (dump as NSString).appendingPathComponent((s.path as NSString).lastPathComponent)
                    if FileManager.default.fileExists(atPath: byPath) { pairs.append((s, byPath)) }
                    else if FileManager.default.fileExists(atPath: byName) { pairs.append((s, byName)) }
                }
                guard !pairs.isEmpty else { throw XbarError(file: dump, field: "--dump", "no file of the manifest found in this directory") }
            } else {
                let name = expected ?? (dump as NSString).lastPathComponent
                let m = specs.filter { $0.path == name || ($0.path as NSString).lastPathComponent == name }
                guard m.count == 1 else {
                    throw XbarError(file: dump, field: "--expected", m.isEmpty
                        ? "no .vec file named \(name) in \(dir)/manifest.json; name it with --expected (one of: \(specs.map { $0.path }.joined(separator: ", ")))"
                        : "\(name) is ambiguous; give the path with --expected")
                }
                pairs.append((m[0], dump))
            }
            var bad = false
            for (spec, path) in pairs {
                let expPath = (dir as NSString).appendingPathComponent(spec.path)
                let expData = try AtomicFile.read(expPath)
                guard SHA256.hex(expData) == spec.sha256 else {
                    throw XbarError(file: expPath, field: "sha256", "the expected file does not match its manifest hash (modified after `xbar vectors`)")
                }
                let got = try AtomicFile.readText(path)
                switch VectorCheck.compare(expected: String(decoding: expData, as: UTF8.self), dump: got, spec: spec) {
                case let .match(n): print("match \(spec.path): \(n) records (\(path))")
                case let .mismatch(m):
                    print("MISMATCH \(m)")
                    bad = true
                }
            }
            return bad
        }
        if failed { throw ExitCode(1) }
    }
}
