import XbarCore

extension IRParser {
    /// A `neuron` line with its optional clauses (`nonspiking`, `synapse ...`, `biases` and the block of per-neuron
    /// bias lines it opens, closed by `end`); grammar in docs/ir.md, "Program text".
    mutating func neuron(_ l: (line: Int, tokens: [Substring])) throws -> NeuronDecl {
        var c = cursor(l)
        _ = try c.next("neuron")
        let name = try c.name("@", "neuron name")
        let size = try c.count("neuron size", max: IRParser.maxLength)
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
