import Foundation
import XbarCore
import XbarEvents

/// The cue -> event paradigm of Yamada & Chao, "Joint encoding of 'what' and 'when' predictions through
/// error-modulated plasticity in reservoir spiking networks" (arXiv:2510.14382, 2025), as the project runs it
/// (docs/experiment.md, "What and when"): every trial starts with a cue; then event A follows at latency t_A with
/// probability p(A), otherwise event B at latency t_B. A block is a run of trials with fixed statistics; the statistics
/// may switch between blocks.
public struct WhatWhenParadigm: Sendable, Equatable {
    /// Steps (1 ms each) of a trial.
    public var trialSteps = 200
    /// The cue: `cueChannels` input channels firing with probability `cueRate` per step over steps
    /// [cueOnset, cueOnset + cueSteps). The steps before the onset let the reservoir settle into its ongoing activity
    /// (every trial starts from rest).
    public var cueOnset = 100
    public var cueSteps = 4
    public var cueChannels = 20
    public var cueRate = 0.3
    /// Background: `noiseChannels` Poisson channels at `noiseHz`, every step of every trial.
    public var noiseChannels = 400
    public var noiseHz = 25.0
    /// An event lasts `eventSteps` steps from its latency; the attention gate of channel c is open over
    /// [t_c - gateHalfWidth, t_c + eventSteps + gateHalfWidth).
    public var eventSteps = 3
    public var gateHalfWidth = 12
    public init() {}

    /// The statistics of a block.
    public struct Block: Sendable, Equatable {
        public var pA: Double
        public var latencyA: Int
        public var latencyB: Int
        public var trials: Int
        public init(pA: Double, latencyA: Int, latencyB: Int, trials: Int) {
            self.pA = pA
            self.latencyA = latencyA
            self.latencyB = latencyB
            self.trials = trials
        }
    }

    /// Input channels: reservoir drive (cue, then noise), then stimulus A, stimulus B, gate A, gate B and the readout's
    /// weight-scale row (one each; the last is never driven).
    public var reservoirChannels: Int { cueChannels + noiseChannels }
    public var channels: Int { reservoirChannels + 5 }

    /// The expected stimulus of channel A (B) at each step of a trial: p(A) (1 - p(A)) over its event steps, else 0.
    public func expectation(_ b: Block, channel: Int) -> [Double] {
        let (lat, p) = channel == 0 ? (b.latencyA, b.pA) : (b.latencyB, 1 - b.pA)
        return (0..<trialSteps).map { $0 >= lat && $0 < lat + eventSteps ? p : 0 }
    }

    /// A block's trials as input rasters, from `seed`; `first` numbers the trials (their noise and their event draws).
    /// `learning` false: the cue and the noise only (stimuli and gates silent), as the test trials.
    public func trials(_ b: Block, seed: UInt64, first: Int, learning: Bool) -> (rasters: [SpikeRaster], eventIsA: [Bool]) {
        let rng = Philox(seed: seed)
        let purpose = RandomPurpose.modelInput.rawValue
        let pNoise = noiseHz / 1000
        var rasters: [SpikeRaster] = [], isA: [Bool] = []
        for k in 0..<b.trials {
            let trial = UInt32(truncatingIfNeeded: first + k) | (learning ? 0 : 0x8000_0000)
            let a = rng.uniform(purpose: purpose, 0xE0E0, trial, 0) < b.pA
            isA.append(a)
            let r = reservoirChannels
            let active: [[Int32]] = (0..<trialSteps).map { t in
                var s: [Int32] = []
                if t >= cueOnset && t < cueOnset + cueSteps {
                    for c in 0..<cueChannels where rng.uniform(purpose: purpose, trial, UInt32(t), UInt32(c)) < cueRate { s.append(Int32(c)) }
                }
                for c in 0..<noiseChannels where rng.uniform(purpose: purpose, trial, UInt32(t), UInt32(cueChannels + c)) < pNoise {
                    s.append(Int32(cueChannels + c))
                }
                if learning {
                    let lat = a ? b.latencyA : b.latencyB
                    if t >= lat && t < lat + eventSteps { s.append(Int32(r + (a ? 0 : 1))) }
                    for (ch, l) in [b.latencyA, b.latencyB].enumerated() where t >= l - gateHalfWidth && t < l + eventSteps + gateHalfWidth {
                        s.append(Int32(r + 2 + ch))
                    }
                }
                return s.sorted()
            }
            rasters.append(SpikeRaster(channels: channels, timesteps: trialSteps, active: active))
        }
        return (rasters, isA)
    }
}
