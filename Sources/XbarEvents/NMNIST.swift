import Foundation
import XbarCore

/// One event of an N-MNIST recording (Orchard et al. 2015): a pixel of the 34x34 ATIS field changed brightness.
public struct NMNISTEvent: Equatable, Sendable {
    /// Column, 0..<34.
    public var x: UInt8
    /// Row, 0..<34.
    public var y: UInt8
    /// true for an ON event (brightness increase, bit 7 of byte 2 set), false for OFF.
    public var polarity: Bool
    /// Microseconds since the start of the recording (23 bits).
    public var timestampUS: UInt32

    public init(x: UInt8, y: UInt8, polarity: Bool, timestampUS: UInt32) {
        self.x = x
        self.y = y
        self.polarity = polarity
        self.timestampUS = timestampUS
    }
}

/// A rectangular window of the sensor field: pixels with `x0 <= x < x0 + width` and `y0 <= y < y0 + height`.
///
/// Values are clamped to 0...256 when binning (event coordinates are bytes), so no crop can overflow or trap.
public struct Crop: Equatable, Sendable {
    public var x0: Int
    public var y0: Int
    public var width: Int
    public var height: Int

    public init(x0: Int, y0: Int, width: Int, height: Int) {
        self.x0 = x0
        self.y0 = y0
        self.width = width
        self.height = height
    }

    /// The 16x16 centre of the 34x34 field used by Lin et al. (x0 = y0 = 9): 256 inputs for one polarity.
    public static let paperCentre16 = Crop(x0: 9, y0: 9, width: 16, height: 16)
    /// The whole 34x34 N-MNIST field.
    public static let full = Crop(x0: 0, y0: 0, width: NMNIST.fieldSize, height: NMNIST.fieldSize)
}

/// Which event polarities become spikes.
public enum PolarityFilter: String, CaseIterable, Sendable {
    /// ON events only; channel = pixel index.
    case on
    /// OFF events only; channel = pixel index.
    case off
    /// Both; channel = pixel index * 2 + (ON ? 1 : 0), so twice the channels.
    case both
    /// Both, as two planes (the C x H x W layout of Tonic and of CNNs exported to NIR, e.g. input shape [2, 34, 34]):
    /// channel = (ON ? 1 : 0) * width * height + pixel index.
    case planes
}

/// Reader, writer and time binner of the N-MNIST binary format: 5 bytes per event,
/// byte 0 = x, byte 1 = y, bit 7 of byte 2 = polarity, the other 23 bits of bytes 2..4 (big-endian)
/// = timestamp in microseconds.
public enum NMNIST {
    /// Width and height of the ATIS field N-MNIST was recorded with.
    public static let fieldSize = 34
    /// Bytes per event.
    public static let eventBytes = 5

    /// Decodes a whole recording. Errors name `file` and the byte offset of the bad event.
    public static func decode(_ data: Data, file: String) throws -> [NMNISTEvent] {
        let bytes = [UInt8](data)
        let whole = bytes.count - bytes.count % eventBytes
        guard whole == bytes.count else {
            throw XbarError(file: file, field: "byte \(whole)",
                            "length \(bytes.count) is not a multiple of \(eventBytes) (truncated event at the end)")
        }
        var events: [NMNISTEvent] = []
        events.reserveCapacity(bytes.count / eventBytes)
        var o = 0
        while o < bytes.count {
            let x = bytes[o], y = bytes[o + 1]
            guard Int(x) < fieldSize && Int(y) < fieldSize else {
                let which = Int(x) < fieldSize ? "y \(y)" : "x \(x)"
                throw XbarError(file: file, field: "byte \(o)",
                                "event \(o / eventBytes): \(which) out of range 0..<\(fieldSize)")
            }
            let t = (UInt32(bytes[o + 2] & 0x7F) << 16) | (UInt32(bytes[o + 3]) << 8) | UInt32(bytes[o + 4])
            events.append(NMNISTEvent(x: x, y: y, polarity: bytes[o + 2] & 0x80 != 0, timestampUS: t))
            o += eventBytes
        }
        return events
    }

    /// Encodes events in the same format. Timestamps keep their low 23 bits (the format has no more).
    public static func encode(_ events: [NMNISTEvent]) -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(events.count * eventBytes)
        for e in events {
            let t = e.timestampUS & 0x7F_FFFF
            bytes.append(e.x)
            bytes.append(e.y)
            bytes.append(UInt8(t >> 16) | (e.polarity ? 0x80 : 0))
            bytes.append(UInt8(truncatingIfNeeded: t >> 8))
            bytes.append(UInt8(truncatingIfNeeded: t))
        }
        return Data(bytes)
    }

    /// Reads and decodes an N-MNIST `.bin` file.
    public static func read(_ path: String) throws -> [NMNISTEvent] {
        try decode(try AtomicFile.read(path), file: path)
    }

    /// Number of channels `bin` produces for a crop and polarity filter.
    public static func channelCount(crop: Crop?, polarity: PolarityFilter) -> Int {
        let c = clamped(crop ?? .full)
        return c.width * c.height * (polarity == .both || polarity == .planes ? 2 : 1)
    }

    /// Bins events into a raster of `timesteps` steps.
    ///
    /// step = floor(t * timesteps / duration) with duration = `durationUS` or, by default, the largest timestamp + 1;
    /// events at or past the duration are dropped. Pixels outside `crop` (the whole 34x34 field when nil) are dropped.
    /// channel = (y - y0) * width + (x - x0), times 2 plus (ON ? 1 : 0) for `.both`, plus width * height for ON events
    /// with `.planes`. Several events of one channel
    /// in one step give one spike.
    public static func bin(_ events: [NMNISTEvent], timesteps: Int, durationUS: UInt32? = nil, crop: Crop? = nil,
                           polarity: PolarityFilter = .on, label: Int? = nil) -> SpikeRaster {
        let c = clamped(crop ?? .full)
        let steps = max(0, timesteps)
        var raster = SpikeRaster(channels: channelCount(crop: crop, polarity: polarity), timesteps: steps, label: label)
        let maxT = events.reduce(UInt32(0)) { max($0, $1.timestampUS) }
        let duration = UInt64(durationUS ?? (maxT == UInt32.max ? maxT : maxT + 1))
        guard steps > 0 && duration > 0 else { return raster }
        for e in events {
            switch polarity {
            case .on where !e.polarity, .off where e.polarity: continue
            default: break
            }
            let x = Int(e.x), y = Int(e.y)
            guard x >= c.x0 && x - c.x0 < c.width && y >= c.y0 && y - c.y0 < c.height else { continue }
            guard UInt64(e.timestampUS) < duration else { continue }
            // floor(t * steps / duration) without overflow; the quotient is < steps since t < duration.
            let product = UInt64(e.timestampUS).multipliedFullWidth(by: UInt64(steps))
            let step = Int(duration.dividingFullWidth(product).quotient)
            var channel = (y - c.y0) * c.width + (x - c.x0)
            if polarity == .both { channel = channel * 2 + (e.polarity ? 1 : 0) }
            if polarity == .planes && e.polarity { channel += c.width * c.height }
            raster.active[step].append(Int32(channel))
        }
        for t in 0..<steps where raster.active[t].count > 1 {
            raster.active[t] = Array(Set(raster.active[t])).sorted()
        }
        return raster
    }

    private static func clamped(_ c: Crop) -> Crop {
        func f(_ v: Int) -> Int { min(max(v, 0), 256) }
        return Crop(x0: f(c.x0), y0: f(c.y0), width: f(c.width), height: f(c.height))
    }
}
