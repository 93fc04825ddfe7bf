import CXbarFuzz
import Foundation

/// `xbar-fuzz PARSER [ARGS...]` (docs/fuzzing.md). Built by scripts/fuzz.sh with libFuzzer, it fuzzes PARSER and
/// ARGS are libFuzzer's (corpus folders, -max_total_time=...). In a plain build it replays: every file in ARGS (or in
/// the folders named) goes through PARSER once, and it prints how many did.
@main
struct XbarFuzz {
    nonisolated(unsafe) static var target: (@Sendable (Data) -> Void)? = nil

    static func main() {
        let args = CommandLine.arguments
        guard args.count >= 2, let t = FuzzTargets.all[args[1]] else {
            let names = FuzzTargets.all.keys.sorted().joined(separator: ", ")
            FileHandle.standardError.write(Data("usage: xbar-fuzz PARSER [libFuzzer arguments | files...]; PARSER is one of \(names)\n".utf8))
            exit(2)
        }
        target = t
        // libFuzzer sees the program name and everything after PARSER.
        var cArgs: [UnsafeMutablePointer<CChar>?] = ([args[0]] + args.dropFirst(2)).map { strdup($0) } + [nil]
        var argc = Int32(cArgs.count - 1)
        let status = cArgs.withUnsafeMutableBufferPointer { buf -> Int32 in
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buf.baseAddress
            return xbar_fuzz_driver(&argc, &argv) { data, size in
                XbarFuzz.target?(size == 0 ? Data() : Data(bytes: data!, count: size))
                return 0
            }
        }
        if status != -1 { exit(status) }
        exit(replay(t, Array(args.dropFirst(2))))
    }

    /// Runs every file named (folders: every file inside, sorted) through `t`; returns the exit status.
    static func replay(_ t: (Data) -> Void, _ paths: [String]) -> Int32 {
        var files: [String] = []
        for p in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else {
                FileHandle.standardError.write(Data("error: \(p): no such file or folder\n".utf8))
                return 1
            }
            if isDir.boolValue {
                let inside = (try? FileManager.default.contentsOfDirectory(atPath: p)) ?? []
                files += inside.sorted().map { "\(p)/\($0)" }
            } else {
                files.append(p)
            }
        }
        for f in files {
            guard let d = FileManager.default.contents(atPath: f) else { continue }
            t(d)
        }
        print("replayed \(files.count) inputs")
        return 0
    }
}
