import Foundation
import XbarCompiler
import XbarCore
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarTarget

/// One documented benchmark workload of `xbar bench` (docs/bench.md): a network, a synthetic input raster, the chips
/// it runs on and the external reference it is compared with.
struct BenchWorkload {
    /// One chip configuration the workload runs on.
    struct Variant {
        let label: String
        let chip: Chip
        let engine: EngineKind
    }

    let name: String
    let graph: Graph
    let data: EventDataset
    let variants: [Variant]
    let reference: BenchReference.Engine?

    /// Names accepted by `--workload`, in the order they run.
    static let names = ["paper-lsm", "nalsm", "cycle", "nalsm-8000"]

    /// A synthetic event set: each channel spikes with probability `rate` per step (Philox, seed 7).
    static func synthetic(channels: Int, timesteps: Int, samples: Int, rate: Double) -> EventDataset {
        EventDataset.random(channels: channels, timesteps: timesteps, samples: samples, rate: rate, seed: 7)
    }

    /// Builds workload `name` with `samples` samples (nil: the workload's documented count).
    static func make(_ name: String, samples: Int?, targets dirs: [String]) throws -> BenchWorkload {
        let ideal = try TargetLoader.resolve("ideal", searchDirs: dirs)
        let t40 = try TargetLoader.resolve("rram-40nm-256kb", searchDirs: dirs)
        let t40p = try TargetLoader.resolve("rram-40nm-256kb", searchDirs: dirs, overrides: ["device.programming=\"write_verify\""])
        var idealReads = t40p
        idealReads.device = .ideal
        let replicate = CompileOptions(replicateMacros: true)
        switch name {
        case "paper-lsm":
            let g = LSMBuilder.paper(.init())
            let data = synthetic(channels: 256, timesteps: 50, samples: samples ?? 400, rate: 0.08)
            return BenchWorkload(name: "paper-lsm 256->200, p 0.08", graph: g, data: data, variants: [
                try variant("rram-40nm-256kb programmed, ideal reads", g, idealReads, .fast),
                try variant("rram-40nm-256kb formed, every device effect", g, t40, .fast),
            ], reference: .numpy)
        case "nalsm":
            let g = LSMBuilder.nalsm(.init())
            let data = synthetic(channels: 2312, timesteps: 50, samples: samples ?? 200, rate: 0.02)
            return BenchWorkload(name: "nalsm 2312->1000, p 0.02", graph: g, data: data, variants: [
                try variant("ideal, replicated macros", g, ideal, .fast, replicate),
                try variant("rram-40nm-256kb programmed, every device effect", g, t40p, .fast, replicate),
            ], reference: .brian2)
        case "cycle":
            let g = LSMBuilder.paper(.init())
            let data = synthetic(channels: 256, timesteps: 50, samples: samples ?? 40, rate: 0.08)
            return BenchWorkload(name: "cycle engine, paper-lsm", graph: g, data: data, variants: [
                try variant("rram-40nm-256kb formed, every device effect", g, t40, .cycle),
            ], reference: nil)
        case "nalsm-8000":
            var o = LSMBuilder.NALSMOptions()
            o.neurons = 8000
            let g = LSMBuilder.nalsm(o)
            let data = synthetic(channels: 2312, timesteps: 50, samples: samples ?? 100, rate: 0.02)
            return BenchWorkload(name: "nalsm 2312->8000, p 0.02", graph: g, data: data, variants: [
                try variant("rram-40nm-256kb programmed, every device effect", g, t40p, .fast, replicate),
            ], reference: nil)
        default:
            throw XbarError(file: "<command line>", field: "--workload", "unknown workload '\(name)'; expected one of \(names.joined(separator: ", "))")
        }
    }

    /// Compiles `g` for `target` and realises chip seed 1 with every device effect of the target.
    static func variant(_ label: String, _ g: Graph, _ target: Target, _ engine: EngineKind,
                        _ options: CompileOptions = CompileOptions()) throws -> Variant {
        let c = try Compiler.compile(g, target: target, options: options)
        let chip = try Chip(program: c.program, target: target, seed: 1)
        return Variant(label: "\(label) (\(c.program.arrays.count) arrays)", chip: chip, engine: engine)
    }
}
