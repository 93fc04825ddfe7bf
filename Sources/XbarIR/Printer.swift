import XbarCore

/// Prints a program in the IR's text form (grammar in docs/ir.md). `IRParser.parse(print(p)) == p` always holds.
public enum IRPrinter {
    public static func print(_ p: Program) -> String {
        var out = ""
        out.reserveCapacity(64 + p.arrays.reduce(0) { $0 + $1.codes.count * 5 })
        out += "xbar-ir \(p.version)\n"
        out += "program \(quote(p.name)) target \(quote(p.target)) timesteps \(p.timesteps)\n\n"
        for i in p.inputs { out += "input @\(i.name) \(i.size)\n" }
        for n in p.neurons { out += neuronLine(n) + "\n" }
        out += "\n"
        for a in p.arrays { printArray(a, into: &out) }
        for r in p.readouts { printReadout(r, into: &out) }
        out += "step\n"
        for op in p.step { out += "  " + opLine(op) + "\n" }
        out += "end\n"
        return out
    }

    static func quote(_ s: String) -> String {
        var q = "\""
        for ch in s {
            switch ch {
            case "\"": q += "\\\""
            case "\\": q += "\\\\"
            case "\n": q += "\\n"
            default: q.append(ch)
            }
        }
        return q + "\""
    }

    /// The neuron line, plus its per-neuron bias block when the population has one.
    static func neuronLine(_ n: NeuronDecl) -> String {
        if let m = n.model { return modelNeuronLine(n, m) }
        var s = "neuron @\(n.name) \(n.size) mem \(n.memType) \(n.memOverflow.rawValue)"
            + " decay \(n.decayMul) shr \(n.decayShift) \(n.decayRounding.rawValue)"
            + " threshold \(n.threshold) \(n.compare.rawValue) reset \(n.reset.rawValue)"
            + " refractory \(n.refractory) \(n.refractoryType) bias \(n.bias) count \(n.countType)"
        if !n.spiking { s += " nonspiking" }
        if let y = n.synapse {
            s += " synapse \(y.type) \(y.overflow.rawValue) decay \(y.decayMul) shr \(y.decayShift) \(y.decayRounding.rawValue)"
                + " bias \(y.bias)"
        }
        let syn = n.synapse?.neuronBias
        if n.neuronBias != nil || syn != nil {
            s += " biases"
            if let b = n.neuronBias { s += "\n  bias:" + b.map { " \($0)" }.joined() }
            if let b = syn { s += "\n  synapse_bias:" + b.map { " \($0)" }.joined() }
            s += "\nend"
        }
        return s
    }

    /// A registered model's neuron line: its fields in the specification's order, then its per-neuron block.
    static func modelNeuronLine(_ n: NeuronDecl, _ p: ModelParameters) -> String {
        let m = NeuronModels.model(p.model)!
        var s = "neuron @\(n.name) \(n.size) \(p.model)"
        for f in m.fields {
            switch f.kind {
            case .signedType: s += " \(f.key) \(p.type(f.key))"
            case .integer: s += " \(f.key) \(p.int(f.key))"
            case .rounding: s += " \(f.key) \(p.rounding(f.key).rawValue)"
            }
        }
        s += " count \(n.countType)"
        for key in m.perNeuron { s += "\n  \(key):" + p.vector(key).map { " \($0)" }.joined() }
        return s + "\nend"
    }

    static func hexDigits(_ t: IntType) -> Int { (t.bits + 3) / 4 }

    static func hex(_ v: Int32, _ width: Int) -> String {
        let s = String(UInt32(bitPattern: v), radix: 16)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    static func printArray(_ a: ArrayDecl, into out: inout String) {
        out += "array %\(a.name) macro \(a.macro) index \(a.index) rows \(a.rows) cols \(a.cols)"
        out += " code \(a.codeType) gunit_ns \(a.gUnitNS) state \(a.realised ? "realised" : a.formed ? "formed" : "programmed")\n"
        let w = hexDigits(a.codeType)
        for r in 0..<a.rows {
            let base = r * a.cols
            let first = a.codes[base]
            var uniform = true
            for c in 1..<max(a.cols, 1) where a.codes[base + c] != first { uniform = false; break }
            if uniform {
                out += "  \(r): fill \(hex(first, w))\n"
            } else {
                out += "  \(r):"
                for c in 0..<a.cols { out += " " + hex(a.codes[base + c], w) }
                out += "\n"
            }
        }
        if let w = a.writes {
            for r in 0..<a.rows where (0..<a.cols).contains(where: { w[r * a.cols + $0] != 0 }) {
                out += "  writes \(r):" + (0..<a.cols).map { " \(w[r * a.cols + $0])" }.joined() + "\n"
            }
        }
        out += "end\n\n"
    }

    static func printReadout(_ r: ReadoutDecl, into out: inout String) {
        out += "readout @\(r.name) from @\(r.source) classes \(r.classes) weight \(r.weightType)"
        out += " acc \(r.accType) \(r.accOverflow.rawValue) scale \(r.scale)\n"
        let n = r.classes == 0 ? 0 : r.weights.count / r.classes
        for k in 0..<r.classes {
            out += "  w \(k):" + r.weights[(k * n)..<((k + 1) * n)].map { " \($0)" }.joined() + "\n"
        }
        out += "  bias:" + r.bias.map { " \($0)" }.joined() + "\n"
        out += "end\n\n"
    }

    /// One op line, without indentation: the op definition's parts (OpDefinitions.swift) in order.
    public static func opLine(_ op: Op) -> String {
        let def = OpDefinition.of(op.kind)
        var body = def.mnemonic
        var fields = def.fields(op.kind).makeIterator()
        for part in def.parts {
            if case let .keyword(k) = part { body += " " + k; continue }
            switch fields.next()! {
            case let .name(n):
                if case .population = part { body += " @" + n } else { body += " %" + n }
            case let .names(ns): body += " " + ns.map { "%\($0)" }.joined(separator: " ")
            case let .int(v): body += " \(v)"
            case let .real(v): body += " \(v)"
            case let .rounding(r): body += " " + r.rawValue
            case let .overflow(o): body += " " + o.rawValue
            case let .word(w): body += " " + w
            case let .optionalName(n): body += " " + (n.map { "%" + $0 } ?? "none")
            case let .ints(v): body += " [" + v.map(String.init).joined(separator: ", ") + "]"
            case let .mask(m):
                guard let m else { body += " all"; continue }
                body += " [" + m.rows.enumerated().filter { !$0.element.isEmpty }
                    .map { "\($0.offset):" + $0.element.map(String.init).joined(separator: "/") }.joined(separator: ", ") + "]"
            case let .weighted(ws): body += " [" + ws.map { "@\($0.source)@\($0.delay)*\($0.weight)" }.joined(separator: ", ") + "]"
            case let .rows(rows):
                body += " [" + rows.map { "\($0.rowStart):@\($0.source)[\($0.srcStart):\($0.count)]@\($0.delay)" }.joined(separator: ", ") + "]"
            }
        }
        return "%\(op.result) = \(body) : \(op.type)[\(op.length)]"
    }
}
