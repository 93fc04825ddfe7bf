import CXbarKernel
import XbarCore
import XbarEvents
import XbarIR

/// The native engine: event-driven (only driven rows are summed, in the OpenMP C kernel), Int64 arithmetic,
/// semantics exactly as docs/ir.md.
public struct FastEngine: Sendable {
    public let chip: Chip
    let program: Program
    /// For each op, the indices of its operands in `program.step`.
    let operandIndex: [[Int]]
    let arrayIndex: [String: Int]
    let neuronIndex: [String: Int]
    let units: [NeuronUnit]

    public init(chip: Chip) {
        self.chip = chip
        program = chip.program
        var idx: [String: Int] = [:]
        var ops: [[Int]] = []
        for (k, op) in program.step.enumerated() {
            ops.append(op.kind.operands.map { idx[$0]! })
            idx[op.result] = k
        }
        operandIndex = ops
        arrayIndex = Dictionary(uniqueKeysWithValues: program.arrays.enumerated().map { ($0.element.name, $0.offset) })
        neuronIndex = Dictionary(uniqueKeysWithValues: program.neurons.enumerated().map { ($0.element.name, $0.offset) })
        units = program.neurons.map(NeuronUnit.init)
    }

    /// Runs one sample. `kernelThreads` is passed to the crossbar kernel (1 when samples run in parallel).
    /// `index` is the sample's position in its dataset: the event counter of per-read noise (docs/device.md).
    public func run(_ sample: SpikeRaster, index: Int = 0, binding: InputBinding, trace: Bool = false, kernelThreads: Int = 1) -> SampleResult {
        let p = program
        var counters = Counters()
        var values = [[Int64]](repeating: [], count: p.step.count)
        var readIdle = [Bool](repeating: false, count: p.step.count)
        // Neuron state.
        var mem = p.neurons.map { [Int64](repeating: 0, count: $0.size) }
        var refr = mem, count = mem, syn = mem
        var spkCur = [[Int32]](repeating: [], count: p.neurons.count)
        var history = SpikeHistory(program: p)
        var spikes = [[Spike]](repeating: [], count: p.neurons.count)
        var traces = [PopulationTrace](repeating: PopulationTrace(), count: p.neurons.count)
        var rowBuf = [Int32]()

        for t in 0..<p.timesteps {
            let event = UInt32(truncatingIfNeeded: index &* p.timesteps &+ t)
            var activity = StepActivity(ops: p.step.count)
            for n in 0..<p.neurons.count {
                spkCur[n] = []
                history.set(history.index[p.neurons[n].name]!, step: t, [])
            }
            for i in p.inputs {
                history.set(history.index[i.name]!, step: t, binding.active(sample, input: i.name, size: i.size, step: t))
            }
            for (k, op) in p.step.enumerated() {
                let ins = operandIndex[k]
                switch op.kind {
                case let .read(arrayName, rows, colStart, cpw, _, _):
                    rowBuf.removeAll(keepingCapacity: true)
                    var allRows = 0
                    for rs in rows {
                        allRows += rs.count
                        let active = history.active(history.index[rs.source]!, delay: rs.delay, step: t)
                        let lo = Int32(rs.srcStart), hi = Int32(rs.srcStart + rs.count)
                        for a in active where a >= lo && a < hi { rowBuf.append(Int32(rs.rowStart) + a - lo) }
                    }
                    let ai = arrayIndex[arrayName]!
                    let a = p.arrays[ai]
                    var out = [Int64](repeating: 0, count: op.length)
                    var codeSum: Int64 = 0
                    if let n = chip.noise, n.readNoise, let v = chip.variance[ai], !rowBuf.isEmpty {
                        // Read noise: codes and variances summed in one kernel pass, then one normal per column.
                        var vs = [Int64](repeating: 0, count: op.length)
                        chip.codes[ai].withUnsafeBufferPointer { cp in
                            v.withUnsafeBufferPointer { vp in
                                rowBuf.withUnsafeBufferPointer { rp in
                                    out.withUnsafeMutableBufferPointer { o in
                                        vs.withUnsafeMutableBufferPointer { vo in
                                            xbar_read_columns2(cp.baseAddress, vp.baseAddress, Int64(a.cols), rp.baseAddress, Int64(rp.count),
                                                               Int64(colStart), Int64(op.length), o.baseAddress, vo.baseAddress, Int32(kernelThreads))
                                        }
                                    }
                                }
                            }
                        }
                        codeSum = out.reduce(0, +)
                        n.readVector(&out, varianceSums: vs, op: k, colStart: colStart, event: event, maxValue: op.type.max)
                    } else {
                        chip.codes[ai].withUnsafeBufferPointer { cp in
                            rowBuf.withUnsafeBufferPointer { rp in
                                out.withUnsafeMutableBufferPointer { op_ in
                                    xbar_read_columns(cp.baseAddress, Int64(a.cols), rp.baseAddress, Int64(rp.count),
                                                      Int64(colStart), Int64(op.length), op_.baseAddress, Int32(kernelThreads))
                                }
                            }
                        }
                        codeSum = out.reduce(0, +)
                    }
                    let driven = Int64(rowBuf.count)
                    activity.driven[k] = rowBuf.count
                    if driven > 0 {
                        counters.columnIntegrations += Int64(op.length)
                        counters.readCodeSums[k, default: 0] += codeSum
                    }
                    counters.wlActivations += driven
                    counters.cellReads += driven * Int64(op.length)
                    counters.synapticEvents += driven * Int64(op.length / cpw)
                    counters.denseSynapticOps += Int64(allRows) * Int64(op.length / cpw)
                    readIdle[k] = driven == 0
                    values[k] = out
                case let .adc(_, bits, lsb, offset, rounding):
                    var x = values[ins[0]]
                    if !readIdle[ins[0]], let st = chip.adcStatic[k], let n = chip.noise {
                        n.adcVector(&x, statics: st, op: k, event: event)
                    }
                    let hi = op.type.max
                    var out = [Int64](repeating: 0, count: op.length)
                    for j in 0..<op.length {
                        let c = Fixed.divide(x[j] - offset, by: lsb, rounding)
                        out[j] = c < 0 ? 0 : (c > hi ? hi : c)
                    }
                    if !readIdle[ins[0]] { counters.adcConversions[bits, default: 0] += Int64(op.length) }
                    values[k] = out
                case let .slice(_, start, stride):
                    let x = values[ins[0]]
                    values[k] = (0..<op.length).map { x[start + $0 * stride] }
                case .concat:
                    values[k] = ins.flatMap { values[$0] }
                case let .add(_, _, ovf):
                    counters.digitalOps += Int64(op.length)
                    let a = values[ins[0]], b = values[ins[1]]
                    values[k] = (0..<op.length).map { Fixed.fit(a[$0] + b[$0], op.type, ovf) }
                case let .sub(_, _, ovf):
                    counters.digitalOps += Int64(op.length)
                    let a = values[ins[0]], b = values[ins[1]]
                    values[k] = (0..<op.length).map { Fixed.fit(a[$0] - b[$0], op.type, ovf) }
                case let .scale(_, mul, shift, rounding, ovf):
                    counters.digitalOps += Int64(op.length)
                    let x = values[ins[0]]
                    values[k] = (0..<op.length).map { Fixed.fit(Fixed.shiftRight(x[$0] * mul, shift, rounding), op.type, ovf) }
                case let .lif(pop, _):
                    let ni = neuronIndex[pop]!
                    let n = p.neurons[ni]
                    let input = values[ins[0]]
                    var out = [Int64](repeating: 0, count: n.size)
                    var trV: [Int64] = trace ? [Int64](repeating: 0, count: n.size) : []
                    let unit = units[ni]
                    for i in 0..<n.size {
                        let (s, v) = unit.update(i, input: input[i], mem: &mem[ni][i], refr: &refr[ni][i], syn: &syn[ni][i])
                        if trace { trV[i] = v }
                        if s {
                            out[i] = 1
                            spkCur[ni].append(Int32(i))
                            spikes[ni].append(Spike(step: Int32(t), neuron: Int32(i)))
                        }
                        count[ni][i] = Fixed.fit(count[ni][i] + out[i], n.countType, .sat)
                    }
                    history.set(history.index[pop]!, step: t, spkCur[ni])
                    counters.neuronUpdates += Int64(n.size)
                    activity.spikesPerGroup[k] = chip.timing.groups(spkCur[ni], size: n.size)
                    counters.spikes += Int64(spkCur[ni].count)
                    if trace {
                        traces[ni].preActivation.append(input)
                        traces[ni].membrane.append(trV)
                        if n.synapse != nil { traces[ni].synapse.append(syn[ni]) }
                    }
                    values[k] = out
                }
            }
            counters.cycles += chip.timing.stepCycles(activity)
        }
        counters.timesteps = Int64(p.timesteps)
        counters.cycles += chip.timing.readoutCycles()
        var result = SampleResult()
        result.storePopulations(p.neurons, spikes: spikes, counts: count, membrane: mem, synapse: syn, traces: trace ? traces : nil)
        for r in p.readouts {
            let c = count[neuronIndex[r.source]!]
            let n = c.count
            var y = [Int64](repeating: 0, count: r.classes)
            for kk in 0..<r.classes {
                var acc = Int64(r.bias[kk])
                for j in 0..<n { acc += Int64(r.weights[kk * n + j]) * c[j] }
                y[kk] = Fixed.fit(acc, r.accType, r.accOverflow)
            }
            counters.readoutMACs += Int64(r.classes * n)
            result.readout[r.name] = y
        }
        result.counters = counters
        return result
    }
}
