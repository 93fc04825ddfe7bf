import Foundation
import XbarCore
import XbarGraph

/// How `NIRExporter` turns discrete-time parameters back into NIR's continuous-time ones.
public struct NIRExportOptions: Sendable {
    /// Timestep in seconds the graph was (or will be) discretised with.
    public var dt: Double
    /// The discretisation the importer will use on the written file (docs/nir.md).
    public var discretisation: NIRImportOptions.Discretisation

    public init(dt: Double, discretisation: NIRImportOptions.Discretisation = .exact) {
        self.dt = dt
        self.discretisation = discretisation
    }
}

/// Writes a graph (docs/graph.md) as a NIR graph that `xbar import` with the same `dt` and discretisation turns back
/// into the same network, and that Python `nir.read` reads (docs/nir.md, "Export").
///
/// Mapping: an `input` population -> `Input`; a spiking population -> `LIF` (or `IF` when decay is 1, `CubaLIF` with a
/// synapse, `Threshold` when decay is 0 under the exact form); a non-spiking one -> `LI`, `I` or `CubaLI`; each
/// projection -> a `Linear` (weight[post][pre]) or, for the first projection into a population with biases, an `Affine`
/// carrying them; a projection delay d > 0 -> a `Delay` node of d*dt seconds in front of it; populations nothing reads
/// -> an `Output` each (a population only itself reads included; when every population is read by another, the last
/// one); a trained readout -> a `Linear` into an `Output` of
/// one value per class; a leaky population no projection reaches carries its bias as v_leak = bias / k. R and w_in are
/// chosen so the projection weights are written unchanged:
/// R = 1/k (k = 1 - decay, or dt for an integrator) and w_in = 1/k_syn.
public enum NIRExporter {
    /// The NIR graph and the notes about what NIR cannot carry (for example a digital readout).
    public static func nir(from g: Graph, options: NIRExportOptions, file: String) throws -> (NIRGraph, [String]) {
        guard options.dt > 0, options.dt.isFinite else {
            throw XbarError(file: file, field: "dt", "expected a positive timestep in seconds, got \(options.dt)")
        }
        var nodes: [NIRNode] = []
        var edges: [NIREdge] = []
        var notes: [String] = []
        // NIR node names: the graph's names with '/' (an HDF5 path separator) replaced by '_', made unique.
        var used = Set<String>()
        func fresh(_ base: String) -> String {
            let b = base.replacingOccurrences(of: "/", with: "_")
            var n = b, k = 1
            while used.contains(n) { n = "\(b)_\(k)"; k += 1 }
            used.insert(n)
            return n
        }
        var node: [String: String] = [:]
        for p in g.populations { node[p.name] = fresh(p.name) }
        let projectionNode = g.projections.map { fresh($0.name) }

        // Biases that travel on the first incoming projection's Affine node.
        var affineBias: [String: [Double]] = [:]
        for (i, p) in g.populations.enumerated() {
            let f = "populations[\(i)]"
            switch p.kind {
            case .input:
                nodes.append(NIRNode(name: node[p.name]!, type: .input, parameters: ["shape": NIRArray([Double(p.size)])]))
            case .lif:
                let l = p.lif!
                var (n, bias) = try neuron(p, l, options, file: file, field: f,
                                           hasInput: g.projections.contains { $0.to == p.name })
                n.name = node[p.name]!
                nodes.append(n)
                if let bias { affineBias[p.name] = bias }
            default:
                throw XbarError(file: file, field: "\(f).kind",
                                "NIR has no \(p.kind.rawValue) node; only input and lif populations export to NIR")
            }
        }
        for (i, pr) in g.projections.enumerated() {
            guard let src = g.population(named: pr.from), let dst = g.population(named: pr.to) else {
                throw XbarError(file: file, field: "projections[\(i)]", "names a population that does not exist")
            }
            guard pr.plasticity == nil else {
                throw XbarError(file: file, field: "projections[\(i)].plasticity", "NIR has no learning rules; only fixed-weight projections export to NIR")
            }
            try pr.requireDenseForm(pre: src.size, post: dst.size, file: file, field: "projections[\(i)].weights", for: "NIR's linear node")
            let w = Materialize.weights(pr, pre: src.size, post: dst.size)
            var wt = [Double](repeating: 0, count: w.count)
            for a in 0..<src.size { for b in 0..<dst.size { wt[b * src.size + a] = w[a * dst.size + b] } }
            var params = ["weight": NIRArray(shape: [dst.size, src.size], values: wt)]
            var type = NIRNodeType.linear
            if let b = affineBias.removeValue(forKey: dst.name) {
                type = .affine
                params["bias"] = NIRArray(b)
            }
            let name = projectionNode[i]
            nodes.append(NIRNode(name: name, type: type, parameters: params))
            var from = node[pr.from]!
            if pr.delay > 0 {
                let d = fresh(name + "_delay")
                nodes.append(NIRNode(name: d, type: .delay, parameters: [
                    "delay": NIRArray([Double](repeating: Double(pr.delay) * options.dt, count: src.size))]))
                edges.append(NIREdge(from, d))
                from = d
            }
            edges.append(NIREdge(from, name))
            edges.append(NIREdge(name, node[pr.to]!))
        }
        let trainedReadout = g.readout.flatMap { r in r.weights == nil ? nil : r }
        // Every population no other population reads ends in an Output (a recurrent reservoir reads only itself), so
        // the graph has exit points and NIR's type inference succeeds; a trained readout's source ends in it instead.
        let readByOthers = Set(g.projections.filter { $0.from != $0.to }.map(\.from))
        var exits = g.populations.filter { $0.kind == .lif && !readByOthers.contains($0.name) }
        // Populations that all read each other (a cycle of several): the last one is the exit.
        if exits.isEmpty && trainedReadout == nil, let last = g.populations.last(where: { $0.kind == .lif }) { exits = [last] }
        for p in exits where p.name != trainedReadout?.from {
            let o = fresh(node[p.name]! + "_output")
            nodes.append(NIRNode(name: o, type: .output, parameters: ["shape": NIRArray([Double(p.size)])]))
            edges.append(NIREdge(node[p.name]!, o))
        }
        if let r = trainedReadout, let src = g.population(named: r.from) {
            let (readoutNodes, readoutEdges, note) = readout(r, size: src.size, from: node[r.from]!, fresh: fresh)
            nodes += readoutNodes
            edges += readoutEdges
            if let note { notes.append(note) }
        } else if let r = g.readout {
            notes.append("the readout on \"\(r.from)\" (\(r.classes) classes) has no weights yet: only its source's Output is written")
        }
        return (NIRGraph(version: "0.2.0", nodes: nodes, edges: edges), notes)
    }

    /// A trained readout as a `Linear` node (weight[class][neuron]) into an `Output` of one value per class. NIR's
    /// Linear acts at every step, so the output summed over a sample's steps is W x spike counts, the readout's
    /// accumulator without its bias; a non-zero bias (added once per sample by the digital readout) is not written.
    static func readout(_ r: Readout, size: Int, from source: String, fresh: (String) -> String)
        -> (nodes: [NIRNode], edges: [NIREdge], note: String?) {
        let linear = fresh("readout_" + r.from), out = fresh("readout_" + r.from + "_output")
        let nodes = [
            NIRNode(name: linear, type: .linear, parameters: ["weight": NIRArray(shape: [r.classes, size], values: r.weights!)]),
            NIRNode(name: out, type: .output, parameters: ["shape": NIRArray([Double(r.classes)])]),
        ]
        let note = (r.bias ?? []).contains { $0 != 0 }
            ? "the readout's bias on \"\(r.from)\" is not written: NIR's Linear acts every step, the readout adds its bias once per sample"
            : nil
        return (nodes, [NIREdge(source, linear), NIREdge(linear, out)], note)
    }

    /// The neuron node of one population, and the per-neuron bias its first incoming Affine must carry (nil if none).
    static func neuron(_ p: Population, _ l: LIFParameters, _ o: NIRExportOptions, file: String, field: String,
                       hasInput: Bool) throws -> (NIRNode, [Double]?) {
        func fail(_ why: String) -> XbarError { XbarError(file: file, field: field, "population \"\(p.name)\": \(why)") }
        if l.refractory > 0 { throw fail("refractory \(l.refractory) has no NIR equivalent (NIR neurons have no refractory period)") }
        if l.spiking && l.compare == .ge { throw fail("compare ge has no NIR equivalent (NIR spikes when v > v_threshold)") }
        let n = p.size
        func vec(_ x: Double) -> NIRArray { NIRArray([Double](repeating: x, count: n)) }
        let membraneBias = (0..<n).map { l.bias(of: $0) }
        let hasMembraneBias = membraneBias.contains { $0 != 0 }
        var meta: [String: NIRValue] = [:]
        if l.spiking { meta["xbar_reset"] = .text([l.reset.rawValue]) }

        if let s = l.synapse {
            guard l.decay > 0, l.decay < 1, s.decay > 0, s.decay < 1 else {
                throw fail("a current-based neuron needs membrane and synapse decays strictly between 0 and 1 for NIR \(l.spiking ? "CubaLIF" : "CubaLI") (got \(l.decay), \(s.decay))")
            }
            let (tm, km) = timeConstant(l.decay, o), (ts, ks) = timeConstant(s.decay, o)
            var params: [String: NIRArray] = ["tau_mem": vec(tm), "tau_syn": vec(ts), "r": vec(1 / km), "w_in": vec(1 / ks),
                                              "v_leak": NIRArray(membraneBias.map { $0 / km })]
            if l.spiking {
                params["v_threshold"] = vec(l.threshold)
                params["v_reset"] = vec(0)
            }
            let synBias = (0..<n).map { s.bias(of: $0) }
            let carried = synBias.contains { $0 != 0 } ? synBias : nil
            if carried != nil && !hasInput { throw fail("a synaptic bias needs an incoming projection to carry it (NIR Affine bias)") }
            return (NIRNode(name: p.name, type: l.spiking ? .cubaLIF : .cubaLI, parameters: params, metadata: meta), carried)
        }
        let carried = hasMembraneBias ? membraneBias : nil
        // A leaky neuron without input carries its bias as v_leak = bias / k instead.
        let leaky = l.decay > 0 && l.decay < 1 || (l.decay == 0 && o.discretisation == .euler)
        if carried != nil && !hasInput && !leaky {
            throw fail("a bias needs an incoming projection to carry it (NIR Affine bias; \(l.decay == 1 ? "IF/I" : "Threshold") has no leak term)")
        }
        if l.decay == 1 {
            var params: [String: NIRArray] = ["r": vec(1 / o.dt)]
            if l.spiking {
                params["v_threshold"] = vec(l.threshold)
                params["v_reset"] = vec(0)
            }
            return (NIRNode(name: p.name, type: l.spiking ? .if : .i, parameters: params, metadata: meta), carried)
        }
        if l.decay == 0 && o.discretisation == .exact {
            guard l.spiking, l.reset == .zero else {
                throw fail("decay 0 has no exact-form NIR time constant; only a spiking neuron with reset zero (NIR Threshold) can be written")
            }
            return (NIRNode(name: p.name, type: .threshold, parameters: ["threshold": vec(l.threshold)], metadata: meta), carried)
        }
        let (tau, k) = timeConstant(l.decay, o)
        let vLeak = hasInput ? vec(0) : NIRArray(membraneBias.map { $0 / k })
        var params: [String: NIRArray] = ["tau": vec(tau), "r": vec(1 / k), "v_leak": vLeak]
        if l.spiking {
            params["v_threshold"] = vec(l.threshold)
            params["v_reset"] = vec(0)
        }
        return (NIRNode(name: p.name, type: l.spiking ? .lif : .li, parameters: params, metadata: meta), hasInput ? carried : nil)
    }

    /// tau and the input gain k for a decay in (0, 1): exact tau = -dt/ln(decay), k = 1 - decay; Euler
    /// tau = dt/(1 - decay), k = dt/tau = 1 - decay.
    static func timeConstant(_ decay: Double, _ o: NIRExportOptions) -> (Double, Double) {
        switch o.discretisation {
        case .exact: return (-o.dt / Foundation.log(decay), 1 - decay)
        case .euler: return (o.dt / (1 - decay), 1 - decay)
        }
    }
}
