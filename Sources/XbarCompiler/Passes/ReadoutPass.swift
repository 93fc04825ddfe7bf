import XbarCore
import XbarIR

/// `readout` (docs/compiler.md, section 8): quantises a trained readout (one with weights) to integer weights and
/// biases with one symmetric scale; a readout without weights is not compiled.
public struct ReadoutPass: CompilerPass {
    public let name = "readout"
    public let summary = "quantise the trained readout's weights and biases"
    /// Readouts are declarations: the step block `emit` wrote (and the verifier checked) stays as it is.
    public let changesStep = false

    public init() {}

    public func run(_ s: inout CompilationState) throws {
        let c = s.context, t = c.target
        // Compiled once every population is: a failed population's error comes first.
        guard s.failure == nil, let r = c.graph.readout, let w = r.weights else { return }
        let wmax = Int64(1) << (t.readout.weightBits - 1) - 1
        let maxAbs = w.reduce(0.0) { Swift.max($0, abs($1)) }
        let scale = maxAbs > 0 ? maxAbs / Double(wmax) : 1.0
        let acc = IntType.i(t.readout.accBits)
        let wq = w.map { Int32(Swift.max(-wmax, Swift.min(wmax, Fixed.roundReal($0 / scale, .halfEven)))) }
        var bq: [Int32] = []
        for (k, b) in (r.bias ?? [Double](repeating: 0, count: r.classes)).enumerated() {
            let v = Fixed.roundReal(b / scale, .halfEven)
            guard acc.contains(v), abs(v) < Int64(Int32.max) else {
                throw c.error("readout.bias[\(k)]", "\(b) quantises to \(v), outside \(acc)")
            }
            bq.append(Int32(v))
        }
        s.program.readouts.append(ReadoutDecl(name: "readout", source: r.from, classes: r.classes,
                                              weightType: .i(t.readout.weightBits), accType: acc, accOverflow: .sat,
                                              weights: wq, bias: bq, scale: scale))
        s.readoutScale = scale
    }

    /// The full IR verifier runs after every pass; here the program is complete. A trained readout was compiled.
    public func verify(_ s: CompilationState) throws {
        let wanted = s.context.graph.readout?.weights != nil
        try passCheck(s.program.readouts.count == (wanted ? 1 : 0) && (s.readoutScale != nil) == wanted, s, "readout",
                      wanted ? "the trained readout was not compiled" : "a readout without weights was compiled")
    }
}
