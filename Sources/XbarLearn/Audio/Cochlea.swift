import Foundation
import XbarCore
import XbarEvents

/// A silicon-cochlea model after the DAS1 sensor that recorded N-TIDIGITS (Liu et al. 2014; Anumula et al. 2018):
/// the sound goes through `channels` band-pass filters with centre frequencies log-spaced from `lowHz` to `highHz`
/// (each a cascade of two RBJ constant-peak-gain biquads of quality `q`), is half-wave rectified, and drives one
/// integrate-and-fire neuron per channel: v += max(0, y) / fs, and a spike each time v reaches the channel's threshold
/// theta_c = threshold x (1 + mismatch x N(0, 1)) (v drops by theta_c; at most one spike per `refractoryUS`). The
/// input is scaled to unit RMS first, so the spike rate follows the spectrum, not the loudness (docs/experiment.md,
/// "LSM-CLIP"). Mismatch draws are Philox purpose `cochlea`, counter (channel, 0, 0).
public struct Cochlea: Sendable {
    /// The filterbank and neuron parameters.
    public struct Options: Equatable, Sendable {
        public var channels = 64
        public var lowHz = 100.0
        public var highHz = 8000.0
        public var q = 4.0
        /// Integrate-and-fire threshold on the integral of the rectified band output (unit-RMS input), seconds.
        public var threshold = 2e-4
        public var mismatch = 0.05
        public var refractoryUS = 1000
        public var seed: UInt64 = 1
        public init() {}
    }

    public let options: Options
    public init(_ o: Options) { options = o }

    /// Centre frequency of channel c (Hz).
    public func centreHz(_ c: Int) -> Double {
        let o = options
        return o.lowHz * pow(o.highHz / o.lowHz, Double(c) / Double(max(1, o.channels - 1)))
    }

    /// The events of `samples` (mono, any scale) at `sampleRate` Hz, sorted by (time, channel).
    public func events(_ samples: [Double], sampleRate fs: Double) -> [CochleaEvent] {
        let o = options
        let rms = (samples.reduce(0) { $0 + $1 * $1 } / Double(max(1, samples.count))).squareRoot()
        guard rms > 0 else { return [] }
        let x = samples.map { $0 / rms }
        let rng = Philox(seed: o.seed)
        var events: [CochleaEvent] = []
        for c in 0..<o.channels {
            let f0 = centreHz(c)
            guard f0 < fs / 2 else { continue }
            let theta = o.threshold * max(0.1, 1 + o.mismatch * rng.normal(purpose: RandomPurpose.cochlea.rawValue, UInt32(c), 0, 0))
            let b = Biquad.bandPass(f0: f0, q: o.q, fs: fs)
            var s1 = Biquad.State(), s2 = Biquad.State()
            var v = 0.0, last = -Int.max / 2
            for (i, xi) in x.enumerated() {
                let y = b.step(b.step(xi, &s1), &s2)
                v += max(0, y) / fs
                let t = Int((Double(i) / fs * 1e6).rounded(.down))
                if v >= theta {
                    v -= theta
                    if t - last >= o.refractoryUS {
                        events.append(CochleaEvent(channel: UInt8(c), timestampUS: UInt32(t)))
                        last = t
                    }
                }
            }
        }
        return events.sorted { ($0.timestampUS, $0.channel) < ($1.timestampUS, $1.channel) }
    }
}

/// A second-order IIR section (RBJ audio-EQ cookbook, direct form I).
struct Biquad: Sendable {
    var b0, b1, b2, a1, a2: Double

    /// Band-pass with constant 0 dB peak gain at f0.
    static func bandPass(f0: Double, q: Double, fs: Double) -> Biquad {
        let w = 2 * Double.pi * f0 / fs, alpha = sin(w) / (2 * q), a0 = 1 + alpha
        return Biquad(b0: alpha / a0, b1: 0, b2: -alpha / a0, a1: -2 * cos(w) / a0, a2: (1 - alpha) / a0)
    }

    struct State { var x1 = 0.0, x2 = 0.0, y1 = 0.0, y2 = 0.0 }

    @inline(__always) func step(_ x: Double, _ s: inout State) -> Double {
        let y = b0 * x + b1 * s.x1 + b2 * s.x2 - a1 * s.y1 - a2 * s.y2
        s.x2 = s.x1; s.x1 = x; s.y2 = s.y1; s.y1 = y
        return y
    }
}
