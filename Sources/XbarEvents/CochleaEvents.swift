import Foundation
import XbarCore

/// One event of a silicon-cochlea recording (the DAS1 of N-TIDIGITS, or the project's `Cochlea` model): a spike of
/// frequency channel `channel` at `timestampUS`.
public struct CochleaEvent: Equatable, Sendable {
    public var channel: UInt8
    public var timestampUS: UInt32
    public init(channel: UInt8, timestampUS: UInt32) { self.channel = channel; self.timestampUS = timestampUS }
}

/// One labelled cochlea recording: its split (train or test), its name (N-TIDIGITS: `gender-speaker-take-digits`) and
/// its events.
public struct CochleaRecording: Equatable, Sendable {
    public var test: Bool
    public var name: String
    public var events: [CochleaEvent]
    public init(test: Bool, name: String, events: [CochleaEvent]) { self.test = test; self.name = name; self.events = events }

    /// The spoken digits: the name's last `-` field (N-TIDIGITS: `1`-`9`, `z` zero, `o` oh).
    public var digits: String { String(name.split(separator: "-").last ?? "") }
}

/// Cochlea recordings as rasters, and a plain binary form of a list of recordings (what the isolated N-TIDIGITS
/// reader hands back: count u32, then per recording test u8, name length u32 + UTF-8, event count u32, events as
/// (channel u8, timestamp u32), little-endian).
public enum CochleaEvents {
    /// A recording as a raster of `timesteps` steps over its length (last event + 1 us, as the N-TIDIGITS loaders split
    /// an utterance into a fixed number of chunks): channel c is active at step t if it spiked in that step's interval.
    public static func raster(_ events: [CochleaEvent], channels: Int, timesteps: Int, label: Int?) -> SpikeRaster {
        let duration = UInt64(events.map(\.timestampUS).max() ?? 0) + 1
        var active = [Set<Int32>](repeating: [], count: timesteps)
        for e in events where Int(e.channel) < channels {
            let t = Int(UInt64(e.timestampUS) * UInt64(timesteps) / duration)
            active[min(timesteps - 1, t)].insert(Int32(e.channel))
        }
        return SpikeRaster(channels: channels, timesteps: timesteps, label: label, active: active.map { $0.sorted() })
    }

    public static func encode(_ recs: [CochleaRecording]) -> Data {
        var d = Data()
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { d.append(contentsOf: $0) } }
        u32(recs.count)
        for r in recs {
            d.append(r.test ? 1 : 0)
            let name = Array(r.name.utf8)
            u32(name.count)
            d.append(contentsOf: name)
            u32(r.events.count)
            for e in r.events { d.append(e.channel); u32(Int(e.timestampUS)) }
        }
        return d
    }

    public static func decode(_ data: Data) throws -> [CochleaRecording] {
        let b = [UInt8](data)
        var i = 0
        func need(_ n: Int) throws { guard i + n <= b.count else { throw XbarError(file: "<cochlea recordings>", field: "", "truncated at byte \(i)") } }
        func u32() throws -> Int {
            try need(4)
            defer { i += 4 }
            return Int(UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24)
        }
        let n = try u32()
        var out: [CochleaRecording] = []
        for _ in 0..<n {
            try need(1)
            let test = b[i] != 0
            i += 1
            let len = try u32()
            try need(len)
            let name = String(decoding: b[i..<(i + len)], as: UTF8.self)
            i += len
            let count = try u32()
            try need(count * 5)
            var events: [CochleaEvent] = []
            events.reserveCapacity(count)
            for _ in 0..<count {
                let c = b[i]
                i += 1
                events.append(CochleaEvent(channel: c, timestampUS: UInt32(try u32())))
            }
            out.append(CochleaRecording(test: test, name: name, events: events))
        }
        return out
    }
}
