import Dispatch
import Foundation
import XbarCore
import XbarEvents
import XbarIR

/// Runs a dataset on one chip instance with the chosen engine, samples in parallel; results are indexed by sample,
/// so output is identical whatever the thread count.
public struct Runner: Sendable {
    public let chip: Chip
    public let engine: EngineKind
    public let options: RunOptions
    /// The cells a plastic program starts from (nil: the chip as realised).
    public var initialState: ChipState? = nil

    public init(chip: Chip, engine: EngineKind, options: RunOptions) {
        self.chip = chip
        self.engine = engine
        self.options = options
    }

    /// Outcome of a dataset run.
    public struct Outcome: Sendable {
        public var samples: [SampleResult]
        public var totals: Counters
        /// Exact engine only: overflow events per sample (first 1000 each) and their total.
        public var overflows: [[OverflowEvent]]
        public var overflowTotal: Int
        public var wallSeconds: Double
        /// A plastic program's cells after the run (samples run in order on one chip state); nil otherwise.
        public var learned: ChipState? = nil
    }

    /// `effectiveThreadCount` (XbarCore), the one rule for `--threads`.
    public static func effectiveThreads(_ requested: Int) -> Int { effectiveThreadCount(requested) }

    public func run(_ data: EventDataset, file: String, progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> Outcome {
        let binding = try InputBinding(program: chip.program, channels: data.channels, file: file)
        guard data.timesteps == chip.program.timesteps else {
            throw XbarError(file: file, field: "timesteps",
                            "input has \(data.timesteps) timesteps, program \"\(chip.program.name)\" runs \(chip.program.timesteps)")
        }
        let start = Date()
        let n = data.samples.count
        let threads = Swift.max(1, Swift.min(Runner.effectiveThreads(options.threads), Swift.max(n, 1)))
        let box = ResultBox(n)
        let trace = options.trace
        if chip.program.isPlastic {
            return try runLearning(data, binding: binding, start: start, progress: progress)
        }
        switch engine {
        case .fast:
            let fast = FastEngine(chip: chip)
            let sequential = options.order == .sequential
            // No more contexts than samples: a context holds a sample's whole state.
            let batch = sequential ? 1 : Swift.max(1, Swift.min(options.batch, (n + threads - 1) / threads))
            let workers = sequential ? 1 : threads
            let kernelThreads = n == 1 ? threads : 1
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let contexts = (0..<batch).map { _ in fast.makeContext() }
                var lo = w * batch
                while lo < n {
                    let hi = Swift.min(n, lo + batch)
                    let items = (lo..<hi).map { (sample: data.samples[$0], index: $0) }
                    // A batch is traced when one of its samples is; the traces of the others are dropped at once.
                    let traced = trace && (lo..<hi).contains { options.traces(sample: $0) }
                    let results = fast.run(batch: items, binding: binding, trace: traced, contexts: contexts, kernelThreads: kernelThreads)
                    for (i, r) in results.enumerated() {
                        var r = r
                        if traced && !options.traces(sample: lo + i) { r.traces = [:] }
                        box.set(lo + i, r, [], 0)
                    }
                    if let p = progress { p(box.done(), n) }
                    lo += workers * batch
                }
            }
        case .exact, .cycle:
            let exact = engine == .exact ? ExactEngine(chip: chip) : nil
            let cycle = engine == .cycle ? CycleEngine(chip: chip) : nil
            DispatchQueue.concurrentPerform(iterations: threads) { w in
                var i = w
                while i < n {
                    let s = data.samples[i]
                    if let y = cycle {
                        box.set(i, y.run(s, index: i, binding: binding, trace: options.traces(sample: i)).0, [], 0)
                    } else if let e = exact {
                        let (r, ev) = e.run(s, index: i, binding: binding, trace: options.traces(sample: i))
                        box.set(i, r, ev.events, ev.total)
                    }
                    if let p = progress { p(box.done(), n) }
                    i += threads
                }
            }
        }
        var totals = Counters()
        for r in box.results { totals.add(r!.counters) }
        return Outcome(samples: box.results.map { $0! }, totals: totals, overflows: box.overflows,
                       overflowTotal: box.overflowTotal.reduce(0, +), wallSeconds: Date().timeIntervalSince(start))
    }
}

extension Runner {
    /// A plastic program: every sample in order on one learning chip (whatever the thread count), so each sample sees
    /// the cells the samples before it wrote; the learned chip state is returned.
    func runLearning(_ data: EventDataset, binding: InputBinding, start: Date, progress: (@Sendable (Int, Int) -> Void)?) throws -> Outcome {
        let learning = LearningChip(chip: chip, state: initialState)
        let n = data.samples.count
        var results: [SampleResult] = []
        var overflows: [[OverflowEvent]] = []
        var overflowTotal = 0
        let fast = engine == .fast ? FastEngine(chip: chip, learning: learning) : nil
        let exact = engine == .exact ? ExactEngine(chip: chip, learning: learning) : nil
        let cycle = engine == .cycle ? CycleEngine(chip: chip, learning: learning) : nil
        for i in 0..<n {
            let s = data.samples[i]
            if let f = fast {
                results.append(f.run(s, index: i, binding: binding, trace: options.traces(sample: i), kernelThreads: Runner.effectiveThreads(options.threads)))
                overflows.append([])
            } else if let e = exact {
                let (r, ev) = e.run(s, index: i, binding: binding, trace: options.traces(sample: i))
                results.append(r)
                overflows.append(ev.events)
                overflowTotal += ev.total
            } else if let y = cycle {
                results.append(y.run(s, index: i, binding: binding, trace: options.traces(sample: i)).0)
                overflows.append([])
            }
            progress?(i + 1, n)
        }
        var totals = Counters()
        for r in results { totals.add(r.counters) }
        var out = Outcome(samples: results, totals: totals, overflows: overflows, overflowTotal: overflowTotal,
                          wallSeconds: Date().timeIntervalSince(start))
        out.learned = learning.state
        return out
    }
}

/// Thread-safe result slots.
final class ResultBox: @unchecked Sendable {
    var results: [SampleResult?]
    var overflows: [[OverflowEvent]]
    var overflowTotal: [Int]
    var finished = 0
    let lock = NSLock()

    init(_ n: Int) {
        results = [SampleResult?](repeating: nil, count: n)
        overflows = [[OverflowEvent]](repeating: [], count: n)
        overflowTotal = [Int](repeating: 0, count: n)
    }

    func set(_ i: Int, _ r: SampleResult, _ ev: [OverflowEvent], _ total: Int) {
        lock.lock()
        results[i] = r
        overflows[i] = ev
        overflowTotal[i] = total
        finished += 1
        lock.unlock()
    }

    func done() -> Int {
        lock.lock()
        defer { lock.unlock() }
        return finished
    }
}
