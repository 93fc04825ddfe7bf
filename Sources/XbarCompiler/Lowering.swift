import XbarCore
import XbarDevice
import XbarGraph
import XbarIR
import XbarTarget

/// The state of one compilation: the program being emitted and its statistics.
struct Lowering {
    /// Incoming synapses of one (source, delay) pair: a block of stacked rows.
    struct Block {
        var source: String
        var delay: Int
        var size: Int
        var weights: [Double]  // size x post
        var projections: [Projection]
    }

    let graph: Graph
    let t: Target
    let options: CompileOptions
    let file: String
    let map: ConductanceMap
    let perUS: Double
    let adcLSB: Int64
    let adcOffset: Int64
    let arraysAvailable: Int
    let forming: Bool
    let physics: CellPhysics?

    var program: Program
    var tiles: [TileInfo] = []
    var formats: [PopulationFormat] = []
    var cellsUsed = 0
    /// Tiles (`P.r<rt>c<ct>`) left without an array because all their weights are zero.
    var skippedTiles: [String] = []
    var formedCells = 0
    var unformedCells = 0
    var neuronDecls: [String: NeuronDecl] = [:]

    init(graph g: Graph, target t: Target, options: CompileOptions, file: String) throws {
        graph = g
        self.t = t
        self.options = options
        self.file = file
        map = ConductanceMap(target: t)
        perUS = 1000.0 / t.cell.gUnitNS
        if let l = t.adc.lsbUS {
            adcLSB = Swift.max(1, Fixed.roundReal(l * perUS, .halfEven))
        } else {
            adcLSB = Swift.max(1, Fixed.roundReal(t.adc.fullScaleUS! * perUS / Double(1 << t.adc.bits), .halfEven))
        }
        adcOffset = Fixed.roundReal(t.adc.offsetUS * perUS, .halfEven)
        arraysAvailable = t.macro.count * t.macro.arrays
        forming = t.device.programming == .forming
        physics = forming ? try CellPhysics(spec: t.device, cell: t.cell, seed: options.seed) : nil
        program = Program(name: g.name, target: t.name, timesteps: g.timesteps, inputs: [], neurons: [], arrays: [],
                          readouts: [], step: [])
        for p in g.populations where p.kind == .input { program.inputs.append(InputDecl(name: p.name, size: p.size)) }
    }

    func blocks(into popName: String, post: Int) -> [Block] {
        var blocks: [Block] = []
        for pr in graph.projections where pr.to == popName {
            let src = graph.population(named: pr.from)!
            if let k = blocks.firstIndex(where: { $0.source == pr.from && $0.delay == pr.delay }) {
                if case let .sparse(es) = pr.weights {
                    // Added in place: a sparse projection is never densified a second time.
                    for e in es { blocks[k].weights[e.pre * post + e.post] += e.weight }
                } else {
                    let w = Materialize.weights(pr, pre: src.size, post: post)
                    for i in 0..<w.count { blocks[k].weights[i] += w[i] }
                }
                blocks[k].projections.append(pr)
            } else {
                let w = Materialize.weights(pr, pre: src.size, post: post)
                blocks.append(Block(source: pr.from, delay: pr.delay, size: src.size, weights: w, projections: [pr]))
            }
        }
        return blocks
    }

    /// Desired standard deviation of a block's random weights (forming mode).
    func desiredSigma(_ b: Block) throws -> Double {
        var v = 0.0
        for pr in b.projections {
            guard case let .random(r) = pr.weights else {
                throw XbarError(file: file, field: "projections.\(pr.name).weights",
                                "target \(t.name) electroforms its weights: only \"random\" projections can be mapped (found another kind; program trained weights with --set device.programming=write_verify)")
            }
            let sd = r.distribution == .normal ? r.b : (r.b - r.a) / 12.0.squareRoot()
            v += (r.gain * sd) * (r.gain * sd) * r.density
        }
        return v.squareRoot()
    }

    mutating func lower(population popName: String) throws {
        let pop = graph.population(named: popName)!
        let post = pop.size
        let blocks = self.blocks(into: popName, post: post)
        guard !blocks.isEmpty else {
            throw XbarError(file: file, field: "populations.\(popName)", "lif population has no incoming projection")
        }
        let slices = forming ? 1 : t.mapping.slices
        let cpw = 2 * slices
        let neuronsPerTile = t.macro.cols / cpw
        var stacked: [(block: Int, index: Int)] = []
        for (b, blk) in blocks.enumerated() { for i in 0..<blk.size { stacked.append((b, i)) } }
        let rowTiles = stride(from: 0, to: stacked.count, by: t.macro.rows).map { $0..<Swift.min($0 + t.macro.rows, stacked.count) }
        let colTiles = stride(from: 0, to: post, by: neuronsPerTile).map { $0..<Swift.min($0 + neuronsPerTile, post) }

        // 1. Cells: quantised levels (programmed) or electroformed conductances (forming).
        // Programmed: the quantisation format from the graph's weights (forming derives it from the cells, below).
        // Weights are quantised where they are used (no second matrix is kept).
        var programmed: PopulationFormat? = nil
        if !forming {
            var maxAbs = 0.0
            for blk in blocks { for w in blk.weights { maxAbs = Swift.max(maxAbs, abs(w)) } }
            var f = try Quantiser.format(population: pop, maxAbsWeight: maxAbs, target: t, file: file)
            var maxErr = 0.0
            if maxAbs > 0 {
                for blk in blocks {
                    for w in blk.weights where w != 0 {
                        maxErr = Swift.max(maxErr, abs(w - Double(Quantiser.quantise(w, f, t.mapping.weightRounding)) * f.weightScale) / maxAbs)
                    }
                }
            }
            f.maxWeightError = maxErr
            programmed = f
        }
        let qRounding = t.mapping.weightRounding, qFormat = programmed, rowOf = stacked, C = t.macro.cols
        /// The integer weight of stacked row `si`, neuron `n` (programmed), or whether a synapse exists there (forming: 1 or 0).
        func q(_ si: Int, _ n: Int) -> Int64 {
            let sr = rowOf[si]
            let w = blocks[sr.block].weights[sr.index * post + n]
            guard let f = qFormat else { return w != 0 ? 1 : 0 }
            return w == 0 ? 0 : Quantiser.quantise(w, f, qRounding)
        }
        // Tile skipping: a (row tile, column tile) block whose weights are all zero gets no array and no read; a column
        // tile keeps its row tile 0 when every one of its blocks is zero (its neurons still need a pre-activation).
        var tileArray = [[Int?]](repeating: [Int?](repeating: nil, count: rowTiles.count), count: colTiles.count)
        var keep = [[Bool]](repeating: [Bool](repeating: false, count: rowTiles.count), count: colTiles.count)
        for (ct, cols) in colTiles.enumerated() {
            for (rt, rows) in rowTiles.enumerated() {
                keep[ct][rt] = rows.contains { si in cols.contains { q(si, $0) != 0 } }
            }
            if !keep[ct].contains(true) { keep[ct][0] = true }
        }
        let zeroCells = map.cells(0), zeroIsUnused = zeroCells.allSatisfy { $0 == map.unusedCode }
        // Realised conductance difference (uS) statistics per block (forming).
        var diffSum = [Double](repeating: 0, count: blocks.count), diffSq = diffSum, diffN = diffSum
        for (ct, cols) in colTiles.enumerated() {
            for (rt, rows) in rowTiles.enumerated() {
                guard keep[ct][rt] else { skippedTiles.append("\(popName).r\(rt)c\(ct)"); continue }
                let k = program.arrays.count
                guard k < arraysAvailable || options.replicateMacros else {
                    throw XbarError(file: file, field: "populations.\(popName)",
                                    "needs more than the \(arraysAvailable) arrays of target \(t.name) (\(t.macro.count) macros x \(t.macro.arrays) arrays of \(t.macro.rows)x\(t.macro.cols)); use --replicate-macros to allow more macros")
                }
                var codes = [Int32](repeating: map.unusedCode, count: t.macro.rows * t.macro.cols)
                for (r, si) in rows.enumerated() {
                    let sr = stacked[si]
                    for (j, n) in cols.enumerated() {
                        if let ph = physics, blocks[sr.block].weights[sr.index * post + n] != 0 {
                            // Absent synapses (density mask, no_self) are not pulsed: both cells stay pristine.
                            let gp = ph.form(array: k, row: r, col: j * 2)
                            let gn = ph.form(array: k, row: r, col: j * 2 + 1)
                            let cp = Int32(Fixed.roundReal(gp.gUS * perUS, .halfEven)), cn = Int32(Fixed.roundReal(gn.gUS * perUS, .halfEven))
                            codes[r * t.macro.cols + j * 2] = cp
                            codes[r * t.macro.cols + j * 2 + 1] = cn
                            formedCells += 2
                            unformedCells += (gp.formed ? 0 : 1) + (gn.formed ? 0 : 1)
                            let d = Double(cp - cn) / perUS
                            diffSum[sr.block] += d; diffSq[sr.block] += d * d; diffN[sr.block] += 1
                        } else if physics == nil {
                            let qv = q(si, n)
                            if qv == 0 && zeroIsUnused { continue }  // the cells already hold that code
                            let cells = qv == 0 ? zeroCells : map.cells(qv)
                            for c in 0..<cpw { codes[r * C + j * cpw + c] = cells[c] }
                        }
                    }
                }
                let name = "\(popName).r\(rt)c\(ct)"
                tileArray[ct][rt] = k
                program.arrays.append(ArrayDecl(name: name, macro: k / t.macro.arrays, index: k % t.macro.arrays,
                                                rows: t.macro.rows, cols: t.macro.cols, gUnitNS: t.cell.gUnitNS,
                                                codeType: forming ? codeTypeFor(codes) : map.codeType, codes: codes, formed: forming))
                cellsUsed += rows.count * cols.count * cpw
                tiles.append(TileInfo(array: name, population: popName, macro: k / t.macro.arrays, index: k % t.macro.arrays,
                                      rowsUsed: rows.count, colsUsed: cols.count * cpw, neurons: cols,
                                      utilisation: Double(rows.count * cols.count * cpw) / Double(t.macro.rows * t.macro.cols)))
            }
        }

        // 2. Scale factors from ADC codes to membrane LSBs, per block and slice.
        let F = t.neuron.fracBits
        var factor = [[Double]](repeating: [], count: blocks.count)
        let fmt: PopulationFormat
        if forming {
            // Real weight per uS of realised G+ - G- so each block's realised spread equals the graph's.
            var k = [Double](repeating: 0, count: blocks.count)
            for (b, blk) in blocks.enumerated() {
                let mean = diffSum[b] / Swift.max(1, diffN[b])
                let sd = (Swift.max(0, diffSq[b] / Swift.max(1, diffN[b]) - mean * mean)).squareRoot()
                let sigma = try desiredSigma(blk)  // also refuses a non-random projection, even a single-cell one
                k[b] = sd > 0 ? sigma / sd : 0
            }
            let kMax = Swift.max(k.max() ?? 0, 1e-300)
            let lsbUS = Double(adcLSB) / perUS
            var f = try Quantiser.format(population: pop, maxAbsWeight: kMax * lsbUS, qMax: 1, target: t, file: file)
            f.weightScale = kMax
            fmt = f
            for b in 0..<blocks.count { factor[b] = [k[b] / kMax * Double(1 << F)] }
        } else {
            fmt = programmed!
            for b in 0..<blocks.count {
                var lp = 1.0
                factor[b] = (0..<slices).map { _ in
                    defer { lp *= Double(t.cell.levels) }
                    return Double(adcLSB) / map.stepCodes * lp * Double(1 << F)
                }
            }
        }
        formats.append(fmt)
        let scales = try factor.map { try $0.map { try Quantiser.multiplier($0) } }

        // 3. Ops. Programmed arrays are read once per row tile (all blocks share one scale); formed arrays once per
        //    block run, so each block gets its own digital scale.
        let adcType = IntType.u(t.adc.bits)
        let diffType = IntType.signedFitting(-adcType.max, adcType.max)
        var reads: [(rt: Int, sources: [RowSource], block: Int)] = []
        for (rt, rows) in rowTiles.enumerated() {
            var sources: [(RowSource, Int)] = []
            for (r, si) in rows.enumerated() {
                let sr = stacked[si]
                let blk = blocks[sr.block]
                if let last = sources.last, last.0.source == blk.source, last.0.delay == blk.delay,
                   last.0.rowStart + last.0.count == r, last.0.srcStart + last.0.count == sr.index {
                    sources[sources.count - 1].0.count += 1
                } else {
                    sources.append((RowSource(rowStart: r, source: blk.source, srcStart: sr.index, count: 1, delay: blk.delay), sr.block))
                }
            }
            // Row groups: one read (one analog phase) drives at most timing.max_rows_driven rows.
            let limit = t.timing.maxRowsDriven
            var group: [RowSource] = [], groupBlock = -1, inGroup = 0
            func flush() {
                if !group.isEmpty { reads.append((rt, group, forming ? groupBlock : 0)) }
                group = []
                inGroup = 0
            }
            for (src, b) in sources {
                if forming && b != groupBlock { flush() }
                groupBlock = b
                var s = src
                while s.count > 0 {
                    if inGroup == limit { flush(); groupBlock = b }
                    let take = Swift.min(s.count, limit - inGroup)
                    group.append(RowSource(rowStart: s.rowStart, source: s.source, srcStart: s.srcStart, count: take, delay: s.delay))
                    inGroup += take
                    s.rowStart += take
                    s.srcStart += take
                    s.count -= take
                }
            }
            flush()
        }
        var bound: Int64 = 0
        for rd in reads { for s in 0..<slices { bound += (adcType.max * abs(scales[rd.block][s].mul)) >> scales[rd.block][s].shift + 1 } }
        let preType = IntType.signedFitting(-bound, bound)
        var colParts: [String] = []
        for (ct, cols) in colTiles.enumerated() {
            var partial: String? = nil
            let nn = cols.count
            for (ri, rd) in reads.enumerated() {
                guard let ai = tileArray[ct][rd.rt] else { continue }
                let aname = program.arrays[ai].name
                let base = reads.count > rowTiles.count ? "\(popName).r\(rd.rt)c\(ct).g\(ri)" : "\(popName).r\(rd.rt)c\(ct)"
                let driven = rd.sources.reduce(0) { $0 + $1.count }
                let codeMax = program.arrays[ai].codeType.max
                program.step.append(Op(result: "\(base).read", type: .unsignedFitting(Int64(driven) * codeMax), length: nn * cpw,
                                       kind: .read(array: aname, rows: rd.sources, colStart: 0, cellsPerWeight: cpw,
                                                   vReadMV: t.read.vReadMV, tReadNS: t.read.tReadNS)))
                program.step.append(Op(result: "\(base).adc", type: adcType, length: nn * cpw,
                                       kind: .adc(operand: "\(base).read", bits: t.adc.bits, lsb: adcLSB, offset: adcOffset,
                                                  rounding: t.adc.rounding)))
                for s in 0..<slices {
                    let sb = "\(base).s\(s)"
                    program.step.append(Op(result: "\(sb).pos", type: adcType, length: nn, kind: .slice(operand: "\(base).adc", start: 2 * s, stride: cpw)))
                    program.step.append(Op(result: "\(sb).neg", type: adcType, length: nn, kind: .slice(operand: "\(base).adc", start: 2 * s + 1, stride: cpw)))
                    program.step.append(Op(result: "\(sb).diff", type: diffType, length: nn, kind: .sub(a: "\(sb).pos", b: "\(sb).neg", overflow: .sat)))
                    let m = scales[rd.block][s]
                    program.step.append(Op(result: "\(sb).cur", type: preType, length: nn,
                                           kind: .scale(operand: "\(sb).diff", mul: m.mul, shift: m.shift, rounding: t.mapping.scaleRounding, overflow: .sat)))
                    if let prev = partial {
                        program.step.append(Op(result: "\(sb).acc", type: preType, length: nn, kind: .add(a: prev, b: "\(sb).cur", overflow: .sat)))
                        partial = "\(sb).acc"
                    } else {
                        partial = "\(sb).cur"
                    }
                }
            }
            colParts.append(partial!)
        }
        let pre: String
        if colParts.count == 1 {
            pre = colParts[0]
        } else {
            pre = "\(popName).pre"
            program.step.append(Op(result: pre, type: preType, length: post, kind: .concat(operands: colParts)))
        }
        program.step.append(Op(result: "\(popName).spk", type: .u(1), length: post, kind: .lif(population: popName, input: pre)))
        neuronDecls[popName] = try neuronDecl(pop, fmt, preBound: bound)
    }

    func codeTypeFor(_ codes: [Int32]) -> IntType {
        // Headroom for relaxation and faults on top of the formed state.
        let hi = Swift.max(Int64(codes.max() ?? 0), Int64((t.device.faults?.stuckOnUS ?? 0) * perUS))
        return IntType.unsignedFitting(hi + hi / 2 + 1)
    }

    /// The neuron declaration of a population (docs/compiler.md, section 5); `preBound` bounds |pre-activation|.
    func neuronDecl(_ pop: Population, _ fmt: PopulationFormat, preBound: Int64) throws -> NeuronDecl {
        let lif = pop.lif!
        let refractory = lif.spiking ? lif.refractory : 0
        let refrType = IntType.unsignedFitting(Int64(Swift.max(1, refractory)))
        guard refrType.bits <= t.neuron.refractoryBits else {
            throw XbarError(file: file, field: "populations.\(pop.name).refractory",
                            "\(lif.refractory) steps does not fit the target's \(t.neuron.refractoryBits)-bit refractory counter")
        }
        var synapse: SynapseDecl? = nil
        if let y = fmt.synapse {
            // Wide enough for one step's worst-case input plus the largest synaptic bias, never narrower than the
            // membrane, at most 40 bits; it overflows like the membrane.
            let maxBias = (0..<pop.size).reduce(abs(y.bias)) { Swift.max($0, abs(y.bias + (y.neuronBias?[$1] ?? 0))) }
            let need = IntType.signedFitting(-(preBound + maxBias), preBound + maxBias)
            synapse = SynapseDecl(type: .i(Swift.min(40, Swift.max(t.neuron.memBits, need.bits))), overflow: t.neuron.memOverflow,
                                  decayMul: y.decayMul, decayShift: fmt.decayShift, decayRounding: t.neuron.decayRounding,
                                  bias: y.bias, neuronBias: y.neuronBias)
        }
        return NeuronDecl(
            name: pop.name, size: pop.size, memType: .i(t.neuron.memBits), memOverflow: t.neuron.memOverflow,
            decayMul: fmt.decayMul, decayShift: fmt.decayShift, decayRounding: t.neuron.decayRounding,
            threshold: fmt.threshold, compare: lif.compare == .gt || !lif.spiking ? .gt : .ge,
            reset: lif.reset == .zero || !lif.spiking ? .zero : .subtract, refractory: refractory, bias: fmt.bias,
            refractoryType: .u(t.neuron.refractoryBits), countType: .u(t.neuron.countBits),
            neuronBias: fmt.neuronBias, synapse: synapse, spiking: lif.spiking)
    }

    mutating func lowerReadout() throws -> Double? {
        guard let r = graph.readout, let w = r.weights else { return nil }
        let wmax = Int64(1) << (t.readout.weightBits - 1) - 1
        let maxAbs = w.reduce(0.0) { Swift.max($0, abs($1)) }
        let s = maxAbs > 0 ? maxAbs / Double(wmax) : 1.0
        let acc = IntType.i(t.readout.accBits)
        let wq = w.map { Int32(Swift.max(-wmax, Swift.min(wmax, Fixed.roundReal($0 / s, .halfEven)))) }
        var bq: [Int32] = []
        for (k, b) in (r.bias ?? [Double](repeating: 0, count: r.classes)).enumerated() {
            let v = Fixed.roundReal(b / s, .halfEven)
            guard acc.contains(v), abs(v) < Int64(Int32.max) else {
                throw XbarError(file: file, field: "readout.bias[\(k)]", "\(b) quantises to \(v), outside \(acc)")
            }
            bq.append(Int32(v))
        }
        program.readouts.append(ReadoutDecl(name: "readout", source: r.from, classes: r.classes,
                                            weightType: .i(t.readout.weightBits), accType: acc, accOverflow: .sat,
                                            weights: wq, bias: bq, scale: s))
        return s
    }
}
