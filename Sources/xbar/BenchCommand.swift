import ArgumentParser
import Foundation
import XbarCompiler
import XbarCore
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarTarget

/// `xbar bench`: the documented throughput workloads (docs/bench.md). Speed goals live here, not in tests.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Measure emulation throughput on the documented workloads.")

    @Option(help: "Samples per workload.") var samples: Int = 400
    @Option(help: "Thread counts to measure, comma separated (0 = all cores).") var threads: String = "1,0"
    @Option(help: "Repetitions; the best is reported.") var repeats: Int = 3
    @Flag(help: "JSON output.") var json = false

    /// A synthetic event set: each channel spikes with probability `rate` per step (Philox, seed 7).
    static func synthetic(channels: Int, timesteps: Int, samples: Int, rate: Double) -> EventDataset {
        let rng = Philox(seed: 7)
        var out = EventDataset(channels: channels, timesteps: timesteps, samples: [])
        for s in 0..<samples {
            var active = [[Int32]](repeating: [], count: timesteps)
            for t in 0..<timesteps {
                for c in 0..<channels where rng.uniform(purpose: RandomPurpose.eventEncoding.rawValue, UInt32(s), UInt32(c), UInt32(t)) < rate {
                    active[t].append(Int32(c))
                }
            }
            out.samples.append(SpikeRaster(channels: channels, timesteps: timesteps, label: nil, active: active))
        }
        return out
    }

    func run() throws {
        try reportingErrors {
            guard samples >= 1, samples <= 1_000_000 else { throw XbarError(file: "<command line>", field: "--samples", "expected 1...1000000") }
            let dirs = targetSearchDirs()
            let t40 = try TargetLoader.resolve("rram-40nm-256kb", searchDirs: dirs)
            var t40p = t40
            t40p.device = .ideal
            t40p.name = "rram-40nm-256kb (programmed)"
            let paper = try Compiler.compile(LSMBuilder.paper(.init()), target: t40p)
            let nalsm = try Compiler.compile(LSMBuilder.nalsm(.init()), target: t40p, options: CompileOptions(replicateMacros: true))
            let workloads: [(String, Compiled, EventDataset)] = [
                ("paper-lsm 256->200 (rram-40nm-256kb, 1 array)", paper,
                 BenchCommand.synthetic(channels: 256, timesteps: 50, samples: samples, rate: 0.08)),
                ("nalsm 2312->1000 (rram-40nm-256kb x27 arrays)", nalsm,
                 BenchCommand.synthetic(channels: 2312, timesteps: 50, samples: samples, rate: 0.02)),
            ]
            // The paper LSM electroformed on the 40 nm macro, read with every device effect on vs read ideally.
            let formed = try Compiler.compile(LSMBuilder.paper(.init()), target: t40, options: CompileOptions(seed: 1))
            let noisyChip = try Chip(program: formed.program, target: t40, seed: 1)
            var readOnly = t40
            readOnly.device = DeviceSpec(programming: .forming, forming: t40.device.forming, readNoise: t40.device.readNoise)
            let readNoiseChip = try Chip(program: formed.program, target: readOnly, seed: 1)
            let idealChip = Chip(program: formed.program, seed: 1, timing: t40.timing)
            let paperData = workloads[0].2
            var noise: [(String, Double)] = []
            for (label, chip) in [("ideal reads", idealChip), ("per-read noise on", readNoiseChip), ("all device noise on", noisyChip)] {
                var best = Double.infinity
                for _ in 0..<max(1, repeats) {
                    best = min(best, try Runner(chip: chip, engine: .fast, options: RunOptions(threads: 1)).run(paperData, file: "<bench>").wallSeconds)
                }
                noise.append((label, Double(paperData.samples.count) / best))
            }
            var rows: [JSONValue] = [.object([("workload", .string("paper-lsm formed on rram-40nm-256kb, 1 thread: noise cost")),
                                              ("ideal_samples_per_second", .double(noise[0].1)),
                                              ("read_noise_samples_per_second", .double(noise[1].1)),
                                              ("all_noise_samples_per_second", .double(noise[2].1)),
                                              ("read_noise_slowdown", .double(noise[0].1 / noise[1].1)),
                                              ("all_noise_slowdown", .double(noise[0].1 / noise[2].1))])]
            if !json {
                print(String(format: "paper-lsm formed (rram-40nm-256kb), 1 thread: ideal reads %.1f samples/s; per-read noise %.1f samples/s (%.2fx); all device effects %.1f samples/s (%.2fx)",
                             noise[0].1, noise[1].1, noise[0].1 / noise[1].1, noise[2].1, noise[0].1 / noise[2].1))
            }
            // Cycle engine: simulated clock cycles per second on one core (paper LSM, formed, timing of the 40 nm target).
            do {
                let chip = noisyChip
                var best = Double.infinity
                var out: Runner.Outcome? = nil
                let sub = EventDataset(channels: paperData.channels, timesteps: paperData.timesteps, samples: Array(paperData.samples.prefix(max(20, samples / 10))))
                for _ in 0..<max(1, repeats) {
                    let o = try Runner(chip: chip, engine: .cycle, options: RunOptions(threads: 1)).run(sub, file: "<bench>")
                    if o.wallSeconds < best { best = o.wallSeconds; out = o }
                }
                let cps = Double(out!.totals.cycles) / best
                rows.append(.object([("workload", .string("cycle engine, paper-lsm formed on rram-40nm-256kb, 1 thread")),
                                     ("samples", .int(Int64(sub.samples.count))), ("seconds", .double(best)),
                                     ("simulated_cycles_per_second", .double(cps)),
                                     ("samples_per_second", .double(Double(sub.samples.count) / best))]))
                if !json {
                    print(String(format: "cycle engine, paper-lsm formed (rram-40nm-256kb), 1 thread: %.3g simulated cycles/s (%.1f samples/s, %.0f cycles per sample)",
                                 cps, Double(sub.samples.count) / best, Double(out!.totals.cycles) / Double(sub.samples.count)))
                }
            }
            for (name, c, data) in workloads {
                for th in threads.split(separator: ",").compactMap({ Int($0) }) {
                    let chip = Chip(program: c.program, seed: 1, timing: t40p.timing)
                    var best = Double.infinity
                    var outcome: Runner.Outcome? = nil
                    for _ in 0..<max(1, repeats) {
                        let o = try Runner(chip: chip, engine: .fast, options: RunOptions(threads: th)).run(data, file: "<bench>")
                        if o.wallSeconds < best { best = o.wallSeconds; outcome = o }
                    }
                    let o = outcome!
                    let sps = Double(data.samples.count) / best
                    let evs = Double(o.totals.synapticEvents) / best
                    let eff = Runner.effectiveThreads(th)
                    rows.append(.object([("workload", .string(name)), ("threads", .int(Int64(eff))), ("samples", .int(Int64(data.samples.count))),
                                         ("seconds", .double(best)), ("samples_per_second", .double(sps)),
                                         ("synaptic_events_per_second", .double(evs)),
                                         ("cell_reads_per_second", .double(Double(o.totals.cellReads) / best))]))
                    if !json {
                        print(String(format: "%@  threads %d: %8.1f samples/s  %.3g synaptic events/s  %.3g cell reads/s", name, eff, sps, evs,
                                     Double(o.totals.cellReads) / best))
                    }
                }
            }
            if json { print(JSONValue.object([("tool", .string("neuroxbar")), ("version", .string(toolVersion)), ("results", .array(rows))]).serialized()) }
        }
    }
}
