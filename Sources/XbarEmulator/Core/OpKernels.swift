import CXbarKernel
import XbarCore
import XbarDevice
import XbarIR
import XbarTarget

/// The native op kernels of docs/ir.md over a `SampleContext`, shared by the fast engine (whole ops) and the cycle
/// engine (the same kernels over the columns, lanes and neuron groups it schedules cycle by cycle). Counters are
/// the ones of docs/ir.md, "Counters"; every value computed here is what the exact engine computes on GMP.
struct OpKernels {
    let exec: ExecutableProgram
    let views: ReadViews
    let noise: AnalogNoise?
    /// Neurons per group of the neuron unit (timing model).
    let neuronUnits: Int
    /// Fused linear chains (fast engine only; nil: every op runs as written).
    var fusion: FusionPlan? = nil
    /// The cells a plastic program writes (nil for a program without `stdp` ops); its read views replace `views`.
    var learning: LearningChip? = nil
    /// The macro's timing parameters (the learning ops' cycles).
    var timingSpec = TimingSpec()

    /// The read view of read op k: the learning chip's current cells, or the chip as realised.
    @inline(__always)
    func matrix(_ k: Int) -> ReadMatrix { learning?.views?.matrices[k] ?? views.matrices[k]! }

    /// Collects the driven rows of read `r` at step t into ctx.rows; returns their number.
    @inline(__always)
    func drivenRows(_ r: ReadRecord, _ t: Int, _ ctx: SampleContext) -> Int {
        var n: Int64 = 0
        for s in r.sources where t - s.delay >= 0 {
            let q = s.source
            let slot = (t - s.delay) % exec.sourceDepth[q]
            n = xbar_gather_rows(ctx.ring[q] + slot * exec.sourceSize[q], Int64(ctx.ringCount[q][slot]), s.srcStart, s.count,
                                 s.rowStart, ctx.rows, n)
        }
        return Int(n)
    }

    /// The read's counters for `driven` rows (wl activations, cell reads, synaptic events, dense ops).
    @inline(__always)
    func countRead(_ r: ReadRecord, driven n: Int, _ ctx: SampleContext) {
        let d = Int64(n)
        ctx.counters.wlActivations += d
        ctx.counters.cellReads += d * Int64(r.length)
        ctx.counters.synapticEvents += d * Int64(r.synapsesPerRow)
        ctx.counters.denseSynapticOps += Int64(r.allRows) * Int64(r.synapsesPerRow)
    }

    /// The column integration of read op k over the `n` rows in ctx.rows (values, read noise, code-sum counters).
    @inline(__always)
    func integrate(_ k: Int, _ r: ReadRecord, rows n: Int, event: UInt32, _ ctx: SampleContext, threads: Int = 1) {
        let out = ctx.values + r.out
        guard n > 0 else {
            out.update(repeating: 0, count: r.length)
            return
        }
        let m = matrix(k)
        let noisy = noise?.readNoise == true && m.hasVariance
        m.read(rows: ctx.rows, count: n, out: out, varOut: noisy ? ctx.scratch : nil, threads: threads)
        var sum: Int64 = 0
        for j in 0..<r.length { sum &+= out[j] }
        ctx.counters.codeSums[k] &+= sum
        ctx.counters.readFired[k] = true
        ctx.counters.columnIntegrations += Int64(r.length)
        if noisy {
            noise!.readVector(out, varianceSums: ctx.scratch, count: r.length, op: k, colStart: r.colStart, event: event,
                              maxValue: r.maxValue, scratch: ctx.normals)
        }
    }

    /// The whole read op k at step t.
    @inline(__always)
    func read(_ k: Int, _ r: ReadRecord, _ t: Int, event: UInt32, _ ctx: SampleContext, threads: Int) {
        let n = drivenRows(r, t, ctx)
        countRead(r, driven: n, ctx)
        ctx.fired[k] = n > 0
        ctx.activity.driven[k] = n
        integrate(k, r, rows: n, event: event, ctx, threads: threads)
    }

    /// The ADC input of element j of adc op k (static offset/gain and conversion noise when its read fired).
    @inline(__always)
    func adcInput(_ k: Int, _ a: ADCRecord, _ j: Int, event: UInt32, _ ctx: SampleContext) -> Int64 {
        let x = ctx.values[a.input + j]
        guard ctx.fired[a.read], let n = noise, !views.adcOffset[k].isEmpty else { return x }
        return n.adcInput(x, offset: views.adcOffset[k][j], gain: views.adcGain[k][j], op: k, column: j, event: event)
    }

    /// The whole adc op k.
    @inline(__always)
    func adc(_ k: Int, _ a: ADCRecord, event: UInt32, _ ctx: SampleContext) {
        var x = UnsafePointer(ctx.values + a.input)
        let fired = ctx.fired[a.read]
        if fired, let n = noise, !views.adcOffset[k].isEmpty {
            ctx.scratch2.update(from: x, count: a.length)
            views.adcOffset[k].withUnsafeBufferPointer { o in
                views.adcGain[k].withUnsafeBufferPointer { g in
                    n.adcVector(ctx.scratch2, count: a.length, offsets: o.baseAddress!, gains: g.baseAddress!, op: k, event: event,
                                scratch: ctx.normals)
                }
            }
            x = UnsafePointer(ctx.scratch2)
        }
        xbar_adc(x, Int64(a.length), a.lsb, a.offset, a.rounding, a.maxCode, ctx.values + a.out)
        if fired { ctx.counters.conversions[k] += Int64(a.length) }
    }

    /// Converts the single ADC element j (the cycle engine's per-round conversions).
    @inline(__always)
    func convert(_ k: Int, _ a: ADCRecord, _ j: Int, event: UInt32, _ ctx: SampleContext) {
        var x = adcInput(k, a, j, event: event, ctx)
        xbar_adc(&x, 1, a.lsb, a.offset, a.rounding, a.maxCode, ctx.values + a.out + j)
    }

    @inline(__always)
    func slice(_ s: SliceRecord, _ ctx: SampleContext) {
        xbar_slice(ctx.values + s.input, Int64(s.start), Int64(s.stride), Int64(s.length), ctx.values + s.out)
    }

    @inline(__always)
    func concat(_ c: ConcatRecord, _ ctx: SampleContext) {
        var o = c.out
        for part in c.parts {
            (ctx.values + o).update(from: ctx.values + part.offset, count: part.length)
            o += part.length
        }
    }

    /// Elements [lo, hi) of an add/sub op.
    @inline(__always)
    func addSub(_ a: AddSubRecord, _ lo: Int, _ hi: Int, _ ctx: SampleContext) {
        xbar_addsub(ctx.values + a.a, ctx.values + a.b, Int64(lo), Int64(hi), a.sign, a.fit, ctx.values + a.out)
    }

    /// Elements [lo, hi) of a scale op.
    @inline(__always)
    func scale(_ s: ScaleRecord, _ lo: Int, _ hi: Int, _ ctx: SampleContext) {
        xbar_scale(ctx.values + s.input, Int64(lo), Int64(hi), s.mul, s.shift, s.rounding, s.fit, ctx.values + s.out)
    }

    /// The whole lif op k at step t: updates the population, records its spikes in the history ring and the sample.
    @inline(__always)
    func lif(_ k: Int, _ l: LifRecord, _ t: Int, trace: Bool, _ ctx: SampleContext) {
        let ni = l.population
        let size = exec.program.neurons[ni].size
        let q = exec.populationSource[ni]
        let slot = t % exec.sourceDepth[q]
        let spikeBuf = ctx.ring[q] + slot * size
        var params = exec.lifParams[ni]
        let ns: Int
        if let kernel = exec.modelKernels[ni] {
            ns = kernel.update(lo: 0, hi: size, input: ctx.values + l.input, state: ctx.state[ni], count: ctx.count[ni],
                               countMax: exec.program.neurons[ni].countType.max, out: ctx.values + l.out,
                               trace: trace ? ctx.traceV[ni] : nil, spikes: spikeBuf)
        } else {
            ns = Int(xbar_lif(&params, 0, Int64(size), ctx.values + l.input, ctx.mem[ni], ctx.refr[ni], ctx.syn[ni],
                              ctx.count[ni], ctx.values + l.out, trace ? ctx.traceV[ni] : nil, spikeBuf))
        }
        ctx.ringCount[q][slot] = ns
        ctx.counters.neuronUpdates += Int64(size)
        ctx.counters.spikes += Int64(ns)
        // Moved out of the context while appending, so each append needs no uniqueness check of the outer array.
        var spikes = ctx.spikes[ni]
        ctx.spikes[ni] = []
        for e in 0..<ns { spikes.append(Spike(step: Int32(t), neuron: spikeBuf[e])) }
        ctx.spikes[ni] = spikes
        var perGroup = ctx.activity.spikesPerGroup[k]
        ctx.activity.spikesPerGroup[k] = []
        TimingModel.spikesPerGroup(spikeBuf, ns, size: size, unit: neuronUnits, into: &perGroup)
        ctx.activity.spikesPerGroup[k] = perGroup
        if trace {
            ctx.traces[ni].preActivation.append(Array(UnsafeBufferPointer(start: ctx.values + l.input, count: size)))
            ctx.traces[ni].membrane.append(Array(UnsafeBufferPointer(start: ctx.traceV[ni], count: size)))
            if params.has_syn != 0 { ctx.traces[ni].synapse.append(Array(UnsafeBufferPointer(start: ctx.syn[ni], count: size))) }
            if let names = exec.stateNames[ni] { ctx.traceState(ni, names) }
        }
    }

    /// Every op of step t, in program order (the fast engine's step).
    func step(_ t: Int, event: UInt32, trace: Bool, _ ctx: SampleContext, threads: Int) {
        for (k, op) in exec.ops.enumerated() {
            execute(k, op, t, event: event, trace: trace, ctx, threads: threads)
        }
    }

    @inline(__always)
    func execute(_ k: Int, _ op: ExecOp, _ t: Int, event: UInt32, trace: Bool, _ ctx: SampleContext, threads: Int) {
        if let plan = fusion {
            switch plan.mode[k] {
            case .normal: break
            case .countOnly:
                return  // counted by the cone's fused lif
            case let .fusedInput(i):
                guard case let .lif(l) = op else { break }
                fusedInput(plan.projections[i], l, t, ctx)
            }
        }
        switch op {
        case let .read(r): read(k, r, t, event: event, ctx, threads: threads)
        case let .adc(a): adc(k, a, event: event, ctx)
        case let .slice(s): slice(s, ctx)
        case let .concat(c): concat(c, ctx)
        case let .addSub(a):
            ctx.counters.digitalOps += Int64(a.length)
            addSub(a, 0, a.length, ctx)
        case let .scale(s):
            ctx.counters.digitalOps += Int64(s.length)
            scale(s, 0, s.length, ctx)
        case let .lif(l): lif(k, l, t, trace: trace, ctx)
        case let .trace(r): self.trace(r, t, ctx)
        case let .stdp(r): stdp(k, r, t, ctx)
        case let .modulator(m): modulator(m, t, ctx)
        case let .homeostasis(h): homeostasis(k, h, t, ctx)
        }
    }

    /// The digital readouts after the last step, and the sample's result.
    func finish(_ ctx: SampleContext, trace: Bool) -> SampleResult {
        fusedCodeSums(ctx)
        let p = exec.program
        var result = SampleResult()
        let counts = p.neurons.indices.map { Array(UnsafeBufferPointer(start: ctx.count[$0], count: p.neurons[$0].size)) }
        let mems = p.neurons.indices.map { Array(UnsafeBufferPointer(start: ctx.mem[$0], count: p.neurons[$0].size)) }
        let syns = p.neurons.indices.map { Array(UnsafeBufferPointer(start: ctx.syn[$0], count: p.neurons[$0].size)) }
        for (ri, r) in p.readouts.enumerated() {
            let c = counts[exec.readoutPopulation[ri]]
            result.readout[r.name] = OpKernels.readout(r, counts: c)
            ctx.counters.readoutMACs += Int64(r.classes * c.count)
        }
        result.storePopulations(p.neurons, spikes: ctx.spikes, counts: counts, membrane: mems, synapse: syns,
                                traces: trace ? ctx.traces : nil, state: ctx.finalState())
        result.counters = ctx.counters.counters(exec: exec, timesteps: p.timesteps)
        return result
    }

    /// y[k] = fit(bias[k] + sum_j W[k][j] * count[j]) (docs/ir.md, "Readouts").
    static func readout(_ r: ReadoutDecl, counts c: [Int64]) -> [Int64] {
        let n = c.count
        return (0..<r.classes).map { kk in
            var acc = Int64(r.bias[kk])
            for j in 0..<n { acc += Int64(r.weights[kk * n + j]) * c[j] }
            return Fixed.fit(acc, r.accType, r.accOverflow)
        }
    }
}
