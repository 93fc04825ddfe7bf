import Foundation
import XCTest
import XbarCore
@testable import XbarEvents

/// Repository root: this file is <root>/Tests/XbarTests/EventsTests.swift.
private let repoRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func repoPath(_ relative: String) -> String {
    repoRoot.appendingPathComponent(relative).path
}

/// Asserts that `body` throws an `XbarError` for `file` whose description contains `expected`.
private func assertXbarError<T>(_ body: @autoclosure () throws -> T, file: String, contains expected: String,
                                line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("no error; expected one containing \"\(expected)\"", line: line)
    } catch let e as XbarError {
        XCTAssertEqual(e.file, file, line: line)
        XCTAssertTrue(e.description.contains(expected), "\"\(e.description)\" lacks \"\(expected)\"", line: line)
        XCTAssertFalse(e.description.contains("\n"), line: line)
    } catch {
        XCTFail("not an XbarError: \(error)", line: line)
    }
}

// MARK: - .xev

final class EventFileTests: XCTestCase {
    static let example = """
        xbar-events 1
        channels 256
        timesteps 50
        samples 2
        sample 0 label 3
        0: 12 45 78
        3: 5
        end
        sample 1 label -
        end

        """

    func testParseExample() throws {
        let d = try EventFile.parse(Self.example, file: "ex.xev")
        XCTAssertEqual(d.channels, 256)
        XCTAssertEqual(d.timesteps, 50)
        XCTAssertEqual(d.samples.count, 2)
        var active = Array(repeating: [Int32](), count: 50)
        active[0] = [12, 45, 78]
        active[3] = [5]
        XCTAssertEqual(d.samples[0], SpikeRaster(channels: 256, timesteps: 50, label: 3, active: active))
        XCTAssertEqual(d.samples[1], SpikeRaster(channels: 256, timesteps: 50, label: nil))
        XCTAssertEqual(d.samples[0].eventCount, 4)
        XCTAssertEqual(d.samples[1].eventCount, 0)
        XCTAssertEqual(d.eventCount, 4)
        XCTAssertEqual(d.samples[0].channelCounts()[45], 1)
        XCTAssertEqual(d.samples[0].channelCounts().reduce(0, +), 4)
    }

    func testFormatOfParseIsIdentity() throws {
        XCTAssertEqual(EventFile.format(try EventFile.parse(Self.example, file: "ex.xev")), Self.example)
        let empty = "xbar-events 1\nchannels 1\ntimesteps 1\nsamples 0\n"
        XCTAssertEqual(EventFile.format(try EventFile.parse(empty, file: "e.xev")), empty)
    }

    func testParseOfFormatIsIdentity() throws {
        var a = SpikeRaster(channels: 8, timesteps: 4, label: 0)
        a.active[0] = [0, 7]
        a.active[3] = [1, 2, 3]
        var b = SpikeRaster(channels: 8, timesteps: 4, label: 123_456)
        b.active[2] = [4]
        let d = EventDataset(channels: 8, timesteps: 4, samples: [a, SpikeRaster(channels: 8, timesteps: 4), b])
        let text = EventFile.format(d)
        XCTAssertEqual(text, """
            xbar-events 1
            channels 8
            timesteps 4
            samples 3
            sample 0 label 0
            0: 0 7
            3: 1 2 3
            end
            sample 1 label -
            end
            sample 2 label 123456
            2: 4
            end

            """)
        XCTAssertEqual(try EventFile.parse(text, file: "d.xev"), d)
    }

    func testCommentsBlankLinesAndCRLFIgnored() throws {
        let noisy = "# made by hand\n\nxbar-events 1\r\n  channels 256\ntimesteps\t50\n# two\nsamples 2\n"
            + "sample 0 label 3\n  # step zero\n0: 12  45 78\n\n3: 5\r\nend\nsample 1 label -\nend\n# trailer\n"
        XCTAssertEqual(try EventFile.parse(noisy, file: "n.xev"), try EventFile.parse(Self.example, file: "ex.xev"))
    }

    func testReadWriteFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xev-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("a.xev").path
        let d = try EventFile.parse(Self.example, file: "ex.xev")
        try EventFile.write(d, to: path)
        XCTAssertEqual(try AtomicFile.readText(path), Self.example)
        XCTAssertEqual(try EventFile.read(path), d)
        assertXbarError(try EventFile.read(dir.appendingPathComponent("missing.xev").path),
                        file: dir.appendingPathComponent("missing.xev").path, contains: "cannot read")
    }

    /// Writing over an existing file must replace it (and never lose it).
    func testWriteOverwritesExistingFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xev-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("b.xev").path
        let d = try EventFile.parse(Self.example, file: "ex.xev")
        try EventFile.write(EventDataset(channels: 4, timesteps: 2, samples: []), to: path)
        try EventFile.write(d, to: path)
        XCTAssertEqual(try EventFile.read(path), d)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["b.xev"])
    }

    func testValidateRefusesMalformedDatasets() {
        var s = SpikeRaster(channels: 8, timesteps: 4, label: 1)
        s.active[1] = [3, 2]
        assertXbarError(try EventFile.validate(EventDataset(channels: 8, timesteps: 4, samples: [s]), file: "v.xev"),
                        file: "v.xev", contains: "v.xev: samples[0].active[1]: channel 2 after 3")
        s.active[1] = [8]
        assertXbarError(try EventFile.validate(EventDataset(channels: 8, timesteps: 4, samples: [s]), file: "v.xev"),
                        file: "v.xev", contains: "samples[0].active[1]: channel 8 out of range 0..<8")
        s.active[1] = []
        s.label = -1
        assertXbarError(try EventFile.validate(EventDataset(channels: 8, timesteps: 4, samples: [s]), file: "v.xev"),
                        file: "v.xev", contains: "samples[0].label: -1 is negative")
        assertXbarError(try EventFile.validate(EventDataset(channels: 8, timesteps: 5, samples: [s]), file: "v.xev"),
                        file: "v.xev", contains: "samples[0].timesteps")
        assertXbarError(try EventFile.validate(EventDataset(channels: 0, timesteps: 4, samples: []), file: "v.xev"),
                        file: "v.xev", contains: "channels: 0 outside 1...1000000")
    }

    /// Header of a one-sample file of 256 channels and 50 steps, lines 1-4; the sample starts at line 5.
    static let head = "xbar-events 1\nchannels 256\ntimesteps 50\nsamples 1\n"

    func testMalformedInputsNameTheLine() {
        let h = Self.head
        let cases: [(String, String)] = [
            ("", "line 1: empty file"),
            ("# only a comment\n\n", "line 2: empty file"),
            ("xbar-event 1\n", "line 1: expected header `xbar-events 1`, found `xbar-event`"),
            ("xbar-events\n", "line 1: expected header"),
            ("xbar-events 2\nchannels 4\n", "line 1: unsupported version 2"),
            ("xbar-events one\n", "line 1: bad version `one`"),
            ("xbar-events 1\n", "line 1: end of file: expected `channels N`"),
            ("xbar-events 1\ntimesteps 50\n", "line 2: expected `channels N`, found `timesteps`"),
            ("xbar-events 1\nchannels 0\n", "line 2: channels 0 outside 1...1000000"),
            ("xbar-events 1\nchannels 1000001\n", "line 2: channels 1000001 outside 1...1000000"),
            ("xbar-events 1\nchannels 123456789012345678901234567890\n", "line 2: channels: `1234567890"),
            ("xbar-events 1\nchannels -4\n", "line 2: channels: `-4` is not a non-negative integer"),
            ("xbar-events 1\nchannels 4 5\n", "line 2: expected `channels N`"),
            ("xbar-events 1\nchannels 4\ntimesteps 1000001\n", "line 3: timesteps 1000001 outside 1...1000000"),
            ("xbar-events 1\nchannels 4\ntimesteps 50\nsamples 10000001\n", "line 4: samples 10000001 outside 0...10000000"),
            ("xbar-events 1\nchannels 4\ntimesteps 1000000\nsamples 251\n", "line 4: 251 samples x 1000000 steps exceeds"),
            (h + "sample 0 label 3\n50: 1\nend\n", "line 6: step 50 out of range 0..<50"),
            (h + "sample 0 label 3\n0: 300\nend\n", "line 6: channel 300 out of range 0..<256"),
            (h + "sample 0 label 3\n0: 256\nend\n", "line 6: channel 256 out of range 0..<256"),
            (h + "sample 0 label 3\n0: 5 3\nend\n", "line 6: channel 3 after 5 at step 0: channels must be ascending"),
            (h + "sample 0 label 3\n0: 5 5\nend\n", "line 6: duplicate channel 5 at step 0"),
            (h + "sample 0 label 3\n3: 1\n2: 1\nend\n", "line 7: step 2 after step 3: steps must be ascending"),
            (h + "sample 0 label 3\n3: 1\n3: 2\nend\n", "line 7: duplicate step 3"),
            (h + "sample 0 label 3\n3:\nend\n", "line 6: step 3 lists no channels"),
            (h + "sample 0 label 3\n3 1\nend\n", "line 6: expected `step: channel ...` or `end`, found `3`"),
            (h + "sample 0 label 3\n:\nend\n", "line 6: expected `step: channel ...` or `end`, found `:`"),
            (h + "sample 0 label 3\n0: 1 x\nend\n", "line 6: expected a channel number, found `x`"),
            (h + "sample 0 label 3\n0: -1\nend\n", "line 6: expected a channel number, found `-1`"),
            (h + "sample 0 label 3\n0: 99999999999999999999\nend\n", "line 6: expected a channel number"),
            (h + "sample 0 label 3\n0: 1\n", "line 5: sample 0 has no `end` (end of file)"),
            (h + "sample 0 label 3\n", "line 5: sample 0 has no `end` (end of file)"),
            (h + "sample 0 label 3\nend now\n", "line 6: unexpected `now` after `end`"),
            (h + "sample 1 label 3\nend\n", "line 5: sample index 1 out of order: expected 0"),
            (h + "sample 0 label x\nend\n", "line 5: bad label `x`: expected a non-negative integer or -"),
            (h + "sample 0 label -3\nend\n", "line 5: bad label `-3`"),
            (h + "sample 0 labels 3\nend\n", "line 5: expected `sample 0 label L`"),
            (h + "sample 0\nend\n", "line 5: expected `sample 0 label L`"),
            (h + "0: 1\n", "line 5: expected `sample 0 label L`, found `0:`"),
            (h, "line 4: header says 1 samples but the file has 0"),
            (h + "sample 0 label 1\nend\nsample 1 label 2\nend\n", "line 7: more samples than the header's 1"),
            (h + "sample 0 label 1\nend\nfoo\n", "line 7: unexpected `foo` after the last sample"),
            ("xbar-events 1\nchannels 256\ntimesteps 50\nsamples 2\nsample 0 label 1\n0: 1\nsample 1 label 2\nend\n",
             "line 7: sample 0 has no `end` before the next `sample`"),
            ("xbar-events 1\nchannels 256\ntimesteps 50\nsamples 3\nsample 0 label 1\nend\nsample 1 label 2\nend\n",
             "line 4: header says 3 samples but the file has 2"),
        ]
        for (text, expected) in cases {
            assertXbarError(try EventFile.parse(text, file: "bad.xev"), file: "bad.xev", contains: "bad.xev: " + expected)
        }
    }

    /// Thousands of deterministic mutations and truncations of a valid file: each parses or throws an XbarError.
    func testMutatedInputsNeverCrash() throws {
        let base = Array(Self.example.utf8)
        let alphabet = Array("0123456789 :-#\nendsamplelabelxbar-eventschannels\r\t".utf8) + [0xFF, 0x00]
        let rng = Philox(seed: 99)
        var parsed = 0, refused = 0
        for i in 0..<3000 {
            var bytes = base
            let r = rng.words(purpose: 200, UInt32(i), 0, 0)
            let edits = 1 + Int(r.0 % 3)
            for k in 0..<edits {
                let w = rng.words(purpose: 201, UInt32(i), UInt32(k), 0)
                let at = Int(w.0 % UInt64(bytes.count + 1))
                let byte = alphabet[Int(w.1 % UInt64(alphabet.count))]
                switch w.1 % 4 {
                case 0 where at < bytes.count: bytes[at] = byte
                case 1: bytes.insert(byte, at: at)
                case 2 where at < bytes.count: bytes.remove(at: at)
                default: bytes = Array(bytes.prefix(at))
                }
            }
            do {
                let d = try EventFile.parse(String(decoding: bytes, as: UTF8.self), file: "m.xev")
                XCTAssertNoThrow(try EventFile.validate(d, file: "m.xev"))
                parsed += 1
            } catch let e as XbarError {
                XCTAssertEqual(e.file, "m.xev")
                XCTAssertTrue(e.field.hasPrefix("line "), e.description)
                refused += 1
            }
        }
        XCTAssertEqual(parsed + refused, 3000)
        XCTAssertGreaterThan(refused, 1000)
    }
}

// MARK: - N-MNIST

final class NMNISTTests: XCTestCase {
    let samplePath = repoPath("examples/nmnist/sample_nmnist.bin")

    func testDecodeSample() throws {
        let events = try NMNIST.read(samplePath)
        XCTAssertEqual(events.count, 4325)
        XCTAssertTrue(events.allSatisfy { $0.x < 34 && $0.y < 34 })
        XCTAssertEqual(events.map(\.x).max(), 33)
        XCTAssertEqual(events.map(\.y).max(), 33)
        XCTAssertEqual(events.first, NMNISTEvent(x: 7, y: 15, polarity: true, timestampUS: 654))
        XCTAssertEqual(events[1], NMNISTEvent(x: 19, y: 18, polarity: false, timestampUS: 2999))
        XCTAssertEqual(events.last, NMNISTEvent(x: 21, y: 14, polarity: true, timestampUS: 311_175))
        XCTAssertEqual(events.filter(\.polarity).count, 2145)
    }

    func testEncodeDecodeRoundTripIsExact() throws {
        let bytes = try AtomicFile.read(samplePath)
        XCTAssertEqual(bytes.count, 21625)
        XCTAssertEqual(NMNIST.encode(try NMNIST.decode(bytes, file: samplePath)), bytes)
    }

    func testTruncatedAndOutOfRangeErrorsNameFileAndByte() throws {
        let bytes = try AtomicFile.read(samplePath)
        assertXbarError(try NMNIST.decode(bytes.dropLast(3), file: samplePath), file: samplePath,
                        contains: "\(samplePath): byte 21620: length 21622 is not a multiple of 5")
        var bad = [UInt8](bytes)
        bad[17 * 5] = 40
        assertXbarError(try NMNIST.decode(Data(bad), file: "b.bin"), file: "b.bin",
                        contains: "b.bin: byte 85: event 17: x 40 out of range 0..<34")
        bad = [UInt8](bytes)
        bad[3 * 5 + 1] = 34
        assertXbarError(try NMNIST.decode(Data(bad), file: "b.bin"), file: "b.bin",
                        contains: "b.bin: byte 15: event 3: y 34 out of range 0..<34")
        XCTAssertEqual(try NMNIST.decode(Data(), file: "e.bin"), [])
        assertXbarError(try NMNIST.read(repoPath("examples/nmnist/missing.bin")),
                        file: repoPath("examples/nmnist/missing.bin"), contains: "cannot read")
    }

    static let handMade = [
        NMNISTEvent(x: 9, y: 9, polarity: true, timestampUS: 0),     // crop corner: channel 0
        NMNISTEvent(x: 24, y: 24, polarity: true, timestampUS: 99),  // far crop corner: channel 255
        NMNISTEvent(x: 8, y: 9, polarity: true, timestampUS: 50),    // left of the crop
        NMNISTEvent(x: 10, y: 9, polarity: false, timestampUS: 50),  // OFF
        NMNISTEvent(x: 10, y: 9, polarity: true, timestampUS: 50),   // ON, channel 1
        NMNISTEvent(x: 10, y: 9, polarity: true, timestampUS: 51),   // same step and channel: merged
        NMNISTEvent(x: 9, y: 10, polarity: true, timestampUS: 30),   // channel 16
    ]

    func testBinCropOn() {
        // duration = 99 + 1 = 100; step = floor(t * 10 / 100).
        let r = NMNIST.bin(Self.handMade, timesteps: 10, crop: .paperCentre16, label: 4)
        var expected = SpikeRaster(channels: 256, timesteps: 10, label: 4)
        expected.active[0] = [0]
        expected.active[3] = [16]
        expected.active[5] = [1]
        expected.active[9] = [255]
        XCTAssertEqual(r, expected)
    }

    func testBinCropOffAndBoth() {
        var off = SpikeRaster(channels: 256, timesteps: 10)
        off.active[5] = [1]
        XCTAssertEqual(NMNIST.bin(Self.handMade, timesteps: 10, crop: .paperCentre16, polarity: .off), off)
        var both = SpikeRaster(channels: 512, timesteps: 10)
        both.active[0] = [1]         // (0)*2 + ON
        both.active[3] = [33]        // 16*2 + 1
        both.active[5] = [2, 3]      // 1*2 + OFF, 1*2 + ON
        both.active[9] = [511]       // 255*2 + 1
        XCTAssertEqual(NMNIST.bin(Self.handMade, timesteps: 10, crop: .paperCentre16, polarity: .both), both)
        var planes = SpikeRaster(channels: 512, timesteps: 10)
        planes.active[0] = [256]     // ON plane: 256 + 0
        planes.active[3] = [272]     // 256 + 16
        planes.active[5] = [1, 257]  // OFF plane 1, ON plane 256 + 1
        planes.active[9] = [511]     // 256 + 255
        XCTAssertEqual(NMNIST.bin(Self.handMade, timesteps: 10, crop: .paperCentre16, polarity: .planes), planes)
    }

    func testBinFullFieldAndExplicitDuration() {
        // No crop: channel = y*34 + x. Duration 60: t = 99 dropped; step = floor(t * 10 / 60).
        let r = NMNIST.bin(Self.handMade, timesteps: 10, durationUS: 60)
        var expected = SpikeRaster(channels: 1156, timesteps: 10)
        expected.active[0] = [9 * 34 + 9]
        expected.active[5] = [10 * 34 + 9]                 // t = 30 -> 5
        expected.active[8] = [9 * 34 + 8, 9 * 34 + 10]     // t = 50, 51 -> 8
        XCTAssertEqual(r, expected)
        XCTAssertEqual(NMNIST.channelCount(crop: nil, polarity: .both), 2312)
        XCTAssertEqual(NMNIST.bin([], timesteps: 5), SpikeRaster(channels: 1156, timesteps: 5))
        XCTAssertEqual(NMNIST.bin(Self.handMade, timesteps: 0).active.count, 0)
        XCTAssertEqual(NMNIST.bin(Self.handMade, timesteps: 4, durationUS: 0).eventCount, 0)
        // Absurd crops are clamped instead of trapping.
        XCTAssertEqual(NMNIST.bin(Self.handMade, timesteps: 4, crop: Crop(x0: Int.min, y0: Int.max, width: -3, height: Int.max)).channels, 0)
    }

    func testBinPaperSettingsOnSample() throws {
        // Cross-checked against an independent Python binning of the same file.
        let r = NMNIST.bin(try NMNIST.read(samplePath), timesteps: 50, crop: .paperCentre16, polarity: .on)
        XCTAssertEqual(r.channels, 256)
        XCTAssertEqual(r.eventCount, 1366)
        XCTAssertEqual(r.active[0], [3, 5])
        XCTAssertEqual(r.active[1], [20, 115, 123])
        XCTAssertEqual(r.active[13], [36, 64, 100, 182, 197, 204])
        XCTAssertNoThrow(try EventFile.validate(EventDataset(channels: 256, timesteps: 50, samples: [r]), file: "s"))
    }
}

// MARK: - Digits

final class DigitsTests: XCTestCase {
    let csvPath = repoPath("examples/digits/digits.csv")
    let bundledPath = repoPath("examples/digits/digits-test.xev")

    func testLoadCSV() throws {
        let rows = try Digits.loadCSV(csvPath)
        XCTAssertEqual(rows.count, 1797)
        XCTAssertEqual(rows[0].label, 0)
        XCTAssertEqual(rows[0].pixels.count, 64)
        XCTAssertEqual(Array(rows[0].pixels.prefix(8)), [0, 0, 5, 13, 9, 1, 0, 0])
        XCTAssertEqual(rows[1].label, 1)
        XCTAssertEqual(rows[1796].label, 8)
        XCTAssertTrue(rows.allSatisfy { $0.pixels.count == 64 && $0.pixels.allSatisfy { $0 <= 16 } })
        XCTAssertEqual(Set(rows.map(\.label)), Set(0...9))
    }

    func testCSVErrorsNameFileAndLine() {
        let good = Array(repeating: "0", count: 64).joined(separator: ",") + ",3"
        let twoPixelsShort = Array(repeating: "0", count: 62).joined(separator: ",") + ",3"
        var row17 = Array(repeating: "0", count: 64)
        row17[2] = "17"
        assertXbarError(try Digits.parseCSV(good + "\n" + twoPixelsShort + "\n", file: "d.csv"), file: "d.csv",
                        contains: "d.csv: line 2: expected 65 values (64 pixels and a label), found 63")
        assertXbarError(try Digits.parseCSV(row17.joined(separator: ",") + ",1\n", file: "d.csv"), file: "d.csv",
                        contains: "d.csv: line 1: column 3: pixel `17` is not an integer in 0...16")
        assertXbarError(try Digits.parseCSV("\n" + good.dropLast() + "x\n", file: "d.csv"), file: "d.csv",
                        contains: "d.csv: line 2: column 65: label `x` is not a non-negative integer")
        assertXbarError(try Digits.loadCSV("/nonexistent/digits.csv"), file: "/nonexistent/digits.csv",
                        contains: "cannot read")
        XCTAssertEqual(try Digits.parseCSV(good + "\r\n\n" + good + "\n", file: "d.csv").map(\.label), [3, 3])
    }

    func testRateEncodeFollowsTheRule() throws {
        let rows = try Digits.loadCSV(csvPath)
        let r = Digits.rateEncode(pixels: rows[5].pixels, label: rows[5].label, sampleIndex: 5, seed: 7, timesteps: 50)
        XCTAssertEqual(r.channels, 256)
        XCTAssertEqual(r.timesteps, 50)
        XCTAssertEqual(r.label, rows[5].label)
        let rng = Philox(seed: 7)
        for t in 0..<50 {
            var expected: [Int32] = []
            for c in 0..<256 {
                let pixel = rows[5].pixels[(c / 16 / 2) * 8 + (c % 16) / 2]
                let u = rng.uniform(purpose: RandomPurpose.eventEncoding.rawValue, 5, UInt32(c), UInt32(t))
                if u < Double(pixel) / 16 * 0.25 { expected.append(Int32(c)) }
            }
            XCTAssertEqual(r.active[t], expected, "step \(t)")
        }
        XCTAssertGreaterThan(r.eventCount, 0)
    }

    func testRateEncodeDeterministicAndSeeded() throws {
        let rows = try Digits.loadCSV(csvPath)
        let p = rows[0].pixels
        let a = Digits.rateEncode(pixels: p, label: 0, sampleIndex: 0, seed: 1, timesteps: 50)
        XCTAssertEqual(a, Digits.rateEncode(pixels: p, label: 0, sampleIndex: 0, seed: 1, timesteps: 50))
        XCTAssertNotEqual(a.active, Digits.rateEncode(pixels: p, label: 0, sampleIndex: 0, seed: 2, timesteps: 50).active)
        XCTAssertNotEqual(a.active, Digits.rateEncode(pixels: p, label: 0, sampleIndex: 1, seed: 1, timesteps: 50).active)
        // Prefix property: the first 20 steps do not depend on the total number of steps.
        XCTAssertEqual(Array(a.active.prefix(20)),
                       Digits.rateEncode(pixels: p, label: 0, sampleIndex: 0, seed: 1, timesteps: 20).active)
    }

    func testRateEncodeEdgeCases() {
        let blank = [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(Digits.rateEncode(pixels: blank, label: 1, sampleIndex: 0, seed: 1, timesteps: 10).eventCount, 0)
        let full = [UInt8](repeating: 16, count: 64)
        XCTAssertEqual(Digits.rateEncode(pixels: full, label: 1, sampleIndex: 0, seed: 1, timesteps: 10, maxRate: 1)
            .eventCount, 2560)
        var corner = blank
        corner[0] = 16   // row 0, col 0 -> the 2x2 block of channels 0, 1, 16, 17
        corner[63] = 16  // row 7, col 7 -> channels 238, 239, 254, 255
        let r = Digits.rateEncode(pixels: corner, label: 1, sampleIndex: 0, seed: 1, timesteps: 3, maxRate: 1)
        XCTAssertEqual(r.active, Array(repeating: [0, 1, 16, 17, 238, 239, 254, 255], count: 3))
        let u1 = Digits.rateEncode(pixels: corner, label: 1, sampleIndex: 0, seed: 1, timesteps: 2, upscale: 1, maxRate: 1)
        XCTAssertEqual(u1.channels, 64)
        XCTAssertEqual(u1.active, [[0, 63], [0, 63]])
        XCTAssertEqual(Digits.rateEncode(pixels: [], label: 1, sampleIndex: -5, seed: 1, timesteps: -1).timesteps, 0)
    }

    /// examples/digits/digits-test.xev: the last 200 samples, seed 1, 50 steps, max rate 0.25.
    /// Set XBAR_WRITE_EXAMPLES=1 to (re)write it.
    func testBundledExampleMatchesRegeneration() throws {
        let rows = try Digits.loadCSV(csvPath)
        let d = Digits.encode(rows, indices: 1597..<1797, seed: 1, timesteps: 50, upscale: 2, maxRate: 0.25)
        XCTAssertEqual(d.samples.count, 200)
        XCTAssertEqual(d.channels, 256)
        if ProcessInfo.processInfo.environment["XBAR_WRITE_EXAMPLES"] == "1" {
            try EventFile.write(d, to: bundledPath)
        }
        let text = try AtomicFile.readText(bundledPath)
        XCTAssertEqual(text, EventFile.format(d))
        let parsed = try EventFile.parse(text, file: bundledPath)
        XCTAssertEqual(parsed, d)
        XCTAssertEqual(parsed.eventCount, 198_323)
        XCTAssertEqual(parsed.samples.map { $0.label ?? -1 }, rows[1597...].map(\.label))
        XCTAssertEqual(parsed.samples[0].active[0], [6, 7, 23, 40, 41, 89, 90, 122, 136, 154, 155, 166, 168, 201, 234, 246, 248, 250])
    }
}

/// `xbar events random` and `EventDataset.random`, the benchmarks' synthetic input.
final class RandomEventsTests: XCTestCase {
    /// Channel c of sample s spikes at step t exactly when U(eventEncoding, s, c, t) < rate, recomputed here from
    /// Philox; rate 0 and 1 give no events and every event; the CLI writes the same dataset.
    func testBernoulliSpikesFromPhiloxAndTheCLI() throws {
        let d = EventDataset.random(channels: 30, timesteps: 7, samples: 3, rate: 0.2, seed: 5)
        let rng = Philox(seed: 5)
        for s in 0..<3 {
            for t in 0..<7 {
                let expected = (0..<30).filter { rng.uniform(purpose: RandomPurpose.eventEncoding.rawValue, UInt32(s), UInt32($0), UInt32(t)) < 0.2 }
                XCTAssertEqual(d.samples[s].active[t], expected.map(Int32.init))
            }
        }
        XCTAssertEqual(EventDataset.random(channels: 30, timesteps: 7, samples: 3, rate: 0, seed: 5).eventCount, 0)
        XCTAssertEqual(EventDataset.random(channels: 30, timesteps: 7, samples: 3, rate: 1, seed: 5).eventCount, 30 * 7 * 3)
        let dir = Repo.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.xev").path
        let (status, out, _) = try Repo.run(["events", "random", "--channels", "30", "--timesteps", "7", "--samples", "3", "--rate", "0.2",
                                             "--seed", "5", "--out", path])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(out, "wrote \(path): 3 samples, 30 channels, 7 steps, \(d.eventCount) events\n")
        XCTAssertEqual(try EventFile.read(path), d)
        let (bad, _, err) = try Repo.run(["events", "random", "--channels", "30", "--rate", "1.5", "--out", path])
        XCTAssertNotEqual(bad, 0)
        XCTAssertTrue(err.contains("--rate must be in 0...1"), err)
    }
}
