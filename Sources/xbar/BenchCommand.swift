import ArgumentParser
import Foundation
import XbarCore
import XbarEmulator
import XbarEvents

/// `xbar bench`: the documented throughput workloads (docs/bench.md), optionally next to their external references
/// run in the same invocation on the same thread count. Speed goals live here, not in tests.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure emulation throughput on the documented workloads.",
        discussion: "Workloads: \(BenchWorkload.names.joined(separator: ", ")), \(BenchCompile.name) (docs/bench.md). nalsm-8000 and \(BenchCompile.name) run only when named.")

    @Option(help: "Samples per workload (default: each workload's documented count).") var samples: Int?
    @Option(help: "Thread counts to measure, comma separated (0 = all cores).") var threads: String = "1,0"
    @Option(help: "Repetitions; the best is reported.") var repeats: Int = 3
    @Option(help: "Workloads to run, comma separated.") var workload: String = "paper-lsm,nalsm,cycle"
    @Option(help: "Only the variants whose label contains this text (e.g. ideal, 40nm).") var variant: String?
    @Flag(help: "Also run the external references (NumPy, Brian2) and print xbar / reference ratios.") var reference = false
    @Flag(help: "JSON output.") var json = false

    func run() throws {
        try reportingErrors {
            if let s = samples, !(1...1_000_000).contains(s) {
                throw XbarError(file: "<command line>", field: "--samples", "expected 1...1000000")
            }
            let counts = threads.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? -1) >= 0 && ($0 ?? 0) <= 1024 }) else {
                throw XbarError(file: "<command line>", field: "--threads", "expected comma-separated counts 0...1024")
            }
            let names = workload.split(separator: ",").map(String.init)
            var rows: [JSONValue] = []
            for name in names {
                if name == BenchCompile.name {
                    rows += try BenchCompile.run(repeats: repeats, json: json, targets: targetSearchDirs())
                    continue
                }
                let w = try BenchWorkload.make(name, samples: samples, targets: targetSearchDirs())
                rows += try measure(w, threads: counts.map { Runner.effectiveThreads($0!) })
            }
            if json { print(JSONValue.object([("tool", .string("neuroxbar")), ("version", .string(toolVersion)), ("results", .array(rows))]).serialized()) }
        }
    }

    /// Every variant of `w` at every thread count (the cycle engine at one thread), with the reference beside it.
    func measure(_ w: BenchWorkload, threads: [Int]) throws -> [JSONValue] {
        var rows: [JSONValue] = []
        var refs: [Int: BenchReference.Outcome] = [:]
        for th in threads where reference && w.reference != nil && refs[th] == nil {
            refs[th] = BenchReference.run(w.reference!, graph: w.graph, data: w.data, threads: th, repeats: repeats)
        }
        for v in w.variants where variant.map({ v.label.contains($0) }) ?? true {
            for th in (v.engine == .cycle ? [1] : threads) {
                let (best, o) = try timed(v, threads: th, data: w.data)
                rows.append(report(w, v, threads: th, seconds: best, outcome: o, reference: refs[th]))
            }
        }
        return rows
    }

    /// The best of `repeats` runs.
    func timed(_ v: BenchWorkload.Variant, threads th: Int, data: EventDataset) throws -> (Double, Runner.Outcome) {
        var best = Double.infinity
        var outcome: Runner.Outcome? = nil
        for _ in 0..<max(1, repeats) {
            let o = try Runner(chip: v.chip, engine: v.engine, options: RunOptions(threads: th)).run(data, file: "<bench>")
            if o.wallSeconds < best { best = o.wallSeconds; outcome = o }
        }
        return (best, outcome!)
    }

    /// One result row: printed as a line unless --json, returned as JSON.
    func report(_ w: BenchWorkload, _ v: BenchWorkload.Variant, threads th: Int, seconds: Double, outcome o: Runner.Outcome,
                reference ref: BenchReference.Outcome?) -> JSONValue {
        let n = Double(w.data.samples.count)
        let sps = n / seconds
        let rss = BenchCommand.peakResidentMB()
        var fields: [(String, JSONValue)] = [
            ("workload", .string(w.name)), ("variant", .string(v.label)), ("engine", .string(v.engine.rawValue)),
            ("threads", .int(Int64(th))), ("samples", .int(Int64(w.data.samples.count))), ("seconds", .double(seconds)),
            ("samples_per_second", .double(sps)),
            ("synaptic_events_per_second", .double(Double(o.totals.synapticEvents) / seconds)),
            ("cell_reads_per_second", .double(Double(o.totals.cellReads) / seconds)),
            ("spikes", .int(o.totals.spikes)), ("peak_resident_mb", .double(rss)),
        ]
        var line = String(format: "%@ | %@ | %@ threads %d: %9.1f samples/s  %.3g synaptic events/s  peak RSS %.0f MB",
                          w.name, v.label, v.engine.rawValue, th, sps, Double(o.totals.synapticEvents) / seconds, rss)
        if v.engine == .cycle {
            let cps = Double(o.totals.cycles) / seconds
            fields.append(("simulated_cycles_per_second", .double(cps)))
            line += String(format: "  %.3g simulated cycles/s", cps)
        }
        switch ref {
        case let .measured(label, rsps, spikes)?:
            fields += [("reference", .string(label)), ("reference_samples_per_second", .double(rsps)),
                       ("reference_spikes", .int(Int64(spikes))), ("ratio", .double(sps / rsps))]
            line += String(format: "  | %@: %.1f samples/s -> xbar/reference %.2fx", label, rsps, sps / rsps)
        case let .unavailable(why)?:
            fields.append(("reference_unavailable", .string(why)))
            line += "  | reference not available: \(why)"
        case nil: break
        }
        if !json { print(line) }
        return .object(fields)
    }

    /// The process's peak resident set size so far, in MB (getrusage).
    static func peakResidentMB() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_maxrss) / 1024
    }
}
