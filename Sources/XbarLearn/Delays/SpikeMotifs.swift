import Foundation
import XbarCore
import XbarEvents

/// Spiking motifs hidden in Poisson noise, after Perrinet (ICANN 2023, "Accurate detection of spiking motifs by
/// learning heterogeneous delays of a spiking neural network") and its notebook (github.com/laurentperrinet/
/// 2023-07-20_HDSNN-ICANN): each motif k is a sparse kernel K_k(c, d') of logits over (channel, delay d' = 0 ... D-1);
/// motif onsets arrive as Bernoulli(p_B) per step and motif; every channel spikes at step t with probability
///
///     p_c(t) = sigmoid(logit(p_A) + sum over onsets (k, b) with 0 <= t - b < D of K_k(c, t - b))
///
/// so a motif raises a few hundred (channel, delay) probabilities above the background rate p_A. A motif's kernel keeps
/// the `motifDensity` largest of gain x N(0, 1) draws over its N x D entries (the rest are 0). docs/experiment.md,
/// "Heterogeneous delays", lists the paper's values and where these defaults differ.
public struct SpikeMotifSet: Sendable {
    /// The generative model's sizes and rates.
    public struct Options: Equatable, Sendable {
        public var channels = 128
        public var motifs = 16
        /// Motif length D in steps (the detector's delays 0 ... D-1).
        public var delays = 31
        public var steps = 1000
        /// p_A: background spike probability per channel and step.
        public var backgroundRate = 0.001
        /// p_B: onset probability per motif and step.
        public var onsetRate = 0.001
        /// Fraction of a motif's channels x delays entries that are active.
        public var motifDensity = 0.05
        /// Scale of the kernels' logits (the notebook's E_SM).
        public var motifGain = 4.0
        public var seed: UInt64 = 1
        public init() {}
    }

    /// One trial: its raster and, per motif, the steps at which the motif starts (sorted).
    public struct Trial: Sendable {
        public var raster: SpikeRaster
        public var onsets: [[Int]]
        /// The steps at which motif k has been seen whole (onset + D - 1): the detector's targets.
        public func ends(delays: Int) -> [[Int]] { onsets.map { $0.map { $0 + delays - 1 } } }
    }

    public let options: Options
    /// Per motif and delay d', the active (channel, logit) entries of the kernel.
    public let kernels: [[[(channel: Int, logit: Double)]]]

    public init(_ o: Options) {
        options = o
        let rng = Philox(seed: o.seed)
        let purpose = RandomPurpose.spikeMotifs.rawValue
        let entries = o.channels * o.delays
        let keep = max(1, Int((o.motifDensity * Double(entries)).rounded()))
        kernels = (0..<o.motifs).map { k in
            let draws = (0..<entries).map { e in (e, o.motifGain * rng.normal(purpose: purpose, 0, UInt32(k), UInt32(e))) }
            let top = draws.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(keep)
            var byDelay = [[(channel: Int, logit: Double)]](repeating: [], count: o.delays)
            for (e, v) in top.sorted(by: { $0.0 < $1.0 }) { byDelay[e % o.delays].append((e / o.delays, v)) }
            return byDelay
        }
    }

    /// Trial `index` (a pure function of the options and the index): onsets at steps 0 ... steps - D, so every motif
    /// ends inside the trial.
    public func trial(_ index: Int) -> Trial {
        let o = options
        let rng = Philox(seed: o.seed)
        let purpose = RandomPurpose.spikeMotifs.rawValue
        let tr = UInt32(truncatingIfNeeded: index) & 0x0FFF_FFFF
        let last = o.steps - o.delays
        let onsets: [[Int]] = (0..<o.motifs).map { k in
            last < 0 ? [] : (0...last).filter { t in rng.uniform(purpose: purpose, 1 << 28 | tr, UInt32(k), UInt32(t)) < o.onsetRate }
        }
        var starts = [[Int]](repeating: [], count: o.steps)
        for k in 0..<o.motifs { for b in onsets[k] { starts[b].append(k) } }
        let base = log(o.backgroundRate / (1 - o.backgroundRate))
        var running: [(motif: Int, onset: Int)] = []
        var logit = [Double](repeating: base, count: o.channels)
        var active: [[Int32]] = []
        active.reserveCapacity(o.steps)
        for t in 0..<o.steps {
            running.append(contentsOf: starts[t].map { ($0, t) })
            running.removeAll { t - $0.onset >= o.delays }
            for i in 0..<o.channels { logit[i] = base }
            for r in running { for e in kernels[r.motif][t - r.onset] { logit[e.channel] += e.logit } }
            var row: [Int32] = []
            for c in 0..<o.channels where rng.uniform(purpose: purpose, 2 << 28 | tr, UInt32(t), UInt32(c)) < 1 / (1 + exp(-logit[c])) {
                row.append(Int32(c))
            }
            active.append(row)
        }
        return Trial(raster: SpikeRaster(channels: o.channels, timesteps: o.steps, active: active), onsets: onsets)
    }
}
