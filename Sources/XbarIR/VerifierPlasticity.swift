import XbarCore

/// The verifier rules of the plasticity ops (docs/ir.md, "Plasticity").
extension IRVerifier {
    /// A trace: a spiking source that is already updated when read at delay 0, an unsigned result of the source's
    /// size, a decay below 1 and an increment that fits.
    static func verifyTrace(_ op: Op, source: String, delay: Int, decayMul: Int64, decayShift: Int, increment: Int64,
                            updated: Set<String>, _ p: Program, field f: String, file: String) throws {
        func fail(_ msg: String) -> XbarError { XbarError(file: file, field: f, msg) }
        let size: Int
        if let i = p.input(named: source) { size = i.size }
        else if let n = p.neuron(named: source) {
            size = n.size
            guard n.spiking else { throw fail("trace source @\(source) is non-spiking") }
            guard delay > 0 || updated.contains(source) else { throw fail("trace of @\(source)@0 before its update op") }
        } else { throw fail("trace source @\(source) is not an input or neuron population") }
        guard op.length == size else { throw fail("length must equal the size of @\(source) (\(size))") }
        guard !op.type.signed, op.type.bits <= 32 else { throw fail("trace type must be unsigned, at most 32 bits") }
        guard decayShift <= 30, decayMul >= 0, decayMul < Int64(1) << decayShift else {
            throw fail("decay must be in 0..<2^shr (a trace decays), found \(decayMul) shr \(decayShift)")
        }
        guard increment >= 1, increment <= op.type.max else { throw fail("add \(increment) must be in 1...\(op.type.max)") }
    }

    /// What every cell-writing op must satisfy: an array of programmable cells, one row source inside it, NN synapse
    /// pairs inside its columns, a clip range containing 0, an ideal pulse range within the code type, a schedule within
    /// the sample and a synapse mask inside the block. Returns the array.
    static func verifyWrites(array name: String, row rs: RowSource, colStart: Int, neurons nn: Int, train t: PulseTrain, every: Int,
                             mask: SynapseMask?, _ p: Program, _ fail: (String) -> XbarError) throws -> ArrayDecl {
        guard let a = p.array(named: name) else { throw fail("array %\(name) is not declared") }
        guard !a.formed else { throw fail("array %\(name) holds formed cells: they cannot be written") }
        guard !rs.source.isEmpty else { throw fail("expected exactly one row source") }
        guard rs.count >= 1, rs.rowStart + rs.count <= a.rows else {
            throw fail("rows \(rs.rowStart)..<\(rs.rowStart + rs.count) exceed array's \(a.rows)")
        }
        guard p.input(named: rs.source) != nil || p.neuron(named: rs.source) != nil else {
            throw fail("row source @\(rs.source) is not an input or neuron population")
        }
        guard colStart + 2 * nn <= a.cols else { throw fail("columns \(colStart)..<\(colStart + 2 * nn) exceed array's \(a.cols)") }
        guard t.clipLow <= 0, t.clipHigh >= 0, t.clipLow < t.clipHigh else {
            throw fail("clip \(t.clipLow) \(t.clipHigh) must contain 0 and be non-empty")
        }
        guard t.cellLow < t.cellHigh, t.cellHigh <= a.codeType.max else {
            throw fail("range \(t.cellLow) \(t.cellHigh) must be non-empty and within the array's codes (\(a.codeType))")
        }
        guard every <= p.timesteps else { throw fail("every \(every) exceeds the \(p.timesteps) timesteps") }
        if t.write == .openLoop {
            guard t.clipLow == 0 || t.clipHigh == 0 else {
                throw fail("write open_loop needs a one-signed clip range ([0, HI] or [LO, 0]): without reads the cell is fixed")
            }
            guard t.bound == .additive else { throw fail("bound soft needs write verify (it reads the weight)") }
        }
        try verifyMask(mask, rows: rs.count, neurons: nn, fail)
        return a
    }

    /// An STDP op: its synapses inside the array (one differential pair each), its post operand an update op, its
    /// traces those of the pre source (same delay) and of the post population (delay 0), bounds that keep every
    /// product inside 62 bits, and a clip range that contains 0.
    static func verifySTDP(_ op: Op, _ r: STDPRule, _ ins: [Op], _ p: Program, field f: String, file: String) throws {
        func fail(_ msg: String) -> XbarError { XbarError(file: file, field: f, msg) }
        let rs = r.row
        guard rs.count >= 1, op.length % rs.count == 0 else { throw fail("length \(op.length) is not rows \(rs.count) x neurons") }
        let nn = op.length / rs.count
        _ = try verifyWrites(array: r.array, row: rs, colStart: r.colStart, neurons: nn, train: r.train, every: r.every,
                             mask: r.synapses, p, fail)
        guard let post = ins[0].kind.updatedPopulation, let pn = p.neuron(named: post) else {
            throw fail("post %\(r.post) must be a population's update op result")
        }
        guard r.postStart + nn <= pn.size else { throw fail("post neurons \(r.postStart)..<\(r.postStart + nn) exceed @\(post)'s \(pn.size)") }
        guard case let .trace(s1, d1, _, _, _, _) = ins[1].kind, s1 == rs.source, d1 == rs.delay else {
            throw fail("pre_trace %\(r.preTrace) must be a trace of @\(rs.source) with delay \(rs.delay)")
        }
        guard rs.srcStart + rs.count <= ins[1].length else {
            throw fail("row source @\(rs.source)[\(rs.srcStart):\(rs.count)] exceeds its size \(ins[1].length)")
        }
        guard case let .trace(s2, d2, _, _, _, _) = ins[2].kind, s2 == post, d2 == 0 else {
            throw fail("post_trace %\(r.postTrace) must be a trace of @\(post) with delay 0")
        }
        let xMax = max(ins[1].type.max, ins[2].type.max)
        guard max(abs(r.aPlus), abs(r.aMinus)).multipliedReportingOverflow(by: xMax).partialValue < bound / 2 else {
            throw fail("a_plus/a_minus x trace maximum exceeds 2^61")
        }
        guard op.type.signed, op.type.bits <= 48 else { throw fail("eligibility type must be signed, at most 48 bits") }
        guard r.eligibilityDecay <= Int64(1) << r.eligibilityShift else { throw fail("edecay must be in 0...2^eshr") }
        if r.modulation == .delta {
            guard r.modulator != nil else { throw fail("mode delta needs a modulator (the error the eligibility is multiplied by)") }
            guard r.aMinus == 0, r.sameStep == .include else { throw fail("mode delta pairs nothing: a_minus must be 0 and same_step include") }
        }
        var k = 3
        if let m = r.modulator {
            let mo = ins[k]
            k += 1
            guard case .modulator = mo.kind else { throw fail("modulator %\(m) must be a modulator op's result") }
            let mMax = max(abs(mo.type.min), abs(mo.type.max))
            if r.modulation.isThreeFactor {
                guard op.type.bits + mo.type.bits <= 62 else { throw fail("eligibility x modulator exceeds 2^62") }
            } else {
                let a = abs(r.modulation == .aPlus ? r.aPlus : r.aMinus)
                let eff = a.multipliedReportingOverflow(by: mMax)
                guard !eff.overflow, eff.partialValue < bound, (eff.partialValue >> r.modulatorShift).multipliedReportingOverflow(by: xMax).partialValue < bound / 2,
                      !(eff.partialValue >> r.modulatorShift).multipliedReportingOverflow(by: xMax).overflow else {
                    throw fail("\(r.modulation.rawValue) x modulator x trace exceeds 2^61")
                }
            }
        }
        if let g = r.gate {
            guard case .modulator = ins[k].kind else { throw fail("gate %\(g) must be a modulator op's result") }
        }
    }

    /// A modulator: one signed value, its sources spiking and already updated at delay 0, a decay in 0...1 and bounds
    /// that keep every intermediate inside 62 bits.
    static func verifyModulator(_ op: Op, _ m: ModulatorSpec, updated: Set<String>, _ p: Program, field f: String, file: String) throws {
        func fail(_ msg: String) -> XbarError { XbarError(file: file, field: f, msg) }
        guard op.length == 1, op.type.signed, op.type.bits <= 48 else { throw fail("a modulator is one signed value of at most 48 bits") }
        guard m.decayShift <= 30, m.decayMul >= 0, m.decayMul <= Int64(1) << m.decayShift else {
            throw fail("decay must be in 0...2^shr, found \(m.decayMul) shr \(m.decayShift)")
        }
        guard op.type.contains(m.initial) else { throw fail("init \(m.initial) does not fit \(op.type)") }
        var total: Int64 = abs(m.bias)
        for s in m.sources {
            let size: Int
            if let i = p.input(named: s.source) { size = i.size }
            else if let n = p.neuron(named: s.source) {
                size = n.size
                guard n.spiking else { throw fail("source @\(s.source) is non-spiking") }
                guard s.delay > 0 || updated.contains(s.source) else { throw fail("source @\(s.source)@0 before its update op") }
            } else { throw fail("source @\(s.source) is not an input or neuron population") }
            total += abs(s.weight) * Int64(size)
        }
        guard total < bound / 4 else { throw fail("sum of |weight| x size + |bias| exceeds 2^60") }
    }

    /// A homeostasis op: its synapses inside the array, its rate a delay-0 trace of a population with a target per
    /// neuron, bounds that keep every product inside 62 bits, and a clip range that contains 0.
    static func verifyHomeostasis(_ op: Op, _ h: HomeostasisRule, _ ins: [Op], _ p: Program, field f: String, file: String) throws {
        func fail(_ msg: String) -> XbarError { XbarError(file: file, field: f, msg) }
        let nn = op.length
        _ = try verifyWrites(array: h.array, row: h.row, colStart: h.colStart, neurons: nn, train: h.train, every: h.every,
                             mask: h.synapses, p, fail)
        guard case let .trace(post, 0, _, _, _, _) = ins[0].kind, let pn = p.neuron(named: post) else {
            throw fail("rate %\(h.rate) must be a trace of a neuron population with delay 0")
        }
        guard h.postStart + nn <= pn.size else { throw fail("post neurons \(h.postStart)..<\(h.postStart + nn) exceed @\(post)'s \(pn.size)") }
        guard h.targets.count == nn else { throw fail("expected \(nn) targets (one per neuron), found \(h.targets.count)") }
        let span = ins[0].type.max + (h.targets.max() ?? 0)
        guard h.eta.multipliedReportingOverflow(by: span).partialValue < bound / 2, !h.eta.multipliedReportingOverflow(by: span).overflow else {
            throw fail("eta x (rate + target) exceeds 2^61")
        }
        guard op.type.signed, op.type.bits <= 48 else { throw fail("accumulator type must be signed, at most 48 bits") }
    }

    /// A synapse mask inside the op's rows x neurons.
    static func verifyMask(_ m: SynapseMask?, rows: Int, neurons nn: Int, _ fail: (String) -> XbarError) throws {
        guard let m else { return }
        guard m.rows.count <= rows else { throw fail("synapses: row \(m.rows.count - 1) outside the \(rows) rows") }
        if let i = m.rows.firstIndex(where: { ($0.last ?? -1) >= Int32(nn) }) { throw fail("synapses: row \(i) names a neuron >= \(nn)") }
    }

    /// Every read of an array an `stdp` op writes comes before that op in the step, and no two `stdp` ops write the
    /// same cells.
    static func verifyLearningOrder(_ p: Program, file: String) throws {
        var written: [String: [(Int, (row: RowSource, colStart: Int, neurons: Int))]] = [:]
        for (k, op) in p.step.enumerated() {
            if case let .read(a, _, _, _, _, _) = op.kind, let w = written[a]?.first {
                throw XbarError(file: file, field: "step op \(k) (%\(op.result))",
                                "reads %\(a) after its learning op \(w.0); reads of a learning array come first")
            }
            let w: (array: String, row: RowSource, colStart: Int, neurons: Int)
            switch op.kind {
            case let .stdp(r): w = (r.array, r.row, r.colStart, op.length / max(1, r.row.count))
            case let .homeostasis(h): w = (h.array, h.row, h.colStart, op.length)
            default: continue
            }
            for (j, o) in written[w.array] ?? [] {
                let rows = o.row.rowStart..<(o.row.rowStart + o.row.count), cols = o.colStart..<(o.colStart + 2 * o.neurons)
                if rows.overlaps(w.row.rowStart..<(w.row.rowStart + w.row.count)), cols.overlaps(w.colStart..<(w.colStart + 2 * w.neurons)) {
                    throw XbarError(file: file, field: "step op \(k) (%\(op.result))", "writes cells of %\(w.array) that learning op \(j) writes")
                }
            }
            written[w.array, default: []].append((k, (w.row, w.colStart, w.neurons)))
        }
    }
}
