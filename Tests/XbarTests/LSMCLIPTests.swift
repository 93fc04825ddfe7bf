import Foundation
import XCTest
import XbarCore
import XbarEvents
@testable import XbarLearn
import XbarNIR
import XbarTarget

/// The zero-shot multimodal experiment's parts (docs/experiment.md, "LSM-CLIP"): the cochlea against its closed-form
/// firing rate, binning, WAV decoding, espeak-ng synthesis, the speaker split, the N-TIDIGITS reader on a fixture written
/// in the public release's layout (through the isolated worker), the heads' gradients against finite differences,
/// retrieval by hand, and a small seeded run with its figures pinned.
final class LSMCLIPTests: XCTestCase {
    func testCochleaFiresAtTheClosedFormRateOnAPureTone() {
        // A tone at channel c's centre passes the (unit-peak-gain) filters whole: after unit-RMS scaling its amplitude is
        // sqrt(2), the mean of its half-wave rectification sqrt(2) / pi, so the IF neuron fires sqrt(2) / (pi theta) per s.
        var o = Cochlea.Options()
        o.mismatch = 0
        o.refractoryUS = 0
        let ear = Cochlea(o)
        let c = 40, f0 = ear.centreHz(c), fs = 22050.0
        XCTAssertEqual(ear.centreHz(0), 100, accuracy: 1e-9)
        XCTAssertEqual(ear.centreHz(63), 8000, accuracy: 1e-6)
        let x = (0..<22050).map { sin(2 * Double.pi * f0 * Double($0) / fs) * 0.3 }
        let ev = ear.events(x, sampleRate: fs)
        let count = { (k: Int) in ev.filter { $0.channel == UInt8(k) }.count }
        let expected = 2.0.squareRoot() / (Double.pi * o.threshold)   // 2251 spikes in 1 s
        XCTAssertEqual(Double(count(c)), expected, accuracy: 0.03 * expected)
        XCTAssertLessThan(count(c - 16), count(c) / 5)                 // an octave and more away
        XCTAssertLessThan(count(c + 16), count(c) / 5)
        XCTAssertEqual(ev, ev.sorted { ($0.timestampUS, $0.channel) < ($1.timestampUS, $1.channel) })
        // A refractory period of 1 ms caps the rate at 1000 per s.
        o.refractoryUS = 1000
        XCTAssertLessThanOrEqual(Cochlea(o).events(x, sampleRate: fs).filter { $0.channel == UInt8(c) }.count, 1000)
    }

    func testRasterBinsOverTheRecordingLength() {
        let ev = [CochleaEvent(channel: 2, timestampUS: 0), CochleaEvent(channel: 5, timestampUS: 499),
                  CochleaEvent(channel: 2, timestampUS: 500), CochleaEvent(channel: 2, timestampUS: 501), CochleaEvent(channel: 1, timestampUS: 999)]
        // Length 1000 us over 4 steps of 250 us.
        let r = CochleaEvents.raster(ev, channels: 8, timesteps: 4, label: 3)
        XCTAssertEqual(r.active, [[2], [5], [2], [1]])
        XCTAssertEqual(r.label, 3)
        let recs = [CochleaRecording(test: false, name: "man-ab-a-1", events: ev), CochleaRecording(test: true, name: "w-x-b-z", events: [])]
        XCTAssertEqual(try CochleaEvents.decode(CochleaEvents.encode(recs)), recs)
        XCTAssertEqual(recs[0].digits, "1")
        XCTAssertThrowsError(try CochleaEvents.decode(CochleaEvents.encode(recs).prefix(20)))
    }

    func testWAVDecodingOfAStreamWithPlaceholderSizes() throws {
        var d = Data("RIFF".utf8) + Data([0x24, 0xf0, 0xff, 0x7f]) + Data("WAVEfmt ".utf8)
        d += Data([16, 0, 0, 0, 1, 0, 1, 0, 0x22, 0x56, 0, 0, 0x44, 0xac, 0, 0, 2, 0, 16, 0]) + Data("data".utf8) + Data([0, 0xf0, 0xff, 0x7f])
        d += Data([0x00, 0x40, 0x00, 0xc0, 0xff, 0x7f])   // 16384, -16384, 32767
        let (x, rate) = try WAV.decode(d, name: "t")
        XCTAssertEqual(rate, 22050)
        XCTAssertEqual(x, [0.5, -0.5, 32767.0 / 32768])
        XCTAssertThrowsError(try WAV.decode(Data("RIFX".utf8) + d.dropFirst(4), name: "t"))
    }

    func testSpokenDigitsSplitBySpeakerAndSynthesiseDeterministically() throws {
        let s = SpokenDigits(SpokenDigits.Options())
        let u = s.utterances(digits: [1, 9])
        XCTAssertEqual(u.count, 2 * 84 * 2)
        let train = Set(u.filter { $0.split == .train }.map { "\($0.accent)+\($0.variant)" })
        let test = Set(u.filter { $0.split == .test }.map { "\($0.accent)+\($0.variant)" })
        XCTAssertEqual(test.count, 28)
        XCTAssertEqual(train.count, 56)
        XCTAssertTrue(train.isDisjoint(with: test))
        XCTAssertTrue(u.allSatisfy { (120...200).contains($0.rate) && (25...75).contains($0.pitch) })
        let exe = try SpokenDigits.synthesiser()
        let a = try SpokenDigits.synthesise(u[0], executable: exe), b = try SpokenDigits.synthesise(u[0], executable: exe)
        XCTAssertEqual(a.rate, 22050)
        XCTAssertEqual(a.samples, b.samples)
        XCTAssertGreaterThan(a.samples.count, 4000)                        // "one": a few hundred ms
        XCTAssertGreaterThan(a.samples.map { abs($0) }.max()!, 0.05)
    }

    /// Writes `n-tidigits.hdf5`-style files: {train,test}_labels, _addresses/NAME, _timestamps/NAME (seconds).
    private func fixture(_ dir: TestScratch, _ name: String, _ recs: [(split: String, name: String, ch: [Int64], t: [Double])], drop: String? = nil) throws -> String {
        let path = dir.path(name)
        let w = try HDF5Writer(path: path)
        for split in ["train", "test"] {
            let these = recs.filter { $0.split == split }
            try w.write("\(split)_labels", strings: these.map(\.name), fixedLength: 16)
            try w.group("\(split)_addresses")
            try w.group("\(split)_timestamps")
            for r in these {
                try w.write("\(split)_addresses/\(r.name)", integers: r.ch)
                if drop != r.name { try w.write("\(split)_timestamps/\(r.name)", r.t) }
            }
        }
        w.close()
        return path
    }

    func testNTIDIGITSFixtureThroughTheIsolatedWorker() throws {
        let dir = TestScratch("xbar-ntidigits")
        defer { dir.remove() }
        let recs: [(split: String, name: String, ch: [Int64], t: [Double])] = [
            ("train", "man-ae-a-1", [3, 63, 0], [0.25, 0.0000005, 0.1]),
            ("train", "woman-bb-b-z", [1], [0.5]),
            ("train", "man-cc-a-12", [2, 2], [0.1, 0.2]),
            ("test", "woman-dd-a-9", [7, 8], [0.001, 0.002]),
        ]
        let path = try fixture(dir, "nt.hdf5", recs)
        let xbar = URL(fileURLWithPath: Repo.xbar)
        let read = try NTIDIGITSReader.read(path: path, worker: xbar)
        XCTAssertEqual(read, try NTIDIGITSReader.read(path: path))
        XCTAssertEqual(read.map { $0.name }, ["man-ae-a-1", "woman-bb-b-z", "man-cc-a-12", "woman-dd-a-9"])
        XCTAssertEqual(read.map { $0.test }, [false, false, false, true])
        // Seconds to us (rounded), events sorted by time.
        XCTAssertEqual(read[0].events, [CochleaEvent(channel: 63, timestampUS: 1), CochleaEvent(channel: 0, timestampUS: 100_000),
                                        CochleaEvent(channel: 3, timestampUS: 250_000)])
        // Single digits 1-9 only: "z" and "12" are left out.
        let set = LSMCLIPData.audio(read, digits: Set(1...9), channels: 64, timesteps: 4)
        XCTAssertEqual(set.trainNames, ["man-ae-a-1"] as [String])
        XCTAssertEqual(set.testNames, ["woman-dd-a-9"] as [String])
        XCTAssertEqual(set.train[0].active, [[63], [0], [], [3]])
        XCTAssertEqual(set.test[0].label, 9)
        // A missing timestamps dataset, and a file that is not HDF5, are one line each.
        let bad = try fixture(dir, "bad.hdf5", recs, drop: "man-cc-a-12")
        XCTAssertThrowsError(try NTIDIGITSReader.read(path: bad, worker: xbar)) { e in
            XCTAssertEqual("\(e)", "\(bad): train_timestamps/man-cc-a-12: missing (expected the N-TIDIGITS layout: {train,test}_labels, _addresses/NAME, _timestamps/NAME)")
        }
        let text = dir.path("x.hdf5")
        try "not hdf5".write(toFile: text, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try NTIDIGITSReader.read(path: text, worker: xbar)) { e in
            XCTAssertEqual("\(e)", "\(text): not an HDF5 file (or truncated/corrupt); expected n-tidigits.hdf5")
        }
    }

    func testContrastiveGradientMatchesFiniteDifferences() {
        let f = Features(rows: 3, cols: 4, x: [1, 0, 2, -1, 0.5, 1, -1, 0, -2, 1, 0, 1], labels: [1, 2, 3])
        let g = Features(rows: 3, cols: 4, x: [0, 1, 1, 1, 2, -1, 0, 0.5, 1, 1, -1, 0], labels: [1, 2, 3])
        let heads = ProjectionHeads(inputs: 4, dim: 3, seed: 7)
        let (_, gw, gb) = heads.contrastiveGradient([0, 1, 2], audio: f, image: g, tau: 0.3)
        let h = 1e-6
        for m in 0..<2 {
            for i in [0, 5, 11] {
                var p = heads, q = heads
                p.weights[m][i] += h
                q.weights[m][i] -= h
                let num = (p.contrastiveGradient([0, 1, 2], audio: f, image: g, tau: 0.3).loss
                           - q.contrastiveGradient([0, 1, 2], audio: f, image: g, tau: 0.3).loss) / (2 * h)
                XCTAssertEqual(gw[m][i], num, accuracy: 1e-6)
            }
            var p = heads, q = heads
            p.biases[m][1] += h
            q.biases[m][1] -= h
            let num = (p.contrastiveGradient([0, 1, 2], audio: f, image: g, tau: 0.3).loss
                       - q.contrastiveGradient([0, 1, 2], audio: f, image: g, tau: 0.3).loss) / (2 * h)
            XCTAssertEqual(gb[m][1], num, accuracy: 1e-6)
        }
    }

    func testRetrievalByHand() {
        // Identity heads (dim = inputs): cosine retrieval of 3 audio queries among 3 images.
        var heads = ProjectionHeads(inputs: 2, dim: 2, seed: 1)
        heads.weights = [[1, 0, 0, 1], [1, 0, 0, 1]]
        let audio = Features(rows: 3, cols: 2, x: [1, 0.1, 0.1, 1, -1, 0.2], labels: [1, 2, 3])
        let image = Features(rows: 3, cols: 2, x: [2, 0, 0, 3, 0.5, 0.5], labels: [1, 2, 3])
        // Query 3 (-1, 0.2) is nearest (cosine) to image 2 (0, 3): wrong; the others right.
        XCTAssertEqual(heads.retrieval(audio: audio, audioLabels: audio.labels, image: image, imageLabels: image.labels), 2.0 / 3, accuracy: 1e-15)
    }

    func testQuickRunFigures() throws {
        var spec = LSMCLIPSpec(target: try Repo.target("rram-40nm-256kb"), seeds: [1])
        LSMCLIPExperiment.quick(&spec)
        spec.threads = 2
        let digits = Set(spec.seen + spec.unseen)
        let audio = try LSMCLIPData.audio(spec.speech, cochlea: spec.cochlea, digits: digits.sorted(), timesteps: 129, threads: 2)
        XCTAssertEqual(audio.train.count + audio.test.count, 9 * 6)
        XCTAssertEqual(audio.test.count, 9 * 2)
        let images = LSMCLIPExperimentTestData.images()
        let rs = try LSMCLIPExperiment.run(spec, data: LSMCLIPData(image: images, audio: audio))
        XCTAssertEqual(rs.count, 4)
        let chip = rs.first { $0.model == .chip && $0.method == .clip }!
        XCTAssertGreaterThan(chip.imageEnergyPJ!, 0)
        XCTAssertGreaterThan(chip.audioEnergyPJ!, 0)
        XCTAssertEqual(rs.map { ($0.seen * 100).rounded() }, LSMCLIPExperimentTestData.pinnedSeen)
        XCTAssertEqual(rs.map { ($0.unseen * 100).rounded() }, LSMCLIPExperimentTestData.pinnedUnseen)
    }
}

/// The quick run's image data: the first 400 rows of the bundled digits by saccades (split seed 1), digits 1-9, and the
/// figures that run gives (seen, unseen %: clip software, prototype software, clip chip, prototype chip).
enum LSMCLIPExperimentTestData {
    static func images() -> LabelledSet {
        let rows = Array(try! Digits.loadCSV(Repo.path("examples/digits/digits.csv")).prefix(400))
        let recs = DigitsEvents.recordings(rows, options: SaccadeOptions(), splitSeed: 1, threads: 2)
        return LSMCLIPData.only(LabelledSet.binning(recs, BinOptions()), Set(1...9))
    }

    static let pinnedSeen: [Double] = [71, 71, 50, 57]
    static let pinnedUnseen: [Double] = [100, 100, 75, 50]
}
