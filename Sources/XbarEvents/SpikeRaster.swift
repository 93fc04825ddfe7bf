import XbarCore

/// One sample of input spikes: which input channels fire at each discrete time step.
///
/// `active[t]` is the ascending, duplicate-free list of channels (each in `0..<channels`) that spike at step `t`;
/// `active.count == timesteps`. This is the form the emulator consumes: one binary input vector per step,
/// stored sparsely.
public struct SpikeRaster: Equatable, Sendable {
    /// Number of input channels (the width of the input vector).
    public var channels: Int
    /// Number of discrete time steps.
    public var timesteps: Int
    /// The class label, or nil when unlabelled.
    public var label: Int?
    /// `active[t]`: sorted, duplicate-free channels spiking at step `t`.
    public var active: [[Int32]]

    public init(channels: Int, timesteps: Int, label: Int? = nil, active: [[Int32]]) {
        self.channels = channels
        self.timesteps = timesteps
        self.label = label
        self.active = active
    }

    /// An empty raster (no spikes) of the given size; negative sizes are treated as zero.
    public init(channels: Int, timesteps: Int, label: Int? = nil) {
        self.init(channels: max(0, channels), timesteps: max(0, timesteps), label: label,
                  active: Array(repeating: [], count: max(0, timesteps)))
    }

    /// Total number of spikes over all steps and channels.
    public var eventCount: Int {
        active.reduce(0) { $0 + $1.count }
    }

    /// Spikes per channel over the whole raster (channels outside `0..<channels` are ignored).
    public func channelCounts() -> [Int] {
        var counts = Array(repeating: 0, count: max(0, channels))
        for step in active {
            for c in step where c >= 0 && Int(c) < counts.count { counts[Int(c)] += 1 }
        }
        return counts
    }
}

/// A set of spike rasters sharing one shape (channels x timesteps): what a `.xev` file holds.
public struct EventDataset: Equatable, Sendable {
    /// Number of input channels of every sample.
    public var channels: Int
    /// Number of time steps of every sample.
    public var timesteps: Int
    /// The samples, in file order.
    public var samples: [SpikeRaster]

    public init(channels: Int, timesteps: Int, samples: [SpikeRaster]) {
        self.channels = channels
        self.timesteps = timesteps
        self.samples = samples
    }

    /// Total number of spikes over all samples.
    public var eventCount: Int {
        samples.reduce(0) { $0 + $1.eventCount }
    }
}

extension SpikeRaster {
    /// The same events with channel c moved to `map[c]` (a permutation of 0..<channels; the compiler's placement
    /// gives it): each step's channels re-sorted.
    public func remapped(channels map: [Int]) -> SpikeRaster {
        precondition(map.count == channels, "channel map of \(map.count) for \(channels) channels")
        var out = self
        out.active = active.map { $0.map { Int32(map[Int($0)]) }.sorted() }
        return out
    }
}

extension EventDataset {
    /// Every sample `remapped(channels:)`.
    public func remapped(channels map: [Int]) -> EventDataset {
        var out = self
        out.samples = samples.map { $0.remapped(channels: map) }
        return out
    }
}

extension EventDataset {
    /// Unlabelled samples in which each channel spikes with probability `rate` at each step, independently: channel c
    /// of sample s at step t spikes when U(eventEncoding, s, c, t) < rate (Philox with `seed`). The synthetic input of
    /// the benchmarks (docs/bench.md, seed 7) and of `xbar events random`.
    public static func random(channels: Int, timesteps: Int, samples: Int, rate: Double, seed: UInt64) -> EventDataset {
        let rng = Philox(seed: seed)
        var out = EventDataset(channels: channels, timesteps: timesteps, samples: [])
        for s in 0..<samples {
            var active = [[Int32]](repeating: [], count: timesteps)
            for t in 0..<timesteps {
                for c in 0..<channels where rng.uniform(purpose: RandomPurpose.eventEncoding.rawValue, UInt32(s), UInt32(c), UInt32(t)) < rate {
                    active[t].append(Int32(c))
                }
            }
            out.samples.append(SpikeRaster(channels: channels, timesteps: timesteps, label: nil, active: active))
        }
        return out
    }
}
