import Foundation
import XCTest

/// The seed corpus of every fuzz target (docs/fuzzing.md) replays through `xbar-fuzz` without a crash: inputs that
/// once crashed a reader live there after their fix.
final class FuzzCorpusTests: XCTestCase {
    func testSeedCorpusReplays() throws {
        let fuzz = URL(fileURLWithPath: Repo.xbar).deletingLastPathComponent().appendingPathComponent("xbar-fuzz").path
        guard FileManager.default.isExecutableFile(atPath: fuzz) else { return XCTFail("no xbar-fuzz beside \(Repo.xbar)") }
        for parser in ["graph", "ir", "target", "sweep", "xev", "nmnist", "nir"] {
            let dir = Repo.path("Tests/Fixtures/fuzz/\(parser)")
            let files = try FileManager.default.contentsOfDirectory(atPath: dir)
            XCTAssertFalse(files.isEmpty, parser)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: fuzz)
            p.arguments = [parser, dir]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, parser)
            XCTAssertEqual(text, "replayed \(files.count) inputs\n", parser)
        }
    }
}
