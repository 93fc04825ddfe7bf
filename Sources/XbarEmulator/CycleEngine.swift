import CXbarKernel
import XbarCore
import XbarEvents
import XbarIR

/// One per-cycle signal change recorded by the cycle engine (input to VCD and test vectors). The signal is a typed
/// identifier (`Kind`: what it is and which array, op, population or readout it belongs to); `name(in:)` spells it
/// as docs/vectors.md does (`spike.<pop>`, ...) for printing only.
public struct CycleSignal: Equatable, Sendable {
    /// What a signal is: `step` (step index), `wordLine` (row index driven, value 1), `adc` (column, code), the neuron
    /// signals of a group leaving the pipeline (`membrane`, `spike`, `input` current, `refractory` counter, spike
    /// `count`: neuron, value), `queue` (spike queue occupancy); for test vectors (docs/vectors.md) also `issue` (op
    /// index, duration in cycles, -1 for a lif), `acc` (element of a sub/add/scale result, in the cycle its lane
    /// chunk is computed) and `readout` (class, accumulator, in the readout's last cycle). Payloads are indices into
    /// the program's arrays, step ops, neurons and readouts.
    public enum Kind: Hashable, Sendable {
        case step, issue
        case wordLine(array: Int)
        case adc(op: Int)
        case acc(op: Int)
        case membrane(population: Int), spike(population: Int), input(population: Int)
        case refractory(population: Int), count(population: Int), queue(population: Int)
        case readout(Int)
    }

    /// Absolute cycle within the sample.
    public var cycle: Int64
    public var kind: Kind
    public var index: Int
    public var value: Int64

    public init(cycle: Int64, kind: Kind, index: Int, value: Int64) {
        self.cycle = cycle
        self.kind = kind
        self.index = index
        self.value = value
    }

    /// The signal's documented name in program `p` (docs/vectors.md), e.g. `spike.res`, `adc.<op result>`.
    public func name(in p: Program) -> String {
        switch kind {
        case .step: return "step"
        case .issue: return "issue"
        case let .wordLine(a): return "wl.\(p.arrays[a].name)"
        case let .adc(k): return "adc.\(p.step[k].result)"
        case let .acc(k): return "acc.\(p.step[k].result)"
        case let .membrane(i): return "mem.\(p.neurons[i].name)"
        case let .spike(i): return "spike.\(p.neurons[i].name)"
        case let .input(i): return "in.\(p.neurons[i].name)"
        case let .refractory(i): return "refr.\(p.neurons[i].name)"
        case let .count(i): return "count.\(p.neurons[i].name)"
        case let .queue(i): return "queue.\(p.neurons[i].name)"
        case let .readout(r): return "readout.\(p.readouts[r].name)"
        }
    }
}

/// The cycle engine: steps the macro's state machine of docs/timing.md one clock cycle at a time — resources
/// issuing ops in program order, ADC multiplexing round by round, digital lanes, the neuron pipeline exiting group
/// by group into a spike queue with back-pressure. Results and counters equal `FastEngine`'s bit for bit.
public struct CycleEngine: Sendable {
    public let chip: Chip
    let p: Program
    let tm: TimingModel
    let exec: ExecutableProgram
    /// The op kernels shared with the fast engine; this engine only schedules them.
    let kernels: OpKernels
    /// Dense resource ids (arrays, then digital, then neuron; -1 = none) and each resource's ops in program order.
    let rid: [Int]
    let queues: [[Int]]
    /// For adc ops: the columns converted in each multiplexing round.
    let roundColumns: [[[Int]]]
    /// Per op: is it a lif; is it a read (work only in its last cycle).
    let isLif: [Bool]
    let isRead: [Bool]
    /// The cells this engine writes (a plastic program), or nil.
    public var learning: LearningChip? { kernels.learning }

    /// `learning`: the cells a plastic program reads and writes (a new learning chip when nil and the program is plastic).
    public init(chip: Chip, learning: LearningChip? = nil) {
        self.chip = chip
        p = chip.program
        tm = chip.timing
        // Ops overlap in time here: every op keeps its own value slot.
        let e = ExecutableProgram(chip.program, values: .perOp)
        exec = e
        let plastic = learning ?? (chip.program.isPlastic ? LearningChip(chip: chip) : nil)
        let views = ReadViews(exec: e, state: plastic?.state ?? ChipState(chip: chip), chip: chip)
        var k = OpKernels(exec: e, views: views, noise: chip.noise, neuronUnits: chip.timing.spec.neuronUnits)
        k.timingSpec = chip.timing.spec
        if let l = plastic {
            if l.views == nil { l.views = views }
            k.learning = l
        }
        kernels = k
        let na = p.arrays.count
        rid = tm.resourceID
        var qs = [[Int]](repeating: [], count: na + 2)
        for (k, r) in rid.enumerated() where r >= 0 { qs[r].append(k) }
        queues = qs
        // Column c is the (c - first column of its ADC in range)-th conversion of ADC c / cols_per_adc.
        isLif = tm.isLif
        isRead = tm.isRead
        let timing = chip.timing, program = chip.program
        let cpa = timing.spec.colsPerADC
        roundColumns = program.step.enumerated().map { k, op in
            guard case .adc = op.kind, case let .read(_, _, c0, _, _, _) = program.step[timing.operands[k][0]].kind else { return [] }
            var rounds = [[Int]](repeating: [], count: timing.adcRounds[k])
            for j in 0..<op.length { rounds[(c0 + j) - max(c0, ((c0 + j) / cpa) * cpa)].append(j) }
            return rounds
        }
    }

    /// Per-lif pipeline and spike-queue state within one step.
    struct LifRun {
        var start: Int64
        var nextGroup = 0
        var exitReady: Int64
        var occupancy = 0
        var finish: Int64? = nil
        var delivered: Int64? = nil
        var spikes: [Int32] = []
    }

    public func run(_ sample: SpikeRaster, index: Int = 0, binding: InputBinding, trace: Bool = false,
                    signals record: Bool = false) -> (SampleResult, [CycleSignal]) {
        let ctx = SampleContext(exec)
        let lifTmp = LifScratch(exec)
        var sig: [CycleSignal] = []
        var base: Int64 = 0
        for t in 0..<p.timesteps {
            ctx.beginStep(t, input: t < sample.active.count ? sample.active[t] : [])
            if record { sig.append(CycleSignal(cycle: base, kind: .step, index: 0, value: Int64(t))) }
            var step = StepMachine(self, t: t, event: UInt32(truncatingIfNeeded: index &* p.timesteps &+ t), base: base,
                                   record: record, trace: trace, ctx: ctx, lifTmp: lifTmp)
            base += step.run()
            sig += step.signals
        }
        base = readout(from: base, record: record, ctx, &sig)
        ctx.counters.cycles = base
        return (kernels.finish(ctx, trace: trace), sig)
    }

    /// The readouts after the last step (MAC units step through classes x neurons); returns the cycle after them.
    func readout(from start: Int64, record: Bool, _ ctx: SampleContext, _ sig: inout [CycleSignal]) -> Int64 {
        var base = start
        for (ri, r) in p.readouts.enumerated() {
            let nn = p.neurons[exec.readoutPopulation[ri]].size
            base += Int64((r.classes * nn + tm.spec.readoutMACs - 1) / tm.spec.readoutMACs)
            if record {
                let cnt = Array(UnsafeBufferPointer(start: ctx.count[exec.readoutPopulation[ri]], count: nn))
                for (kk, y) in OpKernels.readout(r, counts: cnt).enumerated() {
                    sig.append(CycleSignal(cycle: base - 1, kind: .readout(ri), index: kk, value: y))
                }
            }
        }
        return base
    }

    /// The next cycle in which anything happens. Recording signals, that is every cycle; otherwise, while no lif is
    /// running and nothing waits to issue, the machine jumps to the last cycle of the earliest op to complete (reads,
    /// conversions and digital lanes have no other effect before it).
    @inline(__always)
    func nextCycle(after c: Int64, record: Bool, dirty: Bool, active: [Int], done: [Bool], finishAt: [Int64]) -> Int64 {
        guard !record, !dirty else { return c + 1 }
        var next = Int64.max
        for k in active where !done[k] {
            if isLif[k] { return c + 1 }
            next = min(next, finishAt[k] - 1)
        }
        return next == Int64.max ? c + 1 : max(c + 1, next)
    }

    /// Records the lanes [lo, hi) of a digital op computed this cycle.
    func recordLanes(_ sig: inout [CycleSignal], _ cycle: Int64, _ k: Int, _ out: Int, _ lo: Int, _ hi: Int, _ ctx: SampleContext) {
        for i in lo..<hi { sig.append(CycleSignal(cycle: cycle, kind: .acc(op: k), index: i, value: ctx.values[out + i])) }
    }

    /// One cycle of a lif op's pipeline and spike queue: the group at the last stage is updated (the shared lif kernel
    /// on scratch copies of its state) and leaves only if its spikes fit the queue. Returns true when the last group
    /// left this cycle.
    func lifCycle(_ run: inout LifRun, _ l: LifRecord, _ c: Int64, _ base: Int64, _ t: Int, _ trace: Bool, _ record: Bool,
                  _ ctx: SampleContext, _ tmp: LifScratch, _ sig: inout [CycleSignal]) -> Bool {
        let spec = tm.spec
        let ni = l.population
        let pd = p.neurons[ni]
        if c > run.start && run.occupancy > 0 {
            run.occupancy = max(0, run.occupancy - spec.routerSpikesPerCycle)
        }
        let groups = (pd.size + spec.neuronUnits - 1) / spec.neuronUnits
        var lastLeft = false
        if run.nextGroup < groups && c >= run.exitReady {
            let lo = run.nextGroup * spec.neuronUnits, hi = min(pd.size, lo + spec.neuronUnits)
            let st = tmp.state[ni]
            for (k, v) in st.enumerated() { (v + lo).update(from: ctx.state[ni][k] + lo, count: hi - lo) }
            let ns: Int
            if let kernel = exec.modelKernels[ni] {
                ns = kernel.update(lo: lo, hi: hi, input: ctx.values + l.input, state: st, count: nil, countMax: 0,
                                   out: ctx.values + l.out, trace: tmp.trace[ni], spikes: tmp.spikes)
            } else {
                var params = exec.lifParams[ni]
                ns = Int(xbar_lif(&params, Int64(lo), Int64(hi), ctx.values + l.input, st[0], st[1], st[2], nil, ctx.values + l.out,
                                  tmp.trace[ni], tmp.spikes))
            }
            if run.occupancy + ns <= spec.routerQueue {
                for (k, v) in st.enumerated() { (ctx.state[ni][k] + lo).update(from: v + lo, count: hi - lo) }
                for i in lo..<hi { ctx.count[ni][i] = min(ctx.count[ni][i] + ctx.values[l.out + i], pd.countType.max) }
                for e in 0..<ns { run.spikes.append(tmp.spikes[e]) }
                if trace {
                    traceRows(&ctx.traces[ni], lo, hi, pd.size, ctx.values + l.input, tmp.trace[ni], pd.synapse == nil || pd.model != nil ? nil : st[2])
                    if let names = exec.stateNames[ni], hi == pd.size { ctx.traceState(ni, names) }
                }
                if record { recordGroup(&sig, base + c, pd, ni, lo, hi, ns, l, ctx, tmp) }
                run.occupancy += ns
                run.nextGroup += 1
                run.exitReady = c + Int64(exec.groupCycles[ni])
                if run.nextGroup == groups {
                    run.finish = c + 1
                    lastLeft = true
                }
            }
            if record { sig.append(CycleSignal(cycle: base + c, kind: .queue(population: ni), index: 0, value: Int64(run.occupancy))) }
        }
        if let f = run.finish, run.occupancy == 0, run.delivered == nil {
            run.delivered = max(f, c + 1)
        }
        return lastLeft
    }

    /// The signals of one neuron group leaving the pipeline.
    func recordGroup(_ sig: inout [CycleSignal], _ cycle: Int64, _ pd: NeuronDecl, _ ni: Int, _ lo: Int, _ hi: Int, _ ns: Int,
                     _ l: LifRecord, _ ctx: SampleContext, _ tmp: LifScratch) {
        for i in lo..<hi { sig.append(CycleSignal(cycle: cycle, kind: .membrane(population: ni), index: i, value: ctx.mem[ni][i])) }
        for e in 0..<ns { sig.append(CycleSignal(cycle: cycle, kind: .spike(population: ni), index: Int(tmp.spikes[e]), value: 1)) }
        for i in lo..<hi { sig.append(CycleSignal(cycle: cycle, kind: .input(population: ni), index: i, value: ctx.values[l.input + i])) }
        for i in lo..<hi { sig.append(CycleSignal(cycle: cycle, kind: .refractory(population: ni), index: i, value: ctx.refr[ni][i])) }
        for i in lo..<hi { sig.append(CycleSignal(cycle: cycle, kind: .count(population: ni), index: i, value: ctx.count[ni][i])) }
    }

    /// Records one group's membrane (and synaptic current, when the population has a synapse) in the step's trace.
    func traceRows(_ tr: inout PopulationTrace, _ lo: Int, _ hi: Int, _ size: Int, _ inp: UnsafePointer<Int64>, _ v: UnsafePointer<Int64>,
                   _ c: UnsafePointer<Int64>?) {
        if lo == 0 {
            tr.preActivation.append(Array(UnsafeBufferPointer(start: inp, count: size)))
            tr.membrane.append([Int64](repeating: 0, count: size))
            if c != nil { tr.synapse.append([Int64](repeating: 0, count: size)) }
        }
        for i in lo..<hi { tr.membrane[tr.membrane.count - 1][i] = v[i] }
        if let c { for i in lo..<hi { tr.synapse[tr.synapse.count - 1][i] = c[i] } }
    }
}

/// Scratch copies of each population's state for the cycle engine's tentative group updates.
final class LifScratch {
    let mem: [UnsafeMutablePointer<Int64>]
    let refr: [UnsafeMutablePointer<Int64>]
    let syn: [UnsafeMutablePointer<Int64>]
    let trace: [UnsafeMutablePointer<Int64>]
    let spikes: UnsafeMutablePointer<Int32>
    /// Scratch state variables per population, in `SampleContext.state` order (lif: mem, refr, syn).
    let state: [[UnsafeMutablePointer<Int64>]]
    let owned: [Bool]

    init(_ exec: ExecutableProgram) {
        let sizes = exec.program.neurons.map { Swift.max($0.size, 1) }
        func buf(_ n: Int) -> UnsafeMutablePointer<Int64> {
            let p = UnsafeMutablePointer<Int64>.allocate(capacity: n)
            p.initialize(repeating: 0, count: n)
            return p
        }
        mem = sizes.map(buf)
        refr = sizes.map(buf)
        syn = sizes.map(buf)
        trace = sizes.map(buf)
        state = sizes.indices.map { [mem, refr, syn] i in exec.stateSlots(i, mem: mem[i], refr: refr[i], syn: syn[i]) { buf(sizes[i]) } }
        owned = exec.initialState.map { $0 != nil }
        spikes = .allocate(capacity: sizes.max() ?? 1)
    }

    deinit {
        for p in mem + refr + syn + trace { p.deallocate() }
        for (i, s) in state.enumerated() where owned[i] { for p in s.dropFirst() { p.deallocate() } }
        spikes.deallocate()
    }
}
