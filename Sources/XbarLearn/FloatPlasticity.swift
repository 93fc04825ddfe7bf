import Foundation
import XbarCore
import XbarEvents
import XbarGraph

/// The graph's learning rules in Double precision: the software twin of on-chip plasticity (docs/experiment.md,
/// "Plasticity"). The same rules as the chip's (docs/graph.md, "Plasticity"; docs/ir.md) without the integers and the
/// device: traces x := exp(-1/tau) x + spike (per step, after the populations' updates), the pairing terms accumulated
/// per synapse, and at each update step w := clip(w + scaled accumulation) (soft bounds scale by the room left), the
/// modulators as leaky integrators, samples in order on one set of weights. Only a projection's synapses (its non-zero
/// initial weights) learn.
public final class FloatPlasticity: @unchecked Sendable {
    /// One plastic projection (an edge of `FloatNetwork.incoming`).
    struct Learner {
        let population: Int
        let edge: Int
        let rule: PlasticityRule
        let pre: Int      // source index
        let post: Int     // source index of the population
        let preTrace: Int
        let postTrace: Int
        let mask: [Bool]
        var acc: [Double]  // stdp: per synapse; homeostasis: per neuron
    }

    /// Current weights of every edge (learned in place).
    private(set) var weights: [[[Double]]]
    private var learners: [Learner] = []
    /// Traces: (source index, decay) and their values.
    private var traceSpec: [(source: Int, delay: Int, decay: Double)] = []
    private var traces: [[Double]] = []
    private let modulators: [Modulator]
    private var modulatorValue: [Double] = []
    private let sourceIndex: [String: Int]
    private let sizes: [Int]
    private let timesteps: Int

    /// The learners of graph `g` on the twin `net` (built from the same graph).
    public init(graph g: Graph, network net: FloatNetwork) {
        weights = net.incoming.map { $0.map(\.weights) }
        modulators = g.modulators
        let names = net.inputs.map(\.name) + net.neurons.map(\.name)
        sourceIndex = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($0.element, $0.offset) })
        sizes = net.inputs.map(\.size) + net.neurons.map(\.size)
        timesteps = g.timesteps
        for (ni, n) in net.neurons.enumerated() {
            for (ei, pr) in g.projections.filter({ $0.to == n.name }).enumerated() {
                guard let rule = pr.plasticity else { continue }
                let post = net.inputs.count + ni
                let pre = sourceIndex[pr.from]!
                let postTrace = trace(post, 0, rule.tauPost)
                let preTrace = rule.kind == .stdp ? trace(pre, pr.delay, rule.tauPre) : postTrace
                learners.append(Learner(population: ni, edge: ei, rule: rule, pre: pre, post: post, preTrace: preTrace,
                                        postTrace: postTrace, mask: weights[ni][ei].map { $0 != 0 },
                                        acc: [Double](repeating: 0, count: rule.kind == .stdp ? weights[ni][ei].count : n.size)))
            }
        }
    }

    /// Index of the trace of `source` at `delay` with time constant `tau` (created once).
    private func trace(_ source: Int, _ delay: Int, _ tau: Double) -> Int {
        let d = exp(-1 / tau)
        if let k = traceSpec.firstIndex(where: { $0.source == source && $0.delay == delay && $0.decay == d }) { return k }
        traceSpec.append((source, delay, d))
        traces.append([Double](repeating: 0, count: sizes[source]))
        return traceSpec.count - 1
    }

    /// The weights of edge `ei` of population `ni` now.
    func edgeWeights(_ ni: Int, _ ei: Int) -> [Double] { weights[ni][ei] }

    /// Start of a sample: traces, eligibilities and modulators reset (the weights are kept).
    func beginSample() {
        for k in traces.indices { traces[k] = [Double](repeating: 0, count: traces[k].count) }
        for k in learners.indices { learners[k].acc = [Double](repeating: 0, count: learners[k].acc.count) }
        modulatorValue = modulators.map(\.initial)
    }

    /// End of step t: traces, modulators, pairing, and the updates of the rules scheduled at t. `spikes(source, step)`
    /// gives the active indices of a source at a step (empty before 0).
    func step(_ t: Int, spikes: (Int, Int) -> [Int32]) {
        for (k, s) in traceSpec.enumerated() {
            for i in traces[k].indices { traces[k][i] *= s.decay }
            for a in spikes(s.source, t - s.delay) { traces[k][Int(a)] += 1 }
        }
        for (k, m) in modulators.enumerated() {
            var drive = m.bias
            for s in m.sources { drive += s.weight * Double(spikes(sourceIndex[s.from]!, t - s.delay).count) }
            modulatorValue[k] += (drive - modulatorValue[k]) / m.tau
        }
        for k in learners.indices {
            switch learners[k].rule.kind {
            case .stdp: stdp(k, t, spikes)
            case .homeostasis: homeostasis(k, t)
            }
        }
    }

    private func modulator(_ name: String?) -> Double? {
        name.flatMap { n in modulators.firstIndex { $0.name == n }.map { modulatorValue[$0] } }
    }

    private func stdp(_ k: Int, _ t: Int, _ spikes: (Int, Int) -> [Int32]) {
        let l = learners[k], r = l.rule, post = sizes[l.post]
        if let te = r.eligibilityTau {
            let d = exp(-1 / te)
            for i in learners[k].acc.indices { learners[k].acc[i] *= d }
        }
        if let g = modulator(r.gate), g <= 0 { return }
        let m = modulator(r.modulator)
        if r.modulates == .delta {
            // The delta rule: a presynaptic eligibility, a_plus x pre trace for every synapse every step.
            let x = traces[l.preTrace]
            for i in 0..<sizes[l.pre] { for j in 0..<post where l.mask[i * post + j] { learners[k].acc[i * post + j] += r.aPlus * x[i] } }
        } else {
            pair(k, t, spikes)
        }
        guard updates(r, t) else { return }
        let threeFactor = r.modulates.isThreeFactor && m != nil
        for s in learners[k].acc.indices where l.mask[s] {
            let d = threeFactor ? learners[k].acc[s] * m! : learners[k].acc[s]
            weights[l.population][l.edge][s] = apply(d, to: weights[l.population][l.edge][s], r)
            if !threeFactor { learners[k].acc[s] = 0 }
        }
    }

    /// STDP pairings of this step's spikes into the eligibility of learner k (modulated amplitudes as the chip's).
    private func pair(_ k: Int, _ t: Int, _ spikes: (Int, Int) -> [Int32]) {
        let l = learners[k], r = l.rule, post = sizes[l.post]
        let m = modulator(r.modulator)
        let ap = r.aPlus * (m != nil && r.modulates == .aPlus ? m! : 1), am = r.aMinus * (m != nil && r.modulates == .aMinus ? m! : 1)
        let delay = delayOf(l)
        let pre = Set(spikes(l.pre, t - delay).map(Int.init)), postS = Set(spikes(l.post, t).map(Int.init))
        let ex = r.sameStep == .exclude
        let x = traces[l.preTrace], y = traces[l.postTrace]
        for j in postS {
            for i in 0..<sizes[l.pre] where l.mask[i * post + j] {
                learners[k].acc[i * post + j] += ap * (ex && pre.contains(i) ? x[i] - 1 : x[i])
            }
        }
        for i in pre {
            for j in 0..<post where l.mask[i * post + j] {
                learners[k].acc[i * post + j] -= am * (ex && postS.contains(j) ? y[j] - 1 : y[j])
            }
        }
    }

    private func homeostasis(_ k: Int, _ t: Int) {
        let l = learners[k], r = l.rule, post = sizes[l.post]
        let d = traceSpec[l.postTrace].decay
        for j in 0..<post {
            let target = (r.targetRates.count == 1 ? r.targetRates[0] : r.targetRates[j]) / (1 - d)
            learners[k].acc[j] += r.eta * (traces[l.postTrace][j] - target)
        }
        guard updates(r, t) else { return }
        for i in 0..<sizes[l.pre] {
            for j in 0..<post where l.mask[i * post + j] {
                weights[l.population][l.edge][i * post + j] = apply(-learners[k].acc[j], to: weights[l.population][l.edge][i * post + j], r)
            }
        }
        for j in 0..<post { learners[k].acc[j] = 0 }
    }

    /// The delay of a learner's projection (its pre trace's).
    private func delayOf(_ l: Learner) -> Int { traceSpec[l.preTrace].delay }

    private func updates(_ r: PlasticityRule, _ t: Int) -> Bool { r.every == 0 ? t == timesteps - 1 : (t + 1) % r.every == 0 }

    /// w + d within the clip range; soft bounds scale d by the room left (as the chip's pulse count).
    private func apply(_ d: Double, to w: Double, _ r: PlasticityRule) -> Double {
        var d = d
        if r.bound == .soft {
            let span = r.clip.high - r.clip.low
            d *= Swift.min(1, Swift.max(0, (d > 0 ? r.clip.high - w : w - r.clip.low) / span))
        }
        return Swift.min(r.clip.high, Swift.max(r.clip.low, w + d))
    }

    /// The twin with the learned weights.
    public func learned(_ net: FloatNetwork) -> FloatNetwork {
        var n = net
        for ni in n.incoming.indices { for ei in n.incoming[ni].indices { n.incoming[ni][ei].weights = weights[ni][ei] } }
        return n
    }

    /// Runs `samples` in order on `net`, learning; returns the learned twin.
    public func learn(_ net: FloatNetwork, samples: [SpikeRaster], progress: (Int) -> Void = { _ in }) -> FloatNetwork {
        for (k, s) in samples.enumerated() {
            _ = net.simulate(s, plasticity: self)
            progress(k + 1)
        }
        return learned(net)
    }
}
