import Foundation
import XbarCore
import XbarGraph

/// The discretised parameters of one NIR neuron node, per neuron (row-major over the node's shape).
///
/// Each neuron is v[t] = decay * v[t-1] + scale * (input[t] + b) + leak (docs/nir.md, "Neurons"), or with a synapse
/// c[t] = synapseDecay * c[t-1] + scale * (input[t] + b); v[t] = decay * v[t-1] + c[t] + leak, where input is the
/// composed linear input in NIR units and b its propagated Affine/Conv bias.
struct NeuronModel {
    /// What forces a split into separate graph populations: one decay, threshold and synapse decay per population.
    struct Key: Hashable {
        var decay: Double
        /// nil for a non-spiking node.
        var threshold: Double?
        var synapseDecay: Double?
    }

    var keys: [Key]
    /// Multiplies the composed input weights and the propagated bias of each neuron.
    var inputScale: [Double]
    /// Constant membrane input per neuron (k_mem * v_leak).
    var leak: [Double]
    var spiking: Bool
    var hasSynapse: Bool
    var reset: LIFParameters.Reset
}

/// Discretises LIF, IF, I, LI, CubaLIF, CubaLI and Threshold nodes.
enum NIRNeurons {
    static let types: Set<NIRNodeType> = [.lif, .if, .i, .li, .cubaLIF, .cubaLI, .threshold]

    /// Parameters that may carry the node's neuron shape.
    private static let shapeKeys = ["tau", "tau_mem", "tau_syn", "r", "v_leak", "v_threshold", "v_reset", "w_in", "threshold"]

    /// The neuron shape the node's parameters give, nil if all are 0-d scalars: the shape of the parameters with more
    /// than one value (which must agree in size), else of a one-value array (so [1] means one neuron); one-value
    /// parameters broadcast.
    static func shape(of n: FlatNIRGraph.Node, file: String) throws -> [Int]? {
        var shape: [Int]?, single: [Int]?
        for k in shapeKeys {
            guard let a = n.node.parameters[k], !a.shape.isEmpty else { continue }
            guard a.count >= 1 else { throw NodeParameters(n, file: file).fail(k, "expected 1 value or one per neuron, found none") }
            if a.count == 1 {
                single = single ?? a.shape
                continue
            }
            if let s = shape, NIRLinearMaps.count(s) != a.count {
                throw NodeParameters(n, file: file).fail(k, "size mismatch: \(a.count) values, but other parameters have \(NIRLinearMaps.count(s))")
            }
            if shape == nil { shape = a.shape }
        }
        return shape ?? single
    }

    /// A spiking node's reset rule: its `xbar_reset` metadata ("zero" or "subtract", written by `xbar export`) when
    /// present, else `fallback` (--reset; zero for Threshold).
    static func reset(of n: FlatNIRGraph.Node, fallback: LIFParameters.Reset, file: String) throws -> LIFParameters.Reset {
        guard let m = n.node.metadata["xbar_reset"] else { return fallback }
        guard case let .text(t) = m, t.count == 1, let r = LIFParameters.Reset(rawValue: t[0]) else {
            let found: String
            switch m {
            case let .text(t): found = "\(t)"
            case let .numbers(a): found = "numbers \(a.values)"
            }
            throw NodeParameters(n, file: file).fail("metadata/xbar_reset", "expected \"zero\" or \"subtract\", found \(found)")
        }
        return r
    }

    /// The model of a node of `count` neurons.
    static func model(_ n: FlatNIRGraph.Node, count: Int, options o: NIRImportOptions, file: String) throws -> NeuronModel {
        let p = NodeParameters(n, file: file)
        let t = n.node.type
        let reset = [.lif, .if, .cubaLIF, .threshold].contains(t) ? try reset(of: n, fallback: t == .threshold ? .zero : o.reset, file: file)
            : o.reset
        func values(_ k: String, _ def: Double?) throws -> [Double] { try p.perElement(k, count: count, default: def) }
        func stage(_ key: String, _ taus: [Double]) throws -> [(decay: Double, k: Double)] {
            try taus.map { tau in
                guard tau > 0 else { throw p.fail(key, "expected \(key) > 0, found \(tau)") }
                switch o.discretisation {
                case .exact:
                    let d = exp(-o.dt / tau)
                    return (d, 1 - d)
                case .euler:
                    guard o.dt <= tau else {
                        throw p.fail(key, "--dt \(o.dt) exceeds \(key) \(tau): forward Euler would give a negative decay "
                                     + "(use --discretisation exact or a smaller --dt)")
                    }
                    return (1 - o.dt / tau, o.dt / tau)
                }
            }
        }
        func thresholds(_ key: String) throws -> [Double] {
            let t = try values(key, nil)
            if let bad = t.first(where: { !($0 >= 1e-12 && $0 <= 1e12) }) {
                throw p.fail(key, "threshold \(bad) is outside 1e-12...1e12 (the graph format's range)")
            }
            return t
        }
        func checkReset() throws {
            if reset == .zero, let bad = try values("v_reset", 0).first(where: { $0 != 0 }) {
                throw p.fail("v_reset", "v_reset \(bad) is not 0: with reset zero (--reset or its xbar_reset metadata) the membrane resets to 0 "
                             + "(use --reset subtract, which ignores v_reset, or a file with v_reset 0)")
            }
        }
        let zero = [Double](repeating: 0, count: count)
        switch n.node.type {
        case .lif, .li:
            let spiking = n.node.type == .lif
            if spiking { try checkReset() }
            let s = try stage("tau", try values("tau", nil)), r = try values("r", 1), vLeak = try values("v_leak", 0)
            let th: [Double?] = spiking ? try thresholds("v_threshold") : [Double?](repeating: nil, count: count)
            return NeuronModel(keys: (0..<count).map { NeuronModel.Key(decay: s[$0].decay, threshold: th[$0], synapseDecay: nil) },
                               inputScale: (0..<count).map { s[$0].k * r[$0] }, leak: (0..<count).map { s[$0].k * vLeak[$0] },
                               spiking: spiking, hasSynapse: false, reset: reset)
        case .if, .i:
            let spiking = n.node.type == .if
            if spiking { try checkReset() }
            let r = try values("r", 1)
            let th: [Double?] = spiking ? try thresholds("v_threshold") : [Double?](repeating: nil, count: count)
            return NeuronModel(keys: th.map { NeuronModel.Key(decay: 1, threshold: $0, synapseDecay: nil) },
                               inputScale: r.map { $0 * o.dt }, leak: zero, spiking: spiking, hasSynapse: false, reset: reset)
        case .cubaLIF, .cubaLI:
            let spiking = n.node.type == .cubaLIF
            if spiking { try checkReset() }
            let syn = try stage("tau_syn", try values("tau_syn", nil)), mem = try stage("tau_mem", try values("tau_mem", nil))
            let r = try values("r", 1), vLeak = try values("v_leak", 0), wIn = try values("w_in", 1)
            let th: [Double?] = spiking ? try thresholds("v_threshold") : [Double?](repeating: nil, count: count)
            return NeuronModel(
                keys: (0..<count).map { NeuronModel.Key(decay: mem[$0].decay, threshold: th[$0], synapseDecay: syn[$0].decay) },
                inputScale: (0..<count).map { mem[$0].k * r[$0] * syn[$0].k * wIn[$0] },
                leak: (0..<count).map { mem[$0].k * vLeak[$0] }, spiking: spiking, hasSynapse: true, reset: reset)
        case .threshold:
            let th = try thresholds("threshold")
            return NeuronModel(keys: th.map { NeuronModel.Key(decay: 0, threshold: $0, synapseDecay: nil) },
                               inputScale: [Double](repeating: 1, count: count), leak: zero, spiking: true, hasSynapse: false,
                               reset: reset)
        default:
            throw p.fail("", "is not a neuron node")
        }
    }
}
