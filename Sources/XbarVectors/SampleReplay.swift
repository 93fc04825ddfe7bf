import XbarCore
import XbarEmulator
import XbarEvents
import XbarIR
import XbarTarget

/// Replays one sample's cycle-engine signals into the vector tables and the VCD (docs/vectors.md): each cycle's
/// signals are recorded (`record`), then the cycle's word lines, conversions, digital chunk and neuron groups are
/// drawn (`draw`); at the end the word-line and neuron-update records go to their tables.
struct SampleReplay {
    let p: Program
    let spec: TimingSpec
    let binding: InputBinding
    let arrayOfOp: [Int?]
    let opIndex: [String: Int]
    let tables: VectorTables
    let vcd: VCDBuilder
    let layout: VCDLayout

    /// What a sample accumulates while its signals are replayed.
    struct Sample {
        let index: Int64
        let raster: SpikeRaster
        let synapseTrace: [[[Int64]]]
        /// Reads that fired: (array, cycle) -> (op, duration).
        var fired: [Int: [Int64: (Int, Int64)]] = [:]
        var curStep: Int64 = 0
        /// Per population: `sample cycle step neuron in mem spike refr count [syn]` records, and per neuron the index
        /// of its latest record.
        var lifRec: [[[Int64]]]
        var lastRec: [[Int: Int]]
        /// Per array: (cycle, driven rows).
        var wlRows: [Int: [(Int64, [Int])]] = [:]
    }

    /// What one cycle's signals leave for the VCD.
    struct Cycle {
        /// pop -> neurons that left this cycle.
        var popGroups: [Int: [Int]] = [:]
        var digital: (op: Int, elems: [(Int, Int64)])? = nil
        var adcRound: [Int: (op: Int, cols: [(Int, Int64)])] = [:]
    }

    func replay(sample s: Int, _ raster: SpikeRaster, signals sig: [CycleSignal], synapseTrace: [[[Int64]]], offset: Int64) {
        var st = Sample(index: Int64(s), raster: raster, synapseTrace: synapseTrace,
                        lifRec: p.neurons.map { _ in [] }, lastRec: p.neurons.map { _ in [:] })
        for x in sig where x.kind == .issue && x.value > 0 {
            if case .read = p.step[x.index].kind, let a = arrayOfOp[x.index] { st.fired[a, default: [:]][x.cycle] = (x.index, x.value) }
        }
        var k = 0
        vcd.advance(to: offset)
        vcd.set(layout.vSample, st.index)
        while k < sig.count {
            let c = sig[k].cycle
            vcd.advance(to: offset + c)
            var cy = Cycle()
            while k < sig.count && sig[k].cycle == c {
                record(sig[k], c, &st, &cy)
                k += 1
            }
            draw(c, st, cy)
        }
        for (a, list) in st.wlRows.sorted(by: { $0.key < $1.key }) {
            for (c, rows) in list {
                let op = st.fired[a]?[c]?.0 ?? -1
                tables.wls[a].add([.int(st.index), .int(c), .int(Int64(op)), .bitmap(rows)])
            }
        }
        for (i, recs) in st.lifRec.enumerated() { for r in recs { tables.lifs[i].add(r) } }
    }

    /// One signal of cycle c: its table record, and what the cycle's VCD drawing needs.
    func record(_ x: CycleSignal, _ c: Int64, _ st: inout Sample, _ cy: inout Cycle) {
        let S = st.index
        switch x.kind {
        case .step:
            st.curStep = x.value
            tables.steps.add([S, c, x.value])
            for (ii, inp) in p.inputs.enumerated() {
                tables.inputs[ii].add([.int(S), .int(c), .int(x.value),
                                       .bitmap(binding.active(st.raster, input: inp.name, size: inp.size, step: Int(x.value)).map { Int($0) })])
            }
            vcd.set(layout.vStep, x.value)
            vcd.pulse(layout.vStepStart, 1)
        case .issue:
            tables.issue.add([S, c, Int64(x.index), x.value])
        case let .wordLine(a):
            if let last = st.wlRows[a]?.last, last.0 == c {
                st.wlRows[a]![st.wlRows[a]!.count - 1].1.append(x.index)
            } else {
                st.wlRows[a, default: []].append((c, [x.index]))
            }
        case let .adc(op):
            tables.adcs[op]!.add([S, c, Int64(x.index), x.value])
            cy.adcRound[arrayOfOp[op]!, default: (op, [])].cols.append((x.index, x.value))
        case let .acc(op):
            tables.accs[op]!.add([S, c, Int64(x.index), x.value])
            if cy.digital == nil { cy.digital = (op, []) }
            cy.digital!.elems.append((x.index, x.value))
        case let .membrane(i):
            st.lastRec[i][x.index] = st.lifRec[i].count
            st.lifRec[i].append([S, c, st.curStep, Int64(x.index), 0, x.value, 0, 0, 0]
                                + (p.neurons[i].synapse == nil ? [] : [st.synapseTrace[i][Int(st.curStep)][x.index]]))
            cy.popGroups[i, default: []].append(x.index)
        case let .spike(i): st.lifRec[i][st.lastRec[i][x.index]!][6] = x.value
        case let .input(i): st.lifRec[i][st.lastRec[i][x.index]!][4] = x.value
        case let .refractory(i): st.lifRec[i][st.lastRec[i][x.index]!][7] = x.value
        case let .count(i): st.lifRec[i][st.lastRec[i][x.index]!][8] = x.value
        case let .queue(i):
            tables.queues[i].add([S, c, x.value])
            vcd.set(layout.popVars[i].queue, x.value)
        case let .readout(r):
            tables.readouts[r].add([S, c, Int64(x.index), x.value])
            vcd.pulse(layout.roVars[r].valid, 1)
            vcd.set(layout.roVars[r].y[x.index], x.value)
        }
    }

    /// The VCD of cycle c's word lines, conversions, digital chunk and neuron groups.
    func draw(_ c: Int64, _ st: Sample, _ cy: Cycle) {
        for (a, list) in st.wlRows {
            if let last = list.last, last.0 == c {
                let (op, dur) = st.fired[a]?[c] ?? (-1, 1)
                vcd.pulseBits(layout.arrayVars[a].wl, last.1, cycles: dur)
                if op >= 0 { vcd.set(layout.arrayVars[a].readOp, Int64(op)) }
            }
        }
        for (a, r) in cy.adcRound {
            guard case let .adc(x, _, _, _, _) = p.step[r.op].kind, case let .read(_, _, c0, _, _, _) = p.step[opIndex[x]!].kind else { continue }
            vcd.pulse(layout.arrayVars[a].adcValid, 1)
            vcd.set(layout.arrayVars[a].adcOp, Int64(r.op))
            for (j, code) in r.cols {
                let col = c0 + j
                let ch = layout.arrayVars[a].chans[col / spec.colsPerADC]!
                vcd.set(ch.col, Int64(col))
                vcd.set(ch.code, code)
            }
        }
        if let d = cy.digital, !d.elems.isEmpty {
            let base = d.elems[0].0 - d.elems[0].0 % spec.digitalLanes
            vcd.pulse(layout.dValid, 1)
            vcd.set(layout.dOp, Int64(d.op))
            vcd.set(layout.dBase, Int64(base))
            vcd.pulseBits(layout.dEn, d.elems.map { $0.0 - base }, cycles: 1)
            for (e, v) in d.elems { vcd.set(layout.dLane[e - base], v) }
        }
        for (i, neurons) in cy.popGroups {
            let pv = layout.popVars[i]
            let base = neurons[0] - neurons[0] % spec.neuronUnits
            vcd.pulse(pv.valid, 1)
            vcd.set(pv.base, Int64(base))
            vcd.pulseBits(pv.en, neurons.map { $0 - base }, cycles: 1)
            for n in neurons {
                let r = st.lifRec[i][st.lastRec[i][n]!]
                let l = n - base
                vcd.set(pv.inp[l], r[4]); vcd.set(pv.mem[l], r[5]); vcd.set(pv.spike[l], r[6])
                vcd.set(pv.refr[l], r[7]); vcd.set(pv.count[l], r[8])
                if !pv.syn.isEmpty { vcd.set(pv.syn[l], r[9]) }
            }
        }
    }
}
