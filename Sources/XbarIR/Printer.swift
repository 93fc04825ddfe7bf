import Foundation
import XbarCore

/// Prints a program in the IR's text form (grammar in docs/ir.md). `IRParser.parse(print(p)) == p` always holds.
public enum IRPrinter {
    public static func print(_ p: Program) -> String {
        var out = ""
        out.reserveCapacity(64 + p.arrays.reduce(0) { $0 + $1.codes.count * 5 })
        write(p) { out += $0 }
        return out
    }

    /// The text of `print(p)` in pieces (the header, one piece per array, the readouts, the step block a chunk of
    /// ops at a time), so a large program can go to a file without its whole text in memory. Arrays and op lines are
    /// printed on every core a wave at a time and emitted in order.
    /// With `arrayFill`, array k's body is the one line `*: fill F`, F = `arrayFill[k]` (the skeleton of the binary
    /// form, `ProgramFile`).
    public static func write(_ p: Program, arrayFill: [Int32]? = nil, _ emit: (String) throws -> Void) rethrows {
        var out = "xbar-ir \(p.version)\n"
        out += "program \(quote(p.name)) target \(quote(p.target)) timesteps \(p.timesteps)\n\n"
        for i in p.inputs { out += "input @\(i.name) \(i.size)\n" }
        for n in p.neurons { out += neuronLine(n) + "\n" }
        out += "\n"
        try emit(out)
        try forEachPieceInOrder(p.arrays.count, chunk: 1, wave: 64) { k in
            var piece = ""
            printArray(p.arrays[k.lowerBound], fill: arrayFill?[k.lowerBound], into: &piece)
            return piece
        } consume: { try emit($0) }
        out = ""
        for r in p.readouts { printReadout(r, into: &out) }
        out += "step\n"
        try emit(out)
        try forEachPieceInOrder(p.step.count, chunk: 2048) { ops in
            var lines = ""
            for op in p.step[ops] { lines += "  " + opLine(op) + "\n" }
            return lines
        } consume: { try emit($0) }
        try emit("end\n")
    }

    /// Writes `print(p)` to `path` atomically (temporary file, then rename), piece by piece.
    public static func write(_ p: Program, to path: String) throws {
        try AtomicFile.write(to: path) { tmp in
            guard FileManager.default.createFile(atPath: tmp, contents: nil), let f = FileHandle(forWritingAtPath: tmp) else {
                throw XbarError(file: path, field: "", "cannot write file")
            }
            defer { try? f.close() }
            try write(p) { try f.write(contentsOf: Data($0.utf8)) }
        }
    }

    static func quote(_ s: String) -> String {
        var q = "\""
        for ch in s {
            switch ch {
            case "\"": q += "\\\""
            case "\\": q += "\\\\"
            case "\n": q += "\\n"
            default: q.append(ch)
            }
        }
        return q + "\""
    }

    /// The neuron line, plus its per-neuron bias block when the population has one.
    static func neuronLine(_ n: NeuronDecl) -> String {
        if let m = n.model { return modelNeuronLine(n, m) }
        var s = "neuron @\(n.name) \(n.size) mem \(n.memType) \(n.memOverflow.rawValue)"
            + " decay \(n.decayMul) shr \(n.decayShift) \(n.decayRounding.rawValue)"
            + " threshold \(n.threshold) \(n.compare.rawValue) reset \(n.reset.rawValue)"
            + " refractory \(n.refractory) \(n.refractoryType) bias \(n.bias) count \(n.countType)"
        if !n.spiking { s += " nonspiking" }
        if let y = n.synapse {
            s += " synapse \(y.type) \(y.overflow.rawValue) decay \(y.decayMul) shr \(y.decayShift) \(y.decayRounding.rawValue)"
                + " bias \(y.bias)"
        }
        let syn = n.synapse?.neuronBias
        if n.neuronBias != nil || syn != nil {
            s += " biases"
            if let b = n.neuronBias { s += "\n  bias:" + b.map { " \($0)" }.joined() }
            if let b = syn { s += "\n  synapse_bias:" + b.map { " \($0)" }.joined() }
            s += "\nend"
        }
        return s
    }

    /// A registered model's neuron line: its fields in the specification's order, then its per-neuron block.
    static func modelNeuronLine(_ n: NeuronDecl, _ p: ModelParameters) -> String {
        let m = NeuronModels.model(p.model)!
        var s = "neuron @\(n.name) \(n.size) \(p.model)"
        for f in m.fields {
            switch f.kind {
            case .signedType: s += " \(f.key) \(p.type(f.key))"
            case .integer: s += " \(f.key) \(p.int(f.key))"
            case .rounding: s += " \(f.key) \(p.rounding(f.key).rawValue)"
            }
        }
        s += " count \(n.countType)"
        for key in m.perNeuron { s += "\n  \(key):" + p.vector(key).map { " \($0)" }.joined() }
        return s + "\nend"
    }

    static func hexDigits(_ t: IntType) -> Int { (t.bits + 3) / 4 }

    /// `hex(v, width)`'s characters, appended as bytes.
    static func appendHex(_ v: Int32, _ width: Int, to out: inout [UInt8]) {
        let u = UInt32(bitPattern: v)
        var n = 1, t = u >> 4
        while t != 0 { n += 1; t >>= 4 }
        for k in stride(from: Swift.max(n, width) - 1, through: 0, by: -1) {
            let d = UInt8(truncatingIfNeeded: k < 8 ? (u >> UInt32(4 * k)) & 0xF : 0)
            out.append(d < 10 ? 0x30 + d : 0x57 + d)
        }
    }

    /// The rows of array `a` (codes `codes`): a uniform row as `fill`, any other as all its codes.
    static func printRows(of a: ArrayDecl, _ codes: UnsafeBufferPointer<Int32>, width w: Int, into out: inout String) {
        for r in 0..<a.rows {
            let base = r * a.cols
            let first = codes[base]
            var uniform = true
            for c in 1..<max(a.cols, 1) where codes[base + c] != first { uniform = false; break }
            if uniform {
                out += "  \(r): fill \(hex(first, w))\n"
            } else {
                // Bytes first, one String per row: the per-cell String of `hex` dominates large programs.
                var line: [UInt8] = Array("  \(r):".utf8)
                line.reserveCapacity(line.count + a.cols * (w + 1) + 1)
                for c in 0..<a.cols {
                    line.append(0x20)
                    appendHex(codes[base + c], w, to: &line)
                }
                line.append(0x0A)
                out += String(decoding: line, as: UTF8.self)
            }
        }
    }

    static func hex(_ v: Int32, _ width: Int) -> String {
        let s = String(UInt32(bitPattern: v), radix: 16)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    static func printArray(_ a: ArrayDecl, fill: Int32? = nil, into out: inout String) {
        out += "array %\(a.name) macro \(a.macro) index \(a.index) rows \(a.rows) cols \(a.cols)"
        out += " code \(a.codeType) gunit_ns \(a.gUnitNS) state \(a.realised ? "realised" : a.formed ? "formed" : "programmed")\n"
        let w = hexDigits(a.codeType)
        if let f = fill { out += "  *: fill \(hex(f, w))\n" }
        if fill == nil { a.codes.withContiguousCodes { printRows(of: a, $0, width: w, into: &out) } }
        if let w = a.writes {
            for r in 0..<a.rows where (0..<a.cols).contains(where: { w[r * a.cols + $0] != 0 }) {
                out += "  writes \(r):" + (0..<a.cols).map { " \(w[r * a.cols + $0])" }.joined() + "\n"
            }
        }
        out += "end\n\n"
    }

    static func printReadout(_ r: ReadoutDecl, into out: inout String) {
        out += "readout @\(r.name) from @\(r.source) classes \(r.classes) weight \(r.weightType)"
        out += " acc \(r.accType) \(r.accOverflow.rawValue) scale \(r.scale)\n"
        let n = r.classes == 0 ? 0 : r.weights.count / r.classes
        for k in 0..<r.classes {
            out += "  w \(k):" + r.weights[(k * n)..<((k + 1) * n)].map { " \($0)" }.joined() + "\n"
        }
        out += "  bias:" + r.bias.map { " \($0)" }.joined() + "\n"
        out += "end\n\n"
    }

    /// One op line, without indentation: the op definition's parts (OpDefinitions.swift) in order.
    public static func opLine(_ op: Op) -> String {
        let def = OpDefinition.of(op.kind)
        var body = def.mnemonic
        var fields = def.fields(op.kind).makeIterator()
        for part in def.parts {
            if case let .keyword(k) = part { body += " " + k; continue }
            switch fields.next()! {
            case let .name(n):
                if case .population = part { body += " @" + n } else { body += " %" + n }
            case let .names(ns): body += " " + ns.map { "%\($0)" }.joined(separator: " ")
            case let .int(v): body += " \(v)"
            case let .real(v): body += " \(v)"
            case let .rounding(r): body += " " + r.rawValue
            case let .overflow(o): body += " " + o.rawValue
            case let .word(w): body += " " + w
            case let .optionalName(n): body += " " + (n.map { "%" + $0 } ?? "none")
            case let .ints(v): body += " [" + v.map(String.init).joined(separator: ", ") + "]"
            case let .mask(m):
                guard let m else { body += " all"; continue }
                body += " [" + m.rows.enumerated().filter { !$0.element.isEmpty }
                    .map { "\($0.offset):" + $0.element.map(String.init).joined(separator: "/") }.joined(separator: ", ") + "]"
            case let .weighted(ws): body += " [" + ws.map { "@\($0.source)@\($0.delay)*\($0.weight)" }.joined(separator: ", ") + "]"
            case let .rows(rows):
                body += " [" + rows.map { "\($0.rowStart):@\($0.source)[\($0.srcStart):\($0.count)]@\($0.delay)" }.joined(separator: ", ") + "]"
            }
        }
        return "%\(op.result) = \(body) : \(op.type)[\(op.length)]"
    }
}
