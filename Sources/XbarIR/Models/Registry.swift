/// Every registered neuron model besides the built-in `lif` (docs/ir.md, "Neuron models"). Adding a model: one folder
/// under `Sources/XbarIR/Models/` and one line here.
extension NeuronModels {
    public static let registered: [any NeuronModel.Type] = [
        IzhikevichModel.self,
    ]
}
