import Foundation
import XCTest
@testable import XbarCore
@testable import XbarEmulator
@testable import XbarEvents
@testable import XbarIR
@testable import XbarVectors

/// Verilator as the second RTL simulator beside Icarus Verilog (docs/vectors.md, "RTL cross-check"): the neuron units
/// are lint-clean under `-Wall`, and the generated run scripts pass the same vectors in both simulators (LIF, CubaLIF,
/// Izhikevich) and fail on a flipped value with the same first mismatch.
final class VerilatorTests: XCTestCase {
    static func verilator() throws -> String {
        guard let v = VectorsTests.which("verilator") else {
            throw XbarError(file: "verilator", field: "", "Verilator not found: install it (apt-get install verilator, or scripts/setup.sh)")
        }
        return v
    }

    func scratch() -> URL {
        let d = Repo.tempDir()
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    /// `verilator --lint-only -Wall` on each unit for several parameter sets prints nothing; a width bug is reported.
    func testNeuronUnitsAreLintCleanUnderWall() throws {
        let v = try Self.verilator()
        let lif = Repo.path("rtl/xbar_lif_unit.v"), izh = Repo.path("rtl/xbar_izh_unit.v")
        let sets: [[String]] = [
            [], ["-GN=1", "-GLANES=1", "-GIDX_W=1"], ["-GN=256", "-GLANES=8", "-GIDX_W=9"], ["-GN=1000", "-GLANES=16", "-GIDX_W=10"],
            ["-GN=7", "-GLANES=2", "-GIDX_W=4", "-GSYN=1", "-GSYN_W=8", "-GBIAS_MEM=1", "-GSYN_BIAS_MEM=1", "-GMEM_W=10", "-GRESET_SUB=1"],
        ]
        for g in sets {
            let r = try VectorsTests.sh(v, ["--lint-only", "-Wall", "--top-module", "xbar_lif_unit"] + g + [lif], cwd: scratch())
            XCTAssertEqual(r.0, 0, "\(g): \(r.1)")
            XCTAssertEqual(r.1.trimmingCharacters(in: .whitespacesAndNewlines), "", "\(g)")
        }
        let r = try VectorsTests.sh(v, ["--lint-only", "-Wall", izh], cwd: scratch())
        XCTAssertEqual(r.0, 0, r.1)
        XCTAssertEqual(r.1.trimmingCharacters(in: .whitespacesAndNewlines), "")
        // The lint is not blind: a 4-bit wire given an 8-bit constant is a WIDTH warning.
        let bad = scratch().appendingPathComponent("bad.v")
        let text = try String(contentsOfFile: lif, encoding: .utf8)
            .replacingOccurrences(of: "    wire [LANES-1:0]         spike_d;\n", with: "    wire [LANES-1:0]         spike_d;\n    wire [3:0] bad_w = 8'hff;\n")
        try text.write(to: bad, atomically: true, encoding: .utf8)
        let b = try VectorsTests.sh(v, ["--lint-only", "-Wall", "--top-module", "xbar_lif_unit", bad.path], cwd: scratch())
        XCTAssertNotEqual(b.0, 0)
        XCTAssertTrue(b.1.contains("%Warning-WIDTH") && b.1.contains("bad_w"), b.1)
    }

    /// The LSM's LIF vectors (40 nm macro, every device effect) and the synapse program's CubaLIF, leaky-integrator and
    /// bias populations pass in both simulators with the same PASS lines; a flipped membrane fails in Verilator with
    /// the message Icarus Verilog gives.
    func testLIFAndCubaLIFVectorsPassInBothSimulatorsAndAFlippedValueFails() throws {
        _ = try Self.verilator()
        let dir = scratch().appendingPathComponent("lsm")
        let made = try Repo.run(["vectors"] + VectorsTests.lsmArgs + ["--out", dir.path])
        XCTAssertEqual(made.0, 0, made.2)
        let syn = scratch().appendingPathComponent("syn")
        let p = try SynapseVectorsTests.program()
        _ = try SynapseVectorsTests.vectors(p, data: SynapseVectorsTests.samples(), to: syn)
        for d in [dir, syn] {
            let iv = try VectorsTests.sh("/bin/sh", [d.appendingPathComponent("tb/run_iverilog.sh").path], cwd: d)
            let vl = try VectorsTests.sh("/bin/sh", [d.appendingPathComponent("tb/run_verilator.sh").path], cwd: d)
            XCTAssertEqual(iv.0, 0, iv.1)
            XCTAssertEqual(vl.0, 0, vl.1)
            let passes = { (s: String) in s.split(separator: "\n").filter { $0.hasPrefix("PASS") } }
            XCTAssertEqual(passes(vl.1), passes(iv.1))
            XCTAssertEqual(passes(iv.1).count, d == dir ? 1 : p.neurons.count, iv.1)
        }
        // Flip one membrane bit of record 5017 and run the built Verilator testbench on that file.
        let path = dir.appendingPathComponent("response/lif.lsm.vec")
        var text = try String(contentsOf: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let recIdx = text.indices.filter { !text[$0].hasPrefix("//") && !text[$0].isEmpty }[5017]
        var w = text[recIdx].split(separator: " ").map(String.init)
        let memOld = Int64(w[5], radix: 16)!
        w[5] = Hex.word(memOld ^ 0x10, bits: 24)
        text[recIdx] = w.joined(separator: " ")
        let flipped = dir.appendingPathComponent("flipped.vec")
        try text.joined(separator: "\n").write(to: flipped, atomically: true, encoding: .utf8)
        let bin = dir.appendingPathComponent("tb/verilator/tb_lif.lsm/tb_lif.lsm").path
        let bad = try VectorsTests.sh(bin, ["+vec=flipped.vec"], cwd: dir)
        XCTAssertNotEqual(bad.0, 0, bad.1)
        let ivBin = try VectorsTests.sh(VectorsTests.which("vvp")!, ["-n", "tb/tb_lif.lsm.vvp", "+vec=flipped.vec"], cwd: dir)
        let mismatch = { (s: String) in s.split(separator: "\n").first { $0.hasPrefix("MISMATCH") }.map(String.init) }
        XCTAssertNotNil(mismatch(bad.1), bad.1)
        XCTAssertEqual(mismatch(bad.1), mismatch(ivBin.1))
        XCTAssertFalse(bad.1.contains("PASS"), bad.1)
    }
}
