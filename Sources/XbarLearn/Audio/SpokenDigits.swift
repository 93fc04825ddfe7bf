import Foundation
import XbarCore
import XbarEvents

/// Spoken digits made on this machine with the espeak-ng speech synthesiser (Debian package `espeak-ng`, installed by
/// `./xbar` and `./test`; nothing is downloaded), as a stand-in for TIDIGITS: a "speaker" is an espeak-ng voice with a
/// voice variant (7 English accents x 12 variants = 84 speakers), each saying every digit in two takes ("a", "b") with
/// its own speaking rate and pitch. Speakers are split into train and test (a seeded shuffle; no speaker in both), as
/// TIDIGITS splits its speakers. Each utterance goes through the `Cochlea` into 64-channel events (docs/experiment.md,
/// "LSM-CLIP").
public struct SpokenDigits: Sendable {
    /// Which speakers and takes.
    public struct Options: Equatable, Sendable {
        public var accents = ["en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029"]
        public var variants = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5"]
        public var takes = 2
        /// Fraction of the speakers in the test split.
        public var testFraction = 1.0 / 3
        /// Speaking rate (words per minute) and pitch (0-99) ranges of the takes.
        public var rates: ClosedRange<Double> = 120...200
        public var pitches: ClosedRange<Double> = 25...75
        public var seed: UInt64 = 1
        public init() {}
    }

    /// One utterance: its digit, speaker, take, split and synthesiser settings.
    public struct Utterance: Equatable, Sendable {
        public var digit: Int
        public var accent: String
        public var variant: String
        public var take: Int
        public var split: Split
        public var rate: Int
        public var pitch: Int
        /// TIDIGITS-style name: `<accent>+<variant>-<take a/b>-<digit>`.
        public var name: String { "\(accent)+\(variant)-\(take == 0 ? "a" : "b")-\(digit)" }
    }

    public static let words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

    public let options: Options
    public init(_ o: Options) { options = o }

    /// Every utterance of `digits`, in (split, digit, speaker, take) order.
    public func utterances(digits: [Int]) -> [Utterance] {
        let o = options
        let rng = Philox(seed: o.seed)
        let purpose = RandomPurpose.spokenDigits.rawValue
        let speakers = o.accents.flatMap { a in o.variants.map { (a, $0) } }
        let order = speakers.indices.sorted {
            let x = rng.uniform(purpose: purpose, 0, UInt32($0), 0), y = rng.uniform(purpose: purpose, 0, UInt32($1), 0)
            return x != y ? x < y : $0 < $1
        }
        let testCount = Int((o.testFraction * Double(speakers.count)).rounded())
        let test = Set(order.prefix(testCount))
        var out: [Utterance] = []
        for split in Split.allCases {
            for d in digits {
                for s in speakers.indices where test.contains(s) == (split == .test) {
                    for k in 0..<o.takes {
                        let key = UInt32(s * 16 + k)
                        let rate = o.rates.lowerBound + (o.rates.upperBound - o.rates.lowerBound) * rng.uniform(purpose: purpose, 1, key, UInt32(d))
                        let pitch = o.pitches.lowerBound + (o.pitches.upperBound - o.pitches.lowerBound) * rng.uniform(purpose: purpose, 2, key, UInt32(d))
                        out.append(Utterance(digit: d, accent: speakers[s].0, variant: speakers[s].1, take: k, split: split,
                                             rate: Int(rate.rounded()), pitch: Int(pitch.rounded())))
                    }
                }
            }
        }
        return out
    }

    /// The synthesiser's executable: `espeak-ng` on PATH or in /usr/bin.
    public static func synthesiser() throws -> URL {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin"]
        for d in dirs where FileManager.default.isExecutableFile(atPath: d + "/espeak-ng") { return URL(fileURLWithPath: d + "/espeak-ng") }
        throw XbarError(file: "espeak-ng", field: "", "the speech synthesiser is not installed (./xbar or ./test installs it; or apt-get install espeak-ng)")
    }

    /// The utterance's sound: 16-bit mono samples scaled to [-1, 1) and the sample rate, from `espeak-ng --stdout`
    /// (a WAV stream), killed if it takes more than `timeout` seconds.
    public static func synthesise(_ u: Utterance, executable: URL, timeout: Double = 20) throws -> (samples: [Double], rate: Double) {
        let p = Process()
        p.executableURL = executable
        p.arguments = ["--stdout", "-v", "\(u.accent)+\(u.variant)", "-s", "\(u.rate)", "-p", "\(u.pitch)", words[u.digit]]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        if done.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            throw XbarError(file: "espeak-ng", field: u.name, "no sound within \(Int(timeout)) s")
        }
        guard p.terminationStatus == 0 else { throw XbarError(file: "espeak-ng", field: u.name, "exited with status \(p.terminationStatus)") }
        return try WAV.decode(data, name: u.name)
    }
}

/// The 16-bit PCM WAV streams espeak-ng writes (its RIFF and data sizes are placeholders when it writes to a pipe, so
/// the data run to the end of the stream).
enum WAV {
    static func decode(_ d: Data, name: String) throws -> (samples: [Double], rate: Double) {
        let b = [UInt8](d)
        func u32(_ i: Int) -> UInt32 { UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24 }
        func u16(_ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
        guard b.count >= 44, b[0..<4] == [0x52, 0x49, 0x46, 0x46], b[8..<12] == [0x57, 0x41, 0x56, 0x45] else {
            throw XbarError(file: "espeak-ng", field: name, "output is not a RIFF/WAVE stream")
        }
        var i = 12, rate = 0.0, bits = 0, channels = 0
        while i + 8 <= b.count {
            let id = String(decoding: b[i..<(i + 4)], as: UTF8.self), size = Int(u32(i + 4))
            if id == "fmt ", i + 24 <= b.count {
                channels = Int(u16(i + 10))
                rate = Double(u32(i + 12))
                bits = Int(u16(i + 22))
            } else if id == "data" {
                guard bits == 16, channels == 1, rate > 0 else {
                    throw XbarError(file: "espeak-ng", field: name, "expected 16-bit mono PCM, found \(bits)-bit x \(channels) channels")
                }
                let end = b.count - (b.count - i - 8) % 2
                let samples = stride(from: i + 8, to: end, by: 2).map { Double(Int16(bitPattern: u16($0))) / 32768 }
                return (samples, rate)
            }
            i += 8 + size + size % 2
        }
        throw XbarError(file: "espeak-ng", field: name, "no data chunk")
    }
}
