import Foundation
import XbarCore
import XbarIR

/// The per-neuron bias memories of a population in the program image (docs/vectors.md): `b_i = B + NB[i]` in
/// `program/neuron.P.bias.hex` (membrane type) and `sb_i = SB + SNB[i]` in `program/neuron.P.synapse_bias.hex`
/// (synapse type), written only when the population has per-neuron biases; the testbench loads them into the unit.
enum NeuronImage {
    /// Path of the membrane bias memory, or nil when every neuron uses the population bias B.
    static func biasPath(_ n: NeuronDecl) -> String? {
        n.neuronBias == nil ? nil : "program/neuron.\(n.name).bias.hex"
    }

    /// Path of the synaptic bias memory, or nil when there is no synapse or every neuron uses SB.
    static func synapseBiasPath(_ n: NeuronDecl) -> String? {
        n.synapse?.neuronBias == nil ? nil : "program/neuron.\(n.name).synapse_bias.hex"
    }

    /// The bias memory files of `n` (none, one or two).
    static func files(_ n: NeuronDecl) -> [VectorFile] {
        var out: [VectorFile] = []
        if let path = biasPath(n) {
            out.append(file(path, values: (0..<n.size).map { n.bias(of: $0) }, type: n.memType,
                            "membrane bias b_i = B + NB[i] of @\(n.name) (\(n.memType), two's complement), address = neuron"))
        }
        if let path = synapseBiasPath(n), let y = n.synapse {
            out.append(file(path, values: (0..<n.size).map { y.bias(of: $0) }, type: y.type,
                            "synaptic bias sb_i = SB + SNB[i] of @\(n.name) (\(y.type), two's complement), address = neuron"))
        }
        return out
    }

    static func file(_ path: String, values: [Int64], type: IntType, _ description: String) -> VectorFile {
        var s: [UInt8] = []
        for v in values { Hex.append(v, bits: type.bits, to: &s); s.append(10) }
        return VectorFile(path: path, data: Data(s), entry: [
            ("role", .string("program")), ("format", .string("readmemh")), ("description", .string(description)),
            ("words", .int(Int64(values.count))), ("word_bits", .int(Int64(type.bits))), ("signed", .bool(type.signed)),
            ("verilog", .string("reg [\(type.bits - 1):0] mem [0:\(values.count - 1)]; initial $readmemh(\"\(path)\", mem);")),
        ])
    }
}
