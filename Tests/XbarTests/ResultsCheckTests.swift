import Foundation
import XCTest
@testable import XbarCore

/// The figures check (scripts/check-results.sh, scripts/compare_results.py; docs/experiment.md, "Checking the
/// figures"): a committed quick result is what the code produces, and the comparer and the README check fail on a
/// changed figure.
final class ResultsCheckTests: XCTestCase {
    func scratch() -> URL {
        let d = Repo.tempDir()
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    static func python() throws -> String {
        guard let p = VectorsTests.which("python3") else { throw XbarError(file: "python3", field: "", "python3 not found") }
        return p
    }

    static func compare(_ args: [String]) throws -> (Int32, String) {
        try VectorsTests.sh(python(), [Repo.path("scripts/compare_results.py")] + args, cwd: URL(fileURLWithPath: Repo.path(".")))
    }

    /// hd-snn's quick variant, run now, equals examples/experiment/hd-snn/quick/results.json (timing fields aside).
    func testCommittedQuickResultIsWhatTheCodeProduces() throws {
        let d = scratch().appendingPathComponent("hd-snn")
        let r = try Repo.run(["experiment", "run", "--config", "hd-snn", "--quick", "--out", d.path])
        XCTAssertEqual(r.0, 0, r.2)
        let c = try Self.compare(["json", Repo.path("examples/experiment/hd-snn/quick/results.json"), d.appendingPathComponent("results.json").path])
        XCTAssertEqual(c.0, 0, c.1)
        XCTAssertTrue(c.1.contains("reproduced"), c.1)
    }

    func testComparerIgnoresTimeAndNamesAChangedFigure() throws {
        let src = Repo.path("examples/experiment/hd-snn/quick/results.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: src))) as! [String: Any]
        let d = scratch()
        func write(_ o: [String: Any], _ name: String) throws -> String {
            let u = d.appendingPathComponent(name)
            try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]).write(to: u)
            return u.path
        }
        json["seconds"] = 12345.0
        json["command"] = "something else"
        XCTAssertEqual(try Self.compare(["json", src, try write(json, "time.json")]).0, 0)
        var results = json["results"] as! [Any]
        results[1] = "changed"
        json["results"] = results
        let bad = try Self.compare(["json", src, try write(json, "bad.json")])
        XCTAssertEqual(bad.0, 1, bad.1)
        XCTAssertTrue(bad.1.contains("/results[1]: committed ") && bad.1.contains("produced \"changed\""), bad.1)
    }

    /// A README table figure must be a figure of the results.md its section names, at the README's precision.
    func testReadmeCheckAcceptsRoundedFiguresAndRefusesOthers() throws {
        let d = scratch()
        func check(_ cell: String) throws -> (Int32, String) {
            let readme = d.appendingPathComponent("README.md")
            try "# X\n\n## Delays\n\nResults: examples/experiment/hd-snn/\n\n| pruned | chip |\n|---|---|\n| 99 % | \(cell) |\n\n## Other\n\n| 1.234 |\n"
                .write(to: readme, atomically: true, encoding: .utf8)
            return try Self.compare(["readme", readme.path, Repo.path(".")])
        }
        // hd-snn's results.md has 25.25 (texture chip at 99 %) and 91.54 (motifs chip unpruned).
        for ok in ["25.3 %", "25.2 %", "25.25", "91.5 / 98.0"] { XCTAssertEqual(try check(ok).0, 0, ok) }
        let bad = try check("25.4 %")
        XCTAssertEqual(bad.0, 1, bad.1)
        XCTAssertTrue(bad.1.contains("section \"Delays\": 25.4") && bad.1.contains("examples/experiment/hd-snn/results.md"), bad.1)
    }
}
