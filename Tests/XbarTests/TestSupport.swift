import Foundation
import XCTest
import XbarCore
import XbarCompiler
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarTarget

/// Runs a hand-built program on the fast, exact and cycle engines with tracing; asserts it verifies and that the three
/// results are identical; returns the exact engine's result and overflow report.
func runOnAllEngines(_ p: Program, _ r: SpikeRaster, line: UInt = #line) throws -> (SampleResult, ExactReport) {
    XCTAssertNoThrow(try IRVerifier.verify(p), line: line)
    let chip = Chip(program: p, seed: 1)
    let binding = try InputBinding(program: p, channels: r.channels, file: "<test>")
    let fast = FastEngine(chip: chip).run(r, binding: binding, trace: true)
    let (exact, report) = ExactEngine(chip: chip).run(r, binding: binding, trace: true)
    let (cycle, _) = CycleEngine(chip: chip).run(r, binding: binding, trace: true)
    XCTAssertEqual(fast, exact, "fast and exact engines disagree", line: line)
    XCTAssertEqual(fast, cycle, "fast and cycle engines disagree", line: line)
    return (exact, report)
}

/// Paths and helpers shared by the tests.
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ rel: String) -> String { root.appendingPathComponent(rel).path }
    static func target(_ name: String) throws -> Target { try TargetLoader.load(path("targets/\(name).toml")) }

    /// The built `xbar` executable beside the test bundle.
    static var xbar: String {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for d in [dir, dir.deletingLastPathComponent(), dir.deletingLastPathComponent().deletingLastPathComponent()] {
            let p = d.appendingPathComponent("xbar").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return root.appendingPathComponent(".build/debug/xbar").path
    }

    /// Runs xbar; returns (exit status, stdout, stderr).
    @discardableResult
    static func run(_ args: [String], env: [String: String] = [:]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: xbar)
        p.arguments = args
        p.currentDirectoryURL = root
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let r = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: r, as: UTF8.self))
    }

    static func tempDir() -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("xbar-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}

/// A per-process scratch folder for a test class's files: `path(name)` creates it on first use; `remove()` in the
/// class's `tearDown`.
struct TestScratch {
    let url: URL
    init(_ prefix: String) { url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(getpid())") }
    func path(_ name: String) -> String {
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.appendingPathComponent(name).path
    }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Seeded random source on top of Philox: draw k of stream `id` is a pure function of (seed, id, k).
/// Uniform and normal draws use their own Philox purposes, so test files keep independent streams.
struct RTRandom {
    let rng: Philox
    let id: UInt32
    let purposes: (uniform: UInt32, normal: UInt32)
    var k: UInt32 = 0

    init(seed: UInt64, id: UInt32, purposes: (uniform: UInt32, normal: UInt32) = (900, 901)) {
        rng = Philox(seed: seed)
        self.id = id
        self.purposes = purposes
    }

    mutating func uniform() -> Double {
        k += 1
        return rng.uniform(purpose: purposes.uniform, id, k, 0)
    }

    mutating func normal() -> Double {
        k += 1
        return rng.normal(purpose: purposes.normal, id, k, 0)
    }

    /// Uniform integer in lo...hi.
    mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Swift.min(hi - lo, Int(uniform() * Double(hi - lo + 1))) }

    mutating func chance(_ p: Double) -> Bool { uniform() < p }

    /// Size in 1...hi, mostly small (a few hundred graphs must stay fast in a debug build) but reaching hi.
    mutating func skewedSize(_ hi: Int) -> Int {
        let u = uniform()
        if u < 0.80 { return int(1, 16) }
        if u < 0.97 { return int(17, 40) }
        return int(61, hi)
    }

    mutating func pick<T>(_ xs: [T]) -> T { xs[int(0, xs.count - 1)] }
}
