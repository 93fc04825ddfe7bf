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
        /// The same CSR for the native gather when every weight fits 32 bits (nil otherwise).
        let rowPtr64: [Int64]
        let weight32: [Int32]?

        init(source: Int, delay: Int, rowPtr: [Int], neuron: [Int32], weight: [Int64]) {
            self.source = source
            self.delay = delay
            self.rowPtr = rowPtr
            self.neuron = neuron
            self.weight = weight
            rowPtr64 = rowPtr.map { Int64($0) }
            weight32 = weight.allSatisfy { $0 >= Int64(Int32.min) && $0 <= Int64(Int32.max) } ? weight.map { Int32($0) } : nil
        }
    }

    /// How the cone's reads are counted without executing them (docs/ir.md "Counters"). The row ranges the reads
    /// drive from one group's source are cut into disjoint *atoms* (element intervals); a step counts the active
    /// elements per atom, and a read's driven rows are the sum over its atoms. Code sums are linear in the driven
    /// rows, so they are accumulated once per sample from each element's activity count (`codeSumTerms`).
    struct Counting: Sendable {
        /// Per group: atom of each source element (global atom id; -1 when the element drives no cone read), and
        /// the element's offset in the per-sample activity counts.
        let atomOf: [[Int32]]
        let activityOffset: [Int]
        let atoms: Int
        let elements: Int
        /// Per cone read (in `coneReads` order): its atoms.
        let readAtoms: [[Int32]]
        /// Per cone read: (activity index, row code sum) for every row it can drive.
        let codeSumTerms: [[(element: Int32, sum: Int64)]]
    }

    /// The lif op whose input this computes, and the ops of its cone (never executed: counted at the lif).
    let lifOp: Int
    let cone: [Int]
    /// The read ops of the cone, in program order.
    let coneReads: [Int]
    let groups: [Group]
    let counting: Counting

    init(lifOp: Int, cone: [Int], coneReads: [Int], groups: [Group], counting: Counting) {
        self.lifOp = lifOp
        self.cone = cone
        self.coneReads = coneReads
        self.groups = groups
        self.counting = counting
    }
}

enum LinearFusion {
    /// Closed integer interval per element.
    typealias Bounds = (lo: [Int64], hi: [Int64])
    /// The largest cone (elements summed over its ops) that is planned: 2^24, 256 MB of intervals. The 8000-neuron
    /// NALSM's cone has about 2 M elements; the 100,000-neuron sparse reservoir's, about 350 M (docs/bench.md).
    static let maxConeElements = 1 << 24

    /// Fused projections of every lif whose cone is provably linear on `state`, or none when reads are noisy.
    /// `operands[k]`: the op indices op k reads (`TimingModel.operands`).
    static func plan(exec: ExecutableProgram, state: ChipState, noise: AnalogNoise?, operands: [[Int]]) -> [FusedProjection] {
        if let n = noise, n.readNoise || n.adc != nil { return [] }
        let p = exec.program
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
        // The proof keeps an interval per element of every cone op: a cone beyond `maxConeElements` runs unfused.
        guard cone.reduce(0, { $0 + exec.length[$1] }) <= maxConeElements else { return nil }
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
            hi.withUnsafeMutableBufferPointer { h in
                for s in r.sources {
                    for row in Int(s.rowStart)..<Int(s.rowStart + s.count) {
                        let base = row * a.cols + r.colStart
                        state.codes[r.array].withCells(base..<base + r.length) {
                            xbar_accumulate_i32(h.baseAddress!, $0.baseAddress!, Int64(r.length))
                        }
                    }
                }
            }
            return ([Int64](repeating: 0, count: r.length), hi)
        case let .adc(c):
            guard case let .read(r) = exec.ops[c.read], c.offset == 0, c.lsb > 0, let x = b[ins[0]] else { return nil }
            if c.lsb != 1 {
                guard windowDivisible(r, by: c.lsb, exec: exec, state: state) else { return nil }
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
        case .lif, .trace, .stdp, .modulator, .homeostasis:
            return nil
        }
    }

    /// Whether every code of read r's window (the rows its sources drive) is a multiple of `lsb` (> 1). A code is
    /// below 2^31, so q = round(code / lsb) in doubles is exact when the code is a multiple, and q * lsb == code
    /// decides it exactly (the loop has no integer division).
    static func windowDivisible(_ r: ReadRecord, by lsb: Int64, exec: ExecutableProgram, state: ChipState) -> Bool {
        guard lsb < (1 << 31) else { return false }
        let a = exec.program.arrays[r.array]
        let inv = 1.0 / Double(lsb)
        for s in r.sources {
            for row in Int(s.rowStart)..<Int(s.rowStart + s.count) {
                let base = row * a.cols + r.colStart
                let bad = state.codes[r.array].withCells(base..<base + r.length) { codes -> Int64 in
                    var bad: Int64 = 0
                    for j in 0..<r.length {
                        let c = Int64(codes[j])
                        bad |= Int64((Double(c) * inv).rounded()) &* lsb ^ c
                    }
                    return bad
                }
                if bad != 0 { return false }
            }
        }
        return true
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
            case .lif, .trace, .stdp, .modulator, .homeostasis: break
            }
        }
        return t
    }

    /// Per column of one read's window: the lif input elements (neurons) it feeds, with coefficient and divisor
    /// (CSR over columns).
    struct ColumnFeeds {
        var start: [Int32]
        var neuron: [Int32] = []
        var coef: [Int64] = []
        var div: [Int64] = []
    }

    /// The read ops' column feeds of a lif input given as terms.
    static func columnFeeds(_ input: [[Term]], exec: ExecutableProgram) -> [Int: ColumnFeeds] {
        var lists: [Int: [[(neuron: Int, coef: Int64, div: Int64)]]] = [:]
        for (i, ts) in input.enumerated() {
            for term in ts {
                guard case let .read(r) = exec.ops[term.read] else { continue }
                if lists[term.read] == nil { lists[term.read] = Array(repeating: [], count: r.length) }
                lists[term.read]![term.column].append((i, term.coef, term.div))
            }
        }
        return lists.mapValues { columns in
            var f = ColumnFeeds(start: [0])
            for list in columns {
                for x in list {
                    f.neuron.append(Int32(x.neuron))
                    f.coef.append(x.coef)
                    f.div.append(x.div)
                }
                f.start.append(Int32(f.neuron.count))
            }
            return f
        }
    }

    /// The source groups (source, delay) of a cone's reads in order of first appearance; per group and element the
    /// (read, row) pairs it drives; per read the code sum of each row of its window.
    struct SourceGroups {
        var index: [Int: Int] = [:]
        var keys: [(source: Int, delay: Int)] = []
        var drives: [[[(read: Int, row: Int)]]] = []
        var rowSums: [Int: [Int64]] = [:]
    }

    static func sourceGroups(cone: [Int], exec: ExecutableProgram, state: ChipState) -> SourceGroups {
        var g = SourceGroups()
        for k in cone {
            guard case let .read(r) = exec.ops[k] else { continue }
            for s in r.sources {
                let key = s.source &* 1_000_003 &+ s.delay
                if g.index[key] == nil {
                    g.index[key] = g.keys.count
                    g.keys.append((s.source, s.delay))
                    g.drives.append(Array(repeating: [], count: exec.sourceSize[s.source]))
                }
                let gi = g.index[key]!
                for e in 0..<Int(s.count) { g.drives[gi][Int(s.srcStart) + e].append((k, Int(s.rowStart) + e)) }
            }
            let a = exec.program.arrays[r.array]
            g.rowSums[k] = (0..<a.rows).map { row in
                let base = row * a.cols + r.colStart
                return state.codes[r.array].withCells(base..<base + r.length) { xbar_sum_i32($0.baseAddress!, Int64(r.length)) }
            }
        }
        return g
    }

    /// The fused weights: W[(source, delay, element)][neuron] = sum over the lif input's terms of
    /// coef * code(row driven by that element) / div.
    static func weights(lif l: Int, cone: [Int], operands: [[Int]], exec: ExecutableProgram, state: ChipState) -> FusedProjection {
        let size = { () -> Int in
            guard case let .lif(rec) = exec.ops[l] else { preconditionFailure("not a lif op") }
            return exec.program.neurons[rec.population].size
        }()
        let feeds = columnFeeds(terms(cone: cone, operands: operands, exec: exec)[operands[l][0]]!, exec: exec)
        let sg = sourceGroups(cone: cone, exec: exec, state: state)
        let groups = sg.keys.indices.map { g in
            weightRows(sg.keys[g], drives: sg.drives[g], feeds: feeds, neurons: size, exec: exec, state: state)
        }
        let coneReads = cone.filter { if case .read = exec.ops[$0] { return true } else { return false } }
        let counting = countingTables(coneReads: coneReads, keys: sg.keys, drives: sg.drives, rowSums: sg.rowSums, exec: exec)
        return FusedProjection(lifOp: l, cone: cone, coneReads: coneReads, groups: groups, counting: counting)
    }

    /// The weight rows of one source group, element by element: each driven row's non-zero cells, in memory order,
    /// added through the column feeds into a dense accumulator over the neurons.
    static func weightRows(_ key: (source: Int, delay: Int), drives: [[(read: Int, row: Int)]], feeds: [Int: ColumnFeeds],
                           neurons size: Int, exec: ExecutableProgram, state: ChipState) -> FusedProjection.Group {
        var acc = [Int64](repeating: 0, count: size)
        var mark = [Int](repeating: -1, count: size)
        var touched: [Int] = []
        let widest = drives.joined().map { exec.length[$0.read] }.max() ?? 0
        let nonzero = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(widest, 1))
        defer { nonzero.deallocate() }
        var rowPtr = [Int](repeating: 0, count: exec.sourceSize[key.source] + 1)
        var neuron: [Int32] = [], weight: [Int64] = []
        for el in 0..<exec.sourceSize[key.source] {
            for (k, row) in drives[el] {
                guard case let .read(r) = exec.ops[k], let f = feeds[k] else { continue }
                let base = row * exec.program.arrays[r.array].cols + r.colStart
                state.codes[r.array].withCells(base..<base + r.length) { codes in
                    let n = Int(xbar_nonzero_columns(codes.baseAddress!, Int64(r.length), nonzero))
                    for c in 0..<n {
                        let j = Int(nonzero[c])
                        let code = Int64(codes[j])
                        for t in Int(f.start[j])..<Int(f.start[j + 1]) {
                            let i = Int(f.neuron[t])
                            if mark[i] != el { mark[i] = el; touched.append(i) }
                            let d = f.div[t]
                            acc[i] &+= f.coef[t] &* (d == 1 ? code : code / d)
                        }
                    }
                }
            }
            touched.sort()
            for i in touched {
                if acc[i] != 0 {
                    neuron.append(Int32(i))
                    weight.append(acc[i])
                }
                acc[i] = 0
            }
            touched.removeAll(keepingCapacity: true)
            rowPtr[el + 1] = neuron.count
        }
        return .init(source: key.source, delay: key.delay, rowPtr: rowPtr, neuron: neuron, weight: weight)
    }

    /// The atoms and code-sum terms of `FusedProjection.Counting`: per group, the element intervals cut at every
    /// boundary of a cone read's source range.
    static func countingTables(coneReads: [Int], keys: [(source: Int, delay: Int)],
                               drives: [[[(read: Int, row: Int)]]], rowSums: [Int: [Int64]],
                               exec: ExecutableProgram) -> FusedProjection.Counting {
        var atomOf: [[Int32]] = [], offsets: [Int] = []
        var atoms = 0, elements = 0
        for (g, key) in keys.enumerated() {
            // Element -> the set of reads it drives; a new atom starts wherever that set changes.
            var of = [Int32](repeating: -1, count: exec.sourceSize[key.source])
            var previous: [Int]? = nil
            for el in of.indices {
                let reads = drives[g][el].map(\.read)
                if reads.isEmpty { previous = nil; continue }
                if reads != previous { atoms += 1; previous = reads }
                of[el] = Int32(atoms - 1)
            }
            atomOf.append(of)
            offsets.append(elements)
            elements += of.count
        }
        var readAtoms = [[Int32]](repeating: [], count: coneReads.count)
        var terms = [[(element: Int32, sum: Int64)]](repeating: [], count: coneReads.count)
        let position = Dictionary(uniqueKeysWithValues: coneReads.enumerated().map { ($1, $0) })
        for (g, _) in keys.enumerated() {
            for (el, list) in drives[g].enumerated() {
                // Every element of an atom drives the same rows' reads: the atom's first element lists them, once per
                // row (an element may drive two rows of one read through two row sources).
                let atom = atomOf[g][el]
                let first = el == 0 || atomOf[g][el - 1] != atom
                for (k, row) in list {
                    let i = position[k]!
                    if first { readAtoms[i].append(atom) }
                    terms[i].append((Int32(offsets[g] + el), rowSums[k]![row]))
                }
            }
        }
        return .init(atomOf: atomOf, activityOffset: offsets, atoms: atoms, elements: elements, readAtoms: readAtoms,
                     codeSumTerms: terms)
    }
}

/// How the fast engine executes each op given the fused projections: normally, for its counters only (an op of a
/// fused cone), or as the fused lif input.
final class FusionPlan: Sendable {
    enum Mode: Sendable { case normal, countOnly(Int), fusedInput(Int) }
    let mode: [Mode]
    let projections: [FusedProjection]
    /// The ops the step loop visits, in program order: every op outside the cones and the fused lifs. A cone's reads
    /// are counted by its fused lif (`fusedInput`), its adc conversions with them (`conversionsOfRead`), its
    /// add/sub and scale ops per step (`digitalOpsPerStep`); its slices and concats count nothing.
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
            if case .countOnly = m[k] { return false }
            return true
        }
        digitalOpsPerStep = digital
        conversionsOfRead = conv
    }
}

extension OpKernels {
    /// The lif input of a fused projection at step t: the sum of the weight rows of every active source element. The
    /// same pass counts active elements per atom, from which the cone's reads are counted as executing them would
    /// (driven rows, conversions; docs/ir.md "Counters") with their timing activity; code sums come per sample
    /// (`fusedCodeSums`).
    @inline(__always)
    func fusedInput(_ f: FusedProjection, _ l: LifRecord, _ t: Int, _ ctx: SampleContext) {
        let size = exec.program.neurons[l.population].size
        let input = ctx.values + l.input
        input.update(repeating: 0, count: size)
        let c = f.counting
        let perAtom = ctx.fusedScratch(atoms: c.atoms)
        perAtom.update(repeating: 0, count: c.atoms)
        let activity = ctx.fusedActivity(f.lifOp, elements: c.elements)
        for (gi, g) in f.groups.enumerated() where t - g.delay >= 0 {
            let slot = (t - g.delay) % exec.sourceDepth[g.source]
            let active = ctx.ring[g.source] + slot * exec.sourceSize[g.source]
            let act = activity + c.activityOffset[gi]
            let count = ctx.ringCount[g.source][slot]
            if let w32 = g.weight32 {
                xbar_fused_gather(active, Int64(count), g.rowPtr64, g.neuron, w32, input)
            } else {
                g.rowPtr.withUnsafeBufferPointer { rp in
                g.neuron.withUnsafeBufferPointer { nb in
                g.weight.withUnsafeBufferPointer { wb in
                    for i in 0..<count {
                        let a = Int(active[i])
                        for e in rp[a]..<rp[a + 1] { input[Int(nb[e])] &+= wb[e] }
                    }
                }}}
            }
            c.atomOf[gi].withUnsafeBufferPointer { atomOf in
                for i in 0..<count {
                    let a = Int(active[i])
                    let atom = Int(atomOf[a])
                    if atom >= 0 { perAtom[atom] += 1 }
                    act[a] += 1
                }
            }
        }
        for (i, k) in f.coneReads.enumerated() {
            guard case let .read(r) = exec.ops[k] else { continue }
            var n = 0
            for atom in c.readAtoms[i] { n += perAtom[Int(atom)] }
            countRead(r, driven: n, ctx)
            ctx.fired[k] = n > 0
            ctx.activity.driven[k] = n
            guard n > 0 else { continue }
            for cv in fusion!.conversionsOfRead[k] { ctx.counters.conversions[cv.op] += cv.length }
            ctx.counters.readFired[k] = true
            ctx.counters.columnIntegrations += Int64(r.length)
        }
    }

    /// At the end of a sample: every fused cone read's code sum, from the activity of each element over the sample.
    func fusedCodeSums(_ ctx: SampleContext) {
        guard let plan = fusion else { return }
        for f in plan.projections {
            let c = f.counting
            let activity = ctx.fusedActivity(f.lifOp, elements: c.elements)
            for (i, k) in f.coneReads.enumerated() {
                var s: Int64 = 0
                for term in c.codeSumTerms[i] { s &+= Int64(activity[Int(term.element)]) &* term.sum }
                ctx.counters.codeSums[k] &+= s
            }
        }
    }
}
