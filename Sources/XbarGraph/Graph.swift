import XbarCore

/// Version of the graph JSON format this tool reads and writes.
public let graphFormatVersion = 1

/// A spiking network: populations, projections between them, an optional readout (format in docs/graph.md).
public struct Graph: Equatable, Sendable {
    public var name: String
    public var timesteps: Int
    public var populations: [Population]
    public var projections: [Projection]
    public var readout: Readout?
    /// Path of a bundled example input (.xev), relative to the graph file.
    public var exampleInput: String?
    /// Global neuromodulatory signals computed on the chip, read by learning rules (docs/graph.md, "Modulators").
    public var modulators: [Modulator] = []

    public init(name: String, timesteps: Int, populations: [Population], projections: [Projection],
                readout: Readout? = nil, exampleInput: String? = nil) {
        self.name = name
        self.timesteps = timesteps
        self.populations = populations
        self.projections = projections
        self.readout = readout
        self.exampleInput = exampleInput
    }

    public func population(named n: String) -> Population? { populations.first { $0.name == n } }
}

/// A group of neurons (or event channels) of one kind.
public struct Population: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        /// Event channels driven by the input file.
        case input
        /// Leaky integrate-and-fire neurons.
        case lif
        /// Izhikevich (2003) neurons (a registered model, docs/ir.md "`izhikevich`"; parameters in `model`).
        case izhikevich

        /// Neurons (every kind but `input`).
        public var isNeuron: Bool { self != .input }
    }

    public var name: String
    public var kind: Kind
    public var size: Int
    /// Present for `lif` populations.
    public var lif: LIFParameters?
    /// Present for populations of a registered neuron model (every kind but `input` and `lif`): its real parameters.
    public var model: ModelParameterSet?

    public init(name: String, kind: Kind, size: Int, lif: LIFParameters? = nil, model: ModelParameterSet? = nil) {
        self.name = name
        self.kind = kind
        self.size = size
        self.lif = lif
        self.model = model
    }
}

/// Discrete-time neuron parameters in real units (weights are in the same unit as threshold and bias).
///
/// Without a synapse: v[t] = decay * v[t-1] + I[t] + b_i, with b_i = bias + neuronBias[i].
/// With a current-based synapse (`synapse`, NIR CubaLIF/CubaLI):
///   c[t] = synapse.decay * c[t-1] + I[t] + synapse.bias + synapse.neuronBias[i];  v[t] = decay * v[t-1] + c[t] + b_i.
/// A spiking neuron spikes when v > threshold (or >=), then resets (zero or subtract) and stays silent for
/// `refractory` steps. A non-spiking one (`spiking == false`, NIR LI/I/CubaLI) never spikes or resets; its
/// membrane is its output. Full semantics in docs/graph.md.
public struct LIFParameters: Equatable, Sendable {
    public enum Reset: String, CaseIterable, Sendable { case zero, subtract }
    public enum Compare: String, CaseIterable, Sendable { case gt, ge }

    public var decay: Double
    public var threshold: Double
    public var reset: Reset
    public var refractory: Int
    public var bias: Double
    public var compare: Compare
    /// Per-neuron bias added to `bias` (length == population size), or nil.
    public var neuronBias: [Double]?
    /// Current-based synapse state in front of the membrane, or nil.
    public var synapse: SynapseParameters?
    /// False for leaky integrators that never spike (their membrane is read out).
    public var spiking: Bool

    public init(decay: Double, threshold: Double, reset: Reset = .zero, refractory: Int = 0, bias: Double = 0,
                compare: Compare = .gt, neuronBias: [Double]? = nil, synapse: SynapseParameters? = nil,
                spiking: Bool = true) {
        self.decay = decay
        self.threshold = threshold
        self.reset = reset
        self.refractory = refractory
        self.bias = bias
        self.compare = compare
        self.neuronBias = neuronBias
        self.synapse = synapse
        self.spiking = spiking
    }

    /// The bias of neuron `i`: bias + neuronBias[i].
    public func bias(of i: Int) -> Double { bias + (neuronBias?[i] ?? 0) }
}

/// A current-based synapse: c[t] = decay * c[t-1] + I[t] + bias + neuronBias[i] (real units, see `LIFParameters`).
public struct SynapseParameters: Equatable, Sendable {
    public var decay: Double
    public var bias: Double
    /// Per-neuron bias added to `bias` (length == population size), or nil.
    public var neuronBias: [Double]?

    public init(decay: Double, bias: Double = 0, neuronBias: [Double]? = nil) {
        self.decay = decay
        self.bias = bias
        self.neuronBias = neuronBias
    }

    /// The synaptic bias of neuron `i`: bias + neuronBias[i].
    public func bias(of i: Int) -> Double { bias + (neuronBias?[i] ?? 0) }
}

/// Largest projection delay, in timesteps, the graph format accepts.
public let maxProjectionDelay = 4096

/// Synapses from one population to another, with a delay in timesteps (0...maxProjectionDelay; recurrent edges need
/// delay >= 1).
public struct Projection: Equatable, Sendable {
    public var name: String
    public var from: String
    public var to: String
    public var delay: Int
    public var weights: WeightSpec
    /// The projection's learning rule (nil: fixed weights).
    public var plasticity: PlasticityRule? = nil

    public init(name: String, from: String, to: String, delay: Int, weights: WeightSpec) {
        self.name = name
        self.from = from
        self.to = to
        self.delay = delay
        self.weights = weights
    }
}

/// How a projection's weight matrix W[pre][post] is given.
public enum WeightSpec: Equatable, Sendable {
    /// Row-major pre x post values.
    case dense([Double])
    /// (pre, post, weight) triples; absent pairs are 0. Duplicates are summed.
    case sparse([SparseEntry])
    /// Seeded i.i.d. random weights.
    case random(RandomWeights)
    /// Seeded NALSM-style distance-dependent connectivity on a 3-D grid.
    case spatial(SpatialWeights)
}

/// One nonzero synapse.
public struct SparseEntry: Equatable, Sendable {
    public var pre: Int
    public var post: Int
    public var weight: Double
    public init(pre: Int, post: Int, weight: Double) { self.pre = pre; self.post = post; self.weight = weight }
}

/// w = gain * X * M where X ~ distribution and M ~ Bernoulli(density), drawn with Philox keyed by
/// (seed, purpose, projection salt, pre, post) — see docs/graph.md.
public struct RandomWeights: Equatable, Sendable {
    public enum Distribution: String, CaseIterable, Sendable { case normal, uniform }
    public var distribution: Distribution
    /// Mean and standard deviation (normal) or low and high (uniform).
    public var a: Double
    public var b: Double
    public var gain: Double
    public var density: Double
    public var seed: UInt64
    /// Zero the diagonal (no self-connections) for recurrent projections.
    public var noSelf: Bool
    /// Fixed fan-out: each presynaptic neuron connects to exactly this many distinct postsynaptic neurons, drawn
    /// uniformly (Floyd's algorithm), instead of the Bernoulli(density) mask; generation is O(synapses).
    public var fanout: Int?

    public init(distribution: Distribution, a: Double, b: Double, gain: Double, density: Double, seed: UInt64,
                noSelf: Bool = false, fanout: Int? = nil) {
        self.distribution = distribution
        self.a = a
        self.b = b
        self.gain = gain
        self.density = density
        self.seed = seed
        self.noSelf = noSelf
        self.fanout = fanout
    }

    /// The fraction of (pre, post) pairs connected: fanout / candidates with a fan-out, else `density`.
    public func connectedFraction(post: Int) -> Double {
        guard let k = fanout else { return density }
        return Double(k) / Double(Swift.max(1, post - (noSelf ? 1 : 0)))
    }
}

/// NALSM / Maass-2002 style reservoir connectivity: neurons on a grid (index = x + X*(y + Y*z)); each neuron is
/// inhibitory with probability `inhibitoryFraction` (an independent seeded draw); P(i->j) = C[type(i)type(j)] *
/// exp(-(D(i,j)/lambda)^2); weight = sign(i) * W[type(i)type(j)] * gain.
public struct SpatialWeights: Equatable, Sendable {
    public var grid: [Int]
    public var lambda: Double
    /// Connection constants EE, EI, IE, II.
    public var c: [Double]
    /// Weight magnitudes EE, EI, IE, II.
    public var w: [Double]
    public var inhibitoryFraction: Double
    public var gain: Double
    public var seed: UInt64

    public init(grid: [Int], lambda: Double, c: [Double], w: [Double], inhibitoryFraction: Double, gain: Double,
                seed: UInt64) {
        self.grid = grid
        self.lambda = lambda
        self.c = c
        self.w = w
        self.inhibitoryFraction = inhibitoryFraction
        self.gain = gain
        self.seed = seed
    }
}

/// A digital linear readout on per-neuron spike counts: y = W * counts + bias (real units).
public struct Readout: Equatable, Sendable {
    public var from: String
    public var classes: Int
    /// Row-major classes x size; nil until trained.
    public var weights: [Double]?
    public var bias: [Double]?

    public init(from: String, classes: Int, weights: [Double]? = nil, bias: [Double]? = nil) {
        self.from = from
        self.classes = classes
        self.weights = weights
        self.bias = bias
    }
}

extension Projection {
    /// The synapse slots generating the projection visits, which the graph format bounds: pre x fanout for a fixed
    /// fan-out, pre x post otherwise; and how they were counted, for error messages.
    public func synapseSlots(pre: Int, post: Int) -> (count: Int, counted: String) {
        if case let .random(r) = weights, let k = r.fanout { return (pre * k, "\(pre) x fanout \(k)") }
        return (pre * post, "\(pre) x \(post)")
    }
}

extension Projection {
    /// Throws unless the projection's dense pre x post matrix, which `what` needs, is within the graph format's bound
    /// (only a fixed fan-out projection can exceed it).
    public func requireDenseForm(pre: Int, post: Int, file: String, field: String, for what: String) throws {
        guard pre * post > GraphJSON.maxSynapses else { return }
        throw XbarError(file: file, field: field,
                        "\(what) needs the dense \(pre) x \(post) matrix, over the limit \(GraphJSON.maxSynapses) cells")
    }
}
