import Foundation
import XbarCore
import XbarGraph

/// The LSM-CLIP experiment's tables (retrieval accuracy with the paper's figures beside it; training cost) and JSON
/// (docs/experiment.md, "LSM-CLIP").
public enum LSMCLIPReport {
    /// The paper's audio -> image figures (seen, unseen %) for (method, dim, model), from its repository's README.
    static func paper(_ m: LSMCLIPSpec.Method, _ dim: Int, _ model: ModelKind) -> (Double, Double)? {
        switch (m, dim, model) {
        case (.clip, 64, .software): return (66.1, 88.0)
        case (.clip, 128, .software): return (67.4, 88.5)
        case (.clip, 64, .chip): return (67.42, 87.5)
        case (.prototype, 64, .software): return (50.25, 81.69)
        case (.prototype, 128, .software): return (50.0, 77.9)
        default: return nil
        }
    }

    /// Training cost of one run, in trainable parameters and floating-point operations (multiply-add = 2), counted
    /// analytically: LSM-CLIP trains only the heads (forward + backward = 3 x the forward MACs per pair and epoch) on
    /// encoder features computed once (dense-equivalent LSM forward passes); an SRNN of the same sizes trained end to
    /// end by backpropagation through time costs 3 x its forward per sample and epoch.
    public struct Cost: Sendable {
        public var parameters: Int
        public var flops: Double
    }

    public static func cost(_ spec: LSMCLIPSpec, dim: Int, pairs: Int, encoderSamples: Int, srnn: Bool) -> Cost {
        let h = spec.image.neurons
        let heads = 2 * (h * dim + dim)
        let headFlops = Double(pairs * spec.epochs) * 3 * 2 * Double(2 * h * dim)
        func forward(_ o: LSMBuilder.PaperOptions) -> Double { 2 * Double(o.timesteps * (o.inputs * h + h * h)) }
        let encoders = forward(spec.image) + forward(spec.audio)
        if srnn {
            let p = spec.image.inputs * h + h * h + h + spec.audio.inputs * h + h * h + h
            return Cost(parameters: p + heads, flops: headFlops + Double(pairs * spec.epochs) * 3 * encoders)
        }
        return Cost(parameters: heads, flops: headFlops + Double(encoderSamples) * encoders / 2)
    }

    public static func table(_ results: [LSMCLIPResult], spec: LSMCLIPSpec, pairs: Int, encoderSamples: Int, header: String) -> String {
        var s = header + "\n\n| method | encoder | projection dim | seen (1-7) % | unseen (8-9) % | test-selected epoch: seen / unseen % | paper seen / unseen % |\n|---|---|---|---|---|---|---|\n"
        for m in spec.methods {
            for dim in spec.dims {
                for model in [ModelKind.software, .chip] {
                    let rs = results.filter { $0.method == m && $0.dim == dim && $0.model == model }
                    guard !rs.isEmpty else { continue }
                    let a = Experiment.meanStd(rs.map { 100 * $0.seen }), b = Experiment.meanStd(rs.map { 100 * $0.unseen })
                    let sa = Experiment.meanStd(rs.map { 100 * $0.selectedSeen }), sb = Experiment.meanStd(rs.map { 100 * $0.selectedUnseen })
                    let p = paper(m, dim, model).map { String(format: "%.2f / %.2f", $0.0, $0.1) } ?? "-"
                    s += String(format: "| %@ | %@ | %d | %.2f +- %.2f | %.2f +- %.2f | %.2f / %.2f | %@ |\n", m.rawValue,
                                model == .chip ? "RRAM LSM (chip)" : "software LSM", dim, a.mean, a.std, b.mean, b.std, sa.mean, sb.mean, p)
                }
            }
        }
        let chip = results.filter { $0.model == .chip }
        if !chip.isEmpty {
            s += String(format: "\nChip energy per inference (%@, mean over seeds): image LSM %.1f nJ, audio LSM %.1f nJ\n", spec.target.name,
                        Experiment.meanStd(chip.compactMap(\.imageEnergyPJ)).mean * 1e-3, Experiment.meanStd(chip.compactMap(\.audioEnergyPJ)).mean * 1e-3)
        }
        s += "\n| training | trainable parameters | training FLOPs | vs LSM-CLIP |\n|---|---|---|---|\n"
        for dim in spec.dims {
            let lsm = cost(spec, dim: dim, pairs: pairs, encoderSamples: encoderSamples, srnn: false)
            let srnn = cost(spec, dim: dim, pairs: pairs, encoderSamples: encoderSamples, srnn: true)
            s += String(format: "| LSM-CLIP, dim %d (heads only; encoders run once) | %d | %.3g | 1 |\n", dim, lsm.parameters, lsm.flops)
            s += String(format: "| SRNN encoders + heads, dim %d (BPTT, same epochs) | %d | %.3g | %.1fx |\n", dim, srnn.parameters, srnn.flops, srnn.flops / lsm.flops)
        }
        return s
    }

    public static func json(_ results: [LSMCLIPResult], meta: [(String, JSONValue)]) -> JSONValue {
        .object(meta + [("results", .array(results.map { r in
            .object([("method", .string(r.method.rawValue)), ("dim", .int(Int64(r.dim))), ("model", .string(r.model.rawValue)),
                     ("seed", .int(Int64(r.seed))), ("seen_accuracy", .double(r.seen)), ("unseen_accuracy", .double(r.unseen)),
                     ("selected_epoch", .int(Int64(r.selectedEpoch))), ("selected_seen_accuracy", .double(r.selectedSeen)),
                     ("selected_unseen_accuracy", .double(r.selectedUnseen)),
                     ("image_energy_pj", r.imageEnergyPJ.map { .double($0) } ?? .null),
                     ("audio_energy_pj", r.audioEnergyPJ.map { .double($0) } ?? .null), ("seconds", .double(r.seconds))])
        }))])
    }
}
