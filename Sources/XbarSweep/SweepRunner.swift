import Dispatch
import Foundation
import XbarCore

/// Options of one sweep process.
public struct SweepRunOptions: Sendable {
    public var shard = Shard.whole
    /// Points evaluated at once (0 = all cores).
    public var jobs = 0
    public var fsync = FsyncPolicy.batch
    /// Stop after this many new points (for tests and trial runs).
    public var maxPoints: Int? = nil
    /// (done, total, points per second, seconds left), called after every point.
    public var progress: @Sendable (Int, Int, Double, Double) -> Void = { _, _, _, _ in }
    /// Notes (repairs, warnings), one line each.
    public var log: @Sendable (String) -> Void = { _ in }
    public init() {}
}

/// What a sweep process did.
public struct SweepSummary: Sendable {
    public var output: String
    public var shard: Shard
    /// Points of this shard in the plan.
    public var planned: Int
    /// Found finished in the file and not run again.
    public var alreadyDone: Int
    public var ran: Int
    public var failed: Int
    public var seconds: Double
    /// Sum of the per-point evaluation times.
    public var pointSeconds: Double
    public var repairs: [String]
    public var remaining: Int { planned - alreadyDone - ran }

    public var description: String {
        var s = "\(output): \(alreadyDone + ran)/\(planned) points"
        if shard.count > 1 { s += " of shard \(shard)" }
        s += String(format: " (%d run now, %d already done, %d failed) in %.2f s", ran, alreadyDone, failed, seconds)
        if ran > 0 { s += String(format: ", %.1f points/s, %.2f ms/point", Double(ran) / max(seconds, 1e-9), 1000 * pointSeconds / Double(ran)) }
        if remaining > 0 { s += "; \(remaining) left (run again to continue)" }
        return s
    }
}

/// Runs a sweep plan: parallel points, resumable appends, shards (docs/sweep.md).
public enum SweepRunner {
    /// The row text of a finished point (JSON lines; `wall_s` last, the only field that differs between runs).
    public static func jsonRow(plan: SweepPlan, point: PreparedPoint, result r: PointResult) -> String {
        var o: [(String, JSONValue)] = [("key", .string(point.point.key)), ("version", .string(toolVersion)),
                                        ("seed", .int(Int64(bitPattern: point.seed))), ("point", plan.pointJSON(point.point))]
        if let e = r.error {
            o.append(("metrics", .null))
            o.append(("error", .string(e)))
        } else {
            o.append(("metrics", .object(r.metrics)))
        }
        o.append(("wall_s", .double((r.seconds * 1e6).rounded() / 1e6)))
        return JSONValue.object(o).serialized(indent: nil)
    }

    public static func csvRow(plan: SweepPlan, point: PreparedPoint, result r: PointResult) -> String {
        var f: [JSONValue] = [.string(point.point.key), .string(toolVersion), .int(Int64(bitPattern: point.seed))]
        f += point.point.values.map(\.json)
        let m = Dictionary(r.metrics, uniquingKeysWith: { a, _ in a })
        f += plan.spec.metrics.flatMap(\.columns).map { m[$0] ?? .null }
        f.append(r.error.map { .string($0) } ?? .null)
        f.append(.double((r.seconds * 1e6).rounded() / 1e6))
        return f.map(CSV.field).joined(separator: ",")
    }

    public static func effectiveJobs(_ requested: Int) -> Int {
        if requested > 0 { return requested }
        let env = ProcessInfo.processInfo.environment
        for k in ["SLURM_CPUS_PER_TASK", "OMP_NUM_THREADS"] { if let s = env[k], let n = Int(s), n > 0 { return n } }
        return ProcessInfo.processInfo.activeProcessorCount
    }

    /// Runs the shard's unfinished points, appending a row per point as soon as it is done.
    public static func run(plan: SweepPlan, evaluator: SweepEvaluator, output: String, options o: SweepRunOptions) throws -> SweepSummary {
        let start = Date()
        // Points finished before (a read-only look, so that a spec refused below leaves no file behind).
        var doneBefore = Set<String>()
        if FileManager.default.fileExists(atPath: output) { doneBefore = Set(try ResultsFile.read(output).rows.map(\.key)) }
        let mine = plan.points(in: o.shard)
        var todo = mine.filter { !doneBefore.contains($0.key) }
        if let m = o.maxPoints { todo = Array(todo.prefix(m)) }
        let pending = todo
        // Every pending point is resolved (and its target validated) before any runs.
        let jobs = max(1, min(effectiveJobs(o.jobs), max(pending.count, 1)))
        let prepared = Slots<Result<PreparedPoint, XbarError>>(pending.count)
        DispatchQueue.concurrentPerform(iterations: jobs) { w in
            var i = w
            while i < pending.count {
                do { prepared.set(i, .success(try evaluator.prepare(pending[i]))) } catch let e as XbarError {
                    prepared.set(i, .failure(e))
                } catch {
                    prepared.set(i, .failure(XbarError(file: plan.spec.path, field: "", "\(error)")))
                }
                i += jobs
            }
        }
        var resolved: [PreparedPoint] = []
        for r in prepared.values {
            switch r {
            case let .success(p): resolved.append(p)
            case let .failure(e): throw e
            }
        }
        let writer = try ResultsWriter(path: output, header: ResultFormat.of(output) == .csv ? csvHeader(plan.spec) : nil, policy: o.fsync)
        for r in writer.repairs { o.log("repaired " + r) }
        let planKeys = Set(plan.points.map(\.key))
        var done = Set<String>()
        var foreign = 0
        var dup = 0
        for r in writer.existing {
            if !planKeys.contains(r.key) { foreign += 1 }
            if !done.insert(r.key).inserted { dup += 1 }
        }
        if foreign > 0 { o.log("warning: \(output) holds \(foreign) row(s) of points not in this plan (another spec?); kept as they are") }
        if dup > 0 { o.log("warning: \(output) holds \(dup) duplicate row(s)") }
        let already = mine.filter { done.contains($0.key) }.count
        let prep = resolved.filter { !done.contains($0.point.key) }
        let ready = prep
        let csv = writer.format == .csv
        // Points sharing a run (they differ only in energy, area or clock) go to one worker, back to back: the first
        // runs the workload, the others only re-price it.
        var groupIndex: [String: Int] = [:]
        var groupList: [[Int]] = []
        for (i, p) in prep.enumerated() {
            if let g = groupIndex[p.outcomeKey] { groupList[g].append(i) } else {
                groupIndex[p.outcomeKey] = groupList.count
                groupList.append([i])
            }
        }
        let groups = groupList
        let runJobs = max(1, min(jobs, groups.count))
        evaluator.innerThreads = max(1, effectiveJobs(o.jobs) / runJobs)
        let counter = Counter()
        let failures = Counter()
        let pointTime = Accumulator()
        let firstError = ErrorBox()
        let total = ready.count
        let runStart = Date()
        DispatchQueue.concurrentPerform(iterations: runJobs) { _ in
            while firstError.get() == nil {
                let g = counter.next()
                guard g < groups.count else { break }
                for i in groups[g] where firstError.get() == nil {
                let pp = ready[i]
                let r = evaluator.evaluate(pp)
                pointTime.add(r.seconds)
                if r.error != nil { failures.add() }
                do {
                    try writer.append(csv ? csvRow(plan: plan, point: pp, result: r) : jsonRow(plan: plan, point: pp, result: r))
                } catch let e as XbarError {
                    firstError.set(e)
                } catch {
                    firstError.set(XbarError(file: output, field: "", "\(error)"))
                }
                let n = counter.finish()
                let el = Date().timeIntervalSince(runStart)
                let rate = el > 0 ? Double(n) / el : 0
                o.progress(n, total, rate, rate > 0 ? Double(total - n) / rate : 0)
                }
            }
        }
        writer.sync()
        if let e = firstError.get() { throw e }
        return SweepSummary(output: output, shard: o.shard, planned: mine.count, alreadyDone: already, ran: counter.finished,
                            failed: failures.value, seconds: Date().timeIntervalSince(start), pointSeconds: pointTime.value,
                            repairs: writer.repairs)
    }
}

final class Slots<T>: @unchecked Sendable {
    private var items: [T?]
    private let lock = NSLock()
    init(_ n: Int) { items = [T?](repeating: nil, count: n) }
    func set(_ i: Int, _ v: T) {
        lock.lock()
        items[i] = v
        lock.unlock()
    }
    var values: [T] {
        lock.lock()
        defer { lock.unlock() }
        return items.map { $0! }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    private(set) var finished = 0
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    func next() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n - 1 }
    func add() { lock.lock(); n += 1; lock.unlock() }
    func finish() -> Int { lock.lock(); defer { lock.unlock() }; finished += 1; return finished }
}

final class Accumulator: @unchecked Sendable {
    private let lock = NSLock()
    private var v = 0.0
    var value: Double { lock.lock(); defer { lock.unlock() }; return v }
    func add(_ x: Double) { lock.lock(); v += x; lock.unlock() }
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var e: XbarError?
    func get() -> XbarError? { lock.lock(); defer { lock.unlock() }; return e }
    func set(_ x: XbarError) { lock.lock(); if e == nil { e = x }; lock.unlock() }
}
