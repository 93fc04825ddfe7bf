import CXbarKernel
import XbarCore
import XbarIR

/// A `Program` resolved once for execution: every name replaced by an integer (value slots in one flat buffer,
/// array, population and spike-history source indices), every parameter in the form the shared kernels take.
/// Nothing in the step loop looks up a name, builds a string or allocates.
///
/// The op records are the single native definition of the ops of docs/ir.md used by the fast and the cycle engine
/// (`OpKernels`); the exact (GMP) engine and the RTL stay independent implementations of the same text.
public struct ExecutableProgram: Sendable {
    /// The program this was resolved from.
    public let program: Program
    /// One record per op of `program.step`, in order.
    let ops: [ExecOp]
    /// Offset and length of each op's result in the value buffer.
    let offset: [Int]
    let length: [Int]
    /// Size of the value buffer (all op results of one step).
    let valueCount: Int
    /// Spike-history sources: inputs first (declaration order), then neuron populations.
    let sourceSize: [Int]
    let sourceDepth: [Int]
    /// Source index of each input and each population.
    let inputSource: [Int]
    let populationSource: [Int]
    /// Channel offset of each input in an event sample (docs/events.md).
    let inputChannelOffset: [Int]
    /// The lif parameters of each population (pointers into `storage`).
    let lifParams: [xbar_lif_t]
    /// Largest row count of any read (row buffer size).
    let maxRows: Int
    /// Op index of the lif updating each population.
    let lifOp: [Int]
    /// Population index each readout reads.
    let readoutPopulation: [Int]
    /// Owns the per-neuron bias buffers `lifParams` points into.
    let storage: PinnedStorage
    /// Per population: the registered model's native kernel (nil for the built-in lif, which runs `xbar_lif`).
    let modelKernels: [(any NeuronKernel)?]
    /// Per population of a registered model: its state variables' initial values (nil: lif, all zero).
    let initialState: [[[Int64]]?]
    /// Per population of a registered model: its state variable names (nil for lif).
    let stateNames: [[String]?]
    /// Per population: cycles a neuron group spends in the neuron pipeline (lif 1; docs/timing.md).
    let groupCycles: [Int]

    /// `p` resolved with its op results laid out as `layout` says.
    public init(_ p: Program, values layout: ValueLayout = .reused) {
        program = p
        var slot: [String: Int] = [:]
        for (k, op) in p.step.enumerated() { slot[op.result] = k }
        let len = p.step.map(\.length)
        let (off, total) = layout.offsets(p.step, lengths: len, slot: slot)
        offset = off
        length = len
        valueCount = total
        var source: [String: Int] = [:]
        for (k, name) in (p.inputs.map(\.name) + p.neurons.map(\.name)).enumerated() { source[name] = k }
        sourceSize = p.inputs.map(\.size) + p.neurons.map(\.size)
        inputSource = Array(0..<p.inputs.count)
        populationSource = (0..<p.neurons.count).map { p.inputs.count + $0 }
        var channel = 0
        inputChannelOffset = p.inputs.map { i in defer { channel += i.size }; return channel }
        let arrayIndex = Dictionary(uniqueKeysWithValues: p.arrays.enumerated().map { ($0.element.name, $0.offset) })
        let popIndex = Dictionary(uniqueKeysWithValues: p.neurons.enumerated().map { ($0.element.name, $0.offset) })
        var depth = [Int](repeating: 1, count: sourceSize.count)
        var lifAt = [Int](repeating: -1, count: p.neurons.count)
        var rows = 0
        var records: [ExecOp] = []
        for (k, op) in p.step.enumerated() {
            let ins = op.kind.operands.map { slot[$0]! }
            records.append(ExecutableProgram.resolve(op, k, ins, off, arrayIndex, popIndex, source, p))
            switch op.kind {
            case let .read(a, rs, _, _, _, _):
                rows = Swift.max(rows, p.arrays[arrayIndex[a]!].rows)
                for r in rs { depth[source[r.source]!] = Swift.max(depth[source[r.source]!], r.delay + 1) }
            case let .trace(src, d, _, _, _, _): depth[source[src]!] = Swift.max(depth[source[src]!], d + 1)
            case let .stdp(u): depth[source[u.row.source]!] = Swift.max(depth[source[u.row.source]!], u.row.delay + 1)
            case let .modulator(m): for s in m.sources { depth[source[s.source]!] = Swift.max(depth[source[s.source]!], s.delay + 1) }
            default: break
            }
            switch op.kind {
            case let .lif(pop, _), let .neuron(_, pop, _): lifAt[popIndex[pop]!] = k
            default: break
            }
        }
        ops = records
        sourceDepth = depth
        maxRows = rows
        lifOp = lifAt
        readoutPopulation = p.readouts.map { popIndex[$0.source]! }
        let store = PinnedStorage()
        lifParams = p.neurons.map { ExecutableProgram.lifParameters($0, store) }
        storage = store
        let models = p.neurons.map { n in n.model.map { ($0, NeuronModels.model($0.model)!) } }
        modelKernels = zip(p.neurons, models).map { n, m in m.map { $0.1.kernel($0.0, size: n.size) } }
        initialState = zip(p.neurons, models).map { n, m in m.map { $0.1.initialState($0.0, size: n.size) } }
        stateNames = models.map { m in m.map { $0.1.stateNames } }
        groupCycles = models.map { m in m.map { $0.1.groupCycles($0.0) } ?? 1 }
    }

    /// The state buffers of population `i` in `SampleContext.state` order: lif [mem, refr, syn]; a registered model
    /// [mem] (its membrane) plus one buffer from `allocate` per further state variable.
    func stateSlots(_ i: Int, mem: UnsafeMutablePointer<Int64>, refr: UnsafeMutablePointer<Int64>, syn: UnsafeMutablePointer<Int64>,
                    allocate: () -> UnsafeMutablePointer<Int64>) -> [UnsafeMutablePointer<Int64>] {
        guard let initial = initialState[i] else { return [mem, refr, syn] }
        return [mem] + (1..<Swift.max(initial.count, 1)).map { _ in allocate() }
    }

    static func resolve(_ op: Op, _ k: Int, _ ins: [Int], _ off: [Int], _ arrayIndex: [String: Int], _ popIndex: [String: Int],
                        _ source: [String: Int], _ p: Program) -> ExecOp {
        let out = off[k]
        switch op.kind {
        case let .read(a, rs, c0, cpw, _, _):
            let sources = rs.map { ReadRowSource(source: source[$0.source]!, srcStart: Int32($0.srcStart), count: Int32($0.count),
                                                  rowStart: Int32($0.rowStart), delay: $0.delay) }
            let all = rs.reduce(0) { $0 + $1.count }
            return .read(ReadRecord(array: arrayIndex[a]!, sources: sources, colStart: c0, length: op.length, out: out,
                                    synapsesPerRow: op.length / cpw, allRows: all, maxValue: op.type.max))
        case let .adc(_, bits, lsb, o, r):
            return .adc(ADCRecord(read: ins[0], input: off[ins[0]], length: op.length, out: out, bits: bits, lsb: lsb,
                                  offset: o, rounding: Int32(r.code), maxCode: op.type.max))
        case let .slice(_, s, st):
            return .slice(SliceRecord(input: off[ins[0]], start: s, stride: st, length: op.length, out: out))
        case .concat:
            return .concat(ConcatRecord(parts: ins.map { (off[$0], p.step[$0].length) }, out: out))
        case let .add(_, _, o), let .sub(_, _, o):
            let sign: Int32 = { if case .add = op.kind { return 1 } else { return -1 } }()
            return .addSub(AddSubRecord(a: off[ins[0]], b: off[ins[1]], length: op.length, out: out, sign: sign,
                                        fit: xbar_fit_t(op.type, o)))
        case let .scale(_, m, s, r, o):
            return .scale(ScaleRecord(input: off[ins[0]], length: op.length, out: out, mul: m, shift: Int32(s),
                                      rounding: Int32(r.code), fit: xbar_fit_t(op.type, o)))
        case let .lif(pop, _), let .neuron(_, pop, _):
            return .lif(LifRecord(population: popIndex[pop]!, input: off[ins[0]], out: out))
        case let .trace(src, d, m, sh, r, inc):
            return .trace(TraceRecord(source: source[src]!, delay: d, mul: m, shift: sh, rounding: r, increment: inc, max: op.type.max,
                                      length: op.length, out: out))
        case let .stdp(u):
            func increment(_ k: Int) -> Int64 { if case let .trace(_, _, _, _, _, inc) = p.step[k].kind { return inc } else { return 0 } }
            let post = p.step[ins[0]].kind.updatedPopulation!
            return .stdp(STDPRecord(rule: u, array: arrayIndex[u.array]!, source: source[u.row.source]!, postSource: source[post]!,
                                    rows: u.row.count, neurons: op.length / u.row.count, preTrace: off[ins[1]], postTrace: off[ins[2]],
                                    preIncrement: increment(ins[1]), postIncrement: increment(ins[2]),
                                    modulator: u.modulator.map { _ in off[ins[3]] }, gate: u.gate.map { _ in off[ins[u.modulator == nil ? 3 : 4]] },
                                    mask: u.synapses?.flat(rows: u.row.count, neurons: op.length / u.row.count), out: out, eMin: op.type.min, eMax: op.type.max))
        case let .homeostasis(h):
            return .homeostasis(HomeostasisRecord(rule: h, array: arrayIndex[h.array]!, rate: off[ins[0]],
                                                  mask: h.synapses?.flat(rows: h.row.count, neurons: op.length), out: out,
                                                  eMin: op.type.min, eMax: op.type.max))
        case let .modulator(m):
            return .modulator(ModulatorRecord(spec: m, sources: m.sources.map { source[$0.source]! }, min: op.type.min, max: op.type.max,
                                              out: out))
        }
    }

    /// Value slots that hold state across steps (trace, stdp and modulator results) and their value at the start of
    /// every sample (0; a modulator its `init`).
    var stateValues: [(offset: Int, length: Int, initial: Int64)] {
        ops.compactMap { op in
            switch op {
            case let .trace(r): return (r.out, r.length, 0)
            case let .stdp(r): return (r.out, r.rows * r.neurons, 0)
            case let .modulator(m): return (m.out, 1, m.spec.initial)
            case let .homeostasis(h): return (h.out, h.rule.targets.count, 0)
            default: return nil
            }
        }
    }

    static func lifParameters(_ n: NeuronDecl, _ store: PinnedStorage) -> xbar_lif_t {
        let bias = store.int64((0..<n.size).map { n.bias(of: $0) })
        let y = n.synapse
        let synBias = store.int64(y.map { s in (0..<n.size).map { s.bias(of: $0) } } ?? [0])
        return xbar_lif_t(mem: xbar_fit_t(n.memType, n.memOverflow), decay_mul: n.decayMul, decay_shift: Int32(n.decayShift),
                          decay_rnd: Int32(n.decayRounding.code), threshold: n.threshold,
                          compare_ge: n.compare == .ge ? 1 : 0, reset_subtract: n.reset == .subtract ? 1 : 0,
                          spiking: n.spiking ? 1 : 0, has_syn: y == nil ? 0 : 1, refractory: Int64(n.refractory),
                          bias: UnsafePointer(bias),
                          syn: y.map { xbar_fit_t($0.type, $0.overflow) } ?? xbar_fit_t(.i(2), .sat),
                          syn_mul: y?.decayMul ?? 0, syn_shift: Int32(y?.decayShift ?? 0),
                          syn_rnd: Int32(y?.decayRounding.code ?? 0), syn_bias: UnsafePointer(synBias),
                          count_hi: n.countType.max)
    }
}

/// Where the op results of one step live in a sample's value buffer.
public enum ValueLayout: Sendable {
    /// Every op its own slot (the cycle engine, whose ops overlap in time).
    case perOp
    /// A slot is reused once the value in it is dead: ops run one after another in program order (the fast engine),
    /// operands are defined before their use (docs/ir.md), and every result that does not carry state
    /// (`OpKind.carriesState`) is written in full by its op each step before any op reads it, so it is dead after its
    /// last reader. A result that carries state is live across steps and keeps a slot of its own. An op's result
    /// never shares a slot with its own operands. The buffer then grows with the values live at once, not with the op
    /// count (the 100,000-neuron reservoir of docs/bench.md had 350 M slots per sample, 2.8 GB, laid out per op).
    case reused

    /// The offset of every op's result and the buffer size.
    func offsets(_ step: [Op], lengths: [Int], slot: [String: Int]) -> (offsets: [Int], total: Int) {
        var off = [Int](repeating: 0, count: step.count)
        var total = 0
        guard self == .reused else {
            for k in step.indices { off[k] = total; total += lengths[k] }
            return (off, total)
        }
        // The last op reading each result (-1: none; state results are never freed).
        var lastUse = [Int](repeating: -1, count: step.count)
        for (k, op) in step.enumerated() { for o in op.kind.operands { lastUse[slot[o]!] = k } }
        var freedAt = [[Int]](repeating: [], count: step.count)
        for k in step.indices where !step[k].kind.carriesState { freedAt[Swift.max(lastUse[k], k)].append(k) }
        // Free slots by exact length, reused last-freed first: deterministic, and a handful of lengths per program.
        var free: [Int: [Int]] = [:]
        for k in step.indices {
            if !step[k].kind.carriesState, let o = free[lengths[k]]?.popLast() {
                off[k] = o
            } else {
                off[k] = total
                total += lengths[k]
            }
            for d in freedAt[k] { free[lengths[d], default: []].append(off[d]) }
        }
        return (off, total)
    }
}

/// One resolved op (docs/ir.md); fields are slot offsets into the value buffer and kernel parameters. `lif` is the
/// update of a population of any neuron model (`ExecutableProgram.modelKernels` says which kernel runs it).
enum ExecOp: Sendable {
    case read(ReadRecord)
    case adc(ADCRecord)
    case slice(SliceRecord)
    case concat(ConcatRecord)
    case addSub(AddSubRecord)
    case scale(ScaleRecord)
    case lif(LifRecord)
    // The learning ops' records are large: kept out of line so every op record stays as small as the others.
    indirect case trace(TraceRecord)
    indirect case stdp(STDPRecord)
    indirect case modulator(ModulatorRecord)
    indirect case homeostasis(HomeostasisRecord)
}

/// Rows [rowStart, rowStart + count) driven by source elements [srcStart, srcStart + count) at step t - delay.
struct ReadRowSource: Sendable {
    let source: Int
    let srcStart: Int32
    let count: Int32
    let rowStart: Int32
    let delay: Int
}

struct ReadRecord: Sendable {
    let array: Int
    let sources: [ReadRowSource]
    let colStart: Int
    let length: Int
    let out: Int
    /// length / cells_per_weight.
    let synapsesPerRow: Int
    /// Sum of the row sources' counts (dense synaptic ops).
    let allRows: Int
    /// Largest value of the read's type (read-noise clamp).
    let maxValue: Int64
}

struct ADCRecord: Sendable {
    /// Op index of the read it converts, and that read's value offset.
    let read: Int
    let input: Int
    let length: Int
    let out: Int
    let bits: Int
    let lsb: Int64
    let offset: Int64
    let rounding: Int32
    let maxCode: Int64
}

struct SliceRecord: Sendable {
    let input: Int
    let start: Int
    let stride: Int
    let length: Int
    let out: Int
}

struct ConcatRecord: Sendable {
    let parts: [(offset: Int, length: Int)]
    let out: Int
}

struct AddSubRecord: Sendable {
    let a: Int
    let b: Int
    let length: Int
    let out: Int
    let sign: Int32
    let fit: xbar_fit_t
}

struct ScaleRecord: Sendable {
    let input: Int
    let length: Int
    let out: Int
    let mul: Int64
    let shift: Int32
    let rounding: Int32
    let fit: xbar_fit_t
}

struct LifRecord: Sendable {
    let population: Int
    let input: Int
    let out: Int
}

extension xbar_fit_t: @unchecked @retroactive Sendable {}
extension xbar_lif_t: @unchecked @retroactive Sendable {}

extension xbar_fit_t {
    init(_ t: IntType, _ o: Overflow) {
        self.init(lo: t.min, hi: t.max, bits: Int32(t.bits), is_signed: t.signed ? 1 : 0, wrap: o == .wrap ? 1 : 0)
    }
}

extension Rounding {
    /// The kernel's rounding code (xbar_kernel.h).
    var code: Int {
        switch self {
        case .floor: return Int(XBAR_FLOOR)
        case .trunc: return Int(XBAR_TRUNC)
        case .halfUp: return Int(XBAR_HALF_UP)
        case .halfEven: return Int(XBAR_HALF_EVEN)
        }
    }
}

/// Heap buffers that live as long as the executable program (the kernels keep raw pointers into them).
final class PinnedStorage: @unchecked Sendable {
    private var buffers: [UnsafeMutableRawPointer] = []

    func int64(_ values: [Int64]) -> UnsafeMutablePointer<Int64> {
        let p = UnsafeMutablePointer<Int64>.allocate(capacity: Swift.max(values.count, 1))
        p.initialize(repeating: 0, count: Swift.max(values.count, 1))
        for (i, v) in values.enumerated() { p[i] = v }
        buffers.append(UnsafeMutableRawPointer(p))
        return p
    }

    func int32(_ values: [Int32]) -> UnsafeMutablePointer<Int32> {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(values.count, 1))
        p.initialize(repeating: 0, count: Swift.max(values.count, 1))
        for (i, v) in values.enumerated() { p[i] = v }
        buffers.append(UnsafeMutableRawPointer(p))
        return p
    }

    deinit { for b in buffers { b.deallocate() } }
}
