import XbarCore
import XbarEvents
import XbarIR

/// The overflow report of one exact run: the first `ExactEngine.maxStoredEvents` events in execution order, and
/// the exact number of all of them.
public struct ExactReport: Equatable, Sendable {
    /// The first events (at most `ExactEngine.maxStoredEvents`), in the order they happened.
    public var events: [OverflowEvent] = []
    /// How many events happened in total (may exceed `events.count`).
    public var total: Int = 0
    public init(events: [OverflowEvent] = [], total: Int = 0) {
        self.events = events
        self.total = total
    }
}

/// The exact engine: an independent interpreter of docs/ir.md on arbitrary-precision integers (GMP).
///
/// Every value is computed as a mathematical integer first; wherever an explicit fit (`sat` or `wrap`) changes a
/// value, an `OverflowEvent` is recorded:
/// - op results (`add`, `sub`, `scale`, and `adc` clamping, also when the ADC is not fired): site = the op's result
///   name, index = element;
/// - `lif`: site `@POP.syn` (the fit of the synaptic current c, populations with a synapse), `@POP.mem` (the fit of
///   `v`, and of `v - TH` on a subtract reset) and `@POP.count` (the saturating spike counter), index = neuron;
/// - readouts: site `@READOUT`, index = class, step = timesteps - 1 (readouts run at the end of the last step).
///
/// Results (spikes, counts, readouts, counters, traces) must equal `FastEngine`'s bit for bit.
public struct ExactEngine: Sendable {
    public let chip: Chip
    /// At most this many events are stored per run; `ExactReport.total` keeps counting past it.
    public static let maxStoredEvents = 1000
    let arrayIndex: [String: Int]
    let neuronIndex: [String: Int]
    /// The cells a plastic program reads and writes (nil: the chip as realised, read only).
    public let learning: LearningChip?

    public init(chip: Chip, learning: LearningChip? = nil) {
        self.chip = chip
        self.learning = learning ?? (chip.program.isPlastic ? LearningChip(chip: chip) : nil)
        var a: [String: Int] = [:], n: [String: Int] = [:]
        for (i, d) in chip.program.arrays.enumerated() { a[d.name] = i }
        for (i, d) in chip.program.neurons.enumerated() { n[d.name] = i }
        arrayIndex = a
        neuronIndex = n
    }

    /// Runs one sample; returns the result and the overflow report (the first `maxStoredEvents` events plus the
    /// exact total).
    /// `index` is the sample's position in its dataset: the event counter of per-read noise.
    public func run(_ sample: SpikeRaster, index: Int = 0, binding: InputBinding, trace: Bool = false) -> (SampleResult, ExactReport) {
        var st = ExactState(engine: self, sample: sample, binding: binding, trace: trace)
        st.sampleIndex = index
        st.runAll()
        return (st.finish(), st.report)
    }

}

/// Mutable interpreter state of one exact run.
struct ExactState {
    let p: Program
    let chip: Chip
    let learning: LearningChip?
    /// State of the trace and stdp ops (values that persist across steps), by result name.
    var learnState: [String: [MPZ]] = [:]
    let arrayIndex: [String: Int]
    let neuronIndex: [String: Int]
    let sample: SpikeRaster
    let binding: InputBinding
    let trace: Bool

    var report = ExactReport()
    var counters = Counters()
    /// Bounds (min, max) per type.
    var bounds: [IntType: (MPZ, MPZ)] = [:]

    // Values of the current step, by result name.
    var values: [String: [MPZ]] = [:]
    /// Whether a read result drove at least one row this step.
    var readDrove: [String: Bool] = [:]

    /// Spike history per source (inputs and neuron populations): ring[(t - d) mod depth] = the spikes of step
    /// t - d, depth = 1 + the largest delay any row source reads the source at.
    var ring: [String: [[Bool]]] = [:]

    // Neuron state by population name.
    var mem: [String: [MPZ]] = [:]
    var syn: [String: [MPZ]] = [:]
    var refr: [String: [Int]] = [:]
    var count: [String: [MPZ]] = [:]
    /// State variables of populations of registered models, in the model's `stateNames` order.
    var modelState: [String: [[MPZ]]] = [:]
    var spikeList: [String: [Spike]] = [:]
    var traces: [String: PopulationTrace] = [:]

    var readoutValues: [String: [Int64]] = [:]
    var sampleIndex = 0
    /// What the timing model needs about the current step.
    var activity = StepActivity(ops: 0)

    init(engine: ExactEngine, sample: SpikeRaster, binding: InputBinding, trace: Bool) {
        chip = engine.chip
        learning = engine.learning
        p = chip.program
        arrayIndex = engine.arrayIndex
        neuronIndex = engine.neuronIndex
        self.sample = sample
        self.binding = binding
        self.trace = trace
        var depth: [String: Int] = [:]
        for op in p.step {
            switch op.kind {
            case let .read(_, rows, _, _, _, _): for rs in rows { depth[rs.source] = max(depth[rs.source] ?? 1, rs.delay + 1) }
            case let .trace(src, d, _, _, _, _): depth[src] = max(depth[src] ?? 1, d + 1)
            case let .stdp(r): depth[r.row.source] = max(depth[r.row.source] ?? 1, r.row.delay + 1)
            case let .modulator(m): for s in m.sources { depth[s.source] = max(depth[s.source] ?? 1, s.delay + 1) }
            default: break
            }
            if case .trace = op.kind { learnState[op.result] = (0..<op.length).map { _ in MPZ(0) } }
            if case .stdp = op.kind { learnState[op.result] = (0..<op.length).map { _ in MPZ(0) } }
            if case let .modulator(m) = op.kind { learnState[op.result] = [MPZ(m.initial)] }
            if case .homeostasis = op.kind { learnState[op.result] = (0..<op.length).map { _ in MPZ(0) } }
        }
        for (name, size) in p.inputs.map({ ($0.name, $0.size) }) + p.neurons.map({ ($0.name, $0.size) }) {
            ring[name] = [[Bool]](repeating: [Bool](repeating: false, count: size), count: depth[name] ?? 1)
        }
        for n in p.neurons {
            mem[n.name] = (0..<n.size).map { _ in MPZ(0) }
            if n.synapse != nil { syn[n.name] = (0..<n.size).map { _ in MPZ(0) } }
            refr[n.name] = [Int](repeating: 0, count: n.size)
            count[n.name] = (0..<n.size).map { _ in MPZ(0) }
            if let params = n.model {
                let initial = NeuronModels.model(params.model)!.initialState(params, size: n.size)
                modelState[n.name] = initial.map { $0.map { MPZ($0) } }
                mem[n.name] = modelState[n.name]![0]
            }
            spikeList[n.name] = []
            if trace { traces[n.name] = PopulationTrace() }
        }
    }

    mutating func range(_ t: IntType) -> (MPZ, MPZ) {
        if let b = bounds[t] { return b }
        let b = (MPZ.minimum(of: t), MPZ.maximum(of: t))
        bounds[t] = b
        return b
    }

    /// Fits `v` into `t`, recording an event at (step, site, index) when the value changes.
    mutating func fit(_ v: MPZ, _ t: IntType, _ o: Overflow, step: Int, site: String, index: Int) -> MPZ {
        let (lo, hi) = range(t)
        let (w, changed) = v.fitted(to: t, o, lo: lo, hi: hi)
        if changed {
            report.total += 1
            if report.events.count < ExactEngine.maxStoredEvents {
                report.events.append(OverflowEvent(step: step, site: site, index: index, exact: v.decimal,
                                                   stored: w.int64!))
            }
        }
        return w
    }

    mutating func runAll() {
        for t in 0..<p.timesteps {
            // Step start: this step's slot of every ring is cleared (populations) or set from the events (inputs).
            for n in p.neurons { setSpikes(n.name, step: t, [Bool](repeating: false, count: n.size)) }
            for i in p.inputs {
                var v = [Bool](repeating: false, count: i.size)
                for a in binding.active(sample, input: i.name, size: i.size, step: t) { v[Int(a)] = true }
                setSpikes(i.name, step: t, v)
            }
            values.removeAll(keepingCapacity: true)
            readDrove.removeAll(keepingCapacity: true)
            activity = StepActivity(ops: p.step.count)
            for (k, op) in p.step.enumerated() { execute(op, index: k, step: t) }
            counters.cycles += chip.timing.stepCycles(activity)
        }
        counters.timesteps = Int64(p.timesteps)
        counters.cycles += chip.timing.readoutCycles()
        for r in p.readouts { readout(r) }
    }

    /// Stores the spikes of `src` at step t in its ring.
    mutating func setSpikes(_ src: String, step t: Int, _ v: [Bool]) {
        let d = ring[src]!.count
        ring[src]![t % d] = v
    }

    /// Whether element `e` of population `src` spiked at step t - delay (never before step 0).
    func spiked(_ src: String, _ e: Int, delay: Int, step t: Int) -> Bool {
        guard t - delay >= 0 else { return false }
        let r = ring[src]!
        return r[(t - delay) % r.count][e]
    }

    /// Event index of step t of this sample: the counter of per-read and per-conversion noise (docs/device.md).
    func event(_ t: Int) -> UInt32 { UInt32(truncatingIfNeeded: sampleIndex &* p.timesteps &+ t) }

    mutating func execute(_ op: Op, index k: Int, step t: Int) {
        let L = op.length
        switch op.kind {
        case let .read(arrayName, rows, colStart, cpw, _, _):
            let ai = arrayIndex[arrayName]!
            let a = p.arrays[ai]
            let codes = learning?.state.codes[ai] ?? chip.codes[ai]
            var drivenRows: [Int] = []
            var allRows = 0
            for rs in rows {
                allRows += rs.count
                for i in 0..<rs.count where spiked(rs.source, rs.srcStart + i, delay: rs.delay, step: t) {
                    drivenRows.append(rs.rowStart + i)
                }
            }
            var out = (0..<L).map { _ in MPZ(0) }
            for r in drivenRows {
                for j in 0..<L { out[j].addInPlace(Int64(codes[r * a.cols + colStart + j])) }
            }
            let codeSum = MPZ(0)
            for j in 0..<L { codeSum.addInPlace(out[j]) }
            if let n = chip.noise, n.readNoise, let v = learning?.state.variance[ai] ?? chip.variance[ai], !drivenRows.isEmpty {
                // Device read noise: an input of the run, applied to the exact sum (docs/device.md).
                let maxValue = MPZ.maximum(of: op.type)
                for j in 0..<L {
                    let vs = MPZ(0)
                    for r in drivenRows { vs.addInPlace(Int64(v[r * a.cols + colStart + j])) }
                    let noisy = n.read(sum: out[j].int64!, varianceSum: vs.int64!, op: k, column: colStart + j, event: event(t),
                                       maxValue: maxValue.int64!)
                    out[j] = MPZ(noisy)
                }
            }
            let driven = Int64(drivenRows.count)
            activity.driven[k] = drivenRows.count
            if driven > 0 {
                counters.columnIntegrations += Int64(L)
                counters.readCodeSums[k, default: 0] += codeSum.int64!
            }
            counters.wlActivations += driven
            counters.cellReads += driven * Int64(L)
            counters.synapticEvents += driven * Int64(L) / Int64(cpw)
            counters.denseSynapticOps += Int64(allRows) * Int64(L) / Int64(cpw)
            readDrove[op.result] = driven > 0
            values[op.result] = out

        case let .adc(x, bits, lsb, offset, rounding):
            let xs = values[x]!
            let q = MPZ(lsb), o = MPZ(offset)
            var out: [MPZ] = []
            out.reserveCapacity(L)
            let analog = readDrove[x]! ? chip.adcStatic[k] : nil
            for j in 0..<L {
                var xj = xs[j]
                if let st = analog, let n = chip.noise {
                    xj = MPZ(n.adcInput(xj.int64!, offset: st[j].offset, gain: st[j].gain, op: k, column: j, event: event(t)))
                }
                let c = (xj - o).divided(by: q, rounding: rounding)
                out.append(fit(c, op.type, .sat, step: t, site: op.result, index: j))
            }
            if readDrove[x]! { counters.adcConversions[bits, default: 0] += Int64(L) }
            values[op.result] = out

        case let .slice(x, start, stride):
            let xs = values[x]!
            values[op.result] = (0..<L).map { xs[start + $0 * stride] }

        case let .concat(operands):
            values[op.result] = operands.flatMap { values[$0]! }

        case let .add(a, b, ovf), let .sub(a, b, ovf):
            let isAdd: Bool
            if case .add = op.kind { isAdd = true } else { isAdd = false }
            let xa = values[a]!, xb = values[b]!
            counters.digitalOps += Int64(L)
            var out: [MPZ] = []
            out.reserveCapacity(L)
            for i in 0..<L {
                let v = isAdd ? xa[i] + xb[i] : xa[i] - xb[i]
                out.append(fit(v, op.type, ovf, step: t, site: op.result, index: i))
            }
            values[op.result] = out

        case let .scale(x, mul, shift, rounding, ovf):
            let xs = values[x]!
            let m = MPZ(mul), d = MPZ.pow2(shift)
            counters.digitalOps += Int64(L)
            var out: [MPZ] = []
            out.reserveCapacity(L)
            for i in 0..<L {
                let v = (xs[i] * m).divided(by: d, rounding: rounding)
                out.append(fit(v, op.type, ovf, step: t, site: op.result, index: i))
            }
            values[op.result] = out

        case let .lif(pop, input):
            lif(op, index: k, pop: pop, input: values[input]!, step: t)
        case let .neuron(_, pop, input):
            modelUpdate(op, index: k, pop: pop, input: values[input]!, step: t)
        case let .trace(src, d, mul, shift, rounding, inc):
            exactTrace(op, source: src, delay: d, mul: mul, shift: shift, rounding: rounding, increment: inc, step: t)
        case let .stdp(r):
            exactSTDP(op, r, index: k, step: t)
        case let .modulator(m):
            exactModulator(op, m, step: t)
        case let .homeostasis(h):
            exactHomeostasis(op, h, index: k, step: t)
        }
    }

    /// The update of a population of a registered model: the model's exact update per neuron, every fit reported at
    /// `@POP.<state>`, then the spike history, counts and counters as for `lif`.
    mutating func modelUpdate(_ op: Op, index k: Int, pop: String, input: [MPZ], step t: Int) {
        let n = p.neurons[neuronIndex[pop]!]
        let params = n.model!
        let m = NeuronModels.model(params.model)!
        var st = modelState[pop]!
        var c = count[pop]!
        var s = [Bool](repeating: false, count: n.size)
        var trV: [Int64] = []
        for i in 0..<n.size {
            var local = st.map { $0[i] }
            let (spike, tr) = m.exactUpdate(params, neuron: i, input: input[i], state: &local) { v, type, name in
                fit(v, type, .sat, step: t, site: "@\(pop).\(name)", index: i)
            }
            for j in st.indices { st[j][i] = local[j] }
            s[i] = spike
            if spike { spikeList[pop]!.append(Spike(step: Int32(t), neuron: Int32(i))) }
            if trace { trV.append(tr.int64!) }
            c[i] = fit(c[i] + MPZ(spike ? 1 : 0), n.countType, .sat, step: t, site: "@\(pop).count", index: i)
        }
        modelState[pop] = st
        mem[pop] = st[0]
        count[pop] = c
        setSpikes(pop, step: t, s)
        counters.neuronUpdates += Int64(n.size)
        counters.spikes += Int64(s.filter { $0 }.count)
        activity.spikesPerGroup[k] = chip.timing.groups((0..<n.size).filter { s[$0] }.map { Int32($0) }, size: n.size)
        if trace {
            traces[pop]!.preActivation.append(input.map { $0.int64! })
            traces[pop]!.membrane.append(trV)
            for (j, name) in m.stateNames.enumerated().dropFirst() {
                traces[pop]!.state[name, default: []].append(st[j].map { $0.int64! })
            }
        }
        values[op.result] = s.map { MPZ($0 ? 1 : 0) }
    }

    mutating func lif(_ op: Op, index k: Int, pop: String, input: [MPZ], step t: Int) {
        let n = p.neurons[neuronIndex[pop]!]
        let memSite = "@\(pop).mem", countSite = "@\(pop).count", synSite = "@\(pop).syn"
        let mul = MPZ(n.decayMul), div = MPZ.pow2(n.decayShift)
        let th = MPZ(n.threshold)
        var m = mem[pop]!, c = count[pop]!, rf = refr[pop]!
        var cs = syn[pop] ?? []
        var s = [Bool](repeating: false, count: n.size)
        var trV: [Int64] = []
        var out: [MPZ] = []
        out.reserveCapacity(n.size)
        var fired = 0
        for i in 0..<n.size {
            // Synaptic current first: it integrates every step, refractory or not.
            var x = input[i]
            if let y = n.synapse {
                let d = (cs[i] * MPZ(y.decayMul)).divided(by: MPZ.pow2(y.decayShift), rounding: y.decayRounding)
                cs[i] = fit(d + input[i] + MPZ(y.bias) + MPZ(y.neuronBias?[i] ?? 0), y.type, y.overflow,
                            step: t, site: synSite, index: i)
                x = cs[i]
            }
            if rf[i] > 0 {
                rf[i] -= 1
                if trace { trV.append(m[i].int64!) }
            } else {
                let d = (m[i] * mul).divided(by: div, rounding: n.decayRounding)
                let b = MPZ(n.bias) + MPZ(n.neuronBias?[i] ?? 0)
                let v = fit(d + x + b, n.memType, n.memOverflow, step: t, site: memSite, index: i)
                if trace { trV.append(v.int64!) }
                s[i] = n.spiking && (n.compare == .gt ? v > th : v >= th)
                if s[i] {
                    switch n.reset {
                    case .zero: m[i] = MPZ(0)
                    case .subtract: m[i] = fit(v - th, n.memType, n.memOverflow, step: t, site: memSite, index: i)
                    }
                    rf[i] = n.refractory
                    fired += 1
                    spikeList[pop]!.append(Spike(step: Int32(t), neuron: Int32(i)))
                } else {
                    m[i] = v
                }
            }
            c[i] = fit(c[i] + MPZ(s[i] ? 1 : 0), n.countType, .sat, step: t, site: countSite, index: i)
            out.append(MPZ(s[i] ? 1 : 0))
        }
        mem[pop] = m
        count[pop] = c
        refr[pop] = rf
        if n.synapse != nil { syn[pop] = cs }
        setSpikes(pop, step: t, s)
        counters.neuronUpdates += Int64(n.size)
        counters.spikes += Int64(fired)
        activity.spikesPerGroup[k] = chip.timing.groups((0..<n.size).filter { s[$0] }.map { Int32($0) }, size: n.size)
        if trace {
            traces[pop]!.preActivation.append(input.map { $0.int64! })
            traces[pop]!.membrane.append(trV)
            if n.synapse != nil { traces[pop]!.synapse.append(cs.map { $0.int64! }) }
        }
        values[op.result] = out
    }

    mutating func readout(_ r: ReadoutDecl) {
        let c = count[r.source]!
        let n = c.count
        var y: [Int64] = []
        for k in 0..<r.classes {
            let acc = MPZ(Int64(r.bias[k]))
            for j in 0..<n { acc.addInPlace(MPZ(Int64(r.weights[k * n + j])) * c[j]) }
            y.append(fit(acc, r.accType, r.accOverflow, step: p.timesteps - 1, site: "@\(r.name)", index: k).int64!)
        }
        counters.readoutMACs += Int64(r.classes * n)
        readoutValues[r.name] = y
    }

    func finish() -> SampleResult {
        var result = SampleResult()
        for n in p.neurons {
            result.spikes[n.name] = spikeList[n.name]!
            result.counts[n.name] = count[n.name]!.map { $0.int64! }
            result.membrane[n.name] = mem[n.name]!.map { $0.int64! }
            if let c = syn[n.name] { result.synapse[n.name] = c.map { $0.int64! } }
            if let st = modelState[n.name], let names = n.model.flatMap({ NeuronModels.model($0.model) })?.stateNames {
                result.state[n.name] = Dictionary(uniqueKeysWithValues: zip(names, st.map { $0.map { $0.int64! } }))
            } else {
                result.state[n.name] = SampleResult.lifState(n, result.membrane[n.name]!, result.synapse[n.name] ?? [])
            }
            if trace { result.traces[n.name] = traces[n.name]! }
        }
        result.readout = readoutValues
        result.counters = counters
        return result
    }
}

extension MPZ: ExactInteger {
    public func shifted(right s: Int, _ r: Rounding) -> MPZ { s == 0 ? self : divided(by: MPZ.pow2(s), rounding: r) }
    public func atLeast(_ other: MPZ) -> Bool { !(self < other) }
}
