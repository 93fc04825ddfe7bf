import Foundation
import XCTest

/// `--raster-svg` and `--membrane-svg` on `emulate`/`run` (docs/report.md, "Pictures"): the pictures hold exactly the
/// run's spikes, its readout decisions and its traced membranes, whatever the engine.
final class PlotTests: XCTestCase {
    func scratch() -> URL {
        let d = Repo.tempDir()
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    /// The marks of each panel of a raster SVG (one `<g fill=...>` group per population and sample).
    static func marksPerGroup(_ svg: String) -> [Int] {
        svg.split(separator: "\n").filter { $0.hasPrefix("<g fill=") }.map { $0.components(separatedBy: "<rect ").count - 1 }
    }

    func testRasterHoldsTheRunsSpikesAndDecisionsAndMembraneIsEngineIndependent() throws {
        let d = scratch()
        let base = ["emulate", "examples/lsm-paper/lsm-paper.json", "--samples", "4", "--plot-samples", "1,3", "--plot-neurons", "lsm:0,@lsm:199"]
        let r = try Repo.run(base + ["--raster-svg", d.appendingPathComponent("r.svg").path, "--raster", d.appendingPathComponent("r.csv").path,
                                     "--membrane-svg", d.appendingPathComponent("m.fast.svg").path,
                                     "--json-out", d.appendingPathComponent("r.json").path])
        XCTAssertEqual(r.0, 0, r.2)
        let svg = try String(contentsOf: d.appendingPathComponent("r.svg"), encoding: .utf8)
        let csv = try String(contentsOf: d.appendingPathComponent("r.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        let perSample = Dictionary(grouping: csv, by: { $0.split(separator: ",")[0] }).mapValues(\.count)
        XCTAssertEqual(Self.marksPerGroup(svg), [perSample["1"]!, perSample["3"]!])
        XCTAssertGreaterThan(perSample["1"]!, 100)
        XCTAssertTrue(svg.contains("sample 1 (label "), svg.prefix(600).description)
        // The decision marked is the report's prediction, next to the sample's label.
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: d.appendingPathComponent("r.json"))) as! [String: Any]
        let samples = report["per_sample"] as! [[String: Any]]
        for s in [1, 3] {
            let pred = samples[s]["prediction"] as! Int, label = samples[s]["label"] as! Int
            XCTAssertTrue(svg.contains("decision \(pred), label \(label) (\(pred == label ? "right" : "wrong"))"), "sample \(s)")
        }
        // The membrane plot: one line of 50 points per (sample, neuron), the threshold dashed; the exact and cycle
        // engines draw the same picture.
        let m = try String(contentsOf: d.appendingPathComponent("m.fast.svg"), encoding: .utf8)
        let lines = m.split(separator: "\n").filter { $0.hasPrefix("<polyline") }
        XCTAssertEqual(lines.count, 5)
        XCTAssertEqual(lines.prefix(4).map { $0.components(separatedBy: " ").filter { $0.contains(",") }.count }, [50, 50, 50, 50])
        XCTAssertTrue(m.contains("sample 3 @lsm[199]") && m.contains("@lsm threshold 9901"))
        for e in ["exact", "cycle"] {
            let path = d.appendingPathComponent("m.\(e).svg")
            let x = try Repo.run(base + ["--engine", e, "--membrane-svg", path.path])
            XCTAssertEqual(x.0, 0, x.2)
            XCTAssertEqual(try String(contentsOf: path, encoding: .utf8).replacingOccurrences(of: "(\(e) engine)", with: "(fast engine)"), m, e)
        }
    }

    func testBadPlotChoicesAreOneLineErrorsBeforeTheRun() throws {
        let d = scratch()
        let base = ["emulate", "examples/lsm-paper/lsm-paper.json", "--samples", "2"]
        let cases: [([String], String)] = [
            (["--raster-svg", d.appendingPathComponent("a.svg").path, "--plot-samples", "2"], "--plot-samples: \"2\" is not a sample index (the run has 2 samples: 0 ... 1)"),
            (["--raster-svg", d.appendingPathComponent("a.svg").path, "--plot-samples", "x"], "--plot-samples: \"x\" is not a sample index"),
            (["--membrane-svg", d.appendingPathComponent("a.svg").path, "--plot-neurons", "lsm:200"], "--plot-neurons: \"lsm:200\": @lsm has neurons 0 ... 199"),
            (["--membrane-svg", d.appendingPathComponent("a.svg").path, "--plot-neurons", "out:1"], "--plot-neurons: \"out:1\": expected POP:INDEX with POP one of lsm"),
        ]
        for (args, msg) in cases {
            let r = try Repo.run(base + args)
            XCTAssertNotEqual(r.0, 0)
            XCTAssertTrue(r.2.contains(msg), r.2)
            XCTAssertEqual(r.2.split(separator: "\n").count, 1, r.2)
            XCTAssertFalse(FileManager.default.fileExists(atPath: d.appendingPathComponent("a.svg").path))
        }
    }
}
