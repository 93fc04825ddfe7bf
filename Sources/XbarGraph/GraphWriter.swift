import XbarCore

/// Writes a graph as JSON with a fixed key order and shortest round-trip numbers (byte-stable output).
public enum GraphWriter {
    public static func json(_ g: Graph) -> String {
        var o = "{\n"
        o += "  \"format\": \"neuroxbar-graph\",\n  \"version\": \(graphFormatVersion),\n"
        o += "  \"name\": \(str(g.name)),\n  \"timesteps\": \(g.timesteps),\n"
        o += "  \"populations\": [\n"
        o += g.populations.map { "    " + population($0) }.joined(separator: ",\n")
        o += "\n  ],\n  \"projections\": [\n"
        o += g.projections.map { "    " + projection($0, g) }.joined(separator: ",\n")
        o += "\n  ]"
        if !g.modulators.isEmpty {
            o += ",\n  \"modulators\": [\n" + g.modulators.map { "    " + $0.json }.joined(separator: ",\n") + "\n  ]"
        }
        if let r = g.readout {
            o += ",\n  \"readout\": {\"from\": \(str(r.from)), \"classes\": \(r.classes)"
            if let w = r.weights, let size = g.population(named: r.from)?.size {
                o += ", \"weights\": " + matrix(w, cols: size, indent: "    ")
            }
            if let b = r.bias { o += ", \"bias\": [" + b.map(num).joined(separator: ", ") + "]" }
            o += "}"
        }
        if let e = g.exampleInput { o += ",\n  \"example_input\": \(str(e))" }
        return o + "\n}\n"
    }

    static func str(_ s: String) -> String { JSONValue.string(s).serialized(indent: nil) }

    static func num(_ d: Double) -> String {
        if d == d.rounded() && abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    static func population(_ p: Population) -> String {
        var s = "{\"name\": \(str(p.name)), \"kind\": \"\(p.kind.rawValue)\", \"size\": \(p.size)"
        if let l = p.lif {
            s += ", \"decay\": \(num(l.decay)), \"threshold\": \(num(l.threshold)), \"reset\": \"\(l.reset.rawValue)\""
            s += ", \"refractory\": \(l.refractory), \"bias\": \(num(l.bias)), \"compare\": \"\(l.compare.rawValue)\""
            if let b = l.neuronBias { s += ", \"neuron_bias\": [" + b.map(num).joined(separator: ", ") + "]" }
            if let y = l.synapse {
                s += ", \"synapse\": {\"decay\": \(num(y.decay)), \"bias\": \(num(y.bias))"
                if let b = y.neuronBias { s += ", \"neuron_bias\": [" + b.map(num).joined(separator: ", ") + "]" }
                s += "}"
            }
            if !l.spiking { s += ", \"spiking\": false" }
        }
        if let m = p.model {
            for k in m.keys {
                if let v = m.scalars[k] { s += ", \(str(k)): \(num(v))" }
                if let v = m.perNeuron[k] { s += ", \(str(k)): [" + v.map(num).joined(separator: ", ") + "]" }
                if let v = m.words[k] { s += ", \(str(k)): \(str(v))" }
            }
        }
        return s + "}"
    }

    static func matrix(_ v: [Double], cols: Int, indent: String) -> String {
        guard cols > 0, !v.isEmpty else { return "[]" }
        let rows = stride(from: 0, to: v.count, by: cols).map { "[" + v[$0..<min($0 + cols, v.count)].map(num).joined(separator: ", ") + "]" }
        return "[\n" + rows.map { indent + "  " + $0 }.joined(separator: ",\n") + "\n" + indent + "]"
    }

    static func projection(_ p: Projection, _ g: Graph) -> String {
        var s = "{\"name\": \(str(p.name)), \"from\": \(str(p.from)), \"to\": \(str(p.to)), \"delay\": \(p.delay), \"weights\": "
        switch p.weights {
        case let .dense(v):
            s += "{\"kind\": \"dense\", \"values\": " + matrix(v, cols: g.population(named: p.to)?.size ?? 1, indent: "      ") + "}"
        case let .sparse(es):
            s += "{\"kind\": \"sparse\", \"entries\": [" + es.map { "[\($0.pre), \($0.post), \(num($0.weight))]" }.joined(separator: ", ") + "]}"
        case let .random(r):
            s += "{\"kind\": \"random\", \"distribution\": \"\(r.distribution.rawValue)\", "
            s += r.distribution == .normal ? "\"mean\": \(num(r.a)), \"std\": \(num(r.b)), " : "\"low\": \(num(r.a)), \"high\": \(num(r.b)), "
            s += "\"gain\": \(num(r.gain)), " + (r.fanout.map { "\"fanout\": \($0)" } ?? "\"density\": \(num(r.density))")
            s += ", \"seed\": \(r.seed), \"no_self\": \(r.noSelf)}"
        case let .spatial(sp):
            let k = ["ee", "ei", "ie", "ii"]
            s += "{\"kind\": \"spatial\", \"grid\": [\(sp.grid.map(String.init).joined(separator: ", "))], \"lambda\": \(num(sp.lambda)), "
            s += "\"c\": {" + zip(k, sp.c).map { "\"\($0)\": \(num($1))" }.joined(separator: ", ") + "}, "
            s += "\"w\": {" + zip(k, sp.w).map { "\"\($0)\": \(num($1))" }.joined(separator: ", ") + "}, "
            s += "\"inhibitory_fraction\": \(num(sp.inhibitoryFraction)), \"gain\": \(num(sp.gain)), \"seed\": \(sp.seed)}"
        }
        if let r = p.plasticity { s += ", \"plasticity\": " + r.json }
        return s + "}"
    }
}
