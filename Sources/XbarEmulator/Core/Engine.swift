import XbarCore
import XbarEvents
import XbarIR

/// An executor of the IR on one chip: fast, cycle and exact all give the same `SampleResult` for a sample, bit for
/// bit (docs/ir.md). What a caller wants to see besides the result (traces, overflow events, per-cycle signals) it
/// asks for through an `EngineObserver`.
public protocol Engine: Sendable {
    /// The chip instance the engine runs on.
    var chip: Chip { get }
    /// Runs sample `index` of a dataset (the event counter of per-read noise) and reports to `observer`.
    func run(_ sample: SpikeRaster, index: Int, binding: InputBinding, observer: inout some EngineObserver) -> SampleResult
}

/// Receives what an engine observes while it runs a sample. Every method has a default that ignores it.
public protocol EngineObserver {
    /// Record per-step traces into `SampleResult.traces`.
    var wantsTraces: Bool { get }
    /// Record per-cycle signals (cycle engine only).
    var wantsSignals: Bool { get }
    /// A value that a native width saturated or wrapped (exact engine only).
    mutating func overflow(_ event: OverflowEvent)
    /// One per-cycle signal change (cycle engine only), in cycle order.
    mutating func signal(_ s: CycleSignal)
    /// The sample is done.
    mutating func finished(sample: Int, result: SampleResult)
}

extension EngineObserver {
    public var wantsTraces: Bool { false }
    public var wantsSignals: Bool { false }
    public mutating func overflow(_ event: OverflowEvent) {}
    public mutating func signal(_ s: CycleSignal) {}
    public mutating func finished(sample: Int, result: SampleResult) {}
}

/// An observer that collects everything it is sent.
public struct RecordingObserver: EngineObserver {
    public var wantsTraces: Bool
    public var wantsSignals: Bool
    public var overflows: [OverflowEvent] = []
    public var signals: [CycleSignal] = []
    public init(traces: Bool = false, signals: Bool = false) {
        wantsTraces = traces
        wantsSignals = signals
    }
    public mutating func overflow(_ event: OverflowEvent) { overflows.append(event) }
    public mutating func signal(_ s: CycleSignal) { signals.append(s) }
}

extension ExactEngine: Engine {
    /// `Engine` conformance: overflow events go to the observer (the first `maxStoredEvents`).
    public func run(_ sample: SpikeRaster, index: Int, binding: InputBinding, observer: inout some EngineObserver) -> SampleResult {
        let (r, report) = run(sample, index: index, binding: binding, trace: observer.wantsTraces)
        for e in report.events { observer.overflow(e) }
        observer.finished(sample: index, result: r)
        return r
    }
}

extension CycleEngine: Engine {
    /// `Engine` conformance: per-cycle signals go to the observer when it wants them.
    public func run(_ sample: SpikeRaster, index: Int, binding: InputBinding, observer: inout some EngineObserver) -> SampleResult {
        let (r, sig) = run(sample, index: index, binding: binding, trace: observer.wantsTraces, signals: observer.wantsSignals)
        for s in sig { observer.signal(s) }
        observer.finished(sample: index, result: r)
        return r
    }
}
