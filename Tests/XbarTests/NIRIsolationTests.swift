import Foundation
import XCTest
import XbarCore
@testable import XbarNIR

/// Untrusted .nir files are read in a worker process (`NIRIsolatedReader`, docs/nir.md "Reading untrusted files"):
/// the graph comes back intact, reader errors come back as they are, and a worker that crashes or hangs becomes one
/// line naming the file, within the time limit.
final class NIRIsolationTests: XCTestCase {
    private static let scratch = TestScratch("nir-isolation")

    override class func tearDown() {
        scratch.remove()
        super.tearDown()
    }

    /// A stand-in worker: a shell script with `body`.
    private func worker(_ name: String, _ body: String) throws -> URL {
        let path = Self.scratch.path(name)
        try Data("#!/bin/sh\n\(body)\n".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return URL(fileURLWithPath: path)
    }

    /// The binary form gives back every example graph exactly (nested graphs, text parameters and metadata included),
    /// and a truncated buffer is an error.
    func testCodingRoundTrip() throws {
        for f in ["lif_norse.nir", "braille_noDelay_bias_zero_subgraph.nir", "cnn_sinabs.nir", "two_lif_neurons.nir"] {
            let g = try NIRReader.read(path: Repo.path("examples/nir/\(f)"), allowDanglingEdges: true)
            let data = NIRGraphCoding.encode(g)
            XCTAssertEqual(try NIRGraphCoding.decode(data), g, f)
            XCTAssertThrowsError(try NIRGraphCoding.decode(data.dropLast(3)), f)
            XCTAssertThrowsError(try NIRGraphCoding.decode(data + Data([0])), f)
        }
        XCTAssertTrue(try NIRReader.read(path: Repo.path("examples/nir/braille_noDelay_bias_zero_subgraph.nir"),
                                         allowDanglingEdges: true).nodes.contains { $0.subgraph != nil })
    }

    /// Through the real worker (`xbar nir-read-worker`): the same graph as the in-process reader (with the dangling-edge
    /// flag passed on; this file's nested graph has an edge to a missing node), the reader's own error without it, and
    /// for a file that is not HDF5.
    func testRealWorker() throws {
        let xbar = URL(fileURLWithPath: Repo.xbar)
        let path = Repo.path("examples/nir/braille_noDelay_bias_zero_subgraph.nir")
        XCTAssertEqual(try NIRIsolatedReader.read(path: path, allowDanglingEdges: true, worker: xbar),
                       try NIRReader.read(path: path, allowDanglingEdges: true))
        XCTAssertThrowsError(try NIRIsolatedReader.read(path: path, worker: xbar)) { e in
            XCTAssertEqual((e as? XbarError)?.field, "node/nodes/lif1/edges[0]")
        }
        let notHDF5 = Self.scratch.path("text.nir")
        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: notHDF5))
        XCTAssertThrowsError(try NIRIsolatedReader.read(path: notHDF5, worker: xbar)) { e in
            XCTAssertEqual((e as? XbarError)?.description, try? { () -> String in
                do { _ = try NIRReader.read(path: notHDF5); return "" } catch let x as XbarError { return x.description }
            }())
        }
    }

    /// A worker killed by a signal, and one that never finishes (killed at the limit), each give one line.
    func testCrashAndHang() throws {
        let file = Repo.path("examples/nir/lif_norse.nir")
        let crash = try worker("crash.sh", "kill -SEGV $$")
        XCTAssertThrowsError(try NIRIsolatedReader.read(path: file, worker: crash)) { e in
            XCTAssertEqual((e as? XbarError)?.description,
                           "\(file): the HDF5 library crashed reading the file (signal 11): the file is corrupt")
        }
        let hang = try worker("hang.sh", "exec sleep 60")
        let t0 = Date()
        XCTAssertThrowsError(try NIRIsolatedReader.read(path: file, worker: hang)) { e in
            XCTAssertEqual((e as? XbarError)?.description, "\(file): the HDF5 library gave no result within 4 s: the file is corrupt")
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 5)
    }

    /// Mutated .nir files that crashed (segmentation fault) or hung the in-process reader inside libhdf5
    /// (scripts/fuzz-nir.py; Tests/Fixtures/nir-crashes): `xbar import` now ends each in under 5 s with one line.
    func testFuzzedCrashInputsGiveOneLine() throws {
        let dir = Repo.path("Tests/Fixtures/nir-crashes")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".nir") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 2)
        for f in files {
            let t0 = Date()
            let (status, out, err) = try Repo.run(["import", "\(dir)/\(f)", "--dt", "1e-4", "--reset", "zero"])
            XCTAssertLessThan(Date().timeIntervalSince(t0), 5, f)
            XCTAssertEqual(status, 1, f)
            XCTAssertEqual(out, "", f)
            let lines = err.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(f): \(err)")
            XCTAssertTrue(lines.first?.hasPrefix("error: \(dir)/\(f): ") ?? false, err)
        }
    }
}
