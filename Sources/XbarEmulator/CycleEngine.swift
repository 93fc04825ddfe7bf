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
    let arrayIndex: [String: Int]
    let neuronIndex: [String: Int]
    let units: [NeuronUnit]
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
        arrayIndex = Dictionary(uniqueKeysWithValues: p.arrays.enumerated().map { ($0.element.name, $0.offset) })
        neuronIndex = Dictionary(uniqueKeysWithValues: p.neurons.enumerated().map { ($0.element.name, $0.offset) })
        units = p.neurons.map(NeuronUnit.init)
        let na = p.arrays.count
        rid = tm.resource.map {
            switch $0 {
            case let .array(a): return a
            case .digital: return na
            case .neuron: return na + 1
            case .none: return -1
            }
        }
        var qs = [[Int]](repeating: [], count: na + 2)
        for (k, r) in rid.enumerated() where r >= 0 { qs[r].append(k) }
        queues = qs
        // Column c is the (c - first column of its ADC in range)-th conversion of ADC c / cols_per_adc.
        isLif = chip.program.step.map { if case .lif = $0.kind { return true } else { return false } }
        isRead = chip.program.step.map { if case .read = $0.kind { return true } else { return false } }
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
        var counters = Counters()
        var sig: [CycleSignal] = []
        var mem = p.neurons.map { [Int64](repeating: 0, count: $0.size) }
        var refr = mem, count = mem, syn = mem
        var history = SpikeHistory(program: p)
        var spikes = [[Spike]](repeating: [], count: p.neurons.count)
        var traces = [PopulationTrace](repeating: PopulationTrace(), count: p.neurons.count)
        var base: Int64 = 0
        let n = p.step.count

        for t in 0..<p.timesteps {
            let event = UInt32(truncatingIfNeeded: index &* p.timesteps &+ t)
            for pd in p.neurons { history.set(history.index[pd.name]!, step: t, []) }
            for i in p.inputs {
                history.set(history.index[i.name]!, step: t, binding.active(sample, input: i.name, size: i.size, step: t))
            }
            if record { sig.append(CycleSignal(cycle: base, name: "step", index: 0, value: Int64(t))) }
            var values = [[Int64]](repeating: [], count: n)
            var started = [Bool](repeating: false, count: n)
            var done = [Bool](repeating: false, count: n)
            var startAt = [Int64](repeating: 0, count: n), finishAt = [Int64](repeating: 0, count: n)
            var delivered = [Int64](repeating: 0, count: n)
            var fired = [Bool](repeating: false, count: n)
            var rows = [[Int32]](repeating: [], count: n)
            var busyUntil = [Int64](repeating: 0, count: queues.count)
            var head = [Int](repeating: 0, count: queues.count)
            var lifs = [LifRun?](repeating: nil, count: n)
            var pending = n
            var c: Int64 = 0
            var active: [Int] = []   // started, not done
            var dirty = true         // something completed or freed: try to issue

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
                        let op = p.step[k]
                        switch op.kind {
                        case let .read(a, rs, _, cpw, _, _):
                            var drv: [Int32] = []
                            var all = 0
                            for s in rs {
                                all += s.count
                                let act = history.active(history.index[s.source]!, delay: s.delay, step: t)
                                for x in act where x >= Int32(s.srcStart) && x < Int32(s.srcStart + s.count) {
                                    drv.append(Int32(s.rowStart) + x - Int32(s.srcStart))
                                }
                            }
                            rows[k] = drv
                            fired[k] = !drv.isEmpty
                            let d = Int64(drv.count)
                            counters.wlActivations += d
                            counters.cellReads += d * Int64(op.length)
                            counters.synapticEvents += d * Int64(op.length / cpw)
                            counters.denseSynapticOps += Int64(all) * Int64(op.length / cpw)
                            if record { for r in drv { sig.append(CycleSignal(cycle: base + c, name: "wl.\(a)", index: Int(r), value: 1)) } }
                            _ = a
                        case let .adc(_, bits, _, _, _):
                            values[k] = [Int64](repeating: 0, count: op.length)
                            if fired[tm.operands[k][0]] { counters.adcConversions[bits, default: 0] += Int64(op.length) }
                        case .add, .sub, .scale:
                            values[k] = [Int64](repeating: 0, count: op.length)
                            counters.digitalOps += Int64(op.length)
                        case .lif:
                            lifs[k] = LifRun(start: c, exitReady: c + Int64(spec.neuronPipeline) - 1)
                            busyUntil[r] = Int64.max  // until its last group leaves the pipeline
                            values[k] = [Int64](repeating: 0, count: op.length)
                        case .slice, .concat: break
                        }
                        if case .lif = op.kind {
                            if record { sig.append(CycleSignal(cycle: base + c, name: "issue", index: k, value: -1)) }
                            continue
                        }
                        let dur = tm.duration(k, fired: fired)
                        if record { sig.append(CycleSignal(cycle: base + c, name: "issue", index: k, value: dur)) }
                        finishAt[k] = c + dur
                        if dur > 0 { busyUntil[r] = c + dur } else {
                            complete(k)
                        }
                    }
                }

                // b. Work of cycle c for running ops.
                for k in active where !done[k] {
                    if isRead[k] && c != finishAt[k] - 1 { continue }
                    let op = p.step[k]
                    switch op.kind {
                    case let .read(a, _, c0, _, _, _):
                        if c == finishAt[k] - 1 { values[k] = integrate(k, a, c0, op, rows[k], event, &counters) }
                    case let .adc(_, bits, lsb, offset, rounding):
                        // Round r converts, on every ADC, the r-th of its multiplexed columns.
                        let conv = Int64(spec.conversionCycles(bits: bits))
                        let rel = c - startAt[k] + 1
                        if rel % conv == 0 {
                            let round = Int(rel / conv) - 1
                            let xi = tm.operands[k][0]
                            for j in roundColumns[k][round] {
                                values[k][j] = convert(k, j, values[xi][j], lsb, offset, rounding, op.type.max, event)
                                if record { sig.append(CycleSignal(cycle: base + c, name: "adc.\(op.result)", index: j, value: values[k][j])) }
                            }
                        }
                    case let .add(_, _, ovf), let .sub(_, _, ovf):
                        let lo = Int(c - startAt[k]) * spec.digitalLanes
                        let va = values[tm.operands[k][0]], vb = values[tm.operands[k][1]]
                        let isAdd: Bool = { if case .add = op.kind { return true } else { return false } }()
                        for i in lo..<min(op.length, lo + spec.digitalLanes) {
                            values[k][i] = Fixed.fit(isAdd ? va[i] + vb[i] : va[i] - vb[i], op.type, ovf)
                            if record { sig.append(CycleSignal(cycle: base + c, name: "acc.\(op.result)", index: i, value: values[k][i])) }
                        }
                    case let .scale(_, mul, shift, rounding, ovf):
                        let lo = Int(c - startAt[k]) * spec.digitalLanes
                        let vx = values[tm.operands[k][0]]
                        for i in lo..<min(op.length, lo + spec.digitalLanes) {
                            values[k][i] = Fixed.fit(Fixed.shiftRight(vx[i] * mul, shift, rounding), op.type, ovf)
                            if record { sig.append(CycleSignal(cycle: base + c, name: "acc.\(op.result)", index: i, value: values[k][i])) }
                        }
                    case let .lif(pop, input):
                        var run = lifs[k]!
                        let ni = neuronIndex[pop]!
                        let pd = p.neurons[ni]
                        if c > run.start && run.occupancy > 0 {
                            run.occupancy = max(0, run.occupancy - spec.routerSpikesPerCycle)
                        }
                        let groups = (pd.size + spec.neuronUnits - 1) / spec.neuronUnits
                        if run.nextGroup < groups && c >= run.exitReady {
                            let lo = run.nextGroup * spec.neuronUnits, hi = min(pd.size, lo + spec.neuronUnits)
                            let inp = values[opIndex(input)]
                            // The group at the last stage: its update is known; it leaves only if its spikes fit.
                            var m = Array(mem[ni][lo..<hi]), rf = Array(refr[ni][lo..<hi]), sy = Array(syn[ni][lo..<hi])
                            var sp: [Int32] = [], trV: [Int64] = []
                            for i in lo..<hi {
                                let o = i - lo
                                let (s, v) = units[ni].update(i, input: inp[i], mem: &m[o], refr: &rf[o], syn: &sy[o])
                                trV.append(v)
                                if s { sp.append(Int32(i)) }
                            }
                            if run.occupancy + sp.count <= spec.routerQueue {
                                mem[ni].replaceSubrange(lo..<hi, with: m)
                                refr[ni].replaceSubrange(lo..<hi, with: rf)
                                syn[ni].replaceSubrange(lo..<hi, with: sy)
                                for i in lo..<hi {
                                    let s: Int64 = sp.contains(Int32(i)) ? 1 : 0
                                    values[k][i] = s
                                    count[ni][i] = Fixed.fit(count[ni][i] + s, pd.countType, .sat)
                                }
                                if trace {
                                    run.spikes += sp
                                    traceRows(&traces[ni], lo, hi, pd.size, inp, trV, pd.synapse == nil ? nil : sy)
                                }
                                else { run.spikes += sp }
                                if record {
                                    for i in lo..<hi { sig.append(CycleSignal(cycle: base + c, name: "mem.\(pop)", index: i, value: mem[ni][i])) }
                                    for s in sp { sig.append(CycleSignal(cycle: base + c, name: "spike.\(pop)", index: Int(s), value: 1)) }
                                    for i in lo..<hi { sig.append(CycleSignal(cycle: base + c, name: "in.\(pop)", index: i, value: inp[i])) }
                                    for i in lo..<hi { sig.append(CycleSignal(cycle: base + c, name: "refr.\(pop)", index: i, value: refr[ni][i])) }
                                    for i in lo..<hi { sig.append(CycleSignal(cycle: base + c, name: "count.\(pop)", index: i, value: count[ni][i])) }
                                }
                                run.occupancy += sp.count
                                run.nextGroup += 1
                                run.exitReady = c + 1
                                if run.nextGroup == groups {
                                    run.finish = c + 1
                                    busyUntil[rid[k]] = c + 1
                                    dirty = true
                                }
                            }
                            if record { sig.append(CycleSignal(cycle: base + c, name: "queue.\(pop)", index: 0, value: Int64(run.occupancy))) }
                        }
                        if let f = run.finish, run.occupancy == 0, run.delivered == nil {
                            run.delivered = max(f, c + 1)
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
                            finishLif(k, run, ni: neuronIndex[{ if case let .lif(pp, _) = p.step[k].kind { return pp } else { return "" } }()]!)
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
                c += 1
            }

            func complete(_ k: Int) {
                guard !done[k] else { return }
                let op = p.step[k]
                switch op.kind {
                case let .slice(x, s, st): values[k] = (0..<op.length).map { values[opIndex(x)][s + $0 * st] }
                case let .concat(os): values[k] = os.flatMap { values[opIndex($0)] }
                case let .read(a, _, c0, _, _, _) where rows[k].isEmpty:
                    _ = a; _ = c0
                    values[k] = [Int64](repeating: 0, count: op.length)
                case let .adc(x, _, lsb, offset, rounding) where !fired[tm.operands[k][0]]:
                    // Not fired: the ideal code of zero current, no conversion.
                    values[k] = values[opIndex(x)].map { v in
                        let cd = Fixed.divide(v - offset, by: lsb, rounding)
                        return min(max(cd, 0), op.type.max)
                    }
                default: break
                }
                delivered[k] = finishAt[k]
                done[k] = true
                pending -= 1
            }

            func finishLif(_ k: Int, _ run: LifRun, ni: Int) {
                guard !done[k] else { return }
                let sorted = run.spikes.sorted()
                history.set(history.index[p.neurons[ni].name]!, step: t, sorted)
                for s in sorted { spikes[ni].append(Spike(step: Int32(t), neuron: s)) }
                counters.neuronUpdates += Int64(p.neurons[ni].size)
                counters.spikes += Int64(sorted.count)
                done[k] = true
                pending -= 1
            }
        }
        counters.timesteps = Int64(p.timesteps)
        // Readout: MAC units step through classes x neurons.
        var result = SampleResult()
        for r in p.readouts {
            let cnt = count[neuronIndex[r.source]!]
            let nn = cnt.count
            var acc = r.bias.map { Int64($0) }
            var i = 0
            while i < r.classes * nn {
                for m in i..<min(i + spec.readoutMACs, r.classes * nn) { acc[m / nn] += Int64(r.weights[m]) * cnt[m % nn] }
                i += spec.readoutMACs
                base += 1
            }
            counters.readoutMACs += Int64(r.classes * nn)
            result.readout[r.name] = acc.map { Fixed.fit($0, r.accType, r.accOverflow) }
            if record {
                for (kk, y) in result.readout[r.name]!.enumerated() { sig.append(CycleSignal(cycle: base - 1, name: "readout.\(r.name)", index: kk, value: y)) }
            }
        }
        counters.cycles = base
        result.storePopulations(p.neurons, spikes: spikes, counts: count, membrane: mem, synapse: syn, traces: trace ? traces : nil)
        result.counters = counters
        return (result, sig)
    }

    func opIndex(_ name: String) -> Int { tm.index[name]! }

    func integrate(_ k: Int, _ a: String, _ c0: Int, _ op: Op, _ drv: [Int32], _ event: UInt32, _ counters: inout Counters) -> [Int64] {
        let ai = arrayIndex[a]!
        let arr = p.arrays[ai]
        var out = [Int64](repeating: 0, count: op.length)
        for r in drv {
            let base = Int(r) * arr.cols + c0
            for j in 0..<op.length { out[j] += Int64(chip.codes[ai][base + j]) }
        }
        counters.columnIntegrations += Int64(op.length)
        counters.readCodeSums[k, default: 0] += out.reduce(0, +)
        if let n = chip.noise, n.readNoise, let v = chip.variance[ai] {
            var vs = [Int64](repeating: 0, count: op.length)
            for r in drv {
                let base = Int(r) * arr.cols + c0
                for j in 0..<op.length { vs[j] += Int64(v[base + j]) }
            }
            n.readVector(&out, varianceSums: vs, op: k, colStart: c0, event: event, maxValue: op.type.max)
        }
        return out
    }

    func convert(_ k: Int, _ j: Int, _ x: Int64, _ lsb: Int64, _ offset: Int64, _ r: Rounding, _ hi: Int64, _ event: UInt32) -> Int64 {
        var v = x
        if let st = chip.adcStatic[k], let n = chip.noise {
            v = n.adcInput(v, offset: st[j].offset, gain: st[j].gain, op: k, column: j, event: event)
        }
        let c = Fixed.divide(v - offset, by: lsb, r)
        return c < 0 ? 0 : (c > hi ? hi : c)
    }

    /// Records one group's membrane (and synaptic current, when the population has a synapse) in the step's trace.
    func traceRows(_ tr: inout PopulationTrace, _ lo: Int, _ hi: Int, _ size: Int, _ inp: [Int64], _ v: [Int64], _ c: [Int64]?) {
        if lo == 0 {
            tr.preActivation.append(inp)
            tr.membrane.append([Int64](repeating: 0, count: size))
            if c != nil { tr.synapse.append([Int64](repeating: 0, count: size)) }
        }
        for i in lo..<hi { tr.membrane[tr.membrane.count - 1][i] = v[i - lo] }
        if let c { for i in lo..<hi { tr.synapse[tr.synapse.count - 1][i] = c[i - lo] } }
    }
}
