import XbarCore
import XbarIR

/// The pre-sized mutable state of one sample in flight: op values of the step, neuron state, spike-history rings,
/// the driven-row buffer and the flat counters. A worker owns its contexts and reuses them sample after sample;
/// nothing here is allocated inside the step loop.
final class SampleContext {
    let exec: ExecutableProgram
    /// Op results of the current step (ExecutableProgram.offset / length).
    let values: UnsafeMutablePointer<Int64>
    /// Scratch for variance sums and noisy ADC inputs (longest op).
    let scratch: UnsafeMutablePointer<Int64>
    let scratch2: UnsafeMutablePointer<Int64>
    /// Run-time normals of the op being executed (longest op + 8).
    let normals: UnsafeMutablePointer<Double>
    /// Driven rows of the read being executed.
    let rows: UnsafeMutablePointer<Int32>
    /// Per op: did this read drive at least one row this step.
    var fired: [Bool]
    /// Fused projections (FusedProjection.Counting): active elements per atom of the step, and per fused lif op
    /// the activity count of each source element over the sample. Sized on first use.
    private var atomCounts: UnsafeMutablePointer<Int>? = nil
    private var atomCapacity = 0
    private var elementActivity: [Int: (counts: UnsafeMutablePointer<Int>, n: Int)] = [:]
    /// Neuron state per population.
    var mem: [UnsafeMutablePointer<Int64>]
    var refr: [UnsafeMutablePointer<Int64>]
    var syn: [UnsafeMutablePointer<Int64>]
    var count: [UnsafeMutablePointer<Int64>]
    /// Every state variable per population, in its model's order: lif [mem, refr, syn]; a registered model its
    /// `stateNames` (the first aliases `mem`, the rest are allocated here).
    var state: [[UnsafeMutablePointer<Int64>]]
    /// Membrane trace of the current step per population (written only when tracing).
    var traceV: [UnsafeMutablePointer<Int64>]
    /// Spike history per source: ring slot s of source q holds ringCount[q][s] active indices at ring[q] + s * size.
    var ring: [UnsafeMutablePointer<Int32>]
    var ringCount: [[Int]]
    /// The sample's outputs so far.
    var spikes: [[Spike]]
    var traces: [PopulationTrace]
    var counters = FlatCounters()
    var activity: StepActivity
    /// The timing model's schedule of the ops before the first lif, for the fired reads it was recorded at.
    let scheduleMemo = ScheduleMemo()
    /// Value slots of the learning ops' state (traces, eligibilities).
    let learningState: [(offset: Int, length: Int, initial: Int64)]

    init(_ exec: ExecutableProgram) {
        self.exec = exec
        learningState = exec.stateValues
        let longest = exec.length.max() ?? 1
        values = .allocate(capacity: Swift.max(exec.valueCount, 1))
        values.initialize(repeating: 0, count: Swift.max(exec.valueCount, 1))
        scratch = .allocate(capacity: Swift.max(longest, 1))
        scratch2 = .allocate(capacity: Swift.max(longest, 1))
        normals = .allocate(capacity: longest + 8)
        rows = .allocate(capacity: Swift.max(exec.maxRows, 1))
        fired = [Bool](repeating: false, count: exec.ops.count)
        func zeros(_ n: Int) -> UnsafeMutablePointer<Int64> {
            let p = UnsafeMutablePointer<Int64>.allocate(capacity: Swift.max(n, 1))
            p.initialize(repeating: 0, count: Swift.max(n, 1))
            return p
        }
        let sizes = exec.program.neurons.map(\.size)
        mem = sizes.map(zeros)
        refr = sizes.map(zeros)
        syn = sizes.map(zeros)
        count = sizes.map(zeros)
        state = exec.program.neurons.indices.map { [mem, refr, syn] i in
            exec.stateSlots(i, mem: mem[i], refr: refr[i], syn: syn[i]) { zeros(exec.program.neurons[i].size) }
        }
        traceV = sizes.map(zeros)
        ring = zip(exec.sourceSize, exec.sourceDepth).map { size, depth in
            let p = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(size * depth, 1))
            p.initialize(repeating: 0, count: Swift.max(size * depth, 1))
            return p
        }
        ringCount = exec.sourceDepth.map { [Int](repeating: 0, count: $0) }
        spikes = sizes.map { _ in [] }
        traces = sizes.map { _ in PopulationTrace() }
        counters = FlatCounters(ops: exec.ops.count)
        activity = StepActivity(ops: exec.ops.count)
        for i in exec.program.neurons.indices { loadInitialState(i) }
        for v in learningState { (values + v.offset).update(repeating: v.initial, count: v.length) }
    }

    /// The initial values of a registered model's state variables (lif state starts at 0, set by the caller).
    func loadInitialState(_ i: Int) {
        for (k, values) in (exec.initialState[i] ?? []).enumerated() { state[i][k].update(from: values, count: values.count) }
    }

    /// Resets every state to its initial value (docs/ir.md, "State") for a new sample.
    func reset() {
        for (i, n) in exec.program.neurons.enumerated() {
            mem[i].update(repeating: 0, count: n.size)
            refr[i].update(repeating: 0, count: n.size)
            syn[i].update(repeating: 0, count: n.size)
            count[i].update(repeating: 0, count: n.size)
            loadInitialState(i)
            spikes[i].removeAll(keepingCapacity: true)
            traces[i] = PopulationTrace()
        }
        for q in ringCount.indices { for s in ringCount[q].indices { ringCount[q][s] = 0 } }
        for v in learningState { (values + v.offset).update(repeating: v.initial, count: v.length) }
        for a in elementActivity.values { a.counts.update(repeating: 0, count: a.n) }
        counters.reset()
    }

    /// Appends the state variables after the membrane of population `ni` (a registered model) to its trace.
    func traceState(_ ni: Int, _ names: [String]) {
        let n = exec.program.neurons[ni].size
        for (k, name) in names.enumerated().dropFirst() {
            traces[ni].state[name, default: []].append(Array(UnsafeBufferPointer(start: state[ni][k], count: n)))
        }
    }

    /// Final state by variable name of every population of a registered model (nil for lif populations).
    func finalState() -> [[String: [Int64]]?] {
        exec.program.neurons.indices.map { ni in
            exec.stateNames[ni].map { names in
                var out: [String: [Int64]] = [:]
                for (k, name) in names.enumerated() {
                    out[name] = Array(UnsafeBufferPointer(start: state[ni][k], count: exec.program.neurons[ni].size))
                }
                return out
            }
        }
    }

    /// Scratch of at least `atoms` counters.
    @inline(__always)
    func fusedScratch(atoms: Int) -> UnsafeMutablePointer<Int> {
        if atomCapacity < atoms || atomCounts == nil {
            atomCounts?.deallocate()
            atomCapacity = Swift.max(atoms, 1)
            atomCounts = .allocate(capacity: atomCapacity)
        }
        return atomCounts!
    }

    /// The per-sample activity counts of fused lif op `lif` (`elements` of them; zero at each reset).
    @inline(__always)
    func fusedActivity(_ lif: Int, elements: Int) -> UnsafeMutablePointer<Int> {
        if let a = elementActivity[lif] { return a.counts }
        let n = Swift.max(elements, 1)
        let p = UnsafeMutablePointer<Int>.allocate(capacity: n)
        p.initialize(repeating: 0, count: n)
        elementActivity[lif] = (p, n)
        return p
    }

    /// Ring slot of source q at step t.
    @inline(__always) func slot(_ q: Int, _ t: Int) -> Int { t % exec.sourceDepth[q] }

    /// Start of step t: populations have no spikes yet; inputs get their active channels of `sample`.
    func beginStep(_ t: Int, input active: [Int32]) {
        for q in exec.populationSource { ringCount[q][slot(q, t)] = 0 }
        for (i, q) in exec.inputSource.enumerated() {
            let lo = Int32(exec.inputChannelOffset[i]), hi = lo + Int32(exec.sourceSize[q])
            let s = slot(q, t)
            let base = ring[q] + s * exec.sourceSize[q]
            var n = 0
            for a in active where a >= lo && a < hi {
                base[n] = a - lo
                n += 1
            }
            ringCount[q][s] = n
        }
    }

    deinit {
        values.deallocate()
        scratch.deallocate()
        scratch2.deallocate()
        normals.deallocate()
        rows.deallocate()
        for a in elementActivity.values { a.counts.deallocate() }
        atomCounts?.deallocate()
        for p in mem + refr + syn + count + traceV { p.deallocate() }
        for (i, s) in state.enumerated() where exec.initialState[i] != nil { for p in s.dropFirst() { p.deallocate() } }
        for p in ring { p.deallocate() }
    }
}

/// Counters of one sample as plain integers and per-op arrays (no dictionary in the step loop); `counters`
/// converts them to the public `Counters`.
struct FlatCounters {
    var wlActivations: Int64 = 0
    var cellReads: Int64 = 0
    var synapticEvents: Int64 = 0
    var denseSynapticOps: Int64 = 0
    var columnIntegrations: Int64 = 0
    var digitalOps: Int64 = 0
    var neuronUpdates: Int64 = 0
    var spikes: Int64 = 0
    var cycles: Int64 = 0
    var readoutMACs: Int64 = 0
    var traceUpdates: Int64 = 0
    var eligibilityUpdates: Int64 = 0
    var setPulses: Int64 = 0
    var resetPulses: Int64 = 0
    var verifyReads: Int64 = 0
    var modulatorUpdates: Int64 = 0
    var homeostasisUpdates: Int64 = 0
    /// Per op: conversions (adc ops), code sums and whether the read fired at least once (read ops).
    var conversions: [Int64] = []
    var codeSums: [Int64] = []
    var readFired: [Bool] = []

    init(ops: Int = 0) {
        conversions = [Int64](repeating: 0, count: ops)
        codeSums = conversions
        readFired = [Bool](repeating: false, count: ops)
    }

    mutating func reset() { self = FlatCounters(ops: conversions.count) }

    /// The public counters; `bits[k]` is the ADC width of adc op k.
    func counters(exec: ExecutableProgram, timesteps: Int) -> Counters {
        var c = Counters()
        c.timesteps = Int64(timesteps)
        c.wlActivations = wlActivations
        c.cellReads = cellReads
        c.synapticEvents = synapticEvents
        c.denseSynapticOps = denseSynapticOps
        c.columnIntegrations = columnIntegrations
        c.digitalOps = digitalOps
        c.neuronUpdates = neuronUpdates
        c.spikes = spikes
        c.cycles = cycles
        c.readoutMACs = readoutMACs
        c.learning = LearningCounters(traceUpdates: traceUpdates, eligibilityUpdates: eligibilityUpdates, setPulses: setPulses,
                                      resetPulses: resetPulses, verifyReads: verifyReads, modulatorUpdates: modulatorUpdates,
                                      homeostasisUpdates: homeostasisUpdates)
        for (k, op) in exec.ops.enumerated() {
            switch op {
            case let .adc(a) where conversions[k] > 0: c.adcConversions[a.bits, default: 0] += conversions[k]
            case .read where readFired[k]: c.readCodeSums[k, default: 0] += codeSums[k]
            default: break
            }
        }
        return c
    }
}
