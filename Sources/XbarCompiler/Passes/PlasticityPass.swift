import Foundation
import XbarCore
import XbarGraph
import XbarIR

/// `plasticity` (docs/compiler.md, section 9): for every row block with a learning rule, the traces of its source
/// (at the block's delay) and of its population, and one `stdp` op per row source of the block in every kept tile,
/// after every update op of the step. The rule's real parameters become integers here, the one place they are
/// quantised.
public struct PlasticityPass: CompilerPass {
    public let name = "plasticity"
    public let summary = "add the traces and the stdp ops of every projection with a learning rule"

    /// Trace fraction bits: one spike adds 2^12 (a unit trace).
    static let traceBits = 12
    /// Decay multiplier shift of the traces.
    static let decayShift = 16
    /// Eligibility units per pulse: 2^16.
    static let pulseShift = 16

    public init() {}

    /// Only a graph with a learning rule gets plasticity ops.
    public func changedProgram(_ state: CompilationState) -> Bool { state.populations.contains { $0.blocks.contains(where: \.isPlastic) } }

    /// Modulator values are m = A x 2^24 (`i32`: |A| < 128 graph units).
    static let modulatorShift = 24

    public func run(_ s: inout CompilationState) throws {
        var traces: [String: String] = [:]  // "source@delay@decay" -> trace op result
        var traceOps: [Op] = [], ruleOps: [Op] = []
        try s.forEachPopulation { s, p in
            let w = s.populations[p]
            for (b, block) in w.blocks.enumerated() where block.isPlastic {
                try Self.checkTarget(block, context: s.context)
                let (rules, rowRule, weights) = try Self.rowRules(block, post: w.size, context: s.context)
                var lowered: [OpKind] = []
                for rule in rules {
                    let post = Self.trace(w.name, delay: 0, tau: rule.tauPost, traces: &traces, into: &traceOps, s.program)
                    switch rule.kind {
                    case .stdp:
                        var u = try Self.lower(rule, of: w, block: block, context: s.context)
                        u.preTrace = Self.trace(block.source, delay: block.delay, tau: rule.tauPre, traces: &traces, into: &traceOps, s.program)
                        u.postTrace = post
                        lowered.append(.stdp(u))
                    case .homeostasis:
                        lowered.append(.homeostasis(try Self.lowerHomeostasis(rule, of: w, block: block, rate: post, traceOps: traceOps,
                                                                               context: s.context)))
                    }
                }
                Self.emit(lowered, rowRule: rowRule, block: b, of: w, weights: weights, program: s.program, into: &ruleOps)
            }
        }
        guard !ruleOps.isEmpty else { return }
        s.program.step += traceOps + Self.modulators(s.context) + ruleOps
        s.program.version = s.program.requiredVersion
    }

    /// The distinct rules of a block's projections, the rule of each source row (index into the rules; nil: no plastic
    /// synapse), and the block's summed weight matrix again (the cells pass released it: its zeros are the pairs that
    /// are no synapse), each projection materialised once. Projections of different rules may share a block when their non-zero rows are disjoint (NALSM:
    /// the excitatory and the inhibitory rows of the liquid's recurrence); a row with weights of two different rules, or
    /// of a rule and a fixed projection, is an error.
    static func rowRules(_ block: RowBlock, post: Int, context c: CompilationContext) throws -> ([PlasticityRule], [Int?], [Double]) {
        var rules: [PlasticityRule] = []
        var weights = [Double](repeating: 0, count: block.size * post)
        var owner = [Int?](repeating: nil, count: block.size)       // projection index per row
        var rowRule = [Int?](repeating: nil, count: block.size)
        for (k, pr) in block.projections.enumerated() {
            let m = Materialize.weights(pr, pre: block.size, post: post)
            for i in m.indices { weights[i] += m[i] }
            var ruleIndex: Int? = nil
            if let r = pr.plasticity {
                ruleIndex = rules.firstIndex(of: r) ?? { rules.append(r); return rules.count - 1 }()
            }
            for i in 0..<block.size where (0..<post).contains(where: { m[i * post + $0] != 0 }) {
                if let o = owner[i], block.projections[o].plasticity != pr.plasticity {
                    throw c.error("projections.\(pr.name).plasticity",
                                  "source row \(i) of (from \(block.source), delay \(block.delay)) has weights of projection \(block.projections[o].name) with a different learning rule")
                }
                owner[i] = k
                rowRule[i] = ruleIndex
            }
        }
        return (rules, rowRule, weights)
    }

    /// The name of the block's projection that carries rule `r` (error messages name it).
    static func owner(of r: PlasticityRule, in block: RowBlock) -> String {
        (block.projections.first { $0.plasticity == r } ?? block.projections[0]).name
    }

    /// The graph's modulators as `modulator` ops: m = A x 2^24, decay round((1 - 1/tau) x 2^16) shr 16, weights and
    /// bias divided by tau.
    static func modulators(_ c: CompilationContext) -> [Op] {
        let one = Double(Int64(1) << modulatorShift)
        return c.graph.modulators.map { m in
            let sources = m.sources.map { ModulatorSource(source: $0.from, delay: $0.delay, weight: Fixed.roundReal($0.weight / m.tau * one, .halfEven)) }
            let spec = ModulatorSpec(sources: sources, bias: Fixed.roundReal(m.bias / m.tau * one, .halfEven),
                                     initial: Swift.min(Int64(Int32.max), Swift.max(Int64(Int32.min), Fixed.roundReal(m.initial * one, .halfEven))),
                                     decayMul: Fixed.roundReal((1 - 1 / m.tau) * Double(1 << decayShift), .halfEven), decayShift: decayShift,
                                     rounding: .halfEven)
            return Op(result: "\(m.name).mod", type: .i(32), length: 1, kind: .modulator(spec))
        }
    }

    /// The target must write single differential pairs.
    static func checkTarget(_ block: RowBlock, context c: CompilationContext) throws {
        let pr = block.projections.first { $0.plasticity != nil }!
        let field = "projections.\(pr.name).plasticity"
        guard !c.strategy.formsCells else {
            throw c.error(field, "the target cannot write this projection: \(c.target.name) holds electroformed cells (device.programming = forming)")
        }
        guard c.strategy.slices == 1 else {
            throw c.error(field, "the target cannot write this projection: on-chip learning needs one differential pair per weight, \(c.target.name) uses mapping.slices = \(c.strategy.slices)")
        }
    }

    /// The rule's integer parameters for population `w` (docs/compiler.md, section 9).
    static func lower(_ r: PlasticityRule, of w: PopulationWork, block: RowBlock, context c: CompilationContext) throws -> STDPRule {
        let map = c.map
        let s = w.format!.weightScale
        let pulseCodes = Swift.max(1, c.target.device.update.map { Fixed.roundReal($0.dwMinUS * c.perUS, .halfEven) }
            ?? Fixed.roundReal(map.stepCodes, .halfEven))
        // Graph weight of one pulse: pulseCodes codes of a cell, stepCodes codes per weight step s.
        let wPulse = Double(pulseCodes) / map.stepCodes * s
        let field = "projections.\(owner(of: r, in: block)).plasticity"
        func amplitude(_ a: Double, _ key: String) throws -> Int64 {
            let v = Fixed.roundReal(a / wPulse * Double(1 << pulseShift), .halfEven)
            guard abs(v) <= Int64(1) << 31 else {
                throw c.error("\(field).\(key)", "\(a) is \(a / wPulse) pulses per pairing; at most 32768 (one pulse is \(wPulse))")
            }
            return v
        }
        func codes(_ v: Double) -> Int64 { Fixed.roundReal(v / s * map.stepCodes, .halfEven) }
        let dummy = RowSource(rowStart: 0, source: block.source, srcStart: 0, count: 0, delay: block.delay)
        var u = STDPRule(array: "", row: dummy, colStart: 0, post: "\(w.name).spk", postStart: 0, preTrace: "", postTrace: "",
                         aPlus: try amplitude(r.aPlus, "a_plus"), aMinus: try amplitude(r.aMinus, "a_minus"), shift: traceBits,
                         bound: r.bound == .soft ? .soft : .additive, clipLow: codes(r.clip.low), clipHigh: codes(r.clip.high),
                         every: r.every, pulseShift: pulseShift, maxPulses: r.maxPulses, pulseCodes: pulseCodes,
                         cellLow: Int64(map.levelCodes.first!), cellHigh: Int64(map.levelCodes.last!))
        u.sameStep = r.sameStep == .exclude ? .exclude : .include
        u.write = r.write == "open_loop" ? .openLoop : .verify
        if let m = r.modulator {
            u.modulator = "\(m).mod"
            u.modulation = STDPModulation(rawValue: r.modulates.rawValue)!
            u.modulatorShift = modulatorShift
        }
        u.gate = r.gate.map { "\($0).mod" }
        if let te = r.eligibilityTau {
            u.eligibilityDecay = Fixed.roundReal(exp(-1 / te) * Double(1 << decayShift), .halfEven)
            u.eligibilityShift = decayShift
        }
        guard u.clipLow < u.clipHigh else {
            throw c.error("\(field).clip", "[\(r.clip.low), \(r.clip.high)] rounds to an empty range of conductance codes")
        }
        return u
    }

    /// The trace op of `source` at `delay` with time constant `tau` (one per distinct trace), appended once.
    static func trace(_ source: String, delay: Int, tau: Double, traces: inout [String: String], into ops: inout [Op], _ p: Program) -> String {
        let mul = Fixed.roundReal(exp(-1 / tau) * Double(1 << decayShift), .halfEven)
        let key = "\(source)@\(delay)@\(mul)"
        if let name = traces[key] { return name }
        let base = "\(source).trace\(delay)"
        let name = ops.contains { $0.result == base } ? "\(base).\(traces.count)" : base
        let size = p.input(named: source)?.size ?? p.neuron(named: source)!.size
        ops.append(Op(result: name, type: .u(traceBits + 8), length: size,
                         kind: .trace(source: source, delay: delay, decayMul: Swift.min(mul, (1 << decayShift) - 1), decayShift: decayShift,
                                      rounding: .halfEven, increment: 1 << traceBits)))
        traces[key] = name
        return name
    }

    /// A homeostasis rule's integers: targets as rate-trace values r / (1 - decay) x 2^12, eta in pulses' worth per
    /// unit of rate-trace error (shr 12), the limits as stdp's.
    static func lowerHomeostasis(_ r: PlasticityRule, of w: PopulationWork, block: RowBlock, rate: String, traceOps: [Op],
                                 context c: CompilationContext) throws -> HomeostasisRule {
        let u = try lower(r, of: w, block: block, context: c)
        guard case let .trace(_, _, mul, sh, _, _) = traceOps.first(where: { $0.result == rate })?.kind else { fatalError("rate trace") }
        let d = Double(mul) / Double(Int64(1) << sh)
        let rates = r.targetRates.count == 1 ? [Double](repeating: r.targetRates[0], count: w.size) : r.targetRates
        let targets = rates.map { Swift.min(Int64(1) << 20 - 1, Fixed.roundReal($0 / (1 - d) * Double(1 << traceBits), .halfEven)) }
        let wPulse = Double(u.pulseCodes) / c.map.stepCodes * w.format!.weightScale
        let eta = Fixed.roundReal(r.eta / wPulse * Double(1 << pulseShift), .halfEven)
        guard eta <= Int64(1) << 31 else {
            throw c.error("projections.\(owner(of: r, in: block)).plasticity.eta", "\(r.eta) is \(r.eta / wPulse) pulses per step per unit error; at most 32768")
        }
        return HomeostasisRule(array: "", row: u.row, colStart: 0, rate: rate, postStart: 0, targets: targets, eta: eta, shift: traceBits,
                               every: r.every, pulseShift: pulseShift, maxPulses: r.maxPulses, train: u.train)
    }

    /// One learning op per run of consecutive rows of one rule, per row source of block `b` in each kept tile of `w`.
    static func emit(_ lowered: [OpKind], rowRule: [Int?], block b: Int, of w: PopulationWork, weights: [Double], program p: Program,
                     into ops: inout [Op]) {
        let block = w.blocks[b]
        for (ct, cols) in w.colTiles.enumerated() {
            for (ri, rd) in w.reads.enumerated() {
                guard let k = w.tile(row: rd.rowTile, col: ct)?.slot else { continue }
                for (si, rs) in rd.sources.enumerated() where rs.source == block.source && rs.delay == block.delay {
                    var i = 0
                    while i < rs.count {
                        var j = i
                        while j < rs.count && rowRule[rs.srcStart + j] == rowRule[rs.srcStart + i] { j += 1 }
                        if let r = rowRule[rs.srcStart + i] {
                            let sub = RowSource(rowStart: rs.rowStart + i, source: rs.source, srcStart: rs.srcStart + i, count: j - i, delay: rs.delay)
                            let name = "\(p.arrays[k].name).g\(ri).s\(si)" + (i == 0 && j == rs.count ? "" : ".r\(i)")
                            ops.append(op(lowered[r], array: p.arrays[k].name, row: sub, neurons: cols, name: name,
                                          mask: mask(weights, post: w.size, rows: sub.srcStart..<(sub.srcStart + sub.count), neurons: cols)))
                        }
                        i = j
                    }
                }
            }
        }
    }

    /// The learning op of one row run and column tile.
    static func op(_ kind: OpKind, array: String, row: RowSource, neurons cols: Range<Int>, name: String, mask: SynapseMask?) -> Op {
        switch kind {
        case var .stdp(u):
            u.array = array
            u.row = row
            u.postStart = cols.lowerBound
            u.synapses = mask
            // A three-factor eligibility is multiplied by the modulator (i32): at most 30 bits.
            let type: IntType = u.modulation.isThreeFactor && u.modulator != nil ? .i(30) : .i(40)
            return Op(result: name + ".stdp", type: type, length: row.count * cols.count, kind: .stdp(u))
        case var .homeostasis(h):
            h.array = array
            h.row = row
            h.postStart = cols.lowerBound
            h.targets = Array(h.targets[cols])
            h.synapses = mask
            return Op(result: name + ".homeostasis", type: .i(40), length: cols.count, kind: .homeostasis(h))
        default: fatalError("a learning op")
        }
    }

    /// The synapses of source rows x neurons of a block's matrix (`post` columns): its non-zero graph weights; nil when
    /// every pair is one.
    static func mask(_ weights: [Double], post: Int, rows: Range<Int>, neurons: Range<Int>) -> SynapseMask? {
        let m = rows.map { i in neurons.filter { weights[i * post + $0] != 0 }.map { Int32($0 - neurons.lowerBound) } }
        return m.allSatisfy({ $0.count == neurons.count }) ? nil : SynapseMask(rows: m)
    }

    /// Every stdp op names a trace op of its row source and one of its population (the IR verifier checks the rest).
    public func verify(_ s: CompilationState) throws {
        for op in s.program.step {
            guard case let .stdp(u) = op.kind else { continue }
            try passCheck(s.program.step.contains { $0.result == u.preTrace }, s, "step %\(op.result)", "no pre trace %\(u.preTrace)")
        }
    }
}
