import XbarCore
import XbarIR

/// The native (Int64) `lif` update of docs/ir.md for one population, shared by the fast and cycle engines (the
/// exact engine re-implements it on GMP). State per neuron: membrane, refractory counter, synaptic current.
struct NeuronUnit: Sendable {
    let decl: NeuronDecl
    /// b_i = bias + neuronBias[i], and the synapse's sb_i likewise (empty without a synapse).
    let bias: [Int64]
    let synapseBias: [Int64]

    init(_ n: NeuronDecl) {
        decl = n
        bias = (0..<n.size).map { n.bias(of: $0) }
        synapseBias = n.synapse.map { y in (0..<n.size).map { y.bias(of: $0) } } ?? []
    }

    /// Updates neuron `i` with this step's input current; returns whether it spiked and the membrane value traced
    /// for this step (v when updated, mem while refractory).
    @inline(__always)
    func update(_ i: Int, input: Int64, mem: inout Int64, refr: inout Int64, syn: inout Int64) -> (spike: Bool, trace: Int64) {
        let n = decl
        var x = input
        if let y = n.synapse {
            // The synaptic current integrates every step, refractory or not.
            let d = Fixed.shiftRight(syn * y.decayMul, y.decayShift, y.decayRounding)
            syn = Fixed.fit(d + input + synapseBias[i], y.type, y.overflow)
            x = syn
        }
        if refr > 0 {
            refr -= 1
            return (false, mem)
        }
        let d = Fixed.shiftRight(mem * n.decayMul, n.decayShift, n.decayRounding)
        let v = Fixed.fit(d + x + bias[i], n.memType, n.memOverflow)
        guard n.spiking, n.compare == .gt ? v > n.threshold : v >= n.threshold else {
            mem = v
            return (false, v)
        }
        mem = n.reset == .zero ? 0 : Fixed.fit(v - n.threshold, n.memType, n.memOverflow)
        refr = Int64(n.refractory)
        return (true, v)
    }
}

/// Per-source spike history (docs/ir.md, "State"): for every input and neuron population, the active indices of
/// the last `depth` steps in a ring, depth = 1 + the largest delay any row source reads that source at.
struct SpikeHistory: Sendable {
    let index: [String: Int]
    private var rings: [[[Int32]]]

    init(program p: Program) {
        var idx: [String: Int] = [:]
        for (k, name) in (p.inputs.map(\.name) + p.neurons.map(\.name)).enumerated() { idx[name] = k }
        var depth = [Int](repeating: 1, count: idx.count)
        for op in p.step {
            guard case let .read(_, rows, _, _, _, _) = op.kind else { continue }
            for rs in rows { if let k = idx[rs.source] { depth[k] = Swift.max(depth[k], rs.delay + 1) } }
        }
        index = idx
        rings = depth.map { [[Int32]](repeating: [], count: $0) }
    }

    /// Records the active indices of `source` at step `t` (replacing those of step t - depth).
    mutating func set(_ source: Int, step t: Int, _ active: [Int32]) {
        rings[source][t % rings[source].count] = active
    }

    /// Active indices of `source` at step t - delay (empty before step 0).
    func active(_ source: Int, delay d: Int, step t: Int) -> [Int32] {
        t - d < 0 ? [] : rings[source][(t - d) % rings[source].count]
    }
}
