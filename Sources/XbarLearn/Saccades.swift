import Foundation
import XbarCore
import XbarEvents

/// Turns still images into N-MNIST-style event recordings by simulated saccades (Orchard et al. 2015 moved an ATIS
/// camera in three saccades over a still MNIST digit; here the digit moves over the 34x34 field instead).
///
/// The image (values 0...maxPixel, `side` x `side`) is magnified by `scale` with bilinear interpolation and centred on the
/// field. It moves along a triangle of side `amplitude` pixels in three saccades of `saccadeUS` each (raised-cosine
/// velocity: it starts and stops at rest): V0 = (0, -A/2) -> V1 = (A/2, A/2) -> V2 = (-A/2, A/2) -> V0. Every sensor
/// pixel is a DVS/ATIS-like change detector sampled every `stepUS`: with log intensity L = ln(background + image), it
/// emits an ON event each time L rises by its contrast threshold above the level of its last event, an OFF event each
/// time it falls by it. Thresholds vary per pixel (normal, `contrastSigma`), timestamps are jittered uniformly within
/// the step, and background-activity noise events arrive at `noiseHz` per pixel (Poisson, random polarity).
/// Every random number is a Philox draw keyed by (seed, purpose 64, sample index, pixel, k), so a recording is a pure
/// function of (image, sample index, options). Events are sorted by (timestamp, y, x, polarity).
public struct SaccadeOptions: Equatable, Sendable {
    public var scale = 2.0
    public var amplitude = 3.0
    public var saccadeUS = 100_000
    public var stepUS = 500
    public var contrast = 0.25
    public var contrastSigma = 0.03
    public var background = 0.1
    public var noiseHz = 1.0
    public var seed: UInt64 = 1
    public init() {}

    /// Length of one recording.
    public var durationUS: Int { 3 * saccadeUS }
}

/// Turns static images into N-MNIST-format event recordings by three simulated saccades (docs/experiment.md).
public enum Saccades {
    /// Philox purpose of saccade draws (outside XbarCore's RandomPurpose values).
    static let purpose: UInt32 = 64

    /// Triangle position (dx, dy) in pixels at time `t` (microseconds).
    public static func offset(atUS t: Double, _ o: SaccadeOptions) -> (Double, Double) {
        let a = o.amplitude
        let v: [(Double, Double)] = [(0, -a / 2), (a / 2, a / 2), (-a / 2, a / 2), (0, -a / 2)]
        let s = min(max(t / Double(o.saccadeUS), 0), 3)
        let leg = min(Int(s), 2)
        let tau = s - Double(leg)
        let f = (1 - cos(Double.pi * tau)) / 2
        return (v[leg].0 + (v[leg + 1].0 - v[leg].0) * f, v[leg].1 + (v[leg + 1].1 - v[leg].1) * f)
    }

    /// Converts one image into a recording on the 34x34 field.
    public static func convert(pixels: [UInt8], side: Int = 8, maxPixel: Int = 16, sampleIndex: Int, options o: SaccadeOptions)
        -> [NMNISTEvent]
    {
        let field = NMNIST.fieldSize
        let rng = Philox(seed: o.seed)
        let sample = UInt32(truncatingIfNeeded: sampleIndex)
        let img = pixels.map { Double($0) / Double(maxPixel) }
        func pixel(_ r: Int, _ c: Int) -> Double {
            r >= 0 && r < side && c >= 0 && c < side && r * side + c < img.count ? img[r * side + c] : 0
        }
        /// Bilinear image value at digit coordinates (u, v) (pixel centres at integer + 0.5).
        func value(_ u: Double, _ v: Double) -> Double {
            let x = u - 0.5, y = v - 0.5
            let x0 = Int(floor(x)), y0 = Int(floor(y))
            let fx = x - Double(x0), fy = y - Double(y0)
            return pixel(y0, x0) * (1 - fx) * (1 - fy) + pixel(y0, x0 + 1) * fx * (1 - fy)
                + pixel(y0 + 1, x0) * (1 - fx) * fy + pixel(y0 + 1, x0 + 1) * fx * fy
        }
        let centre = Double(field) / 2
        let half = Double(side) / 2
        func logIntensity(_ x: Int, _ y: Int, _ d: (Double, Double)) -> Double {
            let u = (Double(x) + 0.5 - centre - d.0) / o.scale + half
            let v = (Double(y) + 0.5 - centre - d.1) / o.scale + half
            return log(o.background + value(u, v))
        }
        let n = field * field
        let d0 = offset(atUS: 0, o)
        var sensor = ChangeDetector(levels: (0..<n).map { logIntensity($0 % field, $0 / field, d0) }, contrast: o.contrast,
                                    sigma: o.contrastSigma) { p in rng.normal(purpose: purpose, sample, UInt32(p), 0) }
        var events: [NMNISTEvent] = []
        var counter = [UInt32](repeating: 1, count: n)
        let steps = o.durationUS / max(1, o.stepUS)
        // Pixels the magnified image can never reach keep L = ln(background): no events, so they are skipped.
        let reach = half * o.scale + o.amplitude + o.scale + 1
        let lo = max(0, Int(floor(centre - reach))), hi = min(field - 1, Int(ceil(centre + reach)))
        let live = (0..<n).filter { p in (lo...hi).contains(p % field) && (lo...hi).contains(p / field) }
        for k in 1...max(1, steps) {
            let t = k * o.stepUS
            let d = offset(atUS: Double(t), o)
            for p in live {
                let x = p % field, y = p / field
                sensor.update(p, level: logIntensity(x, y, d)) { on in
                    let j = rng.uniform(purpose: purpose, sample, UInt32(p), 0x1000_0000 | counter[p])
                    counter[p] += 1
                    let ts = max(0, t - o.stepUS) + Int(j * Double(o.stepUS))
                    events.append(NMNISTEvent(x: UInt8(x), y: UInt8(y), polarity: on, timestampUS: UInt32(ts)))
                }
            }
        }
        // Background activity: Poisson arrivals per pixel.
        if o.noiseHz > 0 {
            let rate = o.noiseHz / 1e6
            for p in 0..<n {
                var t = 0.0
                var i: UInt32 = 0
                while true {
                    let u = rng.uniform(purpose: purpose, sample, UInt32(p), 0x2000_0000 | i)
                    t += -log(1 - u) / rate
                    guard t < Double(o.durationUS) else { break }
                    let pol = rng.uniform(purpose: purpose, sample, UInt32(p), 0x3000_0000 | i) < 0.5
                    events.append(NMNISTEvent(x: UInt8(p % field), y: UInt8(p / field), polarity: pol, timestampUS: UInt32(t)))
                    i += 1
                }
            }
        }
        events.sort { a, b in
            if a.timestampUS != b.timestampUS { return a.timestampUS < b.timestampUS }
            if a.y != b.y { return a.y < b.y }
            if a.x != b.x { return a.x < b.x }
            return !a.polarity && b.polarity
        }
        return events
    }
}

/// The pixel model of the project's event sensors (`Saccades`, `MovingTextures`): a DVS/ATIS-like change detector per
/// pixel. With log intensity L, a pixel emits an ON event each time L rises by its contrast threshold above the level
/// of its last event and an OFF event each time it falls by it (the level moves by one threshold per event).
/// Thresholds vary per pixel: max(0.02, contrast + sigma x N(0, 1)).
public struct ChangeDetector: Sendable {
    public private(set) var thresholds: [Double]
    /// Each pixel's level at its last event (initially its first L).
    public private(set) var reference: [Double]

    /// `normal(p)` is pixel p's N(0, 1) draw for its threshold.
    public init(levels: [Double], contrast: Double, sigma: Double, normal: (Int) -> Double) {
        reference = levels
        thresholds = levels.indices.map { max(0.02, contrast + sigma * normal($0)) }
    }

    /// Calls `emit(on)` once per event of pixel p whose log intensity is now `level`.
    @inline(__always) public mutating func update(_ p: Int, level l: Double, _ emit: (Bool) -> Void) {
        let th = thresholds[p]
        while abs(l - reference[p]) >= th {
            let on = l > reference[p]
            reference[p] += on ? th : -th
            emit(on)
        }
    }
}
