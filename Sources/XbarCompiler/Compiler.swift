import XbarCore
import XbarGraph
import XbarIR
import XbarTarget

/// Compiler options beyond the target.
public struct CompileOptions: Sendable {
    /// Allow more arrays than the target's macros hold by replicating the macro (reported in the stats).
    public var replicateMacros = false
    public init(replicateMacros: Bool = false) { self.replicateMacros = replicateMacros }
}

/// One tile: a block of a population's stacked [x; h] rows and of its neuron columns, on one array.
public struct TileInfo: Equatable, Sendable {
    public var array: String
    public var population: String
    public var macro: Int
    public var index: Int
    public var rowsUsed: Int
    public var colsUsed: Int
    public var neurons: Range<Int>
    public var utilisation: Double
}

/// What `xbar compile --stats` prints.
public struct CompileStats: Equatable, Sendable {
    public var tiles: [TileInfo]
    public var formats: [PopulationFormat]
    public var arraysAvailable: Int
    public var macrosUsed: Int
    public var cellsUsed: Int
    public var cellsTotal: Int
    public var conductanceCodes: [Int32]
    public var adcLSBCodes: Int64
    public var readoutScale: Double?
}

/// A compiled program and its statistics.
public struct Compiled: Sendable {
    public var program: Program
    public var stats: CompileStats
}

/// Lowers a validated graph onto a target: quantise, map to differential conductance pairs, tile, place,
/// schedule one timestep, emit IR (docs/compiler.md).
public enum Compiler {
    struct Block {
        var source: String
        var delay: Int
        var size: Int
        var weights: [Double]  // size x post
    }

    public static func compile(_ g: Graph, target t: Target, options: CompileOptions = CompileOptions(),
                               file: String = "<graph>") throws -> Compiled {
        try GraphValidator.validate(g, file: file)
        let map = ConductanceMap(target: t)
        let perUS = 1000.0 / t.cell.gUnitNS
        let adcLSB: Int64 = {
            if let l = t.adc.lsbUS { return Swift.max(1, Fixed.roundReal(l * perUS, .halfEven)) }
            return Swift.max(1, Fixed.roundReal(t.adc.fullScaleUS! * perUS / Double(1 << t.adc.bits), .halfEven))
        }()
        let adcOffset = Fixed.roundReal(t.adc.offsetUS * perUS, .halfEven)
        let cpw = 2 * t.mapping.slices
        let neuronsPerTile = t.macro.cols / cpw
        let arraysAvailable = t.macro.count * t.macro.arrays

        var program = Program(name: g.name, target: t.name, timesteps: g.timesteps, inputs: [], neurons: [], arrays: [],
                              readouts: [], step: [])
        for p in g.populations where p.kind == .input { program.inputs.append(InputDecl(name: p.name, size: p.size)) }

        var tiles: [TileInfo] = []
        var formats: [PopulationFormat] = []
        var cellsUsed = 0
        let order = try Schedule.order(g, file: file)
        // Declarations follow the graph's order; the step block follows the schedule.
        var neuronDecls: [String: NeuronDecl] = [:]

        for popName in order {
            let pop = g.population(named: popName)!
            let post = pop.size
            // Stack incoming projections into row blocks, merging those with the same (source, delay).
            var blocks: [Block] = []
            for pr in g.projections where pr.to == popName {
                let src = g.population(named: pr.from)!
                let w = Materialize.weights(pr, pre: src.size, post: post)
                if let k = blocks.firstIndex(where: { $0.source == pr.from && $0.delay == pr.delay }) {
                    for i in 0..<w.count { blocks[k].weights[i] += w[i] }
                } else {
                    blocks.append(Block(source: pr.from, delay: pr.delay, size: src.size, weights: w))
                }
            }
            let maxAbs = blocks.flatMap { $0.weights }.reduce(0.0) { Swift.max($0, abs($1)) }
            var fmt = try Quantiser.format(population: pop, maxAbsWeight: maxAbs, target: t, file: file)

            // Quantised stacked matrix: rows = concatenated blocks, columns = neurons.
            var stackedRows: [(block: Int, index: Int)] = []
            for (b, blk) in blocks.enumerated() { for i in 0..<blk.size { stackedRows.append((b, i)) } }
            var maxErr = 0.0
            let q: [[Int64]] = blocks.map { blk in
                blk.weights.map { w in
                    let v = Quantiser.quantise(w, fmt, t.mapping.weightRounding)
                    if maxAbs > 0 { maxErr = Swift.max(maxErr, abs(w - Double(v) * fmt.weightScale) / maxAbs) }
                    return v
                }
            }
            fmt.maxWeightError = maxErr
            formats.append(fmt)

            let lif = pop.lif!
            let refrType = IntType.unsignedFitting(Int64(Swift.max(1, lif.refractory)))
            guard refrType.bits <= t.neuron.refractoryBits else {
                throw XbarError(file: file, field: "populations.\(popName).refractory",
                                "\(lif.refractory) steps does not fit the target's \(t.neuron.refractoryBits)-bit refractory counter")
            }
            neuronDecls[popName] = NeuronDecl(
                name: popName, size: post, memType: .i(t.neuron.memBits), memOverflow: t.neuron.memOverflow,
                decayMul: fmt.decayMul, decayShift: fmt.decayShift, decayRounding: t.neuron.decayRounding,
                threshold: fmt.threshold, compare: lif.compare == .gt ? .gt : .ge,
                reset: lif.reset == .zero ? .zero : .subtract, refractory: lif.refractory, bias: fmt.bias,
                refractoryType: .u(t.neuron.refractoryBits), countType: .u(t.neuron.countBits))

            if stackedRows.isEmpty {
                // No synapses: the input current is a constant zero vector.
                throw XbarError(file: file, field: "populations.\(popName)", "lif population has no incoming projection")
            }

            // Per-slice scale factors from ADC codes to membrane LSBs.
            let adcType = IntType.u(t.adc.bits)
            let diffType = IntType.signedFitting(-adcType.max, adcType.max)
            var sliceScale: [(mul: Int64, shift: Int)] = []
            var sliceBound: [Int64] = []
            var lp: Double = 1
            for _ in 0..<t.mapping.slices {
                let factor = Double(adcLSB) / map.stepCodes * lp * Double(1 << fmt.fracBits)
                let m = Quantiser.multiplier(factor)
                sliceScale.append(m)
                sliceBound.append((adcType.max * abs(m.mul)) >> m.shift + 1)
                lp *= Double(t.cell.levels)
            }
            let rowTiles = stride(from: 0, to: stackedRows.count, by: t.macro.rows).map { $0..<Swift.min($0 + t.macro.rows, stackedRows.count) }
            let perRowTileBound = sliceBound.reduce(0, +)
            let preBound = perRowTileBound * Int64(rowTiles.count)
            let preType = IntType.signedFitting(-preBound, preBound)

            var colParts: [String] = []
            for (ct, n0) in stride(from: 0, to: post, by: neuronsPerTile).enumerated() {
                let n1 = Swift.min(n0 + neuronsPerTile, post)
                let nn = n1 - n0
                var partial: String? = nil
                for (rt, rows) in rowTiles.enumerated() {
                    let k = program.arrays.count
                    guard k < arraysAvailable || options.replicateMacros else {
                        throw XbarError(file: file, field: "populations.\(popName)",
                                        "needs more than the \(arraysAvailable) arrays of target \(t.name) (\(t.macro.count) macros x \(t.macro.arrays) arrays of \(t.macro.rows)x\(t.macro.cols)); use --replicate-macros to allow more macros")
                    }
                    let aname = "\(popName).r\(rt)c\(ct)"
                    var codes = [Int32](repeating: map.unusedCode, count: t.macro.rows * t.macro.cols)
                    for (r, si) in rows.enumerated() {
                        let sr = stackedRows[si]
                        let qb = q[sr.block]
                        for j in 0..<nn {
                            let cells = map.cells(qb[sr.index * post + n0 + j])
                            for (c, code) in cells.enumerated() { codes[r * t.macro.cols + j * cpw + c] = code }
                        }
                    }
                    program.arrays.append(ArrayDecl(name: aname, macro: k / t.macro.arrays, index: k % t.macro.arrays,
                                                    rows: t.macro.rows, cols: t.macro.cols, gUnitNS: t.cell.gUnitNS,
                                                    codeType: map.codeType, codes: codes))
                    cellsUsed += rows.count * nn * cpw
                    tiles.append(TileInfo(array: aname, population: popName, macro: k / t.macro.arrays, index: k % t.macro.arrays,
                                          rowsUsed: rows.count, colsUsed: nn * cpw, neurons: n0..<n1,
                                          utilisation: Double(rows.count * nn * cpw) / Double(t.macro.rows * t.macro.cols)))
                    // Row sources: contiguous runs of one block inside this row tile.
                    var sources: [RowSource] = []
                    for (r, si) in rows.enumerated() {
                        let sr = stackedRows[si]
                        let blk = blocks[sr.block]
                        if let last = sources.last, last.source == blk.source, last.delay == blk.delay,
                           last.rowStart + last.count == r, last.srcStart + last.count == sr.index {
                            sources[sources.count - 1].count += 1
                        } else {
                            sources.append(RowSource(rowStart: r, source: blk.source, srcStart: sr.index, count: 1, delay: blk.delay))
                        }
                    }
                    let base = "\(popName).r\(rt)c\(ct)"
                    let readType = IntType.unsignedFitting(Int64(rows.count) * map.codeType.max)
                    program.step.append(Op(result: "\(base).read", type: readType, length: nn * cpw,
                                           kind: .read(array: aname, rows: sources, colStart: 0, cellsPerWeight: cpw,
                                                       vReadMV: t.read.vReadMV, tReadNS: t.read.tReadNS)))
                    program.step.append(Op(result: "\(base).adc", type: adcType, length: nn * cpw,
                                           kind: .adc(operand: "\(base).read", bits: t.adc.bits, lsb: adcLSB, offset: adcOffset,
                                                      rounding: t.adc.rounding)))
                    for s in 0..<t.mapping.slices {
                        let sb = "\(base).s\(s)"
                        program.step.append(Op(result: "\(sb).pos", type: adcType, length: nn,
                                               kind: .slice(operand: "\(base).adc", start: 2 * s, stride: cpw)))
                        program.step.append(Op(result: "\(sb).neg", type: adcType, length: nn,
                                               kind: .slice(operand: "\(base).adc", start: 2 * s + 1, stride: cpw)))
                        program.step.append(Op(result: "\(sb).diff", type: diffType, length: nn,
                                               kind: .sub(a: "\(sb).pos", b: "\(sb).neg", overflow: .sat)))
                        program.step.append(Op(result: "\(sb).cur", type: preType, length: nn,
                                               kind: .scale(operand: "\(sb).diff", mul: sliceScale[s].mul, shift: sliceScale[s].shift,
                                                            rounding: t.mapping.scaleRounding, overflow: .sat)))
                        if let prev = partial {
                            let name = "\(sb).acc"
                            program.step.append(Op(result: name, type: preType, length: nn,
                                                   kind: .add(a: prev, b: "\(sb).cur", overflow: .sat)))
                            partial = name
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
        }
        program.neurons = g.populations.compactMap { neuronDecls[$0.name] }

        var readoutScale: Double? = nil
        if let r = g.readout, let w = r.weights {
            let n = g.population(named: r.from)!.size
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
            _ = n
            program.readouts.append(ReadoutDecl(name: "readout", source: r.from, classes: r.classes,
                                                weightType: .i(t.readout.weightBits), accType: acc, accOverflow: .sat,
                                                weights: wq, bias: bq, scale: s))
            readoutScale = s
        }
        try IRVerifier.verify(program, file: file)
        let stats = CompileStats(tiles: tiles, formats: formats, arraysAvailable: arraysAvailable,
                                 macrosUsed: (program.arrays.count + t.macro.arrays - 1) / t.macro.arrays,
                                 cellsUsed: cellsUsed, cellsTotal: program.arrays.count * t.macro.rows * t.macro.cols,
                                 conductanceCodes: map.levelCodes, adcLSBCodes: adcLSB, readoutScale: readoutScale)
        return Compiled(program: program, stats: stats)
    }
}
