import XbarCore

/// Structural rules every graph must satisfy before compilation (docs/graph.md, "Validity").
public enum GraphValidator {
    public static func validate(_ g: Graph, file: String) throws {
        func fail(_ field: String, _ m: String) -> XbarError { XbarError(file: file, field: field, m) }
        guard !g.populations.isEmpty else { throw fail("populations", "at least one population is required") }
        var names = Set<String>()
        for (i, p) in g.populations.enumerated() {
            guard !p.name.isEmpty, p.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
                throw fail("populations[\(i)].name", "expected letters, digits, '_', '-' or '.', found \"\(p.name)\"")
            }
            guard names.insert(p.name).inserted else { throw fail("populations[\(i)].name", "\"\(p.name)\" declared twice") }
            guard p.size >= 1 && p.size <= GraphJSON.maxPopulation else {
                throw fail("populations[\(i)].size", "expected 1...\(GraphJSON.maxPopulation)")
            }
            if p.kind == .lif && p.lif == nil { throw fail("populations[\(i)]", "lif population without parameters") }
            if p.kind.isNeuron && p.kind != .lif && p.model == nil {
                throw fail("populations[\(i)]", "\(p.kind.rawValue) population without parameters")
            }
            if let l = p.lif {
                if let b = l.neuronBias, b.count != p.size {
                    throw fail("populations[\(i)].neuron_bias", "expected \(p.size) values (one per neuron), found \(b.count)")
                }
                if let b = l.synapse?.neuronBias, b.count != p.size {
                    throw fail("populations[\(i)].synapse.neuron_bias", "expected \(p.size) values (one per neuron), found \(b.count)")
                }
            }
        }
        guard g.populations.contains(where: { $0.kind.isNeuron }) else { throw fail("populations", "no neuron population") }
        try validateModulators(g, file: file)
        var projNames = Set<String>()
        for (i, pr) in g.projections.enumerated() {
            let f = "projections[\(i)]"
            guard projNames.insert(pr.name).inserted else { throw fail("\(f).name", "\"\(pr.name)\" declared twice") }
            guard let src = g.population(named: pr.from) else { throw fail("\(f).from", "no population \"\(pr.from)\"") }
            guard let dst = g.population(named: pr.to) else { throw fail("\(f).to", "no population \"\(pr.to)\"") }
            guard dst.kind.isNeuron else { throw fail("\(f).to", "\"\(pr.to)\" is an input population; projections must end on neurons") }
            guard src.lif?.spiking ?? true else {
                throw fail("\(f).from", "population \(src.name) is non-spiking; crossbar rows take 1-bit spikes")
            }
            guard pr.delay >= 0 && pr.delay <= maxProjectionDelay else {
                throw fail("\(f).delay", "\(pr.delay) outside 0...\(maxProjectionDelay)")
            }
            let slots = pr.synapseSlots(pre: src.size, post: dst.size)
            guard slots.count <= GraphJSON.maxSynapses else {
                throw fail(f, "\(slots.count) synapses (\(slots.counted)) exceeds the limit \(GraphJSON.maxSynapses)")
            }
            if pr.plasticity != nil {
                try pr.requireDenseForm(pre: src.size, post: dst.size, file: file, field: "\(f).plasticity", for: "a plastic projection")
            }
            if pr.from == pr.to && pr.delay == 0 { throw fail("\(f).delay", "a self-projection needs delay 1 (recurrence)") }
            switch pr.weights {
            case let .dense(v):
                guard v.count == src.size * dst.size else {
                    throw fail("\(f).weights.values", "expected \(src.size) rows of \(dst.size) values, found \(v.count) values")
                }
            case let .sparse(es):
                for (k, e) in es.enumerated() where e.pre >= src.size || e.post >= dst.size || !e.weight.isFinite {
                    throw fail("\(f).weights.entries[\(k)]", "index (\(e.pre), \(e.post)) outside \(src.size)x\(dst.size)")
                }
            case let .random(r):
                if let k = r.fanout, k > dst.size - (r.noSelf && src.size > 1 ? 1 : 0) {
                    throw fail("\(f).weights.fanout", "\(k) exceeds the \(dst.size - (r.noSelf && src.size > 1 ? 1 : 0)) candidate targets of each presynaptic neuron")
                }
            case let .spatial(s):
                guard s.grid.reduce(1, *) == dst.size, src.size == dst.size else {
                    throw fail("\(f).weights.grid", "grid \(s.grid) must hold exactly the \(dst.size) neurons of a recurrent projection")
                }
            }
        }
        // Delay-0 edges between lif populations must not form a cycle (each step is scheduled in order).
        _ = try Schedule.order(g, file: file)
        if let r = g.readout {
            guard let src = g.population(named: r.from), src.kind.isNeuron else {
                throw fail("readout.from", "expected a neuron population, found \"\(r.from)\"")
            }
            guard src.lif?.spiking ?? true else {
                throw fail("readout.from", "population \(src.name) is non-spiking; the readout accumulates spike counts")
            }
            if let w = r.weights, w.count != r.classes * src.size {
                throw fail("readout.weights", "expected \(r.classes) rows of \(src.size) values, found \(w.count) values")
            }
            if let b = r.bias, b.count != r.classes { throw fail("readout.bias", "expected \(r.classes) values, found \(b.count)") }
            if r.bias != nil && r.weights == nil { throw fail("readout.bias", "bias given without weights") }
        }
    }
}

/// Update order of neuron populations within a timestep.
public enum Schedule {
    /// Topological order of neuron populations along delay-0 projections; a cycle is an error naming a member.
    public static func order(_ g: Graph, file: String) throws -> [String] {
        let neurons = g.populations.filter { $0.kind.isNeuron }.map { $0.name }
        var indeg = Dictionary(uniqueKeysWithValues: neurons.map { ($0, 0) })
        var succ: [String: [String]] = [:]
        for p in g.projections where p.delay == 0 && indeg[p.from] != nil && p.from != p.to {
            indeg[p.to, default: 0] += 1
            succ[p.from, default: []].append(p.to)
        }
        var ready = neurons.filter { indeg[$0] == 0 }
        var out: [String] = []
        while !ready.isEmpty {
            let n = ready.removeFirst()
            out.append(n)
            for s in succ[n] ?? [] {
                indeg[s]! -= 1
                if indeg[s] == 0 { ready.append(s) }
            }
        }
        if out.count < neurons.count {
            let stuck = neurons.first { !out.contains($0) } ?? "?"
            throw XbarError(file: file, field: "projections",
                            "delay-0 projections form a cycle through \"\(stuck)\"; give one edge of the cycle delay 1")
        }
        return out
    }

}

extension GraphValidator {
    /// Modulators: unique names, sources that exist and spike; every rule's modulator and gate exist.
    static func validateModulators(_ g: Graph, file: String) throws {
        func fail(_ field: String, _ m: String) -> XbarError { XbarError(file: file, field: field, m) }
        var names = Set<String>()
        for (i, m) in g.modulators.enumerated() {
            guard names.insert(m.name).inserted else { throw fail("modulators[\(i)].name", "\"\(m.name)\" declared twice") }
            for (k, s) in m.sources.enumerated() {
                guard let p = g.population(named: s.from) else { throw fail("modulators[\(i)].sources[\(k)].from", "no population \"\(s.from)\"") }
                if p.lif?.spiking == false { throw fail("modulators[\(i)].sources[\(k)].from", "\"\(s.from)\" is non-spiking") }
            }
        }
        for (i, pr) in g.projections.enumerated() {
            guard let r = pr.plasticity else { continue }
            for (key, name) in [("modulator", r.modulator), ("gate", r.gate)] {
                if let n = name, !names.contains(n) {
                    throw fail("projections[\(i)].plasticity.\(key)", "no modulator \"\(n)\" (declare it in \"modulators\")")
                }
            }
            if r.kind == .homeostasis, r.targetRates.count != 1, let to = g.population(named: pr.to), r.targetRates.count != to.size {
                throw fail("projections[\(i)].plasticity.target_rate", "expected one rate or \(to.size) (one per neuron), found \(r.targetRates.count)")
            }
        }
    }
}
