import XbarCore

/// Byte-level parser of `.xev` text (see `EventFile` and docs/events.md). Never traps on input: every
/// index is bounds-checked and every number is range-checked before use.
struct EventFileParser {
    let bytes: [UInt8]
    let file: String
    private var pos = 0
    /// Number (1-based) of the last line read.
    private var lineNumber = 0

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    private typealias Line = (number: Int, tokens: [Range<Int>])

    private static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }

    /// The next line that is neither blank nor a `#` comment, split into whitespace-separated tokens.
    private mutating func nextLine() -> Line? {
        while pos < bytes.count {
            lineNumber += 1
            let start = pos
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            pos = end < bytes.count ? end + 1 : end
            var tokens: [Range<Int>] = []
            var i = start
            while i < end {
                while i < end && Self.isBlank(bytes[i]) { i += 1 }
                let tokenStart = i
                while i < end && !Self.isBlank(bytes[i]) { i += 1 }
                if i > tokenStart { tokens.append(tokenStart..<i) }
            }
            if let first = tokens.first, bytes[first.lowerBound] != 0x23 /* # */ {
                return (lineNumber, tokens)
            }
        }
        return nil
    }

    private func fail(_ line: Int, _ message: String) -> XbarError {
        XbarError(file: file, field: "line \(line)", message)
    }

    /// A token as text for messages (at most 40 bytes).
    private func text(_ r: Range<Int>) -> String {
        let shown = r.lowerBound..<min(r.upperBound, r.lowerBound + 40)
        return String(decoding: bytes[shown], as: UTF8.self) + (shown.count < r.count ? "..." : "")
    }

    private func equals(_ r: Range<Int>, _ word: String) -> Bool {
        bytes[r].elementsEqual(word.utf8)
    }

    /// A non-negative decimal integer of at most 18 digits (so it cannot overflow), or nil.
    private func number(_ r: Range<Int>) -> Int? {
        guard !r.isEmpty && r.count <= 18 else { return nil }
        var v = 0
        for b in bytes[r] {
            guard b >= 0x30 && b <= 0x39 else { return nil }
            v = v * 10 + Int(b - 0x30)
        }
        return v
    }

    /// Reads `keyword N` with `lo <= N <= hi`; returns N and the line number.
    private mutating func keyword(_ name: String, _ lo: Int, _ hi: Int) throws -> (Int, Int) {
        guard let l = nextLine() else {
            throw fail(lineNumber, "end of file: expected `\(name) N`")
        }
        guard l.tokens.count == 2, equals(l.tokens[0], name) else {
            throw fail(l.number, "expected `\(name) N`, found `\(text(l.tokens[0]))`")
        }
        guard let n = number(l.tokens[1]) else {
            throw fail(l.number, "\(name): `\(text(l.tokens[1]))` is not a non-negative integer")
        }
        guard n >= lo && n <= hi else {
            throw fail(l.number, "\(name) \(n) outside \(lo)...\(hi)")
        }
        return (n, l.number)
    }

    mutating func parseDataset() throws -> EventDataset {
        guard let h = nextLine() else {
            throw fail(max(1, lineNumber), "empty file: expected header `xbar-events \(EventFile.version)`")
        }
        guard equals(h.tokens[0], "xbar-events"), h.tokens.count == 2 else {
            throw fail(h.number, "expected header `xbar-events \(EventFile.version)`, found `\(text(h.tokens[0]))`")
        }
        guard let version = number(h.tokens[1]) else {
            throw fail(h.number, "bad version `\(text(h.tokens[1]))`")
        }
        guard version == EventFile.version else {
            throw fail(h.number, "unsupported version \(version) (this reader knows \(EventFile.version))")
        }
        let (channels, _) = try keyword("channels", 1, EventFile.maxChannels)
        let (timesteps, _) = try keyword("timesteps", 1, EventFile.maxTimesteps)
        let (count, countLine) = try keyword("samples", 0, EventFile.maxSamples)
        guard count * timesteps <= EventFile.maxSampleSteps else {
            throw fail(countLine, "\(count) samples x \(timesteps) steps exceeds the limit of \(EventFile.maxSampleSteps)")
        }
        var samples: [SpikeRaster] = []
        samples.reserveCapacity(min(count, 4096))
        while let l = nextLine() {
            guard equals(l.tokens[0], "sample") else {
                if samples.count == count {
                    throw fail(l.number, "unexpected `\(text(l.tokens[0]))` after the last sample")
                }
                throw fail(l.number, "expected `sample \(samples.count) label L`, found `\(text(l.tokens[0]))`")
            }
            guard samples.count < count else {
                throw fail(l.number, "more samples than the header's \(count)")
            }
            samples.append(try parseSample(l, channels: channels, timesteps: timesteps, index: samples.count))
        }
        guard samples.count == count else {
            throw fail(countLine, "header says \(count) samples but the file has \(samples.count)")
        }
        return EventDataset(channels: channels, timesteps: timesteps, samples: samples)
    }

    /// Parses one sample whose header line `l` (`sample i label L`) has been read, up to its `end`.
    private mutating func parseSample(_ l: Line, channels: Int, timesteps: Int, index: Int) throws -> SpikeRaster {
        guard l.tokens.count == 4, equals(l.tokens[2], "label") else {
            throw fail(l.number, "expected `sample \(index) label L` (L an integer or -)")
        }
        guard let i = number(l.tokens[1]) else {
            throw fail(l.number, "bad sample index `\(text(l.tokens[1]))`")
        }
        guard i == index else {
            throw fail(l.number, "sample index \(i) out of order: expected \(index)")
        }
        var label: Int? = nil
        if !equals(l.tokens[3], "-") {
            guard let v = number(l.tokens[3]) else {
                throw fail(l.number, "bad label `\(text(l.tokens[3]))`: expected a non-negative integer or -")
            }
            label = v
        }
        var active = Array(repeating: [Int32](), count: timesteps)
        var lastStep = -1
        while let s = nextLine() {
            let head = s.tokens[0]
            if equals(head, "end") {
                guard s.tokens.count == 1 else {
                    throw fail(s.number, "unexpected `\(text(s.tokens[1]))` after `end`")
                }
                return SpikeRaster(channels: channels, timesteps: timesteps, label: label, active: active)
            }
            if equals(head, "sample") {
                throw fail(s.number, "sample \(index) has no `end` before the next `sample`")
            }
            guard head.count >= 2, bytes[head.upperBound - 1] == 0x3A /* : */,
                  let step = number(head.lowerBound..<(head.upperBound - 1)) else {
                throw fail(s.number, "expected `step: channel ...` or `end`, found `\(text(head))`")
            }
            guard step < timesteps else {
                throw fail(s.number, "step \(step) out of range 0..<\(timesteps)")
            }
            guard step > lastStep else {
                throw fail(s.number, step == lastStep
                    ? "duplicate step \(step)"
                    : "step \(step) after step \(lastStep): steps must be ascending")
            }
            guard s.tokens.count >= 2 else {
                throw fail(s.number, "step \(step) lists no channels (omit steps without spikes)")
            }
            var list: [Int32] = []
            list.reserveCapacity(s.tokens.count - 1)
            var previous = -1
            for t in s.tokens.dropFirst() {
                guard let c = number(t) else {
                    throw fail(s.number, "expected a channel number, found `\(text(t))`")
                }
                guard c < channels else {
                    throw fail(s.number, "channel \(c) out of range 0..<\(channels)")
                }
                guard c > previous else {
                    throw fail(s.number, c == previous
                        ? "duplicate channel \(c) at step \(step)"
                        : "channel \(c) after \(previous) at step \(step): channels must be ascending")
                }
                list.append(Int32(c))
                previous = c
            }
            active[step] = list
            lastStep = step
        }
        throw fail(l.number, "sample \(index) has no `end` (end of file)")
    }
}
