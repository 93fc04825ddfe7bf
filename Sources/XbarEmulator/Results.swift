import XbarCore
import XbarIR

/// Action counters of a run (definitions in docs/ir.md, "Counters"). Equal across engines, bit for bit.
public struct Counters: Equatable, Sendable {
    public var timesteps: Int64 = 0
    public var wlActivations: Int64 = 0
    public var cellReads: Int64 = 0
    /// Conversions by ADC bit width.
    public var adcConversions: [Int: Int64] = [:]
    public var neuronUpdates: Int64 = 0
    public var spikes: Int64 = 0
    public var synapticEvents: Int64 = 0
    public var denseSynapticOps: Int64 = 0
    public var readoutMACs: Int64 = 0
    /// Clock cycles (timesteps plus readout), from the timing model of docs/timing.md.
    public var cycles: Int64 = 0
    /// Columns integrated by fired reads (sense/integrator activations).
    public var columnIntegrations: Int64 = 0
    /// Elements processed by the digital shift-add unit (sub, add, scale).
    public var digitalOps: Int64 = 0
    /// Per read op (index in the step): sum of the realised conductance codes of every cell read (before read
    /// noise) — the physics of the analog read energy.
    public var readCodeSums: [Int: Int64] = [:]
    /// What the learning ops did (all zero for a program without plasticity).
    public var learning = LearningCounters()

    public init() {}

    public var totalADCConversions: Int64 { adcConversions.values.reduce(0, +) }

    public mutating func add(_ o: Counters) {
        timesteps += o.timesteps
        wlActivations += o.wlActivations
        cellReads += o.cellReads
        for (k, v) in o.adcConversions { adcConversions[k, default: 0] += v }
        neuronUpdates += o.neuronUpdates
        spikes += o.spikes
        synapticEvents += o.synapticEvents
        denseSynapticOps += o.denseSynapticOps
        readoutMACs += o.readoutMACs
        cycles += o.cycles
        columnIntegrations += o.columnIntegrations
        digitalOps += o.digitalOps
        for (k, v) in o.readCodeSums { readCodeSums[k, default: 0] += v }
        learning.add(o.learning)
    }
}

/// Counters of the plasticity ops (docs/ir.md, "Counters"): trace elements updated, eligibility accumulators changed,
/// SET and RESET pulses applied to cells, and pair reads of the write controller.
public struct LearningCounters: Equatable, Sendable {
    public var traceUpdates: Int64 = 0
    public var eligibilityUpdates: Int64 = 0
    public var setPulses: Int64 = 0
    public var resetPulses: Int64 = 0
    public var verifyReads: Int64 = 0
    public var modulatorUpdates: Int64 = 0
    public var homeostasisUpdates: Int64 = 0

    public init(traceUpdates: Int64 = 0, eligibilityUpdates: Int64 = 0, setPulses: Int64 = 0, resetPulses: Int64 = 0, verifyReads: Int64 = 0,
                modulatorUpdates: Int64 = 0, homeostasisUpdates: Int64 = 0) {
        self.modulatorUpdates = modulatorUpdates
        self.homeostasisUpdates = homeostasisUpdates
        self.traceUpdates = traceUpdates
        self.eligibilityUpdates = eligibilityUpdates
        self.setPulses = setPulses
        self.resetPulses = resetPulses
        self.verifyReads = verifyReads
    }

    /// Every pulse applied.
    public var pulses: Int64 { setPulses + resetPulses }

    public mutating func add(_ o: LearningCounters) {
        traceUpdates += o.traceUpdates
        eligibilityUpdates += o.eligibilityUpdates
        setPulses += o.setPulses
        resetPulses += o.resetPulses
        verifyReads += o.verifyReads
        modulatorUpdates += o.modulatorUpdates
        homeostasisUpdates += o.homeostasisUpdates
    }
}

/// A spike: step and neuron index within its population.
public struct Spike: Equatable, Hashable, Sendable {
    public var step: Int32
    public var neuron: Int32
    public init(step: Int32, neuron: Int32) { self.step = step; self.neuron = neuron }
}

/// Per-step traces of one population (recorded when tracing is on).
public struct PopulationTrace: Equatable, Sendable {
    /// preActivation[t][i]: the lif op's input I at step t.
    public var preActivation: [[Int64]] = []
    /// membrane[t][i]: v (updated neurons) or mem (refractory) at step t.
    public var membrane: [[Int64]] = []
    /// synapse[t][i]: the synaptic current c after its update at step t (populations with a synapse; else empty).
    public var synapse: [[Int64]] = []
    /// Registered models: state[name][t][i] = state variable `name` (other than the membrane) after step t.
    public var state: [String: [[Int64]]] = [:]
    public init() {}
}

/// The outcome of running one sample.
public struct SampleResult: Equatable, Sendable {
    /// Spikes per neuron population, in step then neuron order.
    public var spikes: [String: [Spike]] = [:]

    /// Population `name`'s spiking neurons at each of the first `steps` steps (`FloatNetwork`'s spike trains' shape).
    public func spikeTrains(_ name: String, steps: Int) -> [[Int32]] {
        var trains = [[Int32]](repeating: [], count: steps)
        for s in spikes[name] ?? [] where Int(s.step) < steps { trains[Int(s.step)].append(Int32(s.neuron)) }
        return trains
    }
    /// Spike counts per neuron population.
    public var counts: [String: [Int64]] = [:]
    /// Final membrane state `mem` per neuron population (membrane LSBs), after the last step.
    public var membrane: [String: [Int64]] = [:]
    /// Final synaptic current per population that has a synapse, after the last step.
    public var synapse: [String: [Int64]] = [:]
    /// Final state of every population by population then state variable name: a registered model's `stateNames`
    /// (its first, the membrane, is also in `membrane`), a lif population's `mem` and `syn` (also in `membrane` and
    /// `synapse`).
    public var state: [String: [String: [Int64]]] = [:]
    /// Integer readout accumulators per readout.
    public var readout: [String: [Int64]] = [:]
    public var counters = Counters()
    /// Traces per population when requested.
    public var traces: [String: PopulationTrace] = [:]
    public init() {}

    /// Stores every population's end-of-sample state, indexed like `neurons`: spikes, counts, final membrane, final
    /// synaptic current (synapse populations only) and, when given, traces. Shared by the native engines.
    mutating func storePopulations(_ neurons: [NeuronDecl], spikes: [[Spike]], counts: [[Int64]], membrane: [[Int64]],
                                   synapse: [[Int64]], traces: [PopulationTrace]?, state: [[String: [Int64]]?] = []) {
        for (i, n) in neurons.enumerated() {
            if i < state.count, let st = state[i] { self.state[n.name] = st } else { self.state[n.name] = SampleResult.lifState(n, membrane[i], synapse[i]) }
            self.spikes[n.name] = spikes[i]
            self.counts[n.name] = counts[i]
            self.membrane[n.name] = membrane[i]
            if n.synapse != nil { self.synapse[n.name] = synapse[i] }
            if let traces { self.traces[n.name] = traces[i] }
        }
    }

    /// A lif population's final state by name: `mem`, and `syn` when it has a synapse.
    static func lifState(_ n: NeuronDecl, _ mem: [Int64], _ syn: [Int64]) -> [String: [Int64]] {
        n.synapse == nil ? ["mem": mem] : ["mem": mem, "syn": syn]
    }

    /// Smallest index of the largest readout value.
    public func prediction(_ readout: String) -> Int? {
        guard let y = self.readout[readout], let m = y.max() else { return nil }
        return y.firstIndex(of: m)
    }
}

/// A place where the exact engine saw a fit change a value (saturation or wrap).
public struct OverflowEvent: Equatable, Sendable, CustomStringConvertible {
    public var step: Int
    /// The op's result name, or `@pop.mem`, `@pop.syn`, `@pop.count`, `@readout`.
    public var site: String
    public var index: Int
    /// The mathematical value, as decimal text (it may not fit 64 bits).
    public var exact: String
    public var stored: Int64
    public var description: String { "step \(step) \(site)[\(index)]: exact \(exact) stored \(stored)" }
    public init(step: Int, site: String, index: Int, exact: String, stored: Int64) {
        self.step = step
        self.site = site
        self.index = index
        self.exact = exact
        self.stored = stored
    }
}

/// What an engine needs besides the program.
public struct RunOptions: Sendable {
    /// Whether sample `i` is traced.
    public func traces(sample i: Int) -> Bool { trace && (traceSamples?.contains(i) ?? true) }

    /// Seed of the device's randomness (device models arrive with the stochasticity work; ideal reads ignore it).
    public var seed: UInt64 = 1
    /// Threads for the crossbar kernel and for running samples in parallel (0 = all cores).
    public var threads: Int = 0
    /// Record pre-activations and membranes.
    public var trace = false
    /// With `trace`: the sample indices whose traces are kept (nil: every sample). Traces grow with samples x steps x
    /// neurons; a picture of two samples need not hold them for the whole run.
    public var traceSamples: Set<Int>? = nil
    /// Samples each worker runs in lockstep on the fixed chip (fast engine; results do not depend on it).
    public var batch = 8
    /// Whether samples may run in parallel on a fixed chip, or must run strictly in order on one chip state.
    public var order = RunOrder.parallel
    public init(seed: UInt64 = 1, threads: Int = 0, trace: Bool = false, traceSamples: Set<Int>? = nil, batch: Int = 8,
                order: RunOrder = .parallel) {
        self.seed = seed
        self.threads = threads
        self.trace = trace
        self.traceSamples = traceSamples
        self.batch = batch
        self.order = order
    }
}

/// How a dataset's samples are scheduled.
public enum RunOrder: String, CaseIterable, Sendable {
    /// Inference on a fixed chip: samples in parallel and in lockstep batches (same results whatever the threads).
    case parallel
    /// One sample after the other on one chip state, in dataset order (what learning on the chip needs).
    case sequential
}

/// Which engine executes the IR.
public enum EngineKind: String, CaseIterable, Sendable {
    case fast
    case exact
    case cycle
}
