import XbarGraph

/// How `NIRImporter` turns NIR's continuous-time neurons into the graph format's discrete-time neurons (docs/nir.md).
public struct NIRImportOptions: Sendable {
    /// Discretisation of tau dv/dt = (v_leak - v) + R I (and of the synaptic current of CubaLIF/CubaLI) over one step.
    public enum Discretisation: String, CaseIterable, Sendable {
        /// decay = exp(-dt/tau); input and leak scale by (1 - decay). Exact for input held constant over a step.
        case exact
        /// Forward Euler: decay = 1 - dt/tau; input and leak scale by dt/tau.
        case euler
    }

    /// Timestep in seconds.
    public var dt: Double
    /// Reset after a spike (NIR does not store one).
    public var reset: LIFParameters.Reset
    public var discretisation: Discretisation
    /// `timesteps` of the written graph.
    public var timesteps: Int
    /// `name` of the written graph.
    public var name: String
    /// Rebind an edge end that names no node to the only node of the same (nested) graph without an edge on that
    /// side, with one warning per rebound name (docs/nir.md, "Dangling edges"). Off: such an edge is an error.
    public var repairDanglingEdges: Bool

    public init(dt: Double, reset: LIFParameters.Reset, discretisation: Discretisation = .exact, timesteps: Int = 100,
                name: String = "nir", repairDanglingEdges: Bool = false) {
        self.dt = dt
        self.reset = reset
        self.discretisation = discretisation
        self.timesteps = timesteps
        self.name = name
        self.repairDanglingEdges = repairDanglingEdges
    }
}

/// What `NIRImporter.lower` produced: the graph plus what the graph format has no place for.
public struct NIRImportResult: Sendable {
    /// The lowered, validated graph.
    public var graph: Graph
    /// One entry per top-level NIR `Output` node: what feeds it.
    public var outputs: [NIROutputBinding]
    /// For every neuron population: the NIR node it came from and, per population neuron, the index of the neuron in
    /// that node (row-major). Identity unless the node was split by parameters.
    public var origins: [String: NIRPopulationOrigin]
    /// One-line warnings (for example a repaired dangling edge), to print on stderr.
    public var warnings: [String]
}

/// Where a graph population's neurons come from in the NIR graph.
public struct NIRPopulationOrigin: Equatable, Sendable {
    /// The (flattened, `parent.child`) NIR node name.
    public var node: String
    /// NIR neuron index (row-major over the node's shape) of each population neuron.
    public var neurons: [Int]

    public init(node: String, neurons: [Int]) {
        self.node = node
        self.neurons = neurons
    }
}

/// The populations that feed one NIR `Output` node (the graph format does not record outputs).
public struct NIROutputBinding: Equatable, Sendable {
    /// The Output node's name.
    public var output: String
    /// Number of values the Output receives.
    public var size: Int
    /// Graph populations feeding it, in population order.
    public var populations: [String]
    /// True when every source reaches the Output unchanged (one identity path, no Affine/Conv/... in between).
    public var direct: Bool

    public init(output: String, size: Int, populations: [String], direct: Bool) {
        self.output = output
        self.size = size
        self.populations = populations
        self.direct = direct
    }
}
