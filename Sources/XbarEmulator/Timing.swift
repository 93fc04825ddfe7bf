import XbarIR
import XbarTarget

/// What the timing model needs to know about one timestep: rows driven by each read and spikes of each neuron
/// group of each lif op (indexed by op position in the step).
public struct StepActivity: Sendable {
    public var driven: [Int]
    /// spikesPerGroup[k][g]: spikes of neuron group g (neurons g*U ..< (g+1)*U) of the lif op at index k.
    public var spikesPerGroup: [[Int]]
    public init(ops: Int) {
        driven = [Int](repeating: 0, count: ops)
        spikesPerGroup = [[Int]](repeating: [], count: ops)
    }
}

/// The closed-form timing of docs/timing.md: in-order issue per resource, operand dependencies, neuron pipeline
/// with fill and drain, spike router with back-pressure. The cycle engine steps the same machine cycle by cycle.
public struct TimingModel: Sendable {
    /// Resource of an op: an array peripheral (index), the digital unit, the neuron unit, or none.
    public enum Resource: Hashable, Sendable {
        case array(Int)
        case digital
        case neuron
        case none
    }

    public let program: Program
    public let spec: TimingSpec
    public let resource: [Resource]
    public let operands: [[Int]]
    /// For reads: lif op indices whose spikes (delay 0) the read needs delivered first.
    public let waitsFor: [[Int]]
    /// For adc ops: conversion rounds (columns per ADC actually used).
    public let adcRounds: [Int]
    /// Op index by result name.
    public let index: [String: Int]
    /// Dense resource number of each op (arrays, then digital, then neuron; -1 = none) and their count.
    let resourceID: [Int]
    let resourceCount: Int
    let isRead: [Bool]
    let isLif: [Bool]
    /// Per op: cycles between two neuron groups of a population update (1; a registered model its `groupCycles`).
    let groupSpacing: [Int64]
    /// `duration` resolved once: op k takes `firedCycles[k]` when op `gate[k]` fired (gate -1: always).
    let firedCycles: [Int64]
    let gate: [Int]
    /// `operands` and `waitsFor` flattened (CSR by op), for the allocation-free step schedule.
    let operandStart: [Int32]
    let operandList: [Int32]
    let waitStart: [Int32]
    let waitList: [Int32]
    /// The ops before the first lif op: their schedule depends only on which reads fired (`ScheduleMemo`).
    let prefixEnd: Int
    let prefixReads: [Int]

    public init(program p: Program, spec: TimingSpec) {
        program = p
        self.spec = spec
        var idx: [String: Int] = [:]
        var lifOf: [String: Int] = [:]
        var res: [Resource] = [], ops: [[Int]] = [], waits: [[Int]] = [], rounds: [Int] = []
        let arrayIndex = Dictionary(uniqueKeysWithValues: p.arrays.enumerated().map { ($0.element.name, $0.offset) })
        for (k, op) in p.step.enumerated() {
            let ins = op.kind.operands.map { idx[$0]! }
            ops.append(ins)
            var w: [Int] = []
            var r = 0
            switch op.kind {
            case let .read(a, rows, _, _, _, _):
                res.append(.array(arrayIndex[a]!))
                for rs in rows where rs.delay == 0 { if let l = lifOf[rs.source] { w.append(l) } }
            case .adc:
                guard case let .read(_, _, c0, _, _, _) = p.step[ins[0]].kind else { fatalError("verified program") }
                res.append(res[ins[0]])
                var perADC: [Int: Int] = [:]
                for c in c0..<(c0 + op.length) { perADC[c / spec.colsPerADC, default: 0] += 1 }
                r = perADC.values.max() ?? 0
            case .slice, .concat: res.append(.none)
            case .add, .sub, .scale: res.append(.digital)
            case let .lif(pop, _), let .neuron(_, pop, _):
                res.append(.neuron)
                lifOf[pop] = k
            case let .trace(src, d, _, _, _, _):
                res.append(.digital)
                if d == 0, let l = lifOf[src] { w.append(l) }
            case let .modulator(m):
                res.append(.digital)
                for s in m.sources where s.delay == 0 { if let l = lifOf[s.source] { w.append(l) } }
            case let .stdp(u):
                // The array's write drivers and verify reads: its peripheral.
                res.append(.array(arrayIndex[u.array]!))
            case let .homeostasis(h): res.append(.array(arrayIndex[h.array]!))
            }
            waits.append(w)
            rounds.append(r)
            idx[op.result] = k
        }
        resource = res
        resourceCount = p.arrays.count + 2
        resourceID = res.map {
            switch $0 {
            case let .array(a): return a
            case .digital: return p.arrays.count
            case .neuron: return p.arrays.count + 1
            case .none: return -1
            }
        }
        groupSpacing = p.step.map { op in
            guard case let .neuron(m, pop, _) = op.kind, let n = p.neuron(named: pop)?.model else { return 1 }
            return Int64(NeuronModels.model(m)?.groupCycles(n) ?? 1)
        }
        isRead = p.step.map { if case .read = $0.kind { return true } else { return false } }
        isLif = p.step.map {
            switch $0.kind {
            case .lif, .neuron: return true
            default: return false
            }
        }
        index = idx
        operands = ops
        waitsFor = waits
        adcRounds = rounds
        var fc = [Int64](repeating: 0, count: p.step.count), gt = [Int](repeating: -1, count: p.step.count)
        for (k, op) in p.step.enumerated() {
            switch op.kind {
            case .read: fc[k] = Int64(spec.settleCycles + spec.integrateCycles); gt[k] = k
            case let .adc(_, bits, _, _, _): fc[k] = Int64(rounds[k] * spec.conversionCycles(bits: bits)); gt[k] = ops[k][0]
            case .slice, .concat, .lif, .neuron: break
            case .add, .sub, .scale, .trace: fc[k] = Int64((op.length + spec.digitalLanes - 1) / spec.digitalLanes)
            case let .modulator(m): fc[k] = Int64(1 + (m.sources.count + spec.digitalLanes - 1) / spec.digitalLanes)
            case .stdp, .homeostasis: gt[k] = -2  // its cycles depend on what it did this step (`learnCycles`, StepActivity.driven)
            }
        }
        firedCycles = fc
        gate = gt
        (operandStart, operandList) = TimingModel.flatten(ops)
        (waitStart, waitList) = TimingModel.flatten(waits)
        let lifs = isLif, reads = isRead
        let firstLif = lifs.firstIndex(of: true) ?? p.step.count
        prefixEnd = firstLif
        prefixReads = (0..<firstLif).filter { reads[$0] }
    }

    static func flatten(_ lists: [[Int]]) -> ([Int32], [Int32]) {
        var start: [Int32] = [0]
        for l in lists { start.append(start.last! + Int32(l.count)) }
        return (start, lists.flatMap { $0.map(Int32.init) })
    }

    /// Duration of op k (lif excluded: its time comes from the pipeline/router recurrence). `fired[r]` tells whether
    /// read r drove at least one row; it must be set for k itself when k is a read.
    @inline(__always)
    public func duration(_ k: Int, fired: [Bool]) -> Int64 {
        let g = gate[k]
        precondition(g != -2, "a learning op's duration is its StepActivity")
        return g < 0 || fired[g] ? firedCycles[k] : 0
    }

    /// Result of the lif pipeline/router recurrence started at `start`: the cycle after the last group leaves the
    /// pipeline (`finish`), and the cycle after the last spike is delivered (`delivered`).
    /// A group of a model with `spacing` cycles per group (Izhikevich: one per sub-step) leaves `spacing` cycles after
    /// the previous one, the first `spacing - 1` cycles after the pipeline fill.
    public func lifTiming(start: Int64, spikesPerGroup s: [Int], spacing: Int64 = 1) -> (finish: Int64, delivered: Int64) {
        let P = Int64(spec.neuronPipeline) + spacing - 1, Q = spec.routerQueue, R = Int64(spec.routerSpikesPerCycle)
        var x: Int64 = start + P - 1  // exit cycle of the previous group (before the first: fill)
        var tau: Int64 = start        // time of the last queue update
        var occ = 0                   // occupancy after the update at tau
        for (g, sg) in s.enumerated() {
            var c = g == 0 ? start + P - 1 : x + spacing
            // Occupancy at cycle c, after that cycle's deliveries: max(0, occ - R * (c - tau)).
            let need = occ - (Q - sg)
            if need > 0 { c = max(c, tau + (Int64(need) + R - 1) / R) }
            occ = max(0, occ - Int(R * (c - tau))) + sg
            tau = c
            x = c
        }
        let finish = x + 1
        let delivered = occ > 0 ? tau + (Int64(occ) + R - 1) / R + 1 : finish
        return (finish, max(finish, delivered))
    }

    /// Cycles of one timestep, by list scheduling (docs/timing.md).
    public func stepCycles(_ a: StepActivity) -> Int64 { stepCycles(a, memo: nil) }

    /// The same, reusing the schedule of the ops before the first lif from `memo` when the same reads fired as in
    /// the step it was recorded at (that part of the schedule is a function of the fired reads only).
    func stepCycles(_ a: StepActivity, memo: ScheduleMemo?) -> Int64 {
        let n = program.step.count
        return withUnsafeTemporaryAllocation(of: Int64.self, capacity: 2 * n + resourceCount + 1) { buf in
            let finish = buf.baseAddress!, delivered = finish + n, free = finish + 2 * n
            if prefixEnd > 0, let m = memo, m.matches(prefixReads, a.driven) {
                m.restore(finish: finish, delivered: delivered, free: free, ops: prefixEnd, resources: resourceCount)
            } else {
                buf.initialize(repeating: 0)
                schedule(a, 0..<prefixEnd, finish, delivered, free)
                memo?.record(prefixReads, a.driven, finish: finish, delivered: delivered, free: free, ops: prefixEnd,
                             resources: resourceCount)
            }
            schedule(a, prefixEnd..<n, finish, delivered, free)
            var end: Int64 = 0
            for k in 0..<n { end = max(end, delivered[k], finish[k]) }
            return end
        }
    }

    /// List scheduling of ops `range` (in order) into finish/delivered/free.
    @inline(__always)
    func schedule(_ a: StepActivity, _ range: Range<Int>, _ finish: UnsafeMutablePointer<Int64>,
                  _ delivered: UnsafeMutablePointer<Int64>, _ free: UnsafeMutablePointer<Int64>) {
        operandStart.withUnsafeBufferPointer { os in
        operandList.withUnsafeBufferPointer { ol in
        waitStart.withUnsafeBufferPointer { ws in
        waitList.withUnsafeBufferPointer { wl in
        a.driven.withUnsafeBufferPointer { driven in
            for k in range {
                var ready: Int64 = 0
                for i in Int(os[k])..<Int(os[k + 1]) { ready = max(ready, finish[Int(ol[i])]) }
                for i in Int(ws[k])..<Int(ws[k + 1]) { ready = max(ready, delivered[Int(wl[i])]) }
                let r = resourceID[k]
                let start = r < 0 ? ready : max(ready, free[r])
                if isLif[k] {
                    let t = lifTiming(start: start, spikesPerGroup: a.spikesPerGroup[k], spacing: groupSpacing[k])
                    finish[k] = t.finish
                    delivered[k] = t.delivered
                    free[r] = t.finish
                } else {
                    // Op k takes its cycles when its gate read drove a row (`duration`).
                    let g = gate[k]
                    let d = g == -2 ? Int64(driven[k]) : g < 0 || driven[g] > 0 ? firedCycles[k] : 0
                    finish[k] = start + d
                    delivered[k] = finish[k]
                    // In-order issue: a later op on this resource never starts before this one did.
                    if d > 0 { free[r] = finish[k] } else if r >= 0 { free[r] = max(free[r], start) }
                }
            }
        }}}}}
    }

    /// Cycles of an stdp op's step (docs/timing.md, "Learning"): its eligibility updates on the digital lanes, and on
    /// an update step one pass over its synapses plus every pulse and every pair read.
    static func learnCycles(_ spec: TimingSpec, synapses: Int, _ a: STDPActivity) -> Int64 {
        let lanes = spec.digitalLanes
        var c = (a.eligibilityUpdates + lanes - 1) / lanes
        if a.programmed {
            c += (synapses + lanes - 1) / lanes + (a.setPulses + a.resetPulses) * spec.writePulseCycles
                + a.verifyReads * (spec.settleCycles + spec.integrateCycles)
        }
        return Int64(c)
    }

    /// Cycles of the readouts after the last step.
    public func readoutCycles() -> Int64 {
        program.readouts.reduce(0) { acc, r in
            let n = program.neuron(named: r.source)?.size ?? 0
            return acc + Int64((r.classes * n + spec.readoutMACs - 1) / spec.readoutMACs)
        }
    }

    /// Spike counts per group of `spikes` (sorted neuron indices) for a population of `size`.
    public func groups(_ spikes: [Int32], size: Int) -> [Int] {
        var s: [Int] = []
        spikes.withUnsafeBufferPointer { TimingModel.spikesPerGroup($0.baseAddress, $0.count, size: size, unit: spec.neuronUnits, into: &s) }
        return s
    }

    /// counts[g] = spikes among neurons g*unit ..< (g+1)*unit of a population of `size`, for the ascending spike
    /// indices spikes[0..<n] (the lif activity of `StepActivity.spikesPerGroup`); reuses `counts`' storage.
    @inline(__always)
    static func spikesPerGroup(_ spikes: UnsafePointer<Int32>?, _ n: Int, size: Int, unit: Int, into counts: inout [Int]) {
        let groups = (size + unit - 1) / unit
        if counts.count != groups { counts = [Int](repeating: 0, count: groups) }
        counts.withUnsafeMutableBufferPointer { c in
            for g in 0..<groups { c[g] = 0 }
            var g = 0, end = unit
            for e in 0..<n {
                let i = Int(spikes![e])
                while i >= end { g += 1; end += unit }
                c[g] += 1
            }
        }
    }
}

/// The schedule of a step's ops before its first lif, recorded for one pattern of fired reads (one sample context
/// owns one; a step with the same fired reads reuses it).
final class ScheduleMemo {
    private var fired: [Bool] = []
    private var saved: [Int64] = []
    private var valid = false

    func matches(_ reads: [Int], _ driven: [Int]) -> Bool {
        guard valid else { return false }
        for (i, r) in reads.enumerated() where fired[i] != (driven[r] > 0) { return false }
        return true
    }

    func record(_ reads: [Int], _ driven: [Int], finish: UnsafePointer<Int64>, delivered: UnsafePointer<Int64>,
                free: UnsafePointer<Int64>, ops: Int, resources: Int) {
        fired = reads.map { driven[$0] > 0 }
        saved = Array(UnsafeBufferPointer(start: finish, count: ops)) + Array(UnsafeBufferPointer(start: delivered, count: ops))
            + Array(UnsafeBufferPointer(start: free, count: resources))
        valid = true
    }

    func restore(finish: UnsafeMutablePointer<Int64>, delivered: UnsafeMutablePointer<Int64>, free: UnsafeMutablePointer<Int64>,
                 ops: Int, resources: Int) {
        saved.withUnsafeBufferPointer { s in
            finish.update(from: s.baseAddress!, count: ops)
            delivered.update(from: s.baseAddress! + ops, count: ops)
            free.update(from: s.baseAddress! + 2 * ops, count: resources)
        }
    }
}
