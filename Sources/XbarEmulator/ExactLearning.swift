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

    /// Pairs this step's spikes into every synapse's eligibility, then programs the cells on an update step.
    mutating func exactSTDP(_ op: Op, _ r: STDPRule, index k: Int, step t: Int) {
        var e = learnState[op.result]!
        let nn = op.length / r.row.count
        let x = values[r.preTrace]!, y = values[r.postTrace]!, post = values[r.post]!
        let exclude = r.sameStep == .exclude
        let preInc = MPZ(increment(of: r.preTrace)), postInc = MPZ(increment(of: r.postTrace))
        let ap = MPZ(r.aPlus), am = MPZ(r.aMinus), zero = MPZ(0)
        var updates = 0
        for i in 0..<r.row.count {
            let p = spiked(r.row.source, r.row.srcStart + i, delay: r.row.delay, step: t)
            for j in 0..<nn {
                let q = post[r.postStart + j] == MPZ(1)
                guard p || q else { continue }
                var d = zero
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
        var act = STDPActivity()
        act.eligibilityUpdates = updates
        if r.updates(at: t, timesteps: p.timesteps), let chip = learning {
            exactProgram(&e, r, neurons: nn, chip: chip, &act)
        }
        counters.learning.eligibilityUpdates += Int64(updates)
        counters.learning.setPulses += Int64(act.setPulses)
        counters.learning.resetPulses += Int64(act.resetPulses)
        counters.learning.verifyReads += Int64(act.verifyReads)
        activity.driven[k] = Int(TimingModel.learnCycles(chip.timing.spec, synapses: r.row.count * nn, act))
        learnState[op.result] = e
        values[op.result] = e
    }

    /// The update: n = clamp(trunc(e / 2^PS), -MP, MP), e -= n 2^PS, then the pair's pulse train.
    func exactProgram(_ e: inout [MPZ], _ r: STDPRule, neurons nn: Int, chip: LearningChip, _ act: inout STDPActivity) {
        act.programmed = true
        let unit = MPZ.pow2(r.pulseShift), mp = MPZ(Int64(r.maxPulses))
        for i in 0..<r.row.count {
            for j in 0..<nn {
                var n = e[i * nn + j].divided(by: unit, rounding: .trunc)
                if mp < n { n = mp }
                if n < -mp { n = -mp }
                e[i * nn + j] = e[i * nn + j] - n * unit
                guard !(n == MPZ(0)) else { continue }
                pulseTrain(n.int64!, row: r.row.rowStart + i, col: r.colStart + 2 * j, r, chip: chip, &act)
            }
        }
    }

    /// Up to |n| pulses on the pair, the pair read before each decision; soft bounds scale n first.
    func pulseTrain(_ n0: Int64, row: Int, col c: Int, _ r: STDPRule, chip: LearningChip, _ act: inout STDPActivity) {
        let a = arrayIndex[r.array]!
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
            chip.pulse(a, row, positive ? c : c + 1, up: setPulse, rule: r)
            if setPulse { act.setPulses += 1 } else { act.resetPulses += 1 }
            w = pair()
            act.verifyReads += 1
            left = left - MPZ(1)
        }
    }

    /// The increment of trace op `name`.
    func increment(of name: String) -> Int64 {
        for op in p.step where op.result == name { if case let .trace(_, _, _, _, _, inc) = op.kind { return inc } }
        return 0
    }

    func max0(_ v: MPZ) -> MPZ { v < MPZ(0) ? MPZ(0) : v }
}
