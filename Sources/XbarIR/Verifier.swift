import XbarCore

/// Checks a program against the static rules of docs/ir.md (names, shapes, types, bounds that keep every native
/// intermediate inside 62 bits). Errors name the file and the declaration or op.
public enum IRVerifier {
    static let bound: Int64 = Int64(1) << 62

    /// `codes: false` skips the per-cell check that every code fits its array's type (the compiler's pass manager
    /// checks cells once, after the pass that writes them); `step: false` skips the step block (the pass manager, after
    /// a pass that leaves a verified step block as it was).
    public static func verify(_ p: Program, file: String = "<ir>", codes: Bool = true, step: Bool = true) throws {
        func fail(_ field: String, _ msg: String) -> XbarError { XbarError(file: file, field: field, msg) }
        guard p.version >= 1 && p.version <= irVersion else { throw fail("version", "expected 1...\(irVersion), found \(p.version)") }
        guard p.version >= p.requiredVersion else {
            let why = p.requiredVersion == 3 ? "plasticity ops and realised arrays need version 3"
                : "version \(p.version) has only lif populations; a registered neuron model needs version 2"
            throw fail("version", why)
        }
        guard p.timesteps >= 1 else { throw fail("timesteps", "expected >= 1, found \(p.timesteps)") }
        try verifyPopulations(p, file: file)
        try verifyArrays(p, codes: codes, file: file)
        try verifyReadouts(p, file: file)
        if step { try verifyStep(p, file: file) }
    }

    /// Inputs and neuron populations: unique names, sizes, each lif population's parameter bounds or its model's rules.
    static func verifyPopulations(_ p: Program, file: String) throws {
        func fail(_ field: String, _ msg: String) -> XbarError { XbarError(file: file, field: field, msg) }
        var popNames = Set<String>()
        for i in p.inputs {
            guard popNames.insert(i.name).inserted else { throw fail("input @\(i.name)", "name declared twice") }
            guard i.size >= 1 else { throw fail("input @\(i.name)", "size must be >= 1") }
        }
        for n in p.neurons {
            let f = "neuron @\(n.name)"
            guard popNames.insert(n.name).inserted else { throw fail(f, "name declared twice") }
            guard n.size >= 1 else { throw fail(f, "size must be >= 1") }
            if let m = n.model {
                try verifyModel(n, m, file: file)
                continue
            }
            guard n.memType.signed, n.memType.bits <= 40 else { throw fail(f, "mem type must be signed, at most 40 bits") }
            guard n.memType.contains(n.threshold) else { throw fail(f, "threshold \(n.threshold) does not fit \(n.memType)") }
            guard n.memType.contains(n.bias) else { throw fail(f, "bias \(n.bias) does not fit \(n.memType)") }
            guard n.decayMul >= 0, n.decayMul <= (Int64(1) << n.decayShift) else {
                throw fail(f, "decay multiplier must be in 0...2^shift (\(Int64(1) << n.decayShift)), found \(n.decayMul)")
            }
            guard n.decayShift <= 20 else { throw fail(f, "decay shift must be <= 20") }
            guard !n.refractoryType.signed, Int64(n.refractory) <= n.refractoryType.max else {
                throw fail(f, "refractory \(n.refractory) does not fit unsigned \(n.refractoryType)")
            }
            guard !n.countType.signed, n.countType.bits <= 31 else { throw fail(f, "count type must be unsigned, <= 31 bits") }
            try verifyBiases(n, file: file)
            if let y = n.synapse { try verifySynapse(y, of: n, file: file) }
        }
    }

    /// Arrays: unique names and placements, shapes, code types and (with `codes`) every code.
    static func verifyArrays(_ p: Program, codes: Bool, file: String) throws {
        func fail(_ field: String, _ msg: String) -> XbarError { XbarError(file: file, field: field, msg) }
        var arrayNames = Set<String>()
        var places = Set<[Int]>()
        for a in p.arrays {
            let f = "array %\(a.name)"
            guard arrayNames.insert(a.name).inserted else { throw fail(f, "name declared twice") }
            guard places.insert([a.macro, a.index]).inserted else {
                throw fail(f, "macro \(a.macro) index \(a.index) already holds another array")
            }
            guard a.rows >= 1, a.cols >= 1, a.codes.count == a.rows * a.cols else {
                throw fail(f, "expected \(a.rows)x\(a.cols) codes, found \(a.codes.count)")
            }
            guard !a.codeType.signed, a.codeType.bits <= 31 else { throw fail(f, "code type must be unsigned, <= 31 bits") }
            guard a.gUnitNS > 0 else { throw fail(f, "gunit_ns must be > 0") }
            // The range first (O(listed cells) for a sparse store); the offending cell only on failure.
            if codes, let r = a.codes.range, r.lowerBound < 0 || Int64(r.upperBound) > a.codeType.max,
               let bad = a.codes.firstIndex(where: { $0 < 0 || Int64($0) > a.codeType.max }) {
                throw fail(f, "code at row \(bad / a.cols) col \(bad % a.cols) does not fit \(a.codeType)")
            }
        }
    }

    /// Readouts: a spiking source, shapes, weight and bias types, the accumulator bound.
    static func verifyReadouts(_ p: Program, file: String) throws {
        func fail(_ field: String, _ msg: String) -> XbarError { XbarError(file: file, field: field, msg) }
        var readoutNames = Set<String>()
        for r in p.readouts {
            let f = "readout @\(r.name)"
            guard readoutNames.insert(r.name).inserted else { throw fail(f, "name declared twice") }
            guard let src = p.neuron(named: r.source) else { throw fail(f, "source @\(r.source) is not a neuron population") }
            guard src.spiking else {
                throw fail(f, "source @\(r.source) is non-spiking; a readout accumulates spike counts")
            }
            guard r.classes >= 1 else { throw fail(f, "classes must be >= 1") }
            guard r.weights.count == r.classes * src.size else {
                throw fail(f, "expected \(r.classes)x\(src.size) weights, found \(r.weights.count)")
            }
            guard r.bias.count == r.classes else { throw fail(f, "expected \(r.classes) biases, found \(r.bias.count)") }
            guard r.weightType.signed, r.weightType.bits <= 16 else { throw fail(f, "weight type must be signed, <= 16 bits") }
            guard r.accType.signed, r.accType.bits <= 48 else { throw fail(f, "acc type must be signed, <= 48 bits") }
            if let bad = r.weights.firstIndex(where: { !r.weightType.contains(Int64($0)) }) {
                throw fail(f, "weight [\(bad / src.size)][\(bad % src.size)] = \(r.weights[bad]) does not fit \(r.weightType)")
            }
            let worst = Double(1 << (r.weightType.bits - 1)) * Double(src.countType.max) * Double(src.size)
            guard worst < Double(Int64(1) << 61) else { throw fail(f, "weights x counts x \(src.size) could exceed 2^61") }
            if let bad = r.bias.firstIndex(where: { !r.accType.contains(Int64($0)) }) {
                throw fail(f, "bias [\(bad)] does not fit \(r.accType)")
            }
        }

    }

    /// The step block in order: operands defined before use, each op's rules (`verifyOp`), every population updated once.
    static func verifyStep(_ p: Program, file: String) throws {
        func fail(_ field: String, _ msg: String) -> XbarError { XbarError(file: file, field: field, msg) }
        // Ops: value ranges are tracked as the min/max of each result's type.
        var values: [String: Int] = [:]  // result name -> its op's index in the step
        values.reserveCapacity(p.step.count)
        var updated = Set<String>()
        let arrays = Dictionary(p.arrays.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { a, _ in a })
        for (k, op) in p.step.enumerated() {
            let f = "step op \(k) (%\(op.result))"
            guard values[op.result] == nil, !op.result.isEmpty else { throw fail(f, "result name defined twice") }
            guard op.length >= 1 else { throw fail(f, "length must be >= 1") }
            guard op.type.bits <= 48 || op.type == .u(1) else { throw fail(f, "result type \(op.type) wider than 48 bits") }
            var ins: [Op] = []
            for o in op.kind.operands {
                guard let v = values[o] else { throw fail(f, "operand %\(o) is not defined before this op") }
                ins.append(p.step[v])
            }
            try verifyOp(op, ins, updated: &updated, p, arrays: arrays, field: f, file: file)
            values[op.result] = k
        }
        for n in p.neurons where !updated.contains(n.name) {
            throw fail("neuron @\(n.name)", "never updated: no lif op in the step block")
        }
        try verifyLearningOrder(p, file: file)
    }

    /// One op's rules of docs/ir.md (operand kinds, lengths, types, bounds), then its definition's integer ranges.
    /// `arrays` maps each array's name to its index in `p.arrays`.
    static func verifyOp(_ op: Op, _ ins: [Op], updated: inout Set<String>, _ p: Program, arrays: [String: Int], field f: String,
                         file: String) throws {
        func fail(_ field: String, _ msg: String) -> XbarError { XbarError(file: file, field: field, msg) }
        switch op.kind {
        case let .read(arrayName, rows, colStart, k, v, t):
            try verifyRead(op, array: arrayName, rows: rows, colStart: colStart, cellsPerWeight: k, vReadMV: v, tReadNS: t,
                           updated: updated, p, array: arrays[arrayName].map { p.arrays[$0] }, field: f, file: file)
        case let .adc(_, bits, lsb, offset, _):
            guard case .read = ins[0].kind else { throw fail(f, "adc operand must be a read result") }
            guard op.type == .u(bits) else { throw fail(f, "adc result type must be u\(bits)") }
            guard op.length == ins[0].length else { throw fail(f, "length must equal operand's \(ins[0].length)") }
            guard lsb >= 1, lsb <= Int64(1) << 40, abs(offset) <= Int64(1) << 40 else {
                throw fail(f, "lsb must be in 1...2^40 and |offset| <= 2^40")
            }
        case let .slice(_, start, stride):
            guard start + (op.length - 1) * stride < ins[0].length else {
                throw fail(f, "slice start \(start) stride \(stride) x \(op.length) exceeds operand length \(ins[0].length)")
            }
            guard op.type == ins[0].type else { throw fail(f, "slice type must equal operand type \(ins[0].type)") }
        case .concat:
            guard ins.reduce(0, { $0 + $1.length }) == op.length else {
                throw fail(f, "length must be the sum of operand lengths \(ins.reduce(0) { $0 + $1.length })")
            }
            for i in ins where !(op.type.contains(i.type.min) && op.type.contains(i.type.max)) {
                throw fail(f, "type \(op.type) cannot hold operand %\(i.result) of type \(i.type)")
            }
        case .add, .sub:
            guard ins[0].length == op.length, ins[1].length == op.length else {
                throw fail(f, "operand lengths \(ins[0].length), \(ins[1].length) must equal \(op.length)")
            }
        case let .scale(_, mul, shift, _, _):
            guard ins[0].length == op.length else { throw fail(f, "length must equal operand's \(ins[0].length)") }
            let m = max(abs(ins[0].type.min), abs(ins[0].type.max))
            guard m.multipliedReportingOverflow(by: abs(mul)).partialValue < bound,
                  !m.multipliedReportingOverflow(by: abs(mul)).overflow else {
                throw fail(f, "operand range x mul \(mul) exceeds 2^62")
            }
            guard shift >= 0, shift <= 48, abs(mul) <= Int64(1) << 31 else {
                throw fail(f, "shr must be in 0...48 and |mul| <= 2^31")
            }
        case let .lif(pop, _), let .neuron(_, pop, _):
            guard let n = p.neuron(named: pop) else { throw fail(f, "population @\(pop) is not a neuron population") }
            guard op.kind.mnemonic == n.modelKeyword else {
                throw fail(f, "population @\(pop) is a \(n.modelKeyword) population; its update op is '\(n.modelKeyword)'")
            }
            guard updated.insert(pop).inserted else { throw fail(f, "population @\(pop) updated twice in one step") }
            guard ins[0].length == n.size, op.length == n.size else {
                throw fail(f, "input and result length must equal population size \(n.size)")
            }
            guard op.type == .u(1) else { throw fail(f, "lif result type must be u1") }
            guard ins[0].type.signed || ins[0].type.bits <= 40, ins[0].type.bits <= 41 else {
                throw fail(f, "lif input type \(ins[0].type) wider than 40 bits")
            }
        case let .trace(source, delay, mul, shift, _, inc):
            try verifyTrace(op, source: source, delay: delay, decayMul: mul, decayShift: shift, increment: inc, updated: updated, p,
                            field: f, file: file)
        case let .stdp(r):
            try verifySTDP(op, r, ins, p, field: f, file: file)
        case let .modulator(m):
            try verifyModulator(op, m, updated: updated, p, field: f, file: file)
        case let .homeostasis(h):
            try verifyHomeostasis(op, h, ins, p, field: f, file: file)
        }
        // The ranges of the op definition's integer fields (what the parser enforces on text).
        let def = OpDefinition.of(op.kind)
        let valueParts = def.parts.filter { if case .keyword = $0 { return false } else { return true } }
        for (part, field) in zip(valueParts, def.fields(op.kind)) {
            if case let .int(what, lo, hi) = part, case let .int(v) = field, v < lo || v > hi {
                throw fail(f, "\(what) \(v) out of range \(lo)...\(hi)")
            }
        }
    }

    /// A read: array and columns, row sources inside the array and their (spiking, already updated) sources, no row
    /// driven twice, and a result type that holds the worst case.
    static func verifyRead(_ op: Op, array arrayName: String, rows: [RowSource], colStart: Int, cellsPerWeight k: Int,
                           vReadMV v: Double, tReadNS t: Double, updated: Set<String>, _ p: Program, array: ArrayDecl?,
                           field f: String, file: String) throws {
        func fail(_ field: String, _ msg: String) -> XbarError { XbarError(file: file, field: field, msg) }
        guard let a = array else { throw fail(f, "array %\(arrayName) is not declared") }
        guard k >= 1, op.length % k == 0 else { throw fail(f, "length \(op.length) is not a multiple of cells_per_weight \(k)") }
        guard colStart + op.length <= a.cols else {
            throw fail(f, "columns \(colStart)..<\(colStart + op.length) exceed array's \(a.cols)")
        }
        guard v > 0, t > 0 else { throw fail(f, "vread_mv and tread_ns must be > 0") }
        var used = [Bool](repeating: false, count: a.rows)
        var driven = 0
        for rs in rows {
            guard rs.count >= 1, rs.rowStart + rs.count <= a.rows else {
                throw fail(f, "row source @\(rs.source) rows \(rs.rowStart)..<\(rs.rowStart + rs.count) exceed array's \(a.rows)")
            }
            let size: Int
            if let i = p.input(named: rs.source) { size = i.size }
            else if let n = p.neuron(named: rs.source) {
                size = n.size
                guard n.spiking else {
                    throw fail(f, "row source @\(n.name): population \(n.name) is non-spiking; crossbar rows take 1-bit spikes")
                }
                if rs.delay == 0 && !updated.contains(n.name) {
                    throw fail(f, "row source @\(n.name)@0 reads this step's spikes before its lif op")
                }
            } else { throw fail(f, "row source @\(rs.source) is not an input or neuron population") }
            guard rs.delay >= 0, rs.delay <= maxRowSourceDelay else {
                throw fail(f, "row source @\(rs.source): delay \(rs.delay) outside 0...\(maxRowSourceDelay)")
            }
            guard rs.srcStart + rs.count <= size else {
                throw fail(f, "row source @\(rs.source)[\(rs.srcStart):\(rs.count)] exceeds its size \(size)")
            }
            for r in rs.rowStart..<(rs.rowStart + rs.count) {
                guard !used[r] else { throw fail(f, "row \(r) is driven by two sources") }
                used[r] = true
            }
            driven += rs.count
        }
        let worst = Int64(driven) * a.codeType.max
        guard !op.type.signed, op.type.contains(worst) else {
            throw fail(f, "read result type must be unsigned and hold \(driven) rows x \(a.codeType.max) = \(worst)")
        }
    }

    /// Per-neuron membrane biases: one per neuron, and bias + neuronBias[i] fits the membrane type.
    static func verifyBiases(_ n: NeuronDecl, file: String) throws {
        let f = "neuron @\(n.name)"
        guard let nb = n.neuronBias else { return }
        guard nb.count == n.size else {
            throw XbarError(file: file, field: f, "expected \(n.size) per-neuron biases, found \(nb.count)")
        }
        if let i = nb.indices.first(where: { nb[$0].magnitude > UInt64(bound) || !n.memType.contains(n.bias + nb[$0]) }) {
            throw XbarError(file: file, field: f, "bias \(n.bias) + per-neuron bias[\(i)] \(nb[i]) does not fit \(n.memType)")
        }
    }

    /// The synapse state: a signed type of at most 40 bits, a decay multiplier in 0...2^shift (shift <= 20), and
    /// biases (the scalar, and its sum with each per-neuron bias) that fit the synapse type.
    static func verifySynapse(_ y: SynapseDecl, of n: NeuronDecl, file: String) throws {
        func fail(_ m: String) -> XbarError { XbarError(file: file, field: "neuron @\(n.name) synapse", m) }
        guard y.type.signed, y.type.bits <= 40 else { throw fail("type must be signed, at most 40 bits, found \(y.type)") }
        guard y.decayShift <= 20 else { throw fail("decay shift must be <= 20") }
        guard y.decayMul >= 0, y.decayMul <= (Int64(1) << y.decayShift) else {
            throw fail("decay multiplier must be in 0...2^shift (\(Int64(1) << y.decayShift)), found \(y.decayMul)")
        }
        guard y.type.contains(y.bias) else { throw fail("bias \(y.bias) does not fit \(y.type)") }
        guard let nb = y.neuronBias else { return }
        guard nb.count == n.size else { throw fail("expected \(n.size) per-neuron biases, found \(nb.count)") }
        if let i = nb.indices.first(where: { nb[$0].magnitude > UInt64(bound) || !y.type.contains(y.bias + nb[$0]) }) {
            throw fail("bias \(y.bias) + per-neuron bias[\(i)] \(nb[i]) does not fit \(y.type)")
        }
    }

    /// A registered model's population: every field and per-neuron line present, then the model's own rules.
    static func verifyModel(_ n: NeuronDecl, _ p: ModelParameters, file: String) throws {
        let f = "neuron @\(n.name)"
        guard let m = NeuronModels.model(p.model) else {
            throw XbarError(file: file, field: f, "unknown neuron model '\(p.model)' (expected \(NeuronModels.keywords.joined(separator: ", ")))")
        }
        for fd in m.fields {
            let present: Bool
            switch fd.kind {
            case let .signedType(lo, hi):
                present = p.types[fd.key].map { $0.signed && $0.bits >= lo && $0.bits <= hi } ?? false
            case let .integer(lo, hi): present = p.integers[fd.key].map { $0 >= lo && $0 <= hi } ?? false
            case .rounding: present = p.roundings[fd.key] != nil
            }
            guard present else { throw XbarError(file: file, field: f, "\(m.keyword) field '\(fd.key)' missing or out of range (\(fd.meaning))") }
        }
        for key in m.perNeuron where p.perNeuron[key]?.count != n.size {
            throw XbarError(file: file, field: f, "\(m.keyword) line '\(key):' must have \(n.size) values (one per neuron)")
        }
        guard !n.countType.signed, n.countType.bits <= 31 else { throw XbarError(file: file, field: f, "count type must be unsigned, <= 31 bits") }
        if let e = m.verify(p, size: n.size) { throw XbarError(file: file, field: f, e) }
    }
}
