import XbarCore

/// One part of an op's text after `%result = MNEMONIC`, in order (docs/ir.md, "Ops").
public enum OpPart: Sendable {
    /// A literal word.
    case keyword(String)
    /// `%name`: a value operand.
    case value(String)
    /// `%name %name ...` up to the `:`: operands.
    case values(String)
    /// `%name`: an array.
    case array(String)
    /// `@name`: a neuron population.
    case population(String)
    /// An integer in a range.
    case int(String, min: Int64, max: Int64)
    /// A finite real (printed as the shortest text that reads back).
    case real(String)
    case rounding(String)
    case overflow(String)
    /// The bracketed row-source list of a read.
    case rowSources(String)
    /// One word of a fixed set.
    case word(String, [String])
    /// `%name` or `none`: an optional operand.
    case optionalValue(String)
    /// `[@S@D*W, ...]`: weighted spike-count sources of a modulator.
    case weightedSources(String)
    /// `[n, n, ...]`: a list of integers in a range.
    case intList(String, min: Int64, max: Int64)
    /// `all` or `[i:j/j/..., ...]`: the synapses of a learning op.
    case synapses(String)
}

/// The value of one non-keyword part.
public enum OpField: Equatable, Sendable {
    case name(String)
    case names([String])
    case int(Int64)
    case real(Double)
    case rounding(Rounding)
    case overflow(Overflow)
    case rows([RowSource])
    case word(String)
    case optionalName(String?)
    case weighted([ModulatorSource])
    case ints([Int64])
    case mask(SynapseMask?)
}

/// An op defined once (in the spirit of MLIR's op definitions): its mnemonic, its text parts, and the two maps between
/// its `OpKind` and its field values. `IRPrinter`, `IRParser` and `IRVerifier` (integer ranges) all read it.
public struct OpDefinition: Sendable {
    public let mnemonic: String
    public let parts: [OpPart]
    /// The fields of `kind`, one per non-keyword part, in order.
    public let fields: @Sendable (OpKind) -> [OpField]
    /// The op from its fields.
    public let make: @Sendable ([OpField]) -> OpKind

    /// Every op of the IR; a registered neuron model's update op is `population` `value` under the model's keyword.
    public static func definition(_ mnemonic: String) -> OpDefinition? {
        if let d = builtIn[mnemonic] { return d }
        guard NeuronModels.model(mnemonic) != nil else { return nil }
        return OpDefinition(mnemonic: mnemonic, parts: [.population("population"), .value("input")],
                            fields: { if case let .neuron(_, p, i) = $0 { return [.name(p), .name(i)] } else { return [] } },
                            make: { f in .neuron(model: mnemonic, population: f[0].name, input: f[1].name) })
    }

    /// The definition of `kind`'s op.
    public static func of(_ kind: OpKind) -> OpDefinition { definition(kind.mnemonic)! }

    static let builtIn: [String: OpDefinition] = Dictionary(uniqueKeysWithValues: [
        OpDefinition(mnemonic: "read", parts: [
            .array("array"), .keyword("cols"), .int("cols", min: 0, max: 1 << 16), .keyword("rows"), .rowSources("row sources"),
            .keyword("cells_per_weight"), .int("cells_per_weight", min: 1, max: 64), .keyword("vread_mv"), .real("vread_mv"),
            .keyword("tread_ns"), .real("tread_ns"),
        ], fields: {
            guard case let .read(a, rows, c0, k, v, t) = $0 else { return [] }
            return [.name(a), .int(Int64(c0)), .rows(rows), .int(Int64(k)), .real(v), .real(t)]
        }, make: { f in
            .read(array: f[0].name, rows: f[2].rows, colStart: Int(f[1].int), cellsPerWeight: Int(f[3].int), vReadMV: f[4].real,
                  tReadNS: f[5].real)
        }),
        OpDefinition(mnemonic: "adc", parts: [
            .value("operand"), .keyword("bits"), .int("bits", min: 1, max: 32), .keyword("lsb"), .int("lsb", min: 1, max: Int64(1) << 40),
            .keyword("offset"), .int("offset", min: -(Int64(1) << 40), max: Int64(1) << 40), .rounding("rounding"),
        ], fields: {
            guard case let .adc(o, bits, lsb, off, r) = $0 else { return [] }
            return [.name(o), .int(Int64(bits)), .int(lsb), .int(off), .rounding(r)]
        }, make: { f in .adc(operand: f[0].name, bits: Int(f[1].int), lsb: f[2].int, offset: f[3].int, rounding: f[4].roundingValue) }),
        OpDefinition(mnemonic: "slice", parts: [
            .value("operand"), .keyword("start"), .int("start", min: 0, max: Int64(IRParser.maxLength)), .keyword("stride"),
            .int("stride", min: 1, max: Int64(IRParser.maxLength)),
        ], fields: {
            guard case let .slice(o, s, st) = $0 else { return [] }
            return [.name(o), .int(Int64(s)), .int(Int64(st))]
        }, make: { f in .slice(operand: f[0].name, start: Int(f[1].int), stride: Int(f[2].int)) }),
        OpDefinition(mnemonic: "concat", parts: [.values("operand")], fields: {
            guard case let .concat(os) = $0 else { return [] }
            return [.names(os)]
        }, make: { f in .concat(operands: f[0].names) }),
        OpDefinition(mnemonic: "add", parts: [.value("operand a"), .value("operand b"), .overflow("overflow")], fields: {
            guard case let .add(a, b, o) = $0 else { return [] }
            return [.name(a), .name(b), .overflow(o)]
        }, make: { f in .add(a: f[0].name, b: f[1].name, overflow: f[2].overflowValue) }),
        OpDefinition(mnemonic: "sub", parts: [.value("operand a"), .value("operand b"), .overflow("overflow")], fields: {
            guard case let .sub(a, b, o) = $0 else { return [] }
            return [.name(a), .name(b), .overflow(o)]
        }, make: { f in .sub(a: f[0].name, b: f[1].name, overflow: f[2].overflowValue) }),
        OpDefinition(mnemonic: "scale", parts: [
            .value("operand"), .keyword("mul"), .int("mul", min: -(Int64(1) << 31), max: Int64(1) << 31), .keyword("shr"),
            .int("shr", min: 0, max: 48), .rounding("rounding"), .overflow("overflow"),
        ], fields: {
            guard case let .scale(o, m, s, r, ov) = $0 else { return [] }
            return [.name(o), .int(m), .int(Int64(s)), .rounding(r), .overflow(ov)]
        }, make: { f in
            .scale(operand: f[0].name, mul: f[1].int, shift: Int(f[2].int), rounding: f[3].roundingValue, overflow: f[4].overflowValue)
        }),
        OpDefinition(mnemonic: "lif", parts: [.population("population"), .value("input")], fields: {
            guard case let .lif(p, i) = $0 else { return [] }
            return [.name(p), .name(i)]
        }, make: { f in .lif(population: f[0].name, input: f[1].name) }),
        trace, stdp, modulator, homeostasis,
    ].map { ($0.mnemonic, $0) })

    /// Mnemonics of every op, built in first.
    public static var mnemonics: [String] {
        ["read", "adc", "slice", "concat", "add", "sub", "scale", "trace", "stdp", "modulator", "homeostasis"] + NeuronModels.keywords
    }

    /// Ops that exist from version 3 on.
    public static let plasticity: Set<String> = ["trace", "stdp", "modulator", "homeostasis"]

    /// The parts every cell-writing op ends with: clip range, schedule, pulse count limits and the ideal pulse.
    static let writeParts: [OpPart] = [
        .keyword("clip"), .int("clip low", min: -(Int64(1) << 31), max: 0), .int("clip high", min: 0, max: Int64(1) << 31),
        .keyword("every"), .int("every", min: 0, max: Int64(IRParser.maxLength)), .keyword("pulse_shift"),
        .int("pulse_shift", min: 0, max: 40), .keyword("max_pulses"), .int("max_pulses", min: 1, max: 65535),
        .keyword("pulse"), .int("pulse", min: 1, max: Int64(1) << 30), .keyword("range"),
        .int("range low", min: 0, max: Int64(Int32.max)), .int("range high", min: 0, max: Int64(Int32.max)),
        .keyword("write"), .word("write", PulseTrain.Write.allCases.map(\.rawValue)),
    ]

    /// The fields of `writeParts`.
    static func writeFields(_ t: PulseTrain, every: Int, pulseShift: Int, maxPulses: Int) -> [OpField] {
        [.int(t.clipLow), .int(t.clipHigh), .int(Int64(every)), .int(Int64(pulseShift)), .int(Int64(maxPulses)), .int(t.pulseCodes),
         .int(t.cellLow), .int(t.cellHigh), .word(t.write.rawValue)]
    }

    static let homeostasis = OpDefinition(mnemonic: "homeostasis", parts: [
        .array("array"), .keyword("rows"), .rowSources("row source"), .keyword("cols"), .int("cols", min: 0, max: 1 << 16),
        .keyword("rate"), .value("rate"), .keyword("start"), .int("start", min: 0, max: Int64(IRParser.maxLength)),
        .keyword("targets"), .intList("targets", min: 0, max: Int64(1) << 31), .keyword("eta"), .int("eta", min: 0, max: Int64(1) << 31),
        .keyword("shr"), .int("shr", min: 0, max: 48), .keyword("bound"), .word("bound", STDPBound.allCases.map(\.rawValue)),
        .keyword("synapses"), .synapses("synapses"),
    ] + writeParts, fields: {
        guard case let .homeostasis(h) = $0 else { return [] }
        let t = h.train
        return [.name(h.array), .rows([h.row]), .int(Int64(h.colStart)), .name(h.rate), .int(Int64(h.postStart)), .ints(h.targets),
                .int(h.eta), .int(Int64(h.shift)), .word(t.bound.rawValue), .mask(h.synapses)]
            + writeFields(t, every: h.every, pulseShift: h.pulseShift, maxPulses: h.maxPulses)
    }, make: { f in
        let rows = f[1].rows
        let train = PulseTrain(bound: STDPBound(rawValue: f[8].wordValue) ?? .additive, clipLow: f[10].int, clipHigh: f[11].int,
                               pulseCodes: f[15].int, cellLow: f[16].int, cellHigh: f[17].int)
        var h = HomeostasisRule(
            array: f[0].name, row: rows.count == 1 ? rows[0] : RowSource(rowStart: 0, source: "", srcStart: 0, count: 0, delay: 0),  // refused
            colStart: Int(f[2].int), rate: f[3].name, postStart: Int(f[4].int), targets: f[5].intsValue, eta: f[6].int,
            shift: Int(f[7].int), every: Int(f[12].int), pulseShift: Int(f[13].int), maxPulses: Int(f[14].int), train: train)
        h.synapses = f[9].maskValue
        h.train.write = PulseTrain.Write(rawValue: f[18].wordValue) ?? .verify
        return .homeostasis(h)
    })

    static let modulator = OpDefinition(mnemonic: "modulator", parts: [
        .keyword("sources"), .weightedSources("sources"), .keyword("bias"), .int("bias", min: -(Int64(1) << 40), max: Int64(1) << 40),
        .keyword("init"), .int("init", min: -(Int64(1) << 40), max: Int64(1) << 40), .keyword("decay"),
        .int("decay", min: 0, max: Int64(1) << 30), .keyword("shr"), .int("shr", min: 0, max: 30), .rounding("rounding"),
    ], fields: {
        guard case let .modulator(m) = $0 else { return [] }
        return [.weighted(m.sources), .int(m.bias), .int(m.initial), .int(m.decayMul), .int(Int64(m.decayShift)), .rounding(m.rounding)]
    }, make: { f in
        .modulator(ModulatorSpec(sources: f[0].weightedValue, bias: f[1].int, initial: f[2].int, decayMul: f[3].int,
                                 decayShift: Int(f[4].int), rounding: f[5].roundingValue))
    })

    static let trace = OpDefinition(mnemonic: "trace", parts: [
        .population("source"), .keyword("delay"), .int("delay", min: 0, max: Int64(maxRowSourceDelay)), .keyword("decay"),
        .int("decay", min: 0, max: Int64(1) << 30), .keyword("shr"), .int("shr", min: 0, max: 30), .rounding("rounding"),
        .keyword("add"), .int("add", min: 0, max: Int64(1) << 31),
    ], fields: {
        guard case let .trace(s, d, m, sh, r, inc) = $0 else { return [] }
        return [.name(s), .int(Int64(d)), .int(m), .int(Int64(sh)), .rounding(r), .int(inc)]
    }, make: { f in
        .trace(source: f[0].name, delay: Int(f[1].int), decayMul: f[2].int, decayShift: Int(f[3].int), rounding: f[4].roundingValue,
               increment: f[5].int)
    })

    static let stdp = OpDefinition(mnemonic: "stdp", parts: [
        .array("array"), .keyword("rows"), .rowSources("row source"), .keyword("cols"), .int("cols", min: 0, max: 1 << 16),
        .keyword("post"), .value("post"), .keyword("start"), .int("start", min: 0, max: Int64(IRParser.maxLength)),
        .keyword("pre_trace"), .value("pre_trace"), .keyword("post_trace"), .value("post_trace"),
        .keyword("a_plus"), .int("a_plus", min: -(Int64(1) << 31), max: Int64(1) << 31), .keyword("a_minus"),
        .int("a_minus", min: -(Int64(1) << 31), max: Int64(1) << 31),
        .keyword("shr"), .int("shr", min: 0, max: 48), .keyword("bound"), .word("bound", STDPBound.allCases.map(\.rawValue)),
        .keyword("same_step"), .word("same_step", STDPSameStep.allCases.map(\.rawValue)),
        .keyword("edecay"), .int("edecay", min: 0, max: Int64(1) << 30), .keyword("eshr"), .int("eshr", min: 0, max: 30),
        .keyword("modulator"), .optionalValue("modulator"), .keyword("mode"), .word("mode", STDPModulation.allCases.map(\.rawValue)),
        .keyword("mshr"), .int("mshr", min: 0, max: 48), .keyword("gate"), .optionalValue("gate"),
        .keyword("synapses"), .synapses("synapses"),
    ] + writeParts, fields: {
        guard case let .stdp(r) = $0 else { return [] }
        return [.name(r.array), .rows([r.row]), .int(Int64(r.colStart)), .name(r.post), .int(Int64(r.postStart)), .name(r.preTrace),
                .name(r.postTrace), .int(r.aPlus), .int(r.aMinus), .int(Int64(r.shift)), .word(r.bound.rawValue), .word(r.sameStep.rawValue),
                .int(r.eligibilityDecay), .int(Int64(r.eligibilityShift)), .optionalName(r.modulator), .word(r.modulation.rawValue),
                .int(Int64(r.modulatorShift)), .optionalName(r.gate), .mask(r.synapses)]
            + writeFields(r.train, every: r.every, pulseShift: r.pulseShift, maxPulses: r.maxPulses)
    }, make: { f in
        let rows = f[1].rows
        var r = STDPRule(array: f[0].name, row: rows.count == 1 ? rows[0] : RowSource(rowStart: 0, source: "", srcStart: 0, count: 0, delay: 0),  // refused
                         colStart: Int(f[2].int), post: f[3].name, postStart: Int(f[4].int), preTrace: f[5].name,
                         postTrace: f[6].name, aPlus: f[7].int, aMinus: f[8].int, shift: Int(f[9].int),
                         bound: STDPBound(rawValue: f[10].wordValue) ?? .additive, clipLow: f[19].int, clipHigh: f[20].int,
                         every: Int(f[21].int), pulseShift: Int(f[22].int), maxPulses: Int(f[23].int), pulseCodes: f[24].int,
                         cellLow: f[25].int, cellHigh: f[26].int)
        r.synapses = f[18].maskValue
        r.sameStep = STDPSameStep(rawValue: f[11].wordValue) ?? .include
        r.write = PulseTrain.Write(rawValue: f[27].wordValue) ?? .verify
        r.eligibilityDecay = f[12].int
        r.eligibilityShift = Int(f[13].int)
        r.modulator = f[14].optionalNameValue
        r.modulation = STDPModulation(rawValue: f[15].wordValue) ?? .aMinus
        r.modulatorShift = Int(f[16].int)
        r.gate = f[17].optionalNameValue
        return .stdp(r)
    })
}

extension OpField {
    var name: String { if case let .name(n) = self { return n }; return "" }
    var names: [String] { if case let .names(n) = self { return n }; return [] }
    var int: Int64 { if case let .int(v) = self { return v }; return 0 }
    var real: Double { if case let .real(v) = self { return v }; return 0 }
    var roundingValue: Rounding { if case let .rounding(r) = self { return r }; return .floor }
    var overflowValue: Overflow { if case let .overflow(o) = self { return o }; return .sat }
    var rows: [RowSource] { if case let .rows(r) = self { return r }; return [] }
    var wordValue: String { if case let .word(w) = self { return w }; return "" }
    var optionalNameValue: String? { if case let .optionalName(n) = self { return n }; return nil }
    var weightedValue: [ModulatorSource] { if case let .weighted(w) = self { return w }; return [] }
    var intsValue: [Int64] { if case let .ints(v) = self { return v }; return [] }
    var maskValue: SynapseMask? { if case let .mask(m) = self { return m }; return nil }
}
