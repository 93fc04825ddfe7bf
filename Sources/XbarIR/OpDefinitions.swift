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
    ].map { ($0.mnemonic, $0) })

    /// Mnemonics of every op, built in first.
    public static var mnemonics: [String] { ["read", "adc", "slice", "concat", "add", "sub", "scale"] + NeuronModels.keywords }
}

extension OpField {
    var name: String { if case let .name(n) = self { return n }; return "" }
    var names: [String] { if case let .names(n) = self { return n }; return [] }
    var int: Int64 { if case let .int(v) = self { return v }; return 0 }
    var real: Double { if case let .real(v) = self { return v }; return 0 }
    var roundingValue: Rounding { if case let .rounding(r) = self { return r }; return .floor }
    var overflowValue: Overflow { if case let .overflow(o) = self { return o }; return .sat }
    var rows: [RowSource] { if case let .rows(r) = self { return r }; return [] }
}
