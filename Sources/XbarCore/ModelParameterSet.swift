/// The real-valued parameters of a neuron population of a registered model (docs/graph.md, "Neuron models"), as the
/// graph file gives them: scalars by key, and per-neuron lists by key. The model's specification
/// (`Sources/XbarIR/Models/<Model>/`) says which keys it takes and checks them when it lowers the population.
public struct ModelParameterSet: Equatable, Sendable {
    /// The model keyword (the population's `kind`).
    public var model: String
    /// Scalar parameters by key (real units of the model).
    public var scalars: [String: Double]
    /// Per-neuron parameters by key (one value per neuron).
    public var perNeuron: [String: [Double]]
    /// Named choices by key (a string in the graph file, such as a rounding mode).
    public var words: [String: String]

    public init(model: String, scalars: [String: Double] = [:], perNeuron: [String: [Double]] = [:], words: [String: String] = [:]) {
        self.model = model
        self.scalars = scalars
        self.perNeuron = perNeuron
        self.words = words
    }

    /// Parameter `key` of neuron `i`: its per-neuron value, else its scalar, else `fallback`.
    public func value(_ key: String, neuron i: Int, default fallback: Double) -> Double {
        if let v = perNeuron[key] { return v[i] }
        return scalars[key] ?? fallback
    }

    /// Every key given, sorted.
    public var keys: [String] { (Array(scalars.keys) + Array(perNeuron.keys) + Array(words.keys)).sorted() }
}
