import XbarCore

extension IRParser {
    /// A `neuron` line with its optional clauses (`nonspiking`, `synapse ...`, `biases` and the block of per-neuron
    /// bias lines it opens, closed by `end`); grammar in docs/ir.md, "Program text".
    mutating func neuron(_ l: (line: Int, tokens: [Substring])) throws -> NeuronDecl {
        var c = cursor(l)
        _ = try c.next("neuron")
        let name = try c.name("@", "neuron name")
        let size = try c.count("neuron size", max: IRParser.maxLength)
        if version >= 2, !c.atEnd, c.tokens[c.pos] != "mem" {
            let keyword = String(c.tokens[c.pos])
            if keyword != "lif" {
                guard let m = NeuronModels.model(keyword) else {
                    throw fail("neuron @\(name): unknown model '\(keyword)' (expected \(NeuronModels.keywords.joined(separator: ", ")))",
                               line: l.line)
                }
                c.pos += 1
                return try modelNeuron(m, name: name, size: size, &c, line: l.line)
            }
            c.pos += 1
        }
        try c.keyword("mem")
        let mt = try c.type("mem type")
        let mo = try c.enumValue(Overflow.self, "mem overflow")
        try c.keyword("decay")
        let dm = try c.int("decay multiplier")
        try c.keyword("shr")
        let ds = Int(try c.int("decay shift", min: 0, max: 62))
        let dr = try c.enumValue(Rounding.self, "decay rounding")
        try c.keyword("threshold")
        let th = try c.int("threshold")
        let cmp = try c.enumValue(Compare.self, "threshold compare")
        try c.keyword("reset")
        let rs = try c.enumValue(ResetMode.self, "reset")
        try c.keyword("refractory")
        let rf = try c.count("refractory", max: 1 << 30)
        let rt = try c.type("refractory counter type")
        try c.keyword("bias")
        let b = try c.int("bias")
        try c.keyword("count")
        let ct = try c.type("count type")
        var n = NeuronDecl(name: name, size: size, memType: mt, memOverflow: mo, decayMul: dm, decayShift: ds,
                           decayRounding: dr, threshold: th, compare: cmp, reset: rs, refractory: rf, bias: b,
                           refractoryType: rt, countType: ct)
        // Optional clauses, in this order: nonspiking, synapse ..., biases (then a block of per-neuron values).
        if !c.atEnd && c.tokens[c.pos] == "nonspiking" {
            c.pos += 1
            n.spiking = false
        }
        if !c.atEnd && c.tokens[c.pos] == "synapse" {
            c.pos += 1
            let st = try c.type("synapse type")
            let so = try c.enumValue(Overflow.self, "synapse overflow")
            try c.keyword("decay")
            let sm = try c.int("synapse decay multiplier")
            try c.keyword("shr")
            let ss = Int(try c.int("synapse decay shift", min: 0, max: 62))
            let sr = try c.enumValue(Rounding.self, "synapse decay rounding")
            try c.keyword("bias")
            let sb = try c.int("synapse bias")
            n.synapse = SynapseDecl(type: st, overflow: so, decayMul: sm, decayShift: ss, decayRounding: sr, bias: sb)
        }
        var block = false
        if !c.atEnd && c.tokens[c.pos] == "biases" {
            c.pos += 1
            block = true
        }
        if !c.atEnd {
            throw fail("unexpected '\(c.tokens[c.pos])' (expected nonspiking, synapse or biases at the end of the neuron line)",
                       line: l.line)
        }
        guard block else { return n }
        while true {
            guard let bl = nextLine() else { throw fail("neuron @\(name): expected 'end' after its biases") }
            if bl.tokens == ["end"] { break }
            var bc = cursor(bl)
            let tag = try bc.next("bias list")
            var values: [Int64] = []
            values.reserveCapacity(size)
            while !bc.atEnd { values.append(try bc.int("per-neuron bias")) }
            guard values.count == size else {
                throw fail("neuron @\(name): '\(tag)' has \(values.count) values, expected \(size) (one per neuron)", line: bl.line)
            }
            switch tag {
            case "bias:" where n.neuronBias == nil:
                n.neuronBias = values
            case "synapse_bias:" where n.synapse != nil && n.synapse?.neuronBias == nil:
                n.synapse!.neuronBias = values
            default:
                throw fail("neuron @\(name): expected 'bias:', 'synapse_bias:' (with a synapse clause) or 'end', found '\(tag)'",
                           line: bl.line)
            }
        }
        if n.neuronBias == nil && n.synapse?.neuronBias == nil {
            throw fail("neuron @\(name): 'biases' needs a 'bias:' or 'synapse_bias:' line", line: l.line)
        }
        return n
    }
}

extension IRParser {
    /// A model-qualified neuron line (version 2): the model's fields in order, `count uC`, then its per-neuron block
    /// closed by `end` (docs/ir.md, "Neuron models").
    mutating func modelNeuron(_ m: any NeuronModel.Type, name: String, size: Int, _ c: inout Cursor, line: Int) throws -> NeuronDecl {
        var p = ModelParameters(model: m.keyword)
        for f in m.fields {
            try c.keyword(f.key)
            switch f.kind {
            case let .signedType(lo, hi):
                let t = try c.type("\(f.key) type")
                guard t.signed, t.bits >= lo, t.bits <= hi else {
                    throw fail("neuron @\(name): \(f.key) must be a signed type of \(lo)...\(hi) bits, found \(t)", line: line)
                }
                p.types[f.key] = t
            case let .integer(lo, hi): p.integers[f.key] = try c.int(f.key, min: lo, max: hi)
            case .rounding: p.roundings[f.key] = try c.enumValue(Rounding.self, f.key)
            }
        }
        try c.keyword("count")
        let ct = try c.type("count type")
        try c.done()
        for key in m.perNeuron {
            guard let bl = nextLine() else { throw fail("neuron @\(name): expected '\(key):' line") }
            var bc = cursor(bl)
            let tag = try bc.next("\(key): line")
            guard tag == "\(key):" else { throw fail("neuron @\(name): expected '\(key):', found '\(tag)'", line: bl.line) }
            var values: [Int64] = []
            values.reserveCapacity(size)
            while !bc.atEnd { values.append(try bc.int(key)) }
            guard values.count == size else {
                throw fail("neuron @\(name): '\(key):' has \(values.count) values, expected \(size) (one per neuron)", line: bl.line)
            }
            p.perNeuron[key] = values
        }
        guard let end = nextLine(), end.tokens == ["end"] else { throw fail("neuron @\(name): expected 'end' after its per-neuron lines") }
        return NeuronDecl(name: name, size: size, model: p, countType: ct, membraneType: m.stateTypes(p)[0])
    }
}
