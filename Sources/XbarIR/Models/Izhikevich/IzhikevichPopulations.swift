import XbarCore

extension IzhikevichModel {
    /// The classic parameter sets of Izhikevich (2003), Fig. 2: (a, b, c, d).
    public static let classic: [(name: String, a: Double, b: Double, c: Double, d: Double)] = [
        ("regular_spiking", 0.02, 0.2, -65, 8),
        ("fast_spiking", 0.1, 0.2, -65, 2),
        ("chattering", 0.02, 0.2, -50, 2),
        ("intrinsically_bursting", 0.02, 0.2, -55, 4),
    ]

    /// The heterogeneous population of Izhikevich (2003)'s network: the first `excitatory` neurons are excitatory
    /// (a = 0.02, b = 0.2, c = -65 + 15 r^2, d = 8 - 6 r^2: regular spiking to chattering), the rest inhibitory
    /// (a = 0.02 + 0.08 r, b = 0.25 - 0.05 r, c = -65, d = 2: fast spiking to low-threshold spiking), one r per neuron
    /// uniform in [0, 1) drawn from `seed`. v0 = -65 mV, u0 = b v0, as in the paper's code.
    public static func heterogeneous(size: Int, excitatory: Int, seed: UInt64) -> ModelParameterSet {
        let rng = Philox(seed: seed)
        var a = [Double](), b = [Double](), c = [Double](), d = [Double]()
        for i in 0..<size {
            let r = rng.uniform(purpose: RandomPurpose.modelParameters.rawValue, UInt32(i), 0, 0)
            if i < excitatory {
                a.append(0.02); b.append(0.2); c.append(-65 + 15 * r * r); d.append(8 - 6 * r * r)
            } else {
                a.append(0.02 + 0.08 * r); b.append(0.25 - 0.05 * r); c.append(-65); d.append(2)
            }
        }
        return ModelParameterSet(model: keyword, scalars: ["v0": -65], perNeuron: ["a": a, "b": b, "c": c, "d": d])
    }
}
