import CXbarKernel
import XbarCore
import XbarEvents
import XbarIR

/// One per-cycle signal change recorded by the cycle engine (input to VCD and test vectors).
public struct CycleSignal: Equatable, Sendable {
    /// Absolute cycle within the sample.
    public var cycle: Int64
    /// Signal name: `step`, `wl.<array>` (row index driven), `adc.<op>` (column, code), `mem.<pop>` / `spike.<pop>`
    /// (neuron, value), `queue.<pop>` (occupancy), `busy.<resource>`; for test vectors (docs/vectors.md) also
    /// `issue` (op index, duration in cycles, -1 for a lif), `acc.<op>` (element of a sub/add/scale result, in the
    /// cycle its lane chunk is computed), `in.<pop>` / `refr.<pop>` / `count.<pop>` (neuron: the lif input current,
    /// refractory counter and spike count, with `mem.<pop>` when its group leaves) and `readout.<name>` (class,
    /// accumulator, in the readout's last cycle).
    public var name: String
    public var index: Int
    public var value: Int64
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

    public init(chip: Chip) {
        self.chip = chip
        p = chip.program
        tm = chip.timing
        exec = chip.executable
        kernels = OpKernels(exec: chip.executable, views: ReadViews(exec: chip.executable, state: ChipState(chip: chip), chip: chip),
                            noise: chip.noise, neuronUnits: chip.timing.spec.neuronUnits)
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
        let spec = tm.spec
        let ctx = SampleContext(exec)
        let lifTmp = LifScratch(exec)
        var sig: [CycleSignal] = []
        var base: Int64 = 0
        let n = p.step.count

        for t in 0..<p.timesteps {
            let event = UInt32(truncatingIfNeeded: index &* p.timesteps &+ t)
            ctx.beginStep(t, input: t < sample.active.count ? sample.active[t] : [])
            if record { sig.append(CycleSignal(cycle: base, name: "step", index: 0, value: Int64(t))) }
            var started = [Bool](repeating: false, count: n)
            var done = [Bool](repeating: false, count: n)
            var startAt = [Int64](repeating: 0, count: n), finishAt = [Int64](repeating: 0, count: n)
            var delivered = [Int64](repeating: 0, count: n)
            var busyUntil = [Int64](repeating: 0, count: queues.count)
            var head = [Int](repeating: 0, count: queues.count)
            var lifs = [LifRun?](repeating: nil, count: n)
            var pending = n
            var c: Int64 = 0
            var active: [Int] = []   // started, not done
            var dirty = true         // something completed or freed: try to issue
            for k in 0..<n { ctx.fired[k] = false }

            func ready(_ k: Int, _ c: Int64) -> Bool {
                for o in tm.operands[k] {
                    if let run = lifs[o] {
                        // A lif's output vector is complete when its last group leaves the pipeline.
                        guard let f = run.finish, f <= c else { return false }
                    } else if !(done[o] && finishAt[o] <= c) {
                        return false
                    }
                }
                for l in tm.waitsFor[k] where !(done[l] && delivered[l] <= c) { return false }
                return true
            }

            while true {
                // a. Issue, in program order, until nothing more can start this cycle (zero-duration ops chain).
                var changed = dirty
                dirty = false
                while changed {
                    changed = false
                    for k in 0..<n where !started[k] && ready(k, c) {
                        let r = rid[k]
                        if r >= 0 {
                            guard queues[r][head[r]] == k, busyUntil[r] <= c else { continue }
                            head[r] += 1
                        }
                        started[k] = true
                        startAt[k] = c
                        changed = true
                        active.append(k)
                        switch exec.ops[k] {
                        case let .read(rd):
                            // The driven rows are latched at issue; the column sums (and their read noise) are a pure
                            // function of them, so they are computed here and become visible when the read finishes.
                            let d = kernels.drivenRows(rd, t, ctx)
                            kernels.countRead(rd, driven: d, ctx)
                            ctx.fired[k] = d > 0
                            if record {
                                let name = "wl.\(p.arrays[rd.array].name)"
                                for i in 0..<d { sig.append(CycleSignal(cycle: base + c, name: name, index: Int(ctx.rows[i]), value: 1)) }
                            }
                            kernels.integrate(k, rd, rows: d, event: event, ctx)
                        case let .adc(a):
                            // Without signals, every round's conversions are computed at issue (they depend only on
                            // the finished read); the result becomes visible when the op completes.
                            if !record { kernels.adc(k, a, event: event, ctx) }
                            else if ctx.fired[a.read] { ctx.counters.conversions[k] += Int64(a.length) }
                        case let .addSub(a):
                            ctx.counters.digitalOps += Int64(a.length)
                            if !record { kernels.addSub(a, 0, a.length, ctx) }
                        case let .scale(sc):
                            ctx.counters.digitalOps += Int64(sc.length)
                            if !record { kernels.scale(sc, 0, sc.length, ctx) }
                        case .lif:
                            lifs[k] = LifRun(start: c, exitReady: c + Int64(spec.neuronPipeline) - 1)
                            busyUntil[r] = Int64.max  // until its last group leaves the pipeline
                        case .slice, .concat: break
                        }
                        if case .lif = exec.ops[k] {
                            if record { sig.append(CycleSignal(cycle: base + c, name: "issue", index: k, value: -1)) }
                            continue
                        }
                        let dur = tm.duration(k, fired: ctx.fired)
                        if record { sig.append(CycleSignal(cycle: base + c, name: "issue", index: k, value: dur)) }
                        finishAt[k] = c + dur
                        if dur > 0 { busyUntil[r] = c + dur } else {
                            complete(k)
                        }
                    }
                }

                // b. Work of cycle c for running ops.
                for k in active where !done[k] && (record || isLif[k]) {
                    switch exec.ops[k] {
                    case let .adc(a):
                        // Round r converts, on every ADC, the r-th of its multiplexed columns.
                        let conv = Int64(spec.conversionCycles(bits: a.bits))
                        let rel = c - startAt[k] + 1
                        if rel % conv == 0 {
                            let round = Int(rel / conv) - 1
                            for j in roundColumns[k][round] {
                                kernels.convert(k, a, j, event: event, ctx)
                                if record {
                                    sig.append(CycleSignal(cycle: base + c, name: "adc.\(p.step[k].result)", index: j, value: ctx.values[a.out + j]))
                                }
                            }
                        }
                    case let .addSub(a):
                        let lo = Int(c - startAt[k]) * spec.digitalLanes, hi = min(a.length, lo + spec.digitalLanes)
                        kernels.addSub(a, lo, hi, ctx)
                        if record { recordLanes(&sig, base + c, k, a.out, lo, hi, ctx) }
                    case let .scale(sc):
                        let lo = Int(c - startAt[k]) * spec.digitalLanes, hi = min(sc.length, lo + spec.digitalLanes)
                        kernels.scale(sc, lo, hi, ctx)
                        if record { recordLanes(&sig, base + c, k, sc.out, lo, hi, ctx) }
                    case let .lif(l):
                        var run = lifs[k]!
                        if lifCycle(&run, l, c, base, t, trace, record, ctx, lifTmp, &sig) {
                            busyUntil[rid[k]] = c + 1
                            dirty = true
                        }
                        lifs[k] = run
                    default: break
                    }
                }

                // c. Completion at the end of cycle c.
                for k in active where !done[k] {
                    if isLif[k] {
                        if let run = lifs[k], let f = run.finish, let d = run.delivered {
                            finishAt[k] = f
                            delivered[k] = d
                            finishLif(k, run)
                        }
                    } else if finishAt[k] <= c + 1 {
                        complete(k)
                    }
                }
                if active.contains(where: { done[$0] }) {
                    active.removeAll { done[$0] }
                    dirty = true
                }
                if pending == 0 {
                    let end = (0..<n).reduce(Int64(0)) { max($0, max(finishAt[$1], delivered[$1])) }
                    if c + 1 >= end {
                        base += max(end, 0)
                        break
                    }
                }
                c = nextCycle(after: c, record: record, dirty: dirty, active: active, done: done, finishAt: finishAt)
            }

            func complete(_ k: Int) {
                guard !done[k] else { return }
                switch exec.ops[k] {
                case let .slice(sl): kernels.slice(sl, ctx)
                case let .concat(cc): kernels.concat(cc, ctx)
                case let .adc(a) where record && !ctx.fired[a.read]:
                    // Not fired: the ideal code of zero current, no conversion.
                    kernels.adc(k, a, event: event, ctx)
                default: break
                }
                delivered[k] = finishAt[k]
                done[k] = true
                pending -= 1
            }

            func finishLif(_ k: Int, _ run: LifRun) {
                guard !done[k], case let .lif(l) = exec.ops[k] else { return }
                let ni = l.population
                let sorted = run.spikes.sorted()
                let q = exec.populationSource[ni]
                let slot = ctx.slot(q, t)
                let ring = ctx.ring[q] + slot * exec.sourceSize[q]
                for (e, s) in sorted.enumerated() {
                    ring[e] = s
                    ctx.spikes[ni].append(Spike(step: Int32(t), neuron: s))
                }
                ctx.ringCount[q][slot] = sorted.count
                ctx.counters.neuronUpdates += Int64(p.neurons[ni].size)
                ctx.counters.spikes += Int64(sorted.count)
                done[k] = true
                pending -= 1
            }
        }
        // Readout: MAC units step through classes x neurons.
        var readoutSignals: [CycleSignal] = []
        for (ri, r) in p.readouts.enumerated() {
            let nn = p.neurons[exec.readoutPopulation[ri]].size
            base += Int64((r.classes * nn + spec.readoutMACs - 1) / spec.readoutMACs)
            if record {
                let cnt = Array(UnsafeBufferPointer(start: ctx.count[exec.readoutPopulation[ri]], count: nn))
                for (kk, y) in OpKernels.readout(r, counts: cnt).enumerated() {
                    readoutSignals.append(CycleSignal(cycle: base - 1, name: "readout.\(r.name)", index: kk, value: y))
                }
            }
        }
        sig += readoutSignals
        ctx.counters.cycles = base
        return (kernels.finish(ctx, trace: trace), sig)
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
        let name = "acc.\(p.step[k].result)"
        for i in lo..<hi { sig.append(CycleSignal(cycle: cycle, name: name, index: i, value: ctx.values[out + i])) }
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
            let m = tmp.mem[ni], rf = tmp.refr[ni], sy = tmp.syn[ni]
            for i in lo..<hi { m[i] = ctx.mem[ni][i]; rf[i] = ctx.refr[ni][i]; sy[i] = ctx.syn[ni][i] }
            var params = exec.lifParams[ni]
            let ns = Int(xbar_lif(&params, Int64(lo), Int64(hi), ctx.values + l.input, m, rf, sy, nil, ctx.values + l.out,
                                  tmp.trace[ni], tmp.spikes))
            if run.occupancy + ns <= spec.routerQueue {
                for i in lo..<hi {
                    ctx.mem[ni][i] = m[i]
                    ctx.refr[ni][i] = rf[i]
                    ctx.syn[ni][i] = sy[i]
                    ctx.count[ni][i] = min(ctx.count[ni][i] + ctx.values[l.out + i], pd.countType.max)
                }
                for e in 0..<ns { run.spikes.append(tmp.spikes[e]) }
                if trace { traceRows(&ctx.traces[ni], lo, hi, pd.size, ctx.values + l.input, tmp.trace[ni], pd.synapse == nil ? nil : sy) }
                if record { recordGroup(&sig, base + c, pd, ni, lo, hi, ns, l, ctx, tmp) }
                run.occupancy += ns
                run.nextGroup += 1
                run.exitReady = c + 1
                if run.nextGroup == groups {
                    run.finish = c + 1
                    lastLeft = true
                }
            }
            if record { sig.append(CycleSignal(cycle: base + c, name: "queue.\(pd.name)", index: 0, value: Int64(run.occupancy))) }
        }
        if let f = run.finish, run.occupancy == 0, run.delivered == nil {
            run.delivered = max(f, c + 1)
        }
        return lastLeft
    }

    /// The signals of one neuron group leaving the pipeline.
    func recordGroup(_ sig: inout [CycleSignal], _ cycle: Int64, _ pd: NeuronDecl, _ ni: Int, _ lo: Int, _ hi: Int, _ ns: Int,
                     _ l: LifRecord, _ ctx: SampleContext, _ tmp: LifScratch) {
        let pop = pd.name
        for i in lo..<hi { sig.append(CycleSignal(cycle: cycle, name: "mem.\(pop)", index: i, value: ctx.mem[ni][i])) }
        for e in 0..<ns { sig.append(CycleSignal(cycle: cycle, name: "spike.\(pop)", index: Int(tmp.spikes[e]), value: 1)) }
        for i in lo..<hi { sig.append(CycleSignal(cycle: cycle, name: "in.\(pop)", index: i, value: ctx.values[l.input + i])) }
        for i in lo..<hi { sig.append(CycleSignal(cycle: cycle, name: "refr.\(pop)", index: i, value: ctx.refr[ni][i])) }
        for i in lo..<hi { sig.append(CycleSignal(cycle: cycle, name: "count.\(pop)", index: i, value: ctx.count[ni][i])) }
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
        spikes = .allocate(capacity: sizes.max() ?? 1)
    }

    deinit {
        for p in mem + refr + syn + trace { p.deallocate() }
        spikes.deallocate()
    }
}
