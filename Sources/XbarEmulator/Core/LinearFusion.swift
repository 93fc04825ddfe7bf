import CXbarKernel
import XbarCore
import XbarDevice
import XbarIR

/// Fusion of provably linear op chains (docs/ir.md, "Execution": fused projections).
///
/// On a chip without run-time noise, the ops between the crossbar reads and a population's `lif` are often exact
/// integer maps: a read sums codes, an ADC whose LSB divides every code (and the offset) and whose range holds every
/// reachable sum divides exactly, slices and concats move values, and add/sub/scale ops whose results can never leave
/// their type neither round nor saturate. Then the lif input is, exactly, a sum over the driven rows of one integer
/// weight per (row, neuron) (superposition), and the fast engine computes it as one sparse gather per active spike
/// instead of converting every column. The proof is an interval analysis over every reachable value (any subset of
/// rows driven); the weights are obtained by running the op kernels on one-hot inputs. Counters, driven rows and
/// the timing model's activity are still computed for every op, so results are the same bit for bit.
final class FusedProjection: @unchecked Sendable {
    /// Spikes of source `source` at step t - `delay` add row `element` of `weights` to the lif input.
    struct Group: Sendable {
        let source: Int
        let delay: Int
        /// CSR over source elements: entries rowPtr[a] ..< rowPtr[a + 1] are (neuron, weight).
        let rowPtr: [Int]
        let neuron: [Int32]
        let weight: [Int64]
    }

    /// The lif op whose input this computes, and the ops of its cone (executed for counters only).
    let lifOp: Int
    let cone: [Int]
    let groups: [Group]
    /// Per read op of the cone: the code sum of each of its rows (for the code-sum counter).
    let rowCodeSums: [Int: [Int64]]
    /// The same as raw pointers by op index (nil for ops that are not reads of the cone), for the step loop.
    let rowCodeSumPtr: [UnsafeMutablePointer<Int64>?]
    private let storage: PinnedStorage

    init(lifOp: Int, cone: [Int], groups: [Group], rowCodeSums: [Int: [Int64]], ops: Int) {
        self.lifOp = lifOp
        self.cone = cone
        self.groups = groups
        self.rowCodeSums = rowCodeSums
        let store = PinnedStorage()
        rowCodeSumPtr = (0..<ops).map { k in rowCodeSums[k].map { store.int64($0) } }
        storage = store
    }
}

enum LinearFusion {
    /// Closed integer interval per element.
    typealias Bounds = (lo: [Int64], hi: [Int64])

    /// Fused projections of every lif whose cone is provably linear on `state`, or none when reads are noisy.
    static func plan(exec: ExecutableProgram, state: ChipState, noise: AnalogNoise?) -> [FusedProjection] {
        if let n = noise, n.readNoise || n.adc != nil { return [] }
        let p = exec.program
        var index: [String: Int] = [:]
        for (k, op) in p.step.enumerated() { index[op.result] = k }
        let operands = p.step.map { $0.kind.operands.map { index[$0]! } }
        var consumers = [[Int]](repeating: [], count: p.step.count)
        for (k, os) in operands.enumerated() { for o in os { consumers[o].append(k) } }
        var out: [FusedProjection] = []
        for (l, op) in exec.ops.enumerated() {
            guard case .lif = op else { continue }
            guard let cone = linearCone(of: l, operands: operands, consumers: consumers, exec: exec, state: state) else { continue }
            out.append(weights(lif: l, cone: cone, operands: operands, exec: exec, state: state))
        }
        return out
    }

    /// The ops feeding lif `l`, in program order, when every one is proven exact and only feeds the cone.
    static func linearCone(of l: Int, operands: [[Int]], consumers: [[Int]], exec: ExecutableProgram, state: ChipState) -> [Int]? {
        var inCone = Set<Int>()
        var stack = operands[l]
        while let k = stack.popLast() {
            guard inCone.insert(k).inserted else { continue }
            stack += operands[k]
        }
        let cone = inCone.sorted()
        guard !cone.isEmpty, cone.allSatisfy({ k in consumers[k].allSatisfy { inCone.contains($0) || $0 == l } }) else { return nil }
        var bounds: [Int: Bounds] = [:]
        for k in cone {
            guard let b = exactBounds(k, operands[k], bounds, exec: exec, state: state) else { return nil }
            bounds[k] = b
        }
        return cone
    }

    /// The interval of every element of op k over every reachable input, or nil when op k may round, clamp or
    /// saturate (then the chain is not linear).
    static func exactBounds(_ k: Int, _ ins: [Int], _ b: [Int: Bounds], exec: ExecutableProgram, state: ChipState) -> Bounds? {
        switch exec.ops[k] {
        case let .read(r):
            let a = exec.program.arrays[r.array]
            var hi = [Int64](repeating: 0, count: r.length)
            for s in r.sources {
                for row in Int(s.rowStart)..<Int(s.rowStart + s.count) {
                    let base = row * a.cols + r.colStart
                    for j in 0..<r.length { hi[j] += Int64(state.codes[r.array][base + j]) }
                }
            }
            return ([Int64](repeating: 0, count: r.length), hi)
        case let .adc(c):
            guard case let .read(r) = exec.ops[c.read], c.offset == 0, c.lsb > 0, let x = b[ins[0]] else { return nil }
            let a = exec.program.arrays[r.array]
            for s in r.sources where c.lsb != 1 {
                for row in Int(s.rowStart)..<Int(s.rowStart + s.count) {
                    let base = row * a.cols + r.colStart
                    for j in 0..<r.length where Int64(state.codes[r.array][base + j]) % c.lsb != 0 { return nil }
                }
            }
            let lo = x.lo.map { ($0 - c.offset) / c.lsb }, hi = x.hi.map { ($0 - c.offset) / c.lsb }
            guard lo.allSatisfy({ $0 >= 0 }), hi.allSatisfy({ $0 <= c.maxCode }) else { return nil }
            return (lo, hi)
        case let .slice(s):
            guard let x = b[ins[0]] else { return nil }
            let idx = (0..<s.length).map { s.start + $0 * s.stride }
            return (idx.map { x.lo[$0] }, idx.map { x.hi[$0] })
        case .concat:
            let parts = ins.compactMap { b[$0] }
            guard parts.count == ins.count else { return nil }
            return (parts.flatMap(\.lo), parts.flatMap(\.hi))
        case let .addSub(s):
            guard let x = b[ins[0]], let y = b[ins[1]] else { return nil }
            let lo = s.sign > 0 ? zip(x.lo, y.lo).map(+) : zip(x.lo, y.hi).map(-)
            let hi = s.sign > 0 ? zip(x.hi, y.hi).map(+) : zip(x.hi, y.lo).map(-)
            return fits(lo, hi, s.fit)
        case let .scale(s):
            guard let x = b[ins[0]], s.shift >= 0, s.shift < 62, s.mul % (Int64(1) << s.shift) == 0 else { return nil }
            let m = s.mul >> s.shift
            guard x.lo.allSatisfy({ abs($0) < (1 << 40) }), x.hi.allSatisfy({ abs($0) < (1 << 40) }), abs(m) < (1 << 20) else { return nil }
            let u = x.lo.map { $0 * m }, v = x.hi.map { $0 * m }
            return fits(zip(u, v).map(min), zip(u, v).map(max), s.fit)
        case .lif:
            return nil
        }
    }

    static func fits(_ lo: [Int64], _ hi: [Int64], _ t: xbar_fit_t) -> Bounds? {
        guard lo.allSatisfy({ $0 >= t.lo }), hi.allSatisfy({ $0 <= t.hi }) else { return nil }
        return (lo, hi)
    }

    /// One term of a cone value: coef * code(row, column j of read op k) / div, summed over the read's driven rows
    /// (div is the product of the ADC LSBs on the path; every code of the window is a multiple of it).
    struct Term { let read: Int; let column: Int; let coef: Int64; let div: Int64 }

    /// Every element of every cone op as a list of read-column terms (the cone's exact linear map).
    static func terms(cone: [Int], operands: [[Int]], exec: ExecutableProgram) -> [Int: [[Term]]] {
        var t: [Int: [[Term]]] = [:]
        for k in cone {
            let ins = operands[k]
            switch exec.ops[k] {
            case let .read(r): t[k] = (0..<r.length).map { [Term(read: k, column: $0, coef: 1, div: 1)] }
            case let .adc(a): t[k] = t[ins[0]]!.map { $0.map { Term(read: $0.read, column: $0.column, coef: $0.coef, div: $0.div * a.lsb) } }
            case let .slice(s):
                let x = t[ins[0]]!
                t[k] = (0..<s.length).map { x[s.start + $0 * s.stride] }
            case .concat: t[k] = ins.flatMap { t[$0]! }
            case let .addSub(a):
                let x = t[ins[0]]!, y = t[ins[1]]!
                t[k] = (0..<a.length).map { i in x[i] + y[i].map { Term(read: $0.read, column: $0.column, coef: $0.coef * Int64(a.sign), div: $0.div) } }
            case let .scale(s):
                let m = s.mul >> s.shift
                t[k] = t[ins[0]]!.map { $0.map { Term(read: $0.read, column: $0.column, coef: $0.coef * m, div: $0.div) } }
            case .lif: break
            }
        }
        return t
    }

    /// The fused weights: W[(source, delay, element)][neuron] = sum over the lif input's terms of
    /// coef * code(row driven by that element) / div.
    static func weights(lif l: Int, cone: [Int], operands: [[Int]], exec: ExecutableProgram, state: ChipState) -> FusedProjection {
        guard case let .lif(rec) = exec.ops[l] else { preconditionFailure("not a lif op") }
        let input = terms(cone: cone, operands: operands, exec: exec)[operands[l][0]]!
        var groupIndex: [[Int]: Int] = [:]
        var keys: [[Int]] = []
        var rowSums: [Int: [Int64]] = [:]
        for k in cone {
            guard case let .read(r) = exec.ops[k] else { continue }
            for s in r.sources where groupIndex[[s.source, s.delay]] == nil {
                groupIndex[[s.source, s.delay]] = keys.count
                keys.append([s.source, s.delay])
            }
            let a = exec.program.arrays[r.array]
            rowSums[k] = (0..<a.rows).map { row in
                (0..<r.length).reduce(Int64(0)) { $0 + Int64(state.codes[r.array][row * a.cols + r.colStart + $1]) }
            }
        }
        // Per group, COO entries (element, neuron, weight), built neuron by neuron with a dense accumulator.
        var acc = keys.map { [Int64](repeating: 0, count: exec.sourceSize[$0[0]]) }
        var coo = keys.map { _ in [(Int32, Int32, Int64)]() }
        for (i, ts) in input.enumerated() {
            var touched: [(Int, Int)] = []
            for term in ts {
                guard case let .read(r) = exec.ops[term.read] else { continue }
                let a = exec.program.arrays[r.array]
                let codes = state.codes[r.array]
                for s in r.sources {
                    let g = groupIndex[[s.source, s.delay]]!
                    for e in 0..<Int(s.count) {
                        let code = Int64(codes[(Int(s.rowStart) + e) * a.cols + r.colStart + term.column])
                        guard code != 0 else { continue }
                        let el = Int(s.srcStart) + e
                        if acc[g][el] == 0 { touched.append((g, el)) }
                        acc[g][el] += term.coef * (code / term.div)
                    }
                }
            }
            for (g, el) in touched where acc[g][el] != 0 {
                coo[g].append((Int32(el), Int32(i), acc[g][el]))
                acc[g][el] = 0
            }
            for (g, el) in touched { acc[g][el] = 0 }
        }
        let groups = keys.enumerated().map { gi, key -> FusedProjection.Group in
            let entries = coo[gi].sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            var rowPtr = [Int](repeating: 0, count: exec.sourceSize[key[0]] + 1)
            for e in entries { rowPtr[Int(e.0) + 1] += 1 }
            for a in 0..<exec.sourceSize[key[0]] { rowPtr[a + 1] += rowPtr[a] }
            return .init(source: key[0], delay: key[1], rowPtr: rowPtr, neuron: entries.map(\.1), weight: entries.map(\.2))
        }
        _ = rec
        return FusedProjection(lifOp: l, cone: cone, groups: groups, rowCodeSums: rowSums, ops: exec.ops.count)
    }
}

/// How the fast engine executes each op given the fused projections: normally, for its counters only (an op of a
/// fused cone), or as the fused lif input.
final class FusionPlan: Sendable {
    enum Mode: Sendable { case normal, countOnly(Int), fusedInput(Int) }
    let mode: [Mode]
    let projections: [FusedProjection]
    /// The ops the step loop visits, in program order: every op outside the cones, the reads of the cones (driven
    /// rows and read counters) and the fused lifs. A cone's adc, add/sub and scale counters are added by its read
    /// (`conversionsOfRead`) and per step (`digitalOpsPerStep`); its slices and concats count nothing.
    let steps: [Int]
    let digitalOpsPerStep: Int64
    /// Per read op of a cone: the adc ops converting it and their lengths.
    let conversionsOfRead: [[(op: Int, length: Int64)]]

    init(_ projections: [FusedProjection], exec: ExecutableProgram) {
        let ops = exec.ops.count
        var m = [Mode](repeating: .normal, count: ops)
        var conv = [[(op: Int, length: Int64)]](repeating: [], count: ops)
        var digital: Int64 = 0
        for (i, f) in projections.enumerated() {
            for k in f.cone {
                m[k] = .countOnly(i)
                switch exec.ops[k] {
                case let .adc(a): conv[a.read].append((k, Int64(a.length)))
                case let .addSub(a): digital += Int64(a.length)
                case let .scale(s): digital += Int64(s.length)
                default: break
                }
            }
            m[f.lifOp] = .fusedInput(i)
        }
        mode = m
        self.projections = projections
        steps = (0..<ops).filter { k in
            if case .countOnly = m[k], !{ if case .read = exec.ops[k] { return true } else { return false } }() { return false }
            return true
        }
        digitalOpsPerStep = digital
        conversionsOfRead = conv
    }
}

extension OpKernels {
    /// Op k of a fused cone at step t: only what it counts (docs/ir.md "Counters") and the timing activity.
    @inline(__always)
    func countOnly(_ k: Int, _ op: ExecOp, _ t: Int, _ f: FusedProjection, _ ctx: SampleContext) {
        switch op {
        case let .read(r):
            let n = drivenRows(r, t, ctx)
            countRead(r, driven: n, ctx)
            ctx.fired[k] = n > 0
            ctx.activity.driven[k] = n
            guard n > 0, let sums = f.rowCodeSumPtr[k] else { return }
            for c in fusion!.conversionsOfRead[k] { ctx.counters.conversions[c.op] += c.length }
            var s: Int64 = 0
            for i in 0..<n { s &+= sums[Int(ctx.rows[i])] }
            ctx.counters.codeSums[k] &+= s
            ctx.counters.readFired[k] = true
            ctx.counters.columnIntegrations += Int64(r.length)
        case .adc, .addSub, .scale, .slice, .concat, .lif: break  // counted by the read and per step (FusionPlan)
        }
    }

    /// The lif input of a fused projection at step t: the sum of the weight rows of every active source element.
    @inline(__always)
    func fusedInput(_ f: FusedProjection, _ l: LifRecord, _ t: Int, _ ctx: SampleContext) {
        let size = exec.program.neurons[l.population].size
        let input = ctx.values + l.input
        input.update(repeating: 0, count: size)
        for g in f.groups where t - g.delay >= 0 {
            let slot = (t - g.delay) % exec.sourceDepth[g.source]
            let active = ctx.ring[g.source] + slot * exec.sourceSize[g.source]
            g.rowPtr.withUnsafeBufferPointer { rp in
                g.neuron.withUnsafeBufferPointer { nb in
                    g.weight.withUnsafeBufferPointer { wb in
                        for i in 0..<ctx.ringCount[g.source][slot] {
                            let a = Int(active[i])
                            for e in rp[a]..<rp[a + 1] { input[Int(nb[e])] &+= wb[e] }
                        }
                    }
                }
            }
        }
    }
}
