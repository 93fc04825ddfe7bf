import Foundation
import XbarEvents
import XbarGraph

/// Where a delay detector's kernel applies: which kernel tap each input channel feeds at each position. One position
/// whose taps are the channels is a plain detector (spiking motifs); a grid of positions sharing a local patch kernel
/// is a convolution (the paper's spatio-temporal kernel on an event camera, `patches`).
public struct DelayGeometry: Sendable {
    public var channels: Int
    /// Positions, `pool` branches of `positions / pool` each: position p + b x (positions / pool) is branch b of p.
    public var positions: Int
    /// Branches whose potentials training max-pools (Grimaldi & Perrinet's polarity invariance: the kernel applied to
    /// the events and to the polarity-flipped events, keeping the larger): 1 or 2.
    public var pool = 1
    /// Kernel taps (per delay).
    public var taps: Int
    /// Per input channel, the (position, tap) pairs it feeds.
    public var connections: [[(position: Int, tap: Int)]]

    /// Every channel feeds one position at its own tap.
    public static func dense(channels: Int) -> DelayGeometry {
        DelayGeometry(channels: channels, positions: 1, taps: channels, connections: (0..<channels).map { [(0, $0)] })
    }

    /// A `side` x `side` event sensor with `polarities` channel planes (channel = polarity x side^2 + y x side + x):
    /// positions at the patch centres (cx, cy) = (radius + stride i, radius + stride j) whose (2 radius + 1)^2 patch lies
    /// inside the field, taps (polarity, dy, dx). `polarityInvariant` (two polarities) adds a second branch of the
    /// positions whose taps see the other polarity (pool 2).
    public static func patches(side: Int, polarities: Int, radius: Int, stride step: Int, polarityInvariant: Bool = false) -> DelayGeometry {
        let centres = Array(stride(from: radius, through: side - 1 - radius, by: max(1, step)))
        let w = 2 * radius + 1, base = centres.count * centres.count
        let branches = polarityInvariant && polarities == 2 ? 2 : 1
        var connections = [[(position: Int, tap: Int)]](repeating: [], count: polarities * side * side)
        for b in 0..<branches {
            for (j, cy) in centres.enumerated() {
                for (i, cx) in centres.enumerated() {
                    for pol in 0..<polarities {
                        for dy in 0..<w {
                            for dx in 0..<w {
                                let c = pol * side * side + (cy - radius + dy) * side + (cx - radius + dx)
                                let tapPol = b == 0 ? pol : 1 - pol
                                connections[c].append((b * base + j * centres.count + i, (tapPol * w + dy) * w + dx))
                            }
                        }
                    }
                }
            }
        }
        return DelayGeometry(channels: polarities * side * side, positions: branches * base, pool: branches,
                             taps: polarities * w * w, connections: connections)
    }
}

/// A layer of neurons with heterogeneous synaptic delays (HD-SNN, Grimaldi & Perrinet 2023): neuron (q, k) — class k
/// at position q — has the potential of a time-invariant logistic regression over (tap, delay) inputs,
///
///     V_qk(t) = b_k + sum over channels c feeding q at tap a, d = 0 ... D-1 of W[(a, d), k] x s_c(t - d)
///
/// and fires when V_qk(t) > theta_k. The kernel W is shared by the positions (`DelayGeometry`); on the crossbar it is
/// unrolled: row (c, d) = c x D + d, column q x K + k, so row (c, d) is channel c's spikes read at delay d
/// (docs/experiment.md, "Heterogeneous delays").
public struct DelayDetector: Sendable {
    public var geometry: DelayGeometry
    public var delays: Int
    public var classes: Int
    /// The kernel, W[(a x D + d) x classes + k].
    public var weights: [Double]
    public var bias: [Double]
    /// Firing thresholds theta_k on V (set by `calibrate`).
    public var thresholds: [Double]

    public init(geometry: DelayGeometry, delays: Int, classes: Int) {
        self.geometry = geometry
        self.delays = delays
        self.classes = classes
        weights = [Double](repeating: 0, count: geometry.taps * delays * classes)
        bias = [Double](repeating: 0, count: classes)
        thresholds = [Double](repeating: 0, count: classes)
    }

    public var channels: Int { geometry.channels }
    /// Detector neurons: positions x classes.
    public var neurons: Int { geometry.positions * classes }

    /// What a training step's targets are.
    public enum Loss: String, Sendable {
        /// Independent detectors (binary cross-entropy per neuron and step): spiking motifs.
        case binary
        /// One class per step and position (softmax cross-entropy over the classes): motion direction.
        case softmax
    }

    /// A sample's raster and its targets: per class the steps where it should fire (binary, one position), or one
    /// class for every step from `from` on (softmax).
    public struct Sample: Sendable {
        public var raster: SpikeRaster
        public var events: [[Int]] = []
        public var label: Int = -1
        public var from: Int = 0
        public init(raster: SpikeRaster, events: [[Int]]) { self.raster = raster; self.events = events }
        public init(raster: SpikeRaster, label: Int, from: Int) { self.raster = raster; self.label = label; self.from = from }
    }

    /// Adam on the mean loss over a batch's (position, step) terms, samples in order (no random draws: the loss is
    /// convex and W starts at 0, so training is a pure function of the data).
    public struct Training: Sendable {
        public var epochs = 20
        public var batch = 4
        public var learningRate = 0.01
        public init() {}
    }

    /// The (position, kernel row a x D + d) pairs driven at step t of `r`.
    @inline(__always) func forEachInput(_ r: SpikeRaster, step t: Int, _ body: (Int, Int) -> Void) {
        for d in 0..<min(delays, t + 1) {
            for c in r.active[t - d] {
                for link in geometry.connections[Int(c)] { body(link.position, link.tap * delays + d) }
            }
        }
    }

    /// V_qk(t) for every step: steps x positions x classes, row-major.
    public func potentials(_ r: SpikeRaster) -> [Double] {
        let k = classes, stride = neurons
        var v = [Double](repeating: 0, count: r.timesteps * stride)
        weights.withUnsafeBufferPointer { w in
            v.withUnsafeMutableBufferPointer { v in
                for t in 0..<r.timesteps {
                    for q in 0..<geometry.positions { for j in 0..<k { v[t * stride + q * k + j] = bias[j] } }
                    forEachInput(r, step: t) { q, row in
                        let o = t * stride + q * k
                        for j in 0..<k { v[o + j] += w[row * k + j] }
                    }
                }
            }
        }
        return v
    }

    /// The steps at which each neuron (q x K + k) fires (V > theta_k).
    public func firing(_ r: SpikeRaster) -> [[Int]] {
        let v = potentials(r), n = neurons
        return (0..<n).map { i in (0..<r.timesteps).filter { v[$0 * n + i] > thresholds[i % classes] } }
    }

    /// Trains W and b by Adam (`Training`) on `samples` with `loss`.
    public mutating func train(_ samples: [Sample], loss: Loss, options o: Training, progress: (Int, Int) -> Void = { _, _ in }) {
        let k = classes, n = weights.count
        var m = [Double](repeating: 0, count: n + k), s = m, g = m
        var step = 0
        let b1 = 0.9, b2 = 0.999, eps = 1e-8
        for epoch in 0..<o.epochs {
            var i = 0
            while i < samples.count {
                for q in g.indices { g[q] = 0 }
                var count = 0
                for sample in samples[i..<min(samples.count, i + o.batch)] { count += gradient(sample, loss: loss, into: &g) }
                step += 1
                let scale = 1 / Double(max(1, count))
                let c1 = 1 - pow(b1, Double(step)), c2 = 1 - pow(b2, Double(step))
                for q in 0..<(n + k) {
                    let gq = g[q] * scale
                    m[q] = b1 * m[q] + (1 - b1) * gq
                    s[q] = b2 * s[q] + (1 - b2) * gq * gq
                    let delta = o.learningRate * (m[q] / c1) / ((s[q] / c2).squareRoot() + eps)
                    if q < n { weights[q] -= delta } else { bias[q - n] -= delta }
                }
                i += o.batch
            }
            progress(epoch + 1, o.epochs)
        }
    }

    /// Adds the loss gradient of one sample to g (kernel, then biases); returns the (position, step) terms counted.
    func gradient(_ sample: Sample, loss: Loss, into g: inout [Double]) -> Int {
        let k = classes, n = weights.count, r = sample.raster, stride = neurons
        // v becomes the residual dLoss/dV of every counted (step, position, class); 0 elsewhere.
        var v = potentials(r)
        let pool = geometry.pool, base = geometry.positions / pool
        var counted = 0
        var z = [Double](repeating: 0, count: k), winner = [Int](repeating: 0, count: k)
        for t in 0..<r.timesteps {
            for p in 0..<base {
                // The pooled potential of each class: the largest of its branches (the residual goes to that branch).
                for j in 0..<k {
                    winner[j] = p
                    for b in 1..<max(2, pool) where b < pool && v[t * stride + (p + b * base) * k + j] > v[t * stride + winner[j] * k + j] {
                        winner[j] = p + b * base
                    }
                    z[j] = v[t * stride + winner[j] * k + j]
                }
                let counts = loss == .binary || t >= sample.from
                if counts && loss == .softmax {
                    let mx = z.max()!
                    var sum = 0.0
                    for j in 0..<k { z[j] = exp(z[j] - mx); sum += z[j] }
                    for j in 0..<k { z[j] = z[j] / sum - (j == sample.label ? 1 : 0) }
                } else if counts {
                    for j in 0..<k { z[j] = 1 / (1 + exp(-z[j])) }
                }
                for b in 0..<pool { for j in 0..<k { v[t * stride + (p + b * base) * k + j] = 0 } }
                if counts {
                    for j in 0..<k { v[t * stride + winner[j] * k + j] = z[j] }
                    counted += 1
                }
            }
        }
        if loss == .binary {
            for j in 0..<k { for t in sample.events[j] where t < r.timesteps { v[t * stride + j] -= 1 } }
        }
        v.withUnsafeBufferPointer { v in
            g.withUnsafeMutableBufferPointer { g in
                for t in 0..<r.timesteps {
                    for q in 0..<geometry.positions { for j in 0..<k { g[n + j] += v[t * stride + q * k + j] } }
                    forEachInput(r, step: t) { q, row in
                        let o = t * stride + q * k
                        for j in 0..<k { g[row * k + j] += v[o + j] }
                    }
                }
            }
        }
        return counted
    }

    /// Sets tap `tap`'s weight at delay `delay` to `value` for every class (the paper's start: the centre tap at the
    /// last delay at +4 for ON and -4 for OFF, so each branch is gated by the polarity of a centre event).
    public mutating func setTap(_ tap: Int, delay: Int, to value: Double) {
        for j in 0..<classes { weights[(tap * delays + delay) * classes + j] = value }
    }

    /// The detector with the `fraction` of its kernel weights smallest in magnitude set to 0 (the paper's pruning: a
    /// quantile of |W| over all weights; ties at the cut are pruned in index order). Biases and thresholds are kept.
    public func pruned(fraction: Double) -> DelayDetector {
        var p = self
        let cut = Int((fraction * Double(weights.count)).rounded(.down))
        guard cut > 0 else { return p }
        let order = weights.indices.sorted { abs(weights[$0]) != abs(weights[$1]) ? abs(weights[$0]) < abs(weights[$1]) : $0 < $1 }
        for q in order.prefix(cut) { p.weights[q] = 0 }
        return p
    }

    /// Kernel weights that are not zero.
    public var nonZeroWeights: Int { weights.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }

    /// Sets theta_k so that class k's neurons are above it on the `rate[k]` fraction of the samples' (position, step)
    /// pairs from step `from` on (the `1 - rate` quantile of V; the midpoint between the two values at the cut).
    public mutating func calibrate(_ rasters: [SpikeRaster], rate: [Double], from: Int = 0) {
        var values = [[Double]](repeating: [], count: classes)
        for r in rasters {
            let v = potentials(r)
            for t in from..<r.timesteps {
                for q in 0..<geometry.positions { for j in 0..<classes { values[j].append(v[(t * geometry.positions + q) * classes + j]) } }
            }
        }
        for j in 0..<classes {
            let sorted = values[j].sorted(by: >)
            guard sorted.count > 1 else { thresholds[j] = sorted.first ?? 0; continue }
            let n = min(sorted.count - 1, max(1, Int((rate[j] * Double(sorted.count)).rounded())))
            thresholds[j] = (sorted[n - 1] + sorted[n]) / 2
        }
    }

    /// The detector as a graph: input `in` (the channels), lif population `det` (neuron q x K + k; decay 0, so the
    /// membrane is this step's V; threshold 1 and neuron bias b_k - theta_k + 1, so it fires when V_qk > theta_k; a
    /// threshold of 0 would quantise to nothing), and one projection per delay d (`w_d`, the kernel unrolled over the
    /// positions; sparse: pruned weights are no synapse).
    public func graph(name: String, timesteps: Int) -> Graph {
        let k = classes
        let projections = (0..<delays).compactMap { d -> Projection? in
            var entries: [SparseEntry] = []
            for c in 0..<channels {
                for link in geometry.connections[c] {
                    for j in 0..<k {
                        let w = weights[(link.tap * delays + d) * k + j]
                        if w != 0 { entries.append(SparseEntry(pre: c, post: link.position * k + j, weight: w)) }
                    }
                }
            }
            return entries.isEmpty ? nil : Projection(name: "w_\(d)", from: "in", to: "det", delay: d, weights: .sparse(entries))
        }
        let lif = LIFParameters(decay: 0, threshold: 1, reset: .zero, compare: .gt,
                                neuronBias: (0..<neurons).map { bias[$0 % k] - thresholds[$0 % k] + 1 })
        return Graph(name: name, timesteps: timesteps,
                     populations: [Population(name: "in", kind: .input, size: channels),
                                   Population(name: "det", kind: .lif, size: neurons, lif: lif)],
                     projections: projections)
    }
}
