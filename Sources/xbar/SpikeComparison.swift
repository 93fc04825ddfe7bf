import Foundation
import XbarCore
import XbarEmulator
import XbarEvents
import XbarIR

/// Spike statistics of the same program and input on an ideal chip and on a device-physics chip.
struct SpikeComparison {
    struct Side {
        var spikesMean = 0.0, spikesStd = 0.0, rate = 0.0, activeFraction = 0.0
        var accuracy: Double? = nil
    }

    var ideal = Side(), device = Side()
    /// Pearson correlation of per-(sample, neuron) spike counts.
    var countCorrelation = 0.0
    /// Fraction of the ideal chip's spikes that the device chip also emits (same step, same neuron).
    var coincidence = 0.0
    /// Fraction of samples with the same predicted class.
    var predictionAgreement: Double? = nil

    init(program p: Program, data: EventDataset, ideal i: Runner.Outcome, device d: Runner.Outcome) {
        let neurons = p.neurons.reduce(0) { $0 + $1.size }
        func side(_ o: Runner.Outcome) -> Side {
            var s = Side()
            let per = o.samples.map { r in Double(r.spikes.values.reduce(0) { $0 + $1.count }) }
            let n = Double(max(per.count, 1))
            s.spikesMean = per.reduce(0, +) / n
            s.spikesStd = (per.map { ($0 - s.spikesMean) * ($0 - s.spikesMean) }.reduce(0, +) / n).squareRoot()
            s.rate = s.spikesMean / Double(max(neurons * p.timesteps, 1))
            s.activeFraction = o.samples.map { r in
                Double(r.counts.values.reduce(0) { $0 + $1.filter { $0 > 0 }.count }) / Double(max(neurons, 1))
            }.reduce(0, +) / n
            if let ro = p.readouts.first {
                let lab = zip(data.samples, o.samples).filter { $0.0.label != nil }
                if !lab.isEmpty {
                    s.accuracy = Double(lab.filter { $0.1.prediction(ro.name) == $0.0.label }.count) / Double(lab.count)
                }
            }
            return s
        }
        ideal = side(i)
        device = side(d)
        var xs: [Double] = [], ys: [Double] = []
        var matched = 0, total = 0
        for (a, b) in zip(i.samples, d.samples) {
            for pop in p.neurons {
                xs += (a.counts[pop.name] ?? []).map(Double.init)
                ys += (b.counts[pop.name] ?? []).map(Double.init)
                let set = Set(b.spikes[pop.name] ?? [])
                let sa = a.spikes[pop.name] ?? []
                total += sa.count
                matched += sa.filter { set.contains($0) }.count
            }
        }
        countCorrelation = SpikeComparison.pearson(xs, ys)
        coincidence = total > 0 ? Double(matched) / Double(total) : 1
        if let ro = p.readouts.first, !i.samples.isEmpty {
            predictionAgreement = Double(zip(i.samples, d.samples).filter { $0.prediction(ro.name) == $1.prediction(ro.name) }.count)
                / Double(i.samples.count)
        }
    }

    static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        guard n > 1 else { return 1 }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) {
            sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my)
        }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : (sxx == syy ? 1 : 0)
    }

    var json: JSONValue {
        func side(_ s: Side) -> JSONValue {
            .object([("spikes_per_sample_mean", .double(s.spikesMean)), ("spikes_per_sample_std", .double(s.spikesStd)),
                     ("rate_per_neuron_step", .double(s.rate)), ("active_neuron_fraction", .double(s.activeFraction)),
                     ("accuracy", s.accuracy.map { .double($0) } ?? .null)])
        }
        return .object([("ideal", side(ideal)), ("device", side(device)), ("count_correlation", .double(countCorrelation)),
                        ("spike_coincidence", .double(coincidence)),
                        ("prediction_agreement", predictionAgreement.map { .double($0) } ?? .null)])
    }

    var table: String {
        func pct(_ v: Double?) -> String { v.map { String(format: "%.2f%%", 100 * $0) } ?? "-" }
        func row(_ name: String, _ a: String, _ b: String) -> String {
            "  " + name.padding(toLength: 28, withPad: " ", startingAt: 0) + a.padding(toLength: 18, withPad: " ", startingAt: 0) + b + "\n"
        }
        var s = "ideal chip vs device chip (same program, input and seed):\n"
        s += row("", "ideal", "device")
        s += row("spikes per sample", String(format: "%.1f ± %.1f", ideal.spikesMean, ideal.spikesStd),
                 String(format: "%.1f ± %.1f", device.spikesMean, device.spikesStd))
        s += row("rate (spikes/neuron/step)", String(format: "%.4f", ideal.rate), String(format: "%.4f", device.rate))
        s += row("active neurons", String(format: "%.1f%%", 100 * ideal.activeFraction), String(format: "%.1f%%", 100 * device.activeFraction))
        s += row("readout accuracy", pct(ideal.accuracy), pct(device.accuracy))
        s += String(format: "  spike-count correlation     %.4f\n", countCorrelation)
        s += String(format: "  ideal spikes reproduced     %.2f%% (same step and neuron)\n", 100 * coincidence)
        if let a = predictionAgreement { s += String(format: "  same prediction             %.2f%% of samples\n", 100 * a) }
        return s
    }
}
