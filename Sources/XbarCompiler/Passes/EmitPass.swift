import XbarCore
import XbarIR

/// `emit` (docs/compiler.md, section 7): writes the ops of one timestep, population by population in update order:
/// for each column tile, each read of a kept tile (read, adc, and per slice pos, neg, diff, cur, and an acc into
/// the column tile's running partial sum); then the concat of the column tiles' partial sums and the `lif` op.
public struct EmitPass: CompilerPass {
    public let name = "emit"
    public let summary = "write one timestep's ops: read, adc, slice, sub, scale, add per read; concat and lif per population"

    public init() {}

    public func run(_ s: inout CompilationState) throws {
        try s.forEachPopulation { s, p in Self.emit(s.populations[p], into: &s.program, context: s.context) }
    }

    /// The ops of population `w`.
    static func emit(_ w: PopulationWork, into program: inout Program, context c: CompilationContext) {
        let preType = IntType.signedFitting(-w.preBound, w.preBound)
        var colParts: [String] = []
        for (ct, cols) in w.colTiles.enumerated() {
            var partial: String? = nil
            for (ri, rd) in w.reads.enumerated() {
                guard let k = w.tile(row: rd.rowTile, col: ct)?.slot else { continue }  // skipped as empty
                let base = w.reads.count > w.rowTiles.count ? "\(w.name).r\(rd.rowTile)c\(ct).g\(ri)" : "\(w.name).r\(rd.rowTile)c\(ct)"
                emitRead(rd, of: program.arrays[k], base: base, neurons: cols.count, scales: w.scales[rd.scaleGroup],
                         preType: preType, partial: &partial, into: &program, context: c)
            }
            colParts.append(partial!)
        }
        let pre: String
        if colParts.count == 1 {
            pre = colParts[0]
        } else {
            pre = "\(w.name).pre"
            program.step.append(Op(result: pre, type: preType, length: w.size, kind: .concat(operands: colParts)))
        }
        let update: OpKind = w.neuron?.model.map { .neuron(model: $0.model, population: w.name, input: pre) }
            ?? .lif(population: w.name, input: pre)
        program.step.append(Op(result: "\(w.name).spk", type: .u(1), length: w.size, kind: update))
    }

    /// The ops of one read of `array` for `nn` neurons, named `base.*`, adding each slice's current to `partial`.
    static func emitRead(_ rd: RowGroup, of array: ArrayDecl, base: String, neurons nn: Int, scales: [Multiplier],
                         preType: IntType, partial: inout String?, into program: inout Program, context c: CompilationContext) {
        let t = c.target, cpw = c.cellsPerWeight
        let adcType = IntType.u(t.adc.bits)
        let diffType = IntType.signedFitting(-adcType.max, adcType.max)
        program.step.append(Op(result: "\(base).read", type: .unsignedFitting(Int64(rd.rowCount) * array.codeType.max), length: nn * cpw,
                               kind: .read(array: array.name, rows: rd.sources, colStart: 0, cellsPerWeight: cpw,
                                           vReadMV: t.read.vReadMV, tReadNS: t.read.tReadNS)))
        program.step.append(Op(result: "\(base).adc", type: adcType, length: nn * cpw,
                               kind: .adc(operand: "\(base).read", bits: t.adc.bits, lsb: c.adcLSB, offset: c.adcOffset,
                                          rounding: t.adc.rounding)))
        for (s, m) in scales.enumerated() {
            let sb = "\(base).s\(s)"
            program.step.append(Op(result: "\(sb).pos", type: adcType, length: nn, kind: .slice(operand: "\(base).adc", start: 2 * s, stride: cpw)))
            program.step.append(Op(result: "\(sb).neg", type: adcType, length: nn, kind: .slice(operand: "\(base).adc", start: 2 * s + 1, stride: cpw)))
            program.step.append(Op(result: "\(sb).diff", type: diffType, length: nn, kind: .sub(a: "\(sb).pos", b: "\(sb).neg", overflow: .sat)))
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

    /// From here on the program is complete but for the readout: the IR verifier checks all of it (the pass manager
    /// runs it after every pass); each population has its `lif` op.
    public func verify(_ s: CompilationState) throws {
        for w in s.populations {
            try passCheck(s.program.step.contains { $0.result == "\(w.name).spk" }, s, "neuron @\(w.name)", "no lif op")
        }
    }
}
