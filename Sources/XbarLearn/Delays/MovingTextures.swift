import Foundation
import XbarCore
import XbarEvents

/// Event streams of textures moving in one of `directions` directions, seen by the project's change-detector sensor
/// (`ChangeDetector`, the pixel model of the saccade converter): the synthetic stand-in for Grimaldi & Perrinet's
/// (2023) natural images moved over a DVS, made without downloads (docs/experiment.md, "Heterogeneous delays").
///
/// A texture is a band-pass random-phase field (a Motion-Cloud-like sum of `gratings` cosine gratings with uniform
/// orientations and spatial frequencies in `frequencies` cycles per pixel), periodic in the plane, so translating it is
/// exact at any sub-pixel offset: I(p, t) = 0.5 + 0.5 contrast x sum_j cos(2 pi f_j u_j . (p - v t) + phi_j) / sqrt(J/2),
/// clamped to [0, 1], with v = speed x (cos a, sin a), a = 2 pi k / directions (k = the class). Each `side` x `side`
/// pixel sees L = ln(background + I) every step; its ON and OFF events within a step become one spike each on
/// channels ON: y x side + x and OFF: side^2 + y x side + x. Background-activity noise adds a spike of random polarity
/// with probability `noiseRate` per pixel and step. Sample i has class i mod directions and its own texture and
/// thresholds (Philox purpose `movingTexture`, counter (kind, sample, index, k)).
public struct MovingTextures: Sendable {
    /// The stimulus and sensor parameters.
    public struct Options: Equatable, Sendable {
        public var side = 12
        public var directions = 8
        public var steps = 40
        /// Pixels per step.
        public var speed = 1.0
        public var gratings = 16
        public var frequencies: ClosedRange<Double> = 0.08...0.25
        public var contrast = 0.8
        public var background = 0.1
        public var threshold = 0.2
        public var thresholdSigma = 0.03
        public var noiseRate = 0.001
        public var seed: UInt64 = 1
        public init() {}

        public var channels: Int { 2 * side * side }
    }

    public let options: Options
    public init(_ o: Options) { options = o }

    /// Sample `index`: its raster, labelled with its direction.
    public func sample(_ index: Int) -> SpikeRaster {
        let o = options
        let rng = Philox(seed: o.seed)
        let purpose = RandomPurpose.movingTexture.rawValue
        let s = UInt32(truncatingIfNeeded: index)
        let label = index % o.directions
        let angle = 2 * Double.pi * Double(label) / Double(o.directions)
        let v = (o.speed * cos(angle), o.speed * sin(angle))
        let waves = (0..<o.gratings).map { j -> (kx: Double, ky: Double, phase: Double) in
            let theta = 2 * Double.pi * rng.uniform(purpose: purpose, 0, s, UInt32(j))
            let f = o.frequencies.lowerBound + (o.frequencies.upperBound - o.frequencies.lowerBound) * rng.uniform(purpose: purpose, 1, s, UInt32(j))
            return (2 * Double.pi * f * cos(theta), 2 * Double.pi * f * sin(theta), 2 * Double.pi * rng.uniform(purpose: purpose, 2, s, UInt32(j)))
        }
        let norm = 1 / (Double(o.gratings) / 2).squareRoot()
        func level(_ p: Int, _ t: Int) -> Double {
            let x = Double(p % o.side) + 0.5 - v.0 * Double(t), y = Double(p / o.side) + 0.5 - v.1 * Double(t)
            var sum = 0.0
            for w in waves { sum += cos(w.kx * x + w.ky * y + w.phase) }
            return log(o.background + min(1, max(0, 0.5 + 0.5 * o.contrast * sum * norm)))
        }
        let n = o.side * o.side
        var sensor = ChangeDetector(levels: (0..<n).map { level($0, 0) }, contrast: o.threshold, sigma: o.thresholdSigma) { p in
            rng.normal(purpose: purpose, 3, s, UInt32(p))
        }
        var active: [[Int32]] = []
        for t in 0..<o.steps {
            var on = [Bool](repeating: false, count: n), off = on
            for p in 0..<n {
                sensor.update(p, level: level(p, t + 1)) { if $0 { on[p] = true } else { off[p] = true } }
                if o.noiseRate > 0, rng.uniform(purpose: purpose, 4, s, UInt32(t * n + p)) < o.noiseRate {
                    if rng.uniform(purpose: purpose, 5, s, UInt32(t * n + p)) < 0.5 { on[p] = true } else { off[p] = true }
                }
            }
            active.append((0..<n).filter { on[$0] }.map { Int32($0) } + (0..<n).filter { off[$0] }.map { Int32(n + $0) })
        }
        return SpikeRaster(channels: o.channels, timesteps: o.steps, label: label, active: active)
    }
}
