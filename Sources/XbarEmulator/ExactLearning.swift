import XbarCore
import XbarIR

/// The plasticity ops on GMP integers, written from docs/ir.md ("Plasticity") independently of the native kernels:
/// every synapse visited, every fit reported. Only the device's response to a pulse is shared (`LearningChip.pulse`),
/// as the realised cells are.
extension ExactState {
    /// out[i] := fit_sat(round_R(out[i] x M / 2^SH) + INC x hist_S(t - D)[i], T).
    mutating func exactTrace(_ op: Op, source: String, delay: Int, mul: Int64, shift: Int, rounding: Rounding, increment: Int64,
                             step t: Int) {
        var x = learnState[op.result]!
        let m = MPZ(mul), inc = MPZ(increment)
        for i in 0..<op.length {
            var v = (x[i] * m).shifted(right: shift, rounding)
            if spiked(source, i, delay: delay, step: t) { v = v + inc }
            x[i] = fit(v, op.type, .sat, step: t, site: op.result, index: i)
        }
        counters.learning.traceUpdates += Int64(op.length)
        learnState[op.result] = x
        values[op.result] = x
    }

    /// Decays every synapse's eligibility, pairs this step's spikes into it unless the gate is closed, then programs
    /// the cells on an update step.
    mutating func exactSTDP(_ op: Op, _ r: STDPRule, index k: Int, step t: Int) {
        var e = learnState[op.result]!
        let nn = op.length / r.row.count
        if r.eligibilityDecay != Int64(1) << r.eligibilityShift {
            let d = MPZ(r.eligibilityDecay)
            for i in e.indices { e[i] = fit((e[i] * d).shifted(right: r.eligibilityShift, .halfEven), op.type, .sat, step: t, site: op.result, index: i) }
        }
        var act = STDPActivity()
        let open = r.gate.map { MPZ(0) < values[$0]![0] } ?? true
        if open {
            act.eligibilityUpdates = pair(&e, op, r, neurons: nn, step: t)
            if r.updates(at: t, timesteps: p.timesteps), let chip = learning {
                exactProgram(&e, r, neurons: nn, chip: chip, &act)
            }
        }
        counters.learning.eligibilityUpdates += Int64(act.eligibilityUpdates)
        counters.learning.setPulses += Int64(act.setPulses)
        counters.learning.resetPulses += Int64(act.resetPulses)
        counters.learning.verifyReads += Int64(act.verifyReads)
        activity.driven[k] = Int(TimingModel.learnCycles(chip.timing.spec, synapses: r.row.count * nn, act))
        learnState[op.result] = e
        values[op.result] = e
    }

    /// e[i][j] += q_j round(AP x_i / 2^TS) - p_i round(AM y_j / 2^TS) over every synapse with a pre or a post spike,
    /// with a_plus or a_minus modulated; returns the number of synapses changed.
    mutating func pair(_ e: inout [MPZ], _ op: Op, _ r: STDPRule, neurons nn: Int, step t: Int) -> Int {
        let x = values[r.preTrace]!, y = values[r.postTrace]!, post = values[r.post]!
        let exclude = r.sameStep == .exclude
        let preInc = MPZ(increment(of: r.preTrace)), postInc = MPZ(increment(of: r.postTrace))
        var ap = MPZ(r.aPlus), am = MPZ(r.aMinus)
        if r.modulation == .delta {
            var updates = 0
            for i in 0..<r.row.count {
                let d = (ap * x[r.row.srcStart + i]).shifted(right: r.shift, .halfEven)
                for j in 0..<nn where r.synapses?.contains(i, j) ?? true {
                    e[i * nn + j] = fit(e[i * nn + j] + d, op.type, .sat, step: t, site: op.result, index: i * nn + j)
                    updates += 1
                }
            }
            return updates
        }
        if let mo = r.modulator, r.modulation != .update {
            let m = values[mo]![0]
            if r.modulation == .aPlus { ap = (ap * m).shifted(right: r.modulatorShift, .halfEven) }
            else { am = (am * m).shifted(right: r.modulatorShift, .halfEven) }
        }
        var updates = 0
        for i in 0..<r.row.count {
            let p = spiked(r.row.source, r.row.srcStart + i, delay: r.row.delay, step: t)
            for j in 0..<nn {
                let q = post[r.postStart + j] == MPZ(1)
                guard p || q, r.synapses?.contains(i, j) ?? true else { continue }
                var d = MPZ(0)
                if q {
                    let xi = exclude && p ? max0(x[r.row.srcStart + i] - preInc) : x[r.row.srcStart + i]
                    d = d + (ap * xi).shifted(right: r.shift, .halfEven)
                }
                if p {
                    let yj = exclude && q ? max0(y[r.postStart + j] - postInc) : y[r.postStart + j]
                    d = d - (am * yj).shifted(right: r.shift, .halfEven)
                }
                e[i * nn + j] = fit(e[i * nn + j] + d, op.type, .sat, step: t, site: op.result, index: i * nn + j)
                updates += 1
            }
        }
        return updates
    }

    /// m := fit_sat(round_R(m x M / 2^SH) + sum_k W_k x (spikes of S_k at t - D_k) + B).
    mutating func exactModulator(_ op: Op, _ m: ModulatorSpec, step t: Int) {
        var v = (learnState[op.result]![0] * MPZ(m.decayMul)).shifted(right: m.decayShift, m.rounding) + MPZ(m.bias)
        for s in m.sources {
            let size = p.input(named: s.source)?.size ?? p.neuron(named: s.source)!.size
            let c = (0..<size).filter { spiked(s.source, $0, delay: s.delay, step: t) }.count
            v = v + MPZ(s.weight) * MPZ(c)
        }
        let out = fit(v, op.type, .sat, step: t, site: op.result, index: 0)
        counters.learning.modulatorUpdates += 1
        learnState[op.result] = [out]
        values[op.result] = [out]
    }

    /// The update: n = clamp(trunc(e / 2^PS), -MP, MP), e -= n 2^PS, then the pair's pulse train.
    func exactProgram(_ e: inout [MPZ], _ r: STDPRule, neurons nn: Int, chip: LearningChip, _ act: inout STDPActivity) {
        // A three-factor update takes n from eligibility x modulator and leaves the eligibility (a trace) as it is.
        act.programmed = true
        let unit = MPZ.pow2(r.pulseShift), mp = MPZ(Int64(r.maxPulses))
        let third = r.modulation.isThreeFactor ? r.modulator.map { values[$0]![0] } : nil
        for i in 0..<r.row.count {
            for j in 0..<nn {
                var n = third.map { (e[i * nn + j] * $0).divided(by: MPZ.pow2(r.pulseShift + r.modulatorShift), rounding: .trunc) }
                    ?? e[i * nn + j].divided(by: unit, rounding: .trunc)
                if mp < n { n = mp }
                if n < -mp { n = -mp }
                if third == nil { e[i * nn + j] = e[i * nn + j] - n * unit }
                guard r.synapses?.contains(i, j) ?? true else { continue }
                guard !(n == MPZ(0)) else { continue }
                exactTrain(n.int64!, array: arrayIndex[r.array]!, row: r.row.rowStart + i, col: r.colStart + 2 * j, r.train, chip: chip, &act)
            }
        }
    }

    /// Up to |n| pulses on the pair (row, col / col + 1) of array a, the pair read before each decision; soft bounds
    /// scale n first.
    func exactTrain(_ n0: Int64, array a: Int, row: Int, col c: Int, _ r: PulseTrain, chip: LearningChip, _ act: inout STDPActivity) {
        if r.write == .openLoop {
            let cell = r.clipHigh > 0 ? c : c + 1  // a [0, HI] synapse lives on G+, a [LO, 0] one on G-
            let setPulse = (n0 > 0) == (cell == c)
            var k: Int64 = 0
            while k < abs(n0) {
                chip.pulse(a, row, cell, up: setPulse, train: r)
                if setPulse { act.setPulses += 1 } else { act.resetPulses += 1 }
                k += 1
            }
            return
        }
        func pair() -> MPZ { MPZ(Int64(chip.code(a, row, c))) - MPZ(Int64(chip.code(a, row, c + 1))) }
        var w = pair()
        act.verifyReads += 1
        var n = MPZ(n0)
        let hi = MPZ(r.clipHigh), lo = MPZ(r.clipLow), zero = MPZ(0)
        if r.bound == .soft {
            let span = hi - lo
            var room = n0 > 0 ? hi - w : w - lo
            if room < zero { room = zero }
            if span < room { room = span }
            let m = (MPZ(Int64(n0.magnitude)) * room).divided(by: span, rounding: .halfEven)
            n = n0 > 0 ? m : -m
        }
        let up = zero < n
        var left = up ? n : -n
        while zero < left {
            if up ? !(w < hi) : !(lo < w) { break }
            let positive = up ? !(w < zero) : zero < w
            let setPulse = up == positive
            chip.pulse(a, row, positive ? c : c + 1, up: setPulse, train: r)
            if setPulse { act.setPulses += 1 } else { act.resetPulses += 1 }
            w = pair()
            act.verifyReads += 1
            left = left - MPZ(1)
        }
    }

    /// acc[j] := fit_sat(acc[j] + round_half_even(eta x (rate[j] - target[j]) / 2^shr)); on an update step
    /// n = clamp(trunc(acc / 2^PS)), acc -= n 2^PS, and -n pulses' worth on each connected synapse of the column.
    mutating func exactHomeostasis(_ op: Op, _ h: HomeostasisRule, index k: Int, step t: Int) {
        var acc = learnState[op.result]!
        let y = values[h.rate]!, eta = MPZ(h.eta)
        for j in acc.indices {
            let d = (eta * (y[h.postStart + j] - MPZ(h.targets[j]))).shifted(right: h.shift, .halfEven)
            acc[j] = fit(acc[j] + d, op.type, .sat, step: t, site: op.result, index: j)
        }
        var act = STDPActivity()
        act.eligibilityUpdates = acc.count
        if h.updates(at: t, timesteps: p.timesteps), let chip = learning {
            act.programmed = true
            let a = arrayIndex[h.array]!, unit = MPZ.pow2(h.pulseShift), mp = MPZ(Int64(h.maxPulses))
            for j in acc.indices {
                var n = acc[j].divided(by: unit, rounding: .trunc)
                if mp < n { n = mp }
                if n < -mp { n = -mp }
                acc[j] = acc[j] - n * unit
                guard !(n == MPZ(0)) else { continue }
                for i in 0..<h.row.count where h.synapses?.contains(i, j) ?? true {
                    let row = h.row.rowStart + i, c = h.colStart + 2 * j
                    exactTrain(-(n.int64!), array: a, row: row, col: c, h.train, chip: chip, &act)
                }
            }
        }
        counters.learning.homeostasisUpdates += Int64(acc.count)
        counters.learning.setPulses += Int64(act.setPulses)
        counters.learning.resetPulses += Int64(act.resetPulses)
        counters.learning.verifyReads += Int64(act.verifyReads)
        activity.driven[k] = Int(TimingModel.learnCycles(chip.timing.spec, synapses: acc.count * h.row.count, act))
        learnState[op.result] = acc
        values[op.result] = acc
    }

    /// The increment of trace op `name`.
    func increment(of name: String) -> Int64 {
        for op in p.step where op.result == name { if case let .trace(_, _, _, _, _, inc) = op.kind { return inc } }
        return 0
    }

    func max0(_ v: MPZ) -> MPZ { v < MPZ(0) ? MPZ(0) : v }
}
