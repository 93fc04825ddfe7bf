import Foundation
import XbarCore

/// The NeuroXbar event file format `.xev` (text; specified in docs/events.md).
///
/// ```
/// xbar-events 1
/// channels 256
/// timesteps 50
/// samples 2
/// sample 0 label 3
/// 0: 12 45 78
/// 3: 5
/// end
/// sample 1 label -
/// end
/// ```
/// `parse` refuses every malformed input with a one-line `XbarError` naming the file and the line;
/// `format` writes the canonical text, so `format(parse(t)) == t` for canonical `t`.
public enum EventFile {
    /// The only format version this code reads and writes.
    public static let version = 1
    /// Largest accepted `channels`.
    public static let maxChannels = 1_000_000
    /// Largest accepted `timesteps`.
    public static let maxTimesteps = 1_000_000
    /// Largest accepted `samples`.
    public static let maxSamples = 10_000_000
    /// Largest accepted `samples * timesteps` (bounds the memory of the step lists).
    public static let maxSampleSteps = 250_000_000

    /// Parses `.xev` text. `file` names the source in errors.
    public static func parse(_ text: String, file: String) throws -> EventDataset {
        var parser = EventFileParser(bytes: Array(text.utf8), file: file)
        return try parser.parseDataset()
    }

    /// The canonical text of `d`. Each sample is written with the dataset's channels and timesteps;
    /// only steps with at least one spike get a line. Use `validate` first if `d` may be malformed.
    public static func format(_ d: EventDataset) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64 + d.samples.count * 32 + d.eventCount * 4)
        func put(_ s: String) { out.append(contentsOf: s.utf8) }
        func putInt<T: BinaryInteger>(_ v: T) { out.append(contentsOf: String(v).utf8) }
        put("xbar-events \(version)\nchannels \(d.channels)\ntimesteps \(d.timesteps)\nsamples \(d.samples.count)\n")
        for (i, s) in d.samples.enumerated() {
            put("sample ")
            putInt(i)
            put(" label ")
            if let l = s.label { putInt(l) } else { put("-") }
            out.append(0x0A)
            for (t, step) in s.active.enumerated() where !step.isEmpty {
                putInt(t)
                out.append(0x3A)  // ':'
                for c in step {
                    out.append(0x20)
                    putInt(c)
                }
                out.append(0x0A)
            }
            put("end\n")
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Checks that `d` can be written and read back unchanged: sizes within limits, every sample of the
    /// dataset's shape, steps sorted and duplicate-free, channels in range, labels non-negative.
    /// Errors name `file` and the field, e.g. `samples[3].active[7]`.
    public static func validate(_ d: EventDataset, file: String) throws {
        guard d.channels >= 1 && d.channels <= maxChannels else {
            throw XbarError(file: file, field: "channels", "\(d.channels) outside 1...\(maxChannels)")
        }
        guard d.timesteps >= 1 && d.timesteps <= maxTimesteps else {
            throw XbarError(file: file, field: "timesteps", "\(d.timesteps) outside 1...\(maxTimesteps)")
        }
        guard d.samples.count <= maxSamples && d.samples.count * d.timesteps <= maxSampleSteps else {
            throw XbarError(file: file, field: "samples", "\(d.samples.count) samples of \(d.timesteps) steps is too large")
        }
        for (i, s) in d.samples.enumerated() {
            let f = "samples[\(i)]"
            guard s.channels == d.channels else {
                throw XbarError(file: file, field: "\(f).channels", "\(s.channels) differs from the dataset's \(d.channels)")
            }
            guard s.timesteps == d.timesteps && s.active.count == d.timesteps else {
                throw XbarError(file: file, field: "\(f).timesteps",
                                "\(s.timesteps) steps with \(s.active.count) step lists; the dataset has \(d.timesteps)")
            }
            if let l = s.label, l < 0 {
                throw XbarError(file: file, field: "\(f).label", "\(l) is negative")
            }
            for (t, step) in s.active.enumerated() {
                var previous = -1
                for c in step {
                    let ci = Int(c)
                    guard ci >= 0 && ci < d.channels else {
                        throw XbarError(file: file, field: "\(f).active[\(t)]", "channel \(ci) out of range 0..<\(d.channels)")
                    }
                    guard ci > previous else {
                        throw XbarError(file: file, field: "\(f).active[\(t)]",
                                        "channel \(ci) after \(previous): channels must be ascending and distinct")
                    }
                    previous = ci
                }
            }
        }
    }

    /// Reads and parses a `.xev` file.
    public static func read(_ path: String) throws -> EventDataset {
        try parse(try AtomicFile.readText(path), file: path)
    }

    /// Validates `d` and writes it atomically (all or nothing) to `path`.
    public static func write(_ d: EventDataset, to path: String) throws {
        try validate(d, file: path)
        try AtomicFile.write(format(d), to: path)
    }
}
