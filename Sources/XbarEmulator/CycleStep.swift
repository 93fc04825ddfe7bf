import XbarEvents

/// One timestep of the cycle engine (docs/timing.md), cycle by cycle: (a) ops issue in program order when their
/// operands are ready and their resource is free, (b) running ops do the work of the cycle (ADC rounds, digital lane
/// chunks, neuron groups leaving the pipeline), (c) ops whose last cycle it was complete. The machine idles forward
/// over cycles in which nothing can change (`CycleEngine.nextCycle`).
struct StepMachine {
    let e: CycleEngine
    let t: Int
    let event: UInt32
    /// Absolute cycle of the step's cycle 0 within the sample.
    let base: Int64
    let record: Bool
    let trace: Bool
    let ctx: SampleContext
    let lifTmp: LifScratch
    /// Signals of this step (absolute cycles), when recording.
    private(set) var signals: [CycleSignal] = []

    private var started: [Bool]
    private var done: [Bool]
    private var startAt: [Int64]
    private var finishAt: [Int64]
    private var delivered: [Int64]
    private var busyUntil: [Int64]
    private var head: [Int]
    private var lifs: [CycleEngine.LifRun?]
    private var pending: Int
    /// Started, not done.
    private var active: [Int] = []
    /// Something completed or freed: try to issue.
    private var dirty = true

    init(_ e: CycleEngine, t: Int, event: UInt32, base: Int64, record: Bool, trace: Bool, ctx: SampleContext,
         lifTmp: LifScratch) {
        self.e = e
        self.t = t
        self.event = event
        self.base = base
        self.record = record
        self.trace = trace
        self.ctx = ctx
        self.lifTmp = lifTmp
        let n = e.p.step.count
        started = [Bool](repeating: false, count: n)
        done = started
        startAt = [Int64](repeating: 0, count: n)
        finishAt = startAt
        delivered = startAt
        busyUntil = [Int64](repeating: 0, count: e.queues.count)
        head = [Int](repeating: 0, count: e.queues.count)
        lifs = [CycleEngine.LifRun?](repeating: nil, count: n)
        pending = n
        for k in 0..<n { ctx.fired[k] = false }
    }

    /// Runs the step to its end; returns its number of cycles.
    mutating func run() -> Int64 {
        var c: Int64 = 0
        while true {
            issue(c)
            work(c)
            completeAll(c)
            if pending == 0 {
                let end = (0..<e.p.step.count).reduce(Int64(0)) { max($0, max(finishAt[$1], delivered[$1])) }
                if c + 1 >= end { return max(end, 0) }
            }
            c = e.nextCycle(after: c, record: record, dirty: dirty, active: active, done: done, finishAt: finishAt)
        }
    }

    /// Whether op k's operands (and the spikes it waits for) are available at cycle c.
    func ready(_ k: Int, _ c: Int64) -> Bool {
        for o in e.tm.operands[k] {
            if let run = lifs[o] {
                // A lif's output vector is complete when its last group leaves the pipeline.
                guard let f = run.finish, f <= c else { return false }
            } else if !(done[o] && finishAt[o] <= c) {
                return false
            }
        }
        for l in e.tm.waitsFor[k] where !(done[l] && delivered[l] <= c) { return false }
        return true
    }

    /// (a) Issue, in program order, until nothing more can start this cycle (zero-duration ops chain).
    mutating func issue(_ c: Int64) {
        var changed = dirty
        dirty = false
        while changed {
            changed = false
            for k in 0..<e.p.step.count where !started[k] && ready(k, c) {
                let r = e.rid[k]
                if r >= 0 {
                    guard e.queues[r][head[r]] == k, busyUntil[r] <= c else { continue }
                    head[r] += 1
                }
                started[k] = true
                startAt[k] = c
                changed = true
                active.append(k)
                start(k, r, c)
            }
        }
    }

    /// Starts op k on resource r at cycle c.
    mutating func start(_ k: Int, _ r: Int, _ c: Int64) {
        switch e.exec.ops[k] {
        case let .read(rd):
            // The driven rows are latched at issue; the column sums (and their read noise) are a pure function of
            // them, so they are computed here and become visible when the read finishes.
            let d = e.kernels.drivenRows(rd, t, ctx)
            e.kernels.countRead(rd, driven: d, ctx)
            ctx.fired[k] = d > 0
            if record {
                for i in 0..<d {
                    signals.append(CycleSignal(cycle: base + c, kind: .wordLine(array: rd.array), index: Int(ctx.rows[i]), value: 1))
                }
            }
            e.kernels.integrate(k, rd, rows: d, event: event, ctx)
        case let .adc(a):
            // Without signals, every round's conversions are computed at issue (they depend only on the finished
            // read); the result becomes visible when the op completes.
            if !record { e.kernels.adc(k, a, event: event, ctx) }
            else if ctx.fired[a.read] { ctx.counters.conversions[k] += Int64(a.length) }
        case let .addSub(a):
            ctx.counters.digitalOps += Int64(a.length)
            if !record { e.kernels.addSub(a, 0, a.length, ctx) }
        case let .scale(sc):
            ctx.counters.digitalOps += Int64(sc.length)
            if !record { e.kernels.scale(sc, 0, sc.length, ctx) }
        case let .lif(l):
            let spacing = Int64(e.exec.groupCycles[l.population])
            lifs[k] = CycleEngine.LifRun(start: c, exitReady: c + Int64(e.tm.spec.neuronPipeline) - 1 + spacing - 1)
            busyUntil[r] = Int64.max  // until its last group leaves the pipeline
            if record { signals.append(CycleSignal(cycle: base + c, kind: .issue, index: k, value: -1)) }
            return
        case .slice, .concat: break
        case let .trace(tr):
            e.kernels.trace(tr, t, ctx)
        case let .modulator(m):
            e.kernels.modulator(m, t, ctx)
        case .stdp, .homeostasis:
            // Pairs and programs at issue; its cycles are what it did (the timing model's learnCycles).
            if case let .stdp(sr) = e.exec.ops[k] { e.kernels.stdp(k, sr, t, ctx) }
            if case let .homeostasis(h) = e.exec.ops[k] { e.kernels.homeostasis(k, h, t, ctx) }
            let dur = Int64(ctx.activity.driven[k])
            if record { signals.append(CycleSignal(cycle: base + c, kind: .issue, index: k, value: dur)) }
            finishAt[k] = c + dur
            if dur > 0 { busyUntil[r] = c + dur } else { complete(k) }
            return
        }
        let dur = e.tm.duration(k, fired: ctx.fired)
        if record { signals.append(CycleSignal(cycle: base + c, kind: .issue, index: k, value: dur)) }
        finishAt[k] = c + dur
        if dur > 0 { busyUntil[r] = c + dur } else { complete(k) }
    }

    /// (b) The work of cycle c of every running op.
    mutating func work(_ c: Int64) {
        let spec = e.tm.spec
        for k in active where !done[k] && (record || e.isLif[k]) {
            switch e.exec.ops[k] {
            case let .adc(a):
                // Round r converts, on every ADC, the r-th of its multiplexed columns.
                let conv = Int64(spec.conversionCycles(bits: a.bits))
                let rel = c - startAt[k] + 1
                guard rel % conv == 0 else { break }
                for j in e.roundColumns[k][Int(rel / conv) - 1] {
                    e.kernels.convert(k, a, j, event: event, ctx)
                    if record { signals.append(CycleSignal(cycle: base + c, kind: .adc(op: k), index: j, value: ctx.values[a.out + j])) }
                }
            case let .addSub(a):
                let lo = Int(c - startAt[k]) * spec.digitalLanes, hi = min(a.length, lo + spec.digitalLanes)
                e.kernels.addSub(a, lo, hi, ctx)
                if record { e.recordLanes(&signals, base + c, k, a.out, lo, hi, ctx) }
            case let .scale(sc):
                let lo = Int(c - startAt[k]) * spec.digitalLanes, hi = min(sc.length, lo + spec.digitalLanes)
                e.kernels.scale(sc, lo, hi, ctx)
                if record { e.recordLanes(&signals, base + c, k, sc.out, lo, hi, ctx) }
            case let .lif(l):
                var run = lifs[k]!
                if e.lifCycle(&run, l, c, base, t, trace, record, ctx, lifTmp, &signals) {
                    busyUntil[e.rid[k]] = c + 1
                    dirty = true
                }
                lifs[k] = run
            default: break
            }
        }
    }

    /// (c) Completion at the end of cycle c.
    mutating func completeAll(_ c: Int64) {
        for k in active where !done[k] {
            if e.isLif[k] {
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
    }

    /// Op k's result becomes visible (slices and concats move their values now).
    mutating func complete(_ k: Int) {
        guard !done[k] else { return }
        switch e.exec.ops[k] {
        case let .slice(sl): e.kernels.slice(sl, ctx)
        case let .concat(cc): e.kernels.concat(cc, ctx)
        case let .adc(a) where record && !ctx.fired[a.read]:
            // Not fired: the ideal code of zero current, no conversion.
            e.kernels.adc(k, a, event: event, ctx)
        default: break
        }
        delivered[k] = finishAt[k]
        done[k] = true
        pending -= 1
    }

    /// Lif op k has delivered its last spike: its spikes enter the population's history.
    mutating func finishLif(_ k: Int, _ run: CycleEngine.LifRun) {
        guard !done[k], case let .lif(l) = e.exec.ops[k] else { return }
        let ni = l.population
        let sorted = run.spikes.sorted()
        let q = e.exec.populationSource[ni]
        let slot = ctx.slot(q, t)
        let ring = ctx.ring[q] + slot * e.exec.sourceSize[q]
        for (i, s) in sorted.enumerated() {
            ring[i] = s
            ctx.spikes[ni].append(Spike(step: Int32(t), neuron: s))
        }
        ctx.ringCount[q][slot] = sorted.count
        ctx.counters.neuronUpdates += Int64(e.p.neurons[ni].size)
        ctx.counters.spikes += Int64(sorted.count)
        done[k] = true
        pending -= 1
    }
}
