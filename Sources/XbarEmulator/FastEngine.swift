import XbarCore
import XbarEvents
import XbarIR

/// The native engine: the resolved program (`ExecutableProgram`) run op by op through the shared kernels
/// (`OpKernels`, the OpenMP C kernel underneath), event-driven (only driven rows are summed; sparse arrays as CSR),
/// Int64 arithmetic, semantics exactly as docs/ir.md. Several samples can run in lockstep on one fixed chip
/// (`run(batch:)`): every op is executed for all of them before the next, so the op's cells stay in cache.
public struct FastEngine: Engine, Sendable {
    public let chip: Chip
    let exec: ExecutableProgram
    let kernels: OpKernels

    public init(chip: Chip) {
        self.init(chip: chip, state: ChipState(chip: chip))
    }

    /// An engine reading `state` (the chip's cells as they are now) instead of the chip as realised.
    /// `fuse`: compute provably linear chains as fused projections (`LinearFusion`; same results bit for bit).
    public init(chip: Chip, state: ChipState, fuse: Bool = true) {
        self.init(chip: chip, state: state, fuse: fuse, learning: nil)
    }

    /// An engine for a plastic program: it reads and writes the cells of `learning` (a new learning chip on `chip`
    /// when nil). Samples must then run one at a time, in order (`RunOrder.sequential`).
    public init(chip: Chip, learning: LearningChip?) {
        self.init(chip: chip, state: learning?.state ?? ChipState(chip: chip), fuse: false,
                  learning: learning ?? (chip.program.isPlastic ? LearningChip(chip: chip) : nil))
    }

    init(chip: Chip, state: ChipState, fuse: Bool, learning: LearningChip?) {
        self.chip = chip
        let e = chip.executable
        exec = e
        // A plastic program's cells change while it runs: nothing is fused and the reads use the learning chip's views.
        let plastic = learning ?? (chip.program.isPlastic ? LearningChip(chip: chip, state: state) : nil)
        let fused = fuse && plastic == nil ? LinearFusion.plan(exec: e, state: state, noise: chip.noise, operands: chip.timing.operands) : []
        let plan = fused.isEmpty ? nil : FusionPlan(fused, exec: e)
        // Reads inside fused cones never sum columns: they get no read view.
        let skip = Set(fused.flatMap(\.cone))
        let views = ReadViews(exec: e, state: plastic?.state ?? state, chip: chip, skipping: skip)
        var k = OpKernels(exec: e, views: views, noise: chip.noise, neuronUnits: chip.timing.spec.neuronUnits)
        k.fusion = plan
        k.timingSpec = chip.timing.spec
        if let l = plastic {
            if l.views == nil { l.views = views }
            k.learning = l
        }
        kernels = k
    }

    /// The cells this engine writes (a plastic program), or nil.
    public var learning: LearningChip? { kernels.learning }

    /// Number of populations whose input runs as a fused projection.
    public var fusedPopulations: Int { kernels.fusion?.projections.count ?? 0 }

    /// A new context for this engine's program (one per sample in flight; reusable).
    func makeContext() -> SampleContext { SampleContext(exec) }

    /// Runs one sample. `kernelThreads` is passed to the crossbar kernel (1 when samples run in parallel).
    /// `index` is the sample's position in its dataset: the event counter of per-read noise (docs/device.md).
    public func run(_ sample: SpikeRaster, index: Int = 0, binding: InputBinding, trace: Bool = false, kernelThreads: Int = 1) -> SampleResult {
        let ctx = makeContext()
        return run(batch: [(sample, index)], binding: binding, trace: trace, contexts: [ctx], kernelThreads: kernelThreads)[0]
    }

    /// `Engine` conformance: one sample, observed.
    public func run(_ sample: SpikeRaster, index: Int, binding: InputBinding, observer: inout some EngineObserver) -> SampleResult {
        let r = run(sample, index: index, binding: binding, trace: observer.wantsTraces)
        observer.finished(sample: index, result: r)
        return r
    }

    /// Runs `batch` samples in lockstep (op-major), each on its own context (`contexts.count >= batch.count`).
    /// Results are those of running each sample alone, bit for bit.
    func run(batch: [(sample: SpikeRaster, index: Int)], binding: InputBinding, trace: Bool, contexts: [SampleContext],
             kernelThreads: Int = 1) -> [SampleResult] {
        let p = exec.program
        let b = batch.count
        let stepOps = kernels.fusion?.steps ?? Array(exec.ops.indices)
        for i in 0..<b { contexts[i].reset() }
        let timing = chip.timing
        for t in 0..<p.timesteps {
            for i in 0..<b {
                let s = batch[i].sample
                contexts[i].beginStep(t, input: t < s.active.count ? s.active[t] : [])
            }
            for k in stepOps {
                let op = exec.ops[k]
                for i in 0..<b {
                    let event = UInt32(truncatingIfNeeded: batch[i].index &* p.timesteps &+ t)
                    kernels.execute(k, op, t, event: event, trace: trace, contexts[i], threads: kernelThreads)
                }
            }
            if let f = kernels.fusion { for i in 0..<b { contexts[i].counters.digitalOps += f.digitalOpsPerStep } }
            for i in 0..<b { contexts[i].counters.cycles += timing.stepCycles(contexts[i].activity, memo: contexts[i].scheduleMemo) }
        }
        return (0..<b).map { i in
            contexts[i].counters.cycles += timing.readoutCycles()
            return kernels.finish(contexts[i], trace: trace)
        }
    }
}
