import Foundation
import XbarCore
import XbarGraph

/// The heterogeneous Izhikevich reservoir with an error-modulated, attention-gated three-factor readout
/// (docs/experiment.md, "What and when"): `IzhikevichReservoir`'s network (Izhikevich 2003 parameter spread, Dale's
/// law) driven by the paradigm's cue and background channels, and per event channel c a pool of LIF readout neurons
/// `read_A`, `read_B` on a crossbar whose cells the rule writes while trials run (the delta rule, IR `mode delta`):
///
///     e_ij := e_ij exp(-1/tau_e) + a x x_i              (eligibility: the reservoir neuron's trace, presynaptic only)
///     w_ij := clip(w_ij + e_ij x E_c(t), 0, w_max)      at every step where the gate G_c(t) > 0
///
/// with E_c(t) = s_c(t) - spikes(read_c, t) / pool the prediction error (the event's stimulus minus the pool's
/// response, an on-chip `modulator`) and G_c the attention gate (a modulator open over the channel's latency window).
public enum WhatWhenNetwork {
    /// Sizes and gains of the network.
    public struct Options: Sendable {
        public var reservoir = IzhikevichReservoir.Options()
        /// Readout neurons per event channel.
        public var pool = 10
        /// Readout LIF: decay, threshold 1, bias (0: the pool is silent until the rule potentiates its weights).
        public var readoutDecay = 0.8
        public var readoutBias = 0.0
        /// Readout weights start uniform in [0, w0] and stay in [0, wMax] (graph units: threshold = 1).
        public var w0 = 0.001
        public var wMax = 0.1
        /// The rule: amplitude per pairing with a unit trace, trace and eligibility time constants (steps).
        public var aPlus = 0.005
        public var tauPre = 3.0
        public var tauEligibility = 2.0
        public var maxPulses = 4
        public init() {
            reservoir.excitatory = 400
            reservoir.inhibitory = 100
            reservoir.recurrentScale = 0.5
        }
    }

    public static let channelNames = ["A", "B"]

    /// The graph: `in` (cue + noise) into the reservoir, `stim_A`, `stim_B`, `gate_A`, `gate_B` inputs (one channel
    /// each, the modulators' sources only), `scale` (one channel, never driven), `exc`, `inh`, `read_A`, `read_B`.
    public static func graph(_ o: Options, paradigm p: WhatWhenParadigm, seed: UInt64) -> Graph {
        var ro = o.reservoir
        ro.inputs = p.reservoirChannels
        ro.seed = seed
        ro.timesteps = p.trialSteps
        var g = IzhikevichReservoir.graph(ro)
        g.name = "izhikevich-what-when"
        var inputs = [g.populations[0]]
        for name in ["stim_A", "stim_B", "gate_A", "gate_B", "scale"] { inputs.append(Population(name: name, kind: .input, size: 1)) }
        var readouts: [Population] = []
        var modulators: [Modulator] = []
        for (c, name) in channelNames.enumerated() {
            readouts.append(Population(name: "read_\(name)", kind: .lif, size: o.pool,
                                       lif: LIFParameters(decay: o.readoutDecay, threshold: 1, reset: .zero, bias: o.readoutBias)))
            var pr = Projection(name: "exc->read_\(name)", from: "exc", to: "read_\(name)", delay: 1,
                                weights: .random(RandomWeights(distribution: .uniform, a: 0, b: o.w0, gain: 1, density: 1,
                                                               seed: seed &+ UInt64(40 + c))))
            var rule = PlasticityRule(tauPre: o.tauPre, tauPost: o.tauPre, aPlus: o.aPlus, aMinus: 0, clip: (0, o.wMax))
            rule.modulator = "error_\(name)"
            rule.modulates = .delta
            rule.gate = "gate_\(name)"
            rule.eligibilityTau = o.tauEligibility
            rule.every = 1
            rule.maxPulses = o.maxPulses
            pr.plasticity = rule
            g.projections.append(pr)
            // The pool's weight scale: one cell at wMax on a row that is never driven (the compiler scales a population
            // by its largest initial weight; the rule must be able to reach wMax).
            g.projections.append(Projection(name: "scale->read_\(name)", from: "scale", to: "read_\(name)", delay: 0,
                                            weights: .sparse([SparseEntry(pre: 0, post: 0, weight: o.wMax)])))
            modulators.append(Modulator(name: "error_\(name)", tau: 1, sources: [Modulator.Source(from: "stim_\(name)", weight: 1),
                                                                                  Modulator.Source(from: "read_\(name)", weight: -1 / Double(o.pool))]))
            modulators.append(Modulator(name: "gate_\(name)", tau: 1, sources: [Modulator.Source(from: "gate_\(name)", weight: 1)], bias: -0.5))
        }
        g.populations = inputs + Array(g.populations.dropFirst()) + readouts
        g.modulators = modulators
        return g
    }
}
