import ArgumentParser
import Foundation
import XbarCore
import XbarSweep

/// `xbar sweep`: design-space sweeps of a target (docs/sweep.md).
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Sweep target, compiler and workload parameters; merge shards; extract Pareto fronts; plot (docs/sweep.md).",
        subcommands: [Run.self, PlanCommand.self, Merge.self, Pareto.self, Plot.self, Compare.self],
        defaultSubcommand: Run.self)

    /// Where sweeps find targets, the paper LSM's gains (as `xbar experiment`) and the digits CSV.
    static func environment() -> SweepEnvironment {
        let dirs = targetSearchDirs()
        var e = SweepEnvironment(targetSearchDirs: dirs)
        let p = ExperimentConfigs.paper
        e.paper.inputGain = p.inputGain
        e.paper.recurrentGain = p.recurrentGain
        e.paper.inputDensity = p.inputDensity
        e.paper.recurrentDensity = p.recurrentDensity
        let candidates = ["examples/digits/digits.csv"] + dirs.map { (($0 as NSString).deletingLastPathComponent as NSString).appendingPathComponent("examples/digits/digits.csv") }
        e.digitsCSV = candidates.first { FileManager.default.fileExists(atPath: $0) }
        return e
    }

    static func loadPlan(_ path: String) throws -> SweepPlan {
        let spec = try SweepSpecLoader.load(path, environment: environment())
        return try SweepPlan(spec: spec)
    }

    /// The results file of a spec: --out, else the spec's `output`, else SPEC with the extension .jsonl.
    static func basePath(_ spec: SweepSpec, out: String?) -> String {
        if let o = out { return o }
        if let o = spec.output { return o }
        return (spec.path as NSString).deletingPathExtension + ".jsonl"
    }

    /// --shard I/N, else SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, else JOB_COMPLETION_INDEX with --shards, else whole.
    static func shard(_ arg: String?, shards: Int?, env: [String: String] = ProcessInfo.processInfo.environment) throws -> (Shard, String) {
        func bad(_ f: String, _ m: String) -> XbarError { XbarError(file: "<command line>", field: f, m) }
        if let a = arg {
            let parts = a.split(separator: "/")
            guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else {
                throw bad("--shard", "expected I/N with 0 <= I < N, found \"\(a)\"")
            }
            return (Shard(index: i, count: n), "--shard")
        }
        if let idS = env["SLURM_ARRAY_TASK_ID"] {
            guard let id = Int(idS) else { throw bad("SLURM_ARRAY_TASK_ID", "not an integer: \"\(idS)\"") }
            guard let nS = env["SLURM_ARRAY_TASK_COUNT"], let n = Int(nS), n >= 1 else {
                throw bad("SLURM_ARRAY_TASK_COUNT", "missing or not a positive integer (needed with SLURM_ARRAY_TASK_ID)")
            }
            let lo = env["SLURM_ARRAY_TASK_MIN"].flatMap { Int($0) } ?? 0
            let step = max(1, env["SLURM_ARRAY_TASK_STEP"].flatMap { Int($0) } ?? 1)
            let i = (id - lo) / step
            guard (id - lo) % step == 0, i >= 0, i < n else {
                throw bad("SLURM_ARRAY_TASK_ID", "task \(id) of an array with min \(lo), step \(step), count \(n) is not a shard index")
            }
            return (Shard(index: i, count: n), "Slurm array task \(id)")
        }
        if let idxS = env["JOB_COMPLETION_INDEX"] {
            guard let i = Int(idxS), i >= 0 else { throw bad("JOB_COMPLETION_INDEX", "not a non-negative integer: \"\(idxS)\"") }
            guard let n = shards ?? env["XBAR_SHARDS"].flatMap({ Int($0) }), n >= 1 else {
                throw bad("--shards", "JOB_COMPLETION_INDEX is set: give the number of shards (--shards N or XBAR_SHARDS, the job's completions)")
            }
            guard i < n else { throw bad("JOB_COMPLETION_INDEX", "\(i) is not below the shard count \(n)") }
            return (Shard(index: i, count: n), "indexed job completion \(i)")
        }
        if let n = shards, n != 1 {
            throw bad("--shards", "without JOB_COMPLETION_INDEX, give --shard I/N")
        }
        return (.whole, "")
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a sweep (the default: `xbar sweep SPEC.toml`); resumes where a previous run stopped.")

        @Argument(help: "Sweep spec (TOML, docs/sweep.md).") var spec: String
        @Option(name: .shortAndLong, help: "Results file (.jsonl or .csv; default: the spec's output, else SPEC.jsonl). Shards write NAME.shard-I-of-N.EXT.")
        var out: String?
        @Option(help: "Run shard I of N (0-based): the points whose index is I modulo N. Default: from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX when set.")
        var shard: String?
        @Option(help: "Number of shards with JOB_COMPLETION_INDEX (an indexed job's completions).") var shards: Int?
        @Option(help: "Points evaluated in parallel (0 = SLURM_CPUS_PER_TASK, OMP_NUM_THREADS or all cores).") var jobs = 0
        @Option(help: "fsync of appended rows: always, batch (at most once a second, and at the end) or never.")
        var fsync: FsyncPolicy = .batch
        @Option(help: "Run at most N new points, then stop (the rest on the next run).") var maxPoints: Int?
        @Flag(help: "No progress line.") var quiet = false

        func run() throws {
            try reportingErrors {
                let plan = try SweepCommand.loadPlan(spec)
                let (sh, source) = try SweepCommand.shard(shard, shards: shards)
                let output = SweepMerge.shardPath(SweepCommand.basePath(plan.spec, out: out), sh)
                let evaluator = try SweepEvaluator(spec: plan.spec, environment: SweepCommand.environment())
                evaluator.log = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
                var o = SweepRunOptions()
                o.shard = sh
                o.jobs = jobs
                o.fsync = fsync
                o.maxPoints = maxPoints
                let err: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
                o.log = err
                if plan.duplicatesDropped > 0 { err("note: \(plan.duplicatesDropped) repeated point(s) of the random plan dropped") }
                if !source.isEmpty { err("shard \(sh) (from \(source)) -> \(output)") }
                if !quiet { o.progress = SweepCommand.progress(label: "sweep \(plan.spec.name)" + (sh.count > 1 ? " shard \(sh)" : "")) }
                if let m = maxPoints { guard m >= 1 else { throw XbarError(file: "<command line>", field: "--max-points", "expected >= 1") } }
                let s = try SweepRunner.run(plan: plan, evaluator: evaluator, output: output, options: o)
                print(s.description)
            }
        }
    }

    /// A progress line: on a terminal rewritten in place, otherwise one line every 15 s.
    static func progress(label: String) -> @Sendable (Int, Int, Double, Double) -> Void {
        let tty = stderrIsTerminal
        let lock = NSLock()
        nonisolated(unsafe) var last = Date.distantPast
        return { done, total, rate, left in
            lock.lock()
            defer { lock.unlock() }
            let now = Date()
            let line = String(format: "%@: %d/%d points  %.1f points/s  %@ left", label, done, total, rate, duration(left))
            if tty {
                guard done == total || now.timeIntervalSince(last) >= 0.1 else { return }
                last = now
                FileHandle.standardError.write(Data(("\r" + line + "   " + (done == total ? "\n" : "")).utf8))
            } else if done == total || now.timeIntervalSince(last) >= 15 {
                last = now
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        if s < 60 { return String(format: "%.0fs", s) }
        if s < 3600 { return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) }
        return String(format: "%dh%02dm", Int(s) / 3600, (Int(s) % 3600) / 60)
    }

    struct PlanCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "plan", abstract: "Check a spec and list its points (nothing runs).")
        @Argument(help: "Sweep spec.") var spec: String
        @Option(help: "Only the points of shard I/N.") var shard: String?
        @Flag(help: "One JSON object per point.") var json = false
        @Flag(help: "Also resolve every point's target (as a run does before starting).") var check = false

        func run() throws {
            try reportingErrors {
                let plan = try SweepCommand.loadPlan(spec)
                let (sh, _) = try SweepCommand.shard(shard, shards: nil, env: [:])
                let pts = plan.points(in: sh)
                if check {
                    let ev = try SweepEvaluator(spec: plan.spec, environment: SweepCommand.environment())
                    for p in pts { _ = try ev.prepare(p) }
                }
                if json {
                    for p in pts {
                        print(JSONValue.object([("index", .int(Int64(p.index))), ("key", .string(p.key)), ("point", plan.pointJSON(p))])
                            .serialized(indent: nil))
                    }
                    return
                }
                let s = plan.spec
                print("sweep \(s.name): \(plan.points.count) points (\(s.sampling.rawValue)\(s.points.map { ", \($0) drawn" } ?? "")), target \(s.targetName), workload \(s.workload.kind.rawValue), metrics \(s.metrics.map(\.rawValue).joined(separator: ", "))")
                for a in s.axes {
                    let d: String
                    switch a.domain {
                    case let .values(v): d = v.map(\.description).joined(separator: ", ")
                    case let .interval(lo, hi, integer, log): d = "\(integer ? "integers" : "numbers") in [\(lo), \(hi)]\(log ? " (log)" : "")"
                    }
                    print("  axis \(a.name) (line \(a.line)): \(d)")
                }
                if sh.count > 1 { print("shard \(sh): \(pts.count) points") }
                for p in pts.prefix(20) { print("  #\(p.index) \(p.key) \(plan.pointJSON(p).serialized(indent: nil))") }
                if pts.count > 20 { print("  ... \(pts.count - 20) more") }
            }
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join shard files into one, in plan order; refuses (writing nothing) if a point is missing, duplicated or foreign.")
        @Argument(help: "Sweep spec the shards ran.") var spec: String
        @Argument(help: "Shard files (default: the spec output's NAME.shard-*-of-N files).") var files: [String] = []
        @Option(name: .shortAndLong, help: "Merged file (default: the spec's output, else SPEC.jsonl).") var out: String?
        @Flag(help: "Leave out the wall-clock field (wall_s), so merged files of the same sweep are byte-identical.")
        var stripTiming = false

        func run() throws {
            try reportingErrors {
                let plan = try SweepCommand.loadPlan(spec)
                let output = SweepCommand.basePath(plan.spec, out: out)
                let inputs = files.isEmpty ? SweepMerge.findShards(SweepCommand.basePath(plan.spec, out: nil)) : files
                if files.isEmpty {
                    let counts = Set(inputs.compactMap { f -> String? in
                        guard let r = f.range(of: #"-of-[0-9]+"#, options: .regularExpression, range: f.range(of: ".shard-", options: .backwards).map { $0.upperBound..<f.endIndex }) else { return nil }
                        return String(f[r].dropFirst(4))
                    })
                    if counts.count > 1 {
                        throw XbarError(file: SweepCommand.basePath(plan.spec, out: nil), field: "merge",
                                        "shard files of several shard counts (\(counts.sorted().joined(separator: ", "))) lie here: give the files to merge")
                    }
                }
                let r = try SweepMerge.merge(plan: plan, inputs: inputs, output: output, stripTiming: stripTiming)
                print("\(output): \(r.description)")
            }
        }
    }

    struct Pareto: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the Pareto front of a results file over chosen metrics.")
        @Argument(help: "Results file (.jsonl or .csv).") var results: String
        @Option(help: "Metrics, comma separated, each optionally :min or :max (default: the metric's natural direction).")
        var metrics = "accuracy,energy_per_sample"
        @Flag(help: "Write the front's rows as JSON lines.") var json = false
        @Option(name: .shortAndLong, help: "Write the front's rows (as stored) to this file.") var out: String?

        func run() throws {
            try reportingErrors {
                let err: (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) }
                let scan = try ResultsFile.read(results, warn: err)
                let obj = try SweepPareto.objectives(metrics)
                let front = try SweepPareto.front(scan.rows, obj)
                if let o = out {
                    let head = scan.header.map { $0.joined(separator: ",") + "\n" } ?? ""
                    try AtomicFile.write(head + front.map { $0.line + "\n" }.joined(), to: o)
                }
                if json {
                    for r in front { print(r.line) }
                    return
                }
                let usable = scan.rows.filter { $0.error == nil }.count
                print("Pareto front of \(results) over \(obj.map { "\($0.column) (\($0.maximise ? "max" : "min"))" }.joined(separator: ", ")): \(front.count) of \(usable) points")
                guard let first = front.first else { return }
                let cols = first.axisNames + obj.map(\.column)
                var table = [cols]
                for r in front {
                    table.append(cols.map { c in
                        guard let v = r.value(c) else { return "" }
                        if case let .string(s) = v { return s }
                        if case let .double(d) = v { return String(format: "%.6g", d) }
                        return v.serialized(indent: nil)
                    })
                }
                let w = cols.indices.map { i in table.map { $0[i].count }.max()! }
                for (k, row) in table.enumerated() {
                    print(row.enumerated().map { $0.element.padding(toLength: w[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
                    if k == 0 { print(w.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
                }
            }
        }
    }

    struct Plot: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write an SVG scatter plot of a results file (Pareto front marked).")
        @Argument(help: "Results file (.jsonl or .csv).") var results: String
        @Option(help: "Metric or axis on x.") var x = "energy_per_sample"
        @Option(help: "Metric or axis on y.") var y = "accuracy"
        @Option(help: "Axis (or column) that colours the points.") var color: String?
        @Option(help: "x scale: auto (log when the values span 100x or more), linear or log.") var xScale = "auto"
        @Option(help: "y scale: auto, linear or log.") var yScale = "auto"
        @Option(help: "Title.") var title: String?
        @Flag(help: "Do not mark the Pareto front.") var noFront = false
        @Option(name: .shortAndLong, help: "SVG file.") var out: String

        func run() throws {
            try reportingErrors {
                func scale(_ s: String, _ f: String) throws -> Bool? {
                    switch s {
                    case "auto": return nil
                    case "linear": return false
                    case "log": return true
                    default: throw XbarError(file: "<command line>", field: f, "expected auto, linear or log")
                    }
                }
                let err: (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) }
                let scan = try ResultsFile.read(results, warn: err)
                var o = SweepPlot.Options(x: x, y: y)
                o.color = color
                o.logX = try scale(xScale, "--x-scale")
                o.logY = try scale(yScale, "--y-scale")
                o.title = title
                o.front = !noFront
                let svg = try SweepPlot.svg(scan.rows, o, source: (results as NSString).lastPathComponent)
                try AtomicFile.write(svg, to: out)
                print("wrote \(out)")
            }
        }
    }

    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that two results files hold the same points with identical rows (wall_s ignored); exit 1 if not.")
        @Argument(help: "First results file.") var a: String
        @Argument(help: "Second results file.") var b: String

        func run() throws {
            try reportingErrors {
                let r = try SweepCompare.compare(a, b)
                if r.equal {
                    print("equal: \(r.same) points, every row identical (wall_s ignored)")
                    return
                }
                print("DIFFERENT: \(r.same) identical, \(r.differing.count) differing, \(r.onlyA.count) only in \(a), \(r.onlyB.count) only in \(b)")
                for d in r.differing.prefix(5) { print("  \(d.key):\n    \(a): \(d.a)\n    \(b): \(d.b)") }
                for k in r.onlyA.prefix(5) { print("  only in \(a): \(k)") }
                for k in r.onlyB.prefix(5) { print("  only in \(b): \(k)") }
                throw ExitCode(1)
            }
        }
    }
}

extension FsyncPolicy: ExpressibleByArgument {}
