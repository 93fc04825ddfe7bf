/// In-memory form of a Neuromorphic Intermediate Representation (NIR) graph read from a `.nir` (HDF5) file
/// (docs/nir.md). Node names are kept as written; nodes are in the file's name order.
public struct NIRGraph: Equatable, Sendable {
    /// The file's `version` (for example "0.1.1"); nil for nested graphs and files without one.
    public var version: String?
    /// The graph's nodes, in HDF5 name order.
    public var nodes: [NIRNode]
    /// Directed edges between node names (a name may also be "sub.child" for a node of a nested graph).
    public var edges: [NIREdge]
    /// The graph's own metadata (the `metadata` group), if any.
    public var metadata: [String: NIRValue]

    public init(version: String? = nil, nodes: [NIRNode], edges: [NIREdge], metadata: [String: NIRValue] = [:]) {
        self.version = version
        self.nodes = nodes
        self.edges = edges
        self.metadata = metadata
    }

    /// The node called `name`, if any.
    public func node(named name: String) -> NIRNode? { nodes.first { $0.name == name } }

    /// Node type names in node order (handy for summaries and tests).
    public var typeNames: [String] { nodes.map { $0.type.rawValue } }

    /// Edges whose source is `name`.
    public func edges(from name: String) -> [NIREdge] { edges.filter { $0.source == name } }
    /// Edges whose target is `name`.
    public func edges(to name: String) -> [NIREdge] { edges.filter { $0.target == name } }
}

/// The NIR primitives (nir/ir/*.py). The raw value is the name stored in the file's `type` field.
public enum NIRNodeType: String, CaseIterable, Sendable {
    case input = "Input"
    case output = "Output"
    case affine = "Affine"
    case linear = "Linear"
    case scale = "Scale"
    case conv1d = "Conv1d"
    case conv2d = "Conv2d"
    case sumPool2d = "SumPool2d"
    case avgPool2d = "AvgPool2d"
    case flatten = "Flatten"
    case delay = "Delay"
    case threshold = "Threshold"
    /// Integrator: dv/dt = R I.
    case i = "I"
    /// Integrate-and-fire.
    case `if` = "IF"
    /// Leaky integrator (no spikes).
    case li = "LI"
    /// Leaky integrate-and-fire: tau dv/dt = (v_leak - v) + R I.
    case lif = "LIF"
    /// Current-based leaky integrator.
    case cubaLI = "CubaLI"
    /// Current-based LIF (synaptic current state).
    case cubaLIF = "CubaLIF"
    /// A nested graph with its own nodes and edges.
    case graph = "NIRGraph"
}

/// One node: its type, numeric parameters (every dataset of the node group other than `type`), text parameters
/// (string datasets, for example a convolution's padding "same"), metadata, and for `NIRGraph` the nested graph.
public struct NIRNode: Equatable, Sendable {
    public var name: String
    public var type: NIRNodeType
    public var parameters: [String: NIRArray]
    public var textParameters: [String: [String]]
    public var metadata: [String: NIRValue]
    /// Present when `type == .graph`.
    public var subgraph: NIRGraph?

    public init(name: String, type: NIRNodeType, parameters: [String: NIRArray] = [:],
                textParameters: [String: [String]] = [:], metadata: [String: NIRValue] = [:], subgraph: NIRGraph? = nil) {
        self.name = name
        self.type = type
        self.parameters = parameters
        self.textParameters = textParameters
        self.metadata = metadata
        self.subgraph = subgraph
    }
}

/// A numeric array of any rank (float32, float64 and integer datasets are all widened to Double). A 0-d
/// (scalar) dataset has `shape == []` and one value.
public struct NIRArray: Equatable, Sendable {
    public var shape: [Int]
    /// Row-major (C order) values.
    public var values: [Double]

    public init(shape: [Int], values: [Double]) {
        self.shape = shape
        self.values = values
    }

    /// A 0-d array.
    public init(scalar: Double) { self.init(shape: [], values: [scalar]) }

    /// A 1-d array.
    public init(_ values: [Double]) { self.init(shape: [values.count], values: values) }

    /// Number of elements (product of the shape; 1 for a scalar).
    public var count: Int { values.count }

    /// The single value of a scalar or one-element array.
    public var scalar: Double? { values.count == 1 ? values[0] : nil }

    /// The common value when every element is the same (within `relativeTolerance`), else nil.
    public func uniformValue(relativeTolerance: Double = 1e-6) -> Double? {
        guard let first = values.first else { return nil }
        for v in values where abs(v - first) > relativeTolerance * max(abs(first), abs(v), 1e-300) { return nil }
        return first
    }
}

/// A metadata entry: numbers or text.
public enum NIRValue: Equatable, Sendable {
    case numbers(NIRArray)
    case text([String])
}

/// A directed edge `source -> target` between node names.
public struct NIREdge: Equatable, Hashable, Sendable {
    public var source: String
    public var target: String
    public init(_ source: String, _ target: String) {
        self.source = source
        self.target = target
    }
}
