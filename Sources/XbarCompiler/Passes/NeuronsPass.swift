import XbarCore
import XbarGraph
import XbarIR
import XbarTarget

/// `neurons` (docs/compiler.md, section 5): declares each population's neurons from its format and pre-activation
/// bound (`neuronDecl`, the one place a `NeuronDecl` is made), in the graph's declaration order.
public struct NeuronsPass: CompilerPass {
    public let name = "neurons"
    public let summary = "declare each population's neurons: membrane, decay, threshold, reset, refractory, biases, synapse"

    public init() {}

    public func run(_ s: inout CompilationState) throws {
        let c = s.context
        var decls: [String: NeuronDecl] = [:]
        try s.forEachPopulation { s, p in
            let w = s.populations[p]
            let decl = try Self.neuronDecl(c.population(w.name), w.format!, preBound: w.preBound, target: c.target, file: c.file)
            s.populations[p].neuron = decl
            decls[w.name] = decl
        }
        s.program.neurons = c.graph.populations.compactMap { decls[$0.name] }
        // A registered model's population needs IR version 2; lif-only programs stay version 1.
        s.program.version = s.program.requiredVersion
    }

    /// The neuron declaration of a population (docs/compiler.md, section 5); `preBound` bounds |pre-activation|.
    public static func neuronDecl(_ pop: Population, _ fmt: PopulationFormat, preBound: Int64, target t: Target,
                                  file: String) throws -> NeuronDecl {
        if let m = pop.model {
            let model = try NeuronModels.require(m.model, file: file, field: "populations.\(pop.name).kind")
            // The model's own lowering (Sources/XbarIR/Models/<Model>/); its input LSB is the one `scales` used.
            let p = try model.lower(m, size: pop.size, options: ModelLoweringOptions(countBits: t.neuron.countBits),
                                    file: file, field: "populations.\(pop.name)")
            return NeuronDecl(name: pop.name, size: pop.size, model: p, countType: .u(t.neuron.countBits),
                              membraneType: model.stateTypes(p)[0])
        }
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

    /// Every population is declared once, with its name and size, in graph order.
    public func verify(_ s: CompilationState) throws {
        for w in s.populations {
            let n = s.program.neuron(named: w.name)
            try passCheck(n != nil && n == w.neuron && n?.size == w.size, s, "neuron @\(w.name)", "not declared, or declared with another size")
        }
        try passCheck(s.program.neurons.count == s.populations.count, s, "neurons",
                      "\(s.program.neurons.count) neuron declarations for \(s.populations.count) populations")
    }
}
