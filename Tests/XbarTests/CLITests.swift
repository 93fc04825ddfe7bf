import Foundation
import XCTest
import XbarIR

/// The command line: one-line errors naming file and field, no partial output files, a readable report.
final class CLITests: XCTestCase {
    func testDefaultReportShowsSpikesReadoutAndOps() throws {
        let (s, out, err) = try Repo.run(["emulate", "examples/lsm-paper/lsm-paper.json", "--samples", "20"])
        XCTAssertEqual(s, 0, err)
        XCTAssertTrue(out.contains("lsm-paper on rram-40nm-256kb"))
        XCTAssertTrue(out.contains("@lsm:"))
        XCTAssertTrue(out.contains("readout @readout (10 classes"))
        XCTAssertTrue(out.contains("accuracy: "))
        XCTAssertTrue(out.contains("synaptic ops (dense ANN)           4560000.0"), out)
        // Formed target: input and recurrent rows are read separately (own digital scales): 2 x 400 columns per
        // step, minus the recurrent read at t = 0 that drives no row.
        XCTAssertTrue(out.contains("ADC conversions (10-bit)             39600.0"), out)
        XCTAssertTrue(out.contains("device: programming forming"), out)
    }

    func testCompileWritesParsableProgramAndInspectVerifies() throws {
        let dir = Repo.tempDir()
        let prog = dir.appendingPathComponent("lsm.xir").path
        let (s, _, err) = try Repo.run(["compile", "examples/lsm-paper/lsm-paper.json", "--target", "ideal", "-o", prog])
        XCTAssertEqual(s, 0, err)
        let p = try IRParser.parse(try String(contentsOfFile: prog, encoding: .utf8), file: prog)
        XCTAssertEqual(p.arrays.count, 2)  // 200 neurons x 4 columns = 800 > 512: two column tiles
        let (s2, out2, _) = try Repo.run(["inspect", prog])
        XCTAssertEqual(s2, 0)
        XCTAssertTrue(out2.contains("(verified)"))
        let (s3, out3, err3) = try Repo.run(["run", prog, "--input", "examples/digits/digits-test.xev", "--samples", "2", "--json"])
        XCTAssertEqual(s3, 0, err3)
        XCTAssertTrue(out3.contains("\"target\": \"ideal\""))
    }

    /// `--set TABLE.KEY=VALUE` changes the target before validation; a bad key or value is one line naming it.
    func testTargetOverrides() throws {
        let (s, out, err) = try Repo.run(["compile", "examples/lsm-paper/lsm-paper.json", "-t", "ideal", "--stats",
                                          "--set", "adc.bits=12", "--set", "neuron.frac_bits=4"])
        XCTAssertEqual(s, 0, err)
        XCTAssertTrue(out.contains("ADC: 12 bits"), out)
        XCTAssertTrue(out.contains("with 4 fraction bits"), out)
        // A .nir graph with trained weights on the forming target: refused by name, then programmable by an override.
        let (s1, _, err1) = try Repo.run(["emulate", "examples/nir/lif_norse.nir", "--input", "examples/nir/lif-input.xev",
                                          "--dt", "1e-4", "--reset", "zero"])
        XCTAssertEqual(s1, 1)
        XCTAssertTrue(err1.contains("electroforms its weights") && err1.contains("--set device.programming=write_verify"), err1)
        let (s2, out2, err2) = try Repo.run(["emulate", "examples/nir/lif_norse.nir", "--input", "examples/nir/lif-input.xev",
                                             "--dt", "1e-4", "--reset", "zero", "--set", "device.programming=write_verify",
                                             "--ideal-device", "--raster", "/dev/null"])
        XCTAssertEqual(s2, 0, err2)
        XCTAssertTrue(out2.contains("@1: 4 spikes"), out2)
        for (bad, text) in [("adc.bits=99", "adc.bits"), ("nosuch.key=1", "expected TABLE.KEY"), ("adc.bits", "expected TABLE.KEY=VALUE"),
                            ("device.programming=sideways", "device.programming")] {
            let (s3, _, err3) = try Repo.run(["compile", "examples/lsm-paper/lsm-paper.json", "-t", "ideal", "--set", bad])
            XCTAssertEqual(s3, 1, bad)
            XCTAssertTrue(err3.contains(text), "\(bad): \(err3)")
            XCTAssertEqual(err3.split(separator: "\n").count, 1, err3)
        }
    }

    /// `xbar vectors` takes a .nir file like compile and emulate (imported with --dt/--reset; timesteps from the input).
    func testVectorsFromNIRFile() throws {
        let out = Repo.tempDir().appendingPathComponent("v").path
        let (s, stdout, err) = try Repo.run(["vectors", "examples/nir/braille_noDelay_noBias_subtract.nir", "--dt", "1e-4",
                                             "--reset", "subtract", "--discretisation", "euler", "-t", "ideal",
                                             "--input", "examples/nir/braille-synthetic.xev", "--out", out])
        XCTAssertEqual(s, 0, err)
        XCTAssertTrue(stdout.contains("program \"braille_noDelay_noBias_subtract\" on ideal, seed 1, 1 sample(s)"), stdout)
        let manifest = try String(contentsOfFile: out + "/manifest.json", encoding: .utf8)
        XCTAssertTrue(manifest.contains("\"timesteps\": 256"), String(manifest.prefix(400)))
    }

    func testErrorsAreOneLineAndLeaveNoPartialFile() throws {
        let dir = Repo.tempDir()
        let bad = dir.appendingPathComponent("bad.json")
        try Data("{\"format\": \"neuroxbar-graph\", \"version\": 1, \"name\": \"x\", \"timesteps\": 5, \"populations\": [{\"name\": \"a\", \"kind\": \"lif\", \"size\": 3, \"decay\": 2, \"threshold\": 1}], \"projections\": []}".utf8).write(to: bad)
        let out = dir.appendingPathComponent("out.xir").path
        let (s, o, e) = try Repo.run(["compile", bad.path, "-o", out])
        XCTAssertEqual(s, 1)
        XCTAssertEqual(o, "")
        XCTAssertEqual(e, "error: \(bad.path): populations[0].decay: 2.0 out of range 0.0...1.0\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        // Bad event file.
        let ev = dir.appendingPathComponent("bad.xev")
        try Data("xbar-events 1\nchannels 256\ntimesteps 50\nsamples 1\nsample 0 label 1\n0: 3 999\nend\n".utf8).write(to: ev)
        let (s2, _, e2) = try Repo.run(["emulate", "examples/lsm-paper/lsm-paper.json", "--input", ev.path])
        XCTAssertEqual(s2, 1)
        XCTAssertEqual(e2.filter { $0 == "\n" }.count, 1, e2)
        XCTAssertTrue(e2.contains("\(ev.path): line 6"), e2)
        // Unknown target key.
        let tgt = dir.appendingPathComponent("t.toml")
        var text = try String(contentsOfFile: Repo.path("targets/ideal.toml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "bits = 24", with: "bits = 24\nbitz = 3")
        try Data(text.utf8).write(to: tgt)
        let (s3, _, e3) = try Repo.run(["compile", "examples/lsm-paper/lsm-paper.json", "--target", tgt.path])
        XCTAssertEqual(s3, 1)
        XCTAssertEqual(e3, "error: \(tgt.path): adc.bitz: unknown key\n")
        // Input whose channel count does not match the program.
        let small = dir.appendingPathComponent("small.xev")
        try Data("xbar-events 1\nchannels 10\ntimesteps 50\nsamples 0\n".utf8).write(to: small)
        let (s4, _, e4) = try Repo.run(["emulate", "examples/lsm-paper/lsm-paper.json", "--input", small.path])
        XCTAssertEqual(s4, 1)
        XCTAssertTrue(e4.contains("channels: input has 10 channels, program \"lsm-paper\" expects 256"), e4)
    }
}
