import XbarCore
import XbarIR

/// The fixed-point Izhikevich update against its double-precision reference on the same sub-steps
/// (docs/izhikevich.md): `neurons` independent neurons of Izhikevich (2003)'s heterogeneous network, each driven by
/// its own random current: a tonic part uniform in [0, 8) mV/ms plus a synaptically filtered noise z (an
/// Ornstein-Uhlenbeck process, z += -z / tau + sigma sqrt(2 / tau) N(0, 1) per 1 ms step, tau = 5 ms, sigma = `noise` x 5 mV/ms
/// for excitatory and `noise` x 2 mV/ms for inhibitory neurons (Izhikevich's thalamic amplitudes at noise = 1). The fixed-point neuron sees
/// the current rounded to its state LSB; the reference sees the real value. (Unfiltered white noise of that size
/// makes the spike times of the double model itself depend on 1e-12 perturbations: docs/izhikevich.md.)
public enum IzhikevichAgreement {
    /// The outcome at one setting.
    public struct Row: Sendable, Equatable {
        public var fracBits: Int
        public var substeps: Int
        public var neurons: Int
        public var steps: Int
        public var floatSpikes: Int
        public var fixedSpikes: Int
        /// Spikes paired one to one between the two runs of a neuron with times at most `tolerance` steps apart.
        public var matched: Int
        /// The reference against itself with every input raised by 1e-9 mV/ms: matched spikes (the model's own
        /// sensitivity to a perturbation far below any fixed-point LSB).
        public var perturbedMatched: Int = 0
        public var perturbedSpikes: Int = 0
        public var perturbedAgreement: Double {
            floatSpikes + perturbedSpikes == 0 ? 1 : 2 * Double(perturbedMatched) / Double(floatSpikes + perturbedSpikes)
        }
        /// 2 x matched / (floatSpikes + fixedSpikes).
        public var agreement: Double { floatSpikes + fixedSpikes == 0 ? 1 : 2 * Double(matched) / Double(floatSpikes + fixedSpikes) }
        /// Mean firing rate of the reference, Hz (1 step = 1 ms).
        public var floatRateHz: Double { Double(floatSpikes) / Double(neurons) / (Double(steps) / 1000) }
        public var fixedRateHz: Double { Double(fixedSpikes) / Double(neurons) / (Double(steps) / 1000) }
    }

    public static func run(neurons n: Int, steps T: Int, fracBits F: Int, abFracBits G: Int = 24, substeps K: Int = 2,
                           noise: Double = 3, tolerance: Int = 1, seed: UInt64 = 1) throws -> Row {
        var g = IzhikevichModel.heterogeneous(size: n, excitatory: n * 4 / 5, seed: seed)
        g.scalars["substeps"] = Double(K)
        g.scalars["frac_bits"] = Double(F)
        g.scalars["ab_frac_bits"] = Double(G)
        let p = try IzhikevichModel.lower(g, size: n, options: ModelLoweringOptions(countBits: 16), file: "<agreement>",
                                          field: "izhikevich")
        let kernel = IzhikevichModel.kernel(p, size: n)
        let reference = IzhikevichModel.floatDynamics(g, size: n)
        let rng = Philox(seed: seed)
        let tonic = (0..<n).map { 8 * rng.uniform(purpose: RandomPurpose.modelInput.rawValue, UInt32($0), 0, 1) }
        let initial = IzhikevichModel.initialState(p, size: n)
        let v = UnsafeMutablePointer<Int64>.allocate(capacity: n), u = UnsafeMutablePointer<Int64>.allocate(capacity: n)
        defer { v.deallocate(); u.deallocate() }
        v.initialize(from: initial[0], count: n)
        u.initialize(from: initial[1], count: n)
        var state = reference.initialState(), perturbed = state
        var input = [Int64](repeating: 0, count: n), out = [Int64](repeating: 0, count: n), spikes = [Int32](repeating: 0, count: n)
        var z = [Double](repeating: 0, count: n)
        let tau = 5.0
        var fixedTimes = [[Int]](repeating: [], count: n), floatTimes = fixedTimes, perturbedTimes = fixedTimes
        let lsb = Double(Int64(1) << F)
        for t in 0..<T {
            var real = [Double](repeating: 0, count: n)
            for i in 0..<n {
                let sigma = noise * (i < n * 4 / 5 ? 5.0 : 2.0)
                z[i] += -z[i] / tau + sigma * (2 / tau).squareRoot() * rng.normal(purpose: RandomPurpose.modelInput.rawValue, UInt32(i), UInt32(t), 2)
                real[i] = tonic[i] + z[i]
                input[i] = Fixed.roundReal(real[i] * lsb, .halfEven)
                if reference.update(i, input: real[i], state: &state).spike { floatTimes[i].append(t) }
                if reference.update(i, input: real[i] + 1e-9, state: &perturbed).spike { perturbedTimes[i].append(t) }
            }
            let fired = input.withUnsafeBufferPointer { inp in
                out.withUnsafeMutableBufferPointer { o in
                    spikes.withUnsafeMutableBufferPointer { s in
                        kernel.update(lo: 0, hi: n, input: inp.baseAddress!, state: [v, u], count: nil, countMax: 0,
                                      out: o.baseAddress!, trace: nil, spikes: s.baseAddress!)
                    }
                }
            }
            for e in 0..<fired { fixedTimes[Int(spikes[e])].append(t) }
        }
        var row = Row(fracBits: F, substeps: K, neurons: n, steps: T, floatSpikes: 0, fixedSpikes: 0, matched: 0)
        for i in 0..<n {
            row.floatSpikes += floatTimes[i].count
            row.fixedSpikes += fixedTimes[i].count
            row.matched += matches(floatTimes[i], fixedTimes[i], tolerance: tolerance)
            row.perturbedSpikes += perturbedTimes[i].count
            row.perturbedMatched += matches(floatTimes[i], perturbedTimes[i], tolerance: tolerance)
        }
        return row
    }

    /// Greedy one-to-one pairing of two sorted spike-time lists within `tolerance`.
    public static func matches(_ a: [Int], _ b: [Int], tolerance: Int) -> Int {
        var i = 0, j = 0, m = 0
        while i < a.count && j < b.count {
            if abs(a[i] - b[j]) <= tolerance { m += 1; i += 1; j += 1 } else if a[i] < b[j] { i += 1 } else { j += 1 }
        }
        return m
    }
}
