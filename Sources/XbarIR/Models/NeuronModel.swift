import XbarCore

/// A neuron model's specification and its implementations (docs/ir.md, "Neuron models"), in the spirit of Lava's
/// Process / ProcessModel split: the specification (fields, per-neuron lines, named state, verifier rules) drives the
/// IR printer, parser and verifier; the implementations are the shared native kernel (fast and cycle engines), the
/// exact update (the GMP engine, over `ExactInteger`), the float reference, and the lowering from the graph's real
/// parameters. A model lives in one folder, `Sources/XbarIR/Models/<Model>/`, and is listed once in
/// `NeuronModels.registered`.
///
/// The built-in `lif` model keeps its own typed fields in `NeuronDecl` (version-1 text) and its vectorised C kernel.
public protocol NeuronModel: Sendable {
    /// The model keyword: the graph population's `kind`, the word after the size on the neuron line and the
    /// mnemonic of the population's update op.
    static var keyword: String { get }
    /// The clause fields after the keyword, in text order.
    static var fields: [ModelField] { get }
    /// The per-neuron block lines (`name: v0 v1 ...`), in text order; every one is required.
    static var perNeuron: [String] { get }
    /// Names of the state variables; the first is the membrane (what `--trace` and `SampleResult.membrane` show).
    static var stateNames: [String] { get }
    /// The type of each state variable.
    static func stateTypes(_ p: ModelParameters) -> [IntType]
    /// The model's verifier rules beyond the field ranges; nil when `p` is valid for `size` neurons.
    static func verify(_ p: ModelParameters, size: Int) -> String?
    /// Initial value of every state variable (`stateNames` order) for `size` neurons.
    static func initialState(_ p: ModelParameters, size: Int) -> [[Int64]]
    /// The native (Int64) kernel shared by the fast and the cycle engine.
    static func kernel(_ p: ModelParameters, size: Int) -> any NeuronKernel
    /// Cycles one group of neuron units spends in the neuron pipeline (docs/timing.md).
    static func groupCycles(_ p: ModelParameters) -> Int
    /// The exact update of neuron `i` (independent of `kernel`): `state` holds the neuron's state variables; `fit`
    /// fits a mathematical value into a type (`sat`), recording a changed value at site `@P.<state name>`.
    /// Returns whether it spiked and the membrane trace value.
    static func exactUpdate<N: ExactInteger>(_ p: ModelParameters, neuron i: Int, input: N, state: inout [N],
                                             fit: (N, IntType, String) -> N) -> (spike: Bool, trace: N)
    /// The population's IR parameters from the graph's real parameters (the compiler's quantisation); `lsb` is the
    /// real value of one state LSB the compiler scales the input to. Errors name `field`.
    static func lower(_ g: ModelParameterSet, size: Int, options: ModelLoweringOptions, file: String, field: String) throws -> ModelParameters
    /// The real value (graph input units) of one LSB of the population's input current: the compiler scales the
    /// crossbar's output to it.
    static func inputLSB(_ g: ModelParameterSet, options: ModelLoweringOptions) -> Double
    /// The double-precision reference of the same update (the float twin), from the graph's real parameters.
    static func floatDynamics(_ g: ModelParameterSet, size: Int) -> any FloatNeuronDynamics
    /// The same from a program's population (the chip-weight float twin): its fixed-point parameters read as reals, its
    /// input in the IR's units (state LSBs).
    static func floatDynamics(program p: ModelParameters, size: Int) -> any FloatNeuronDynamics
    /// The model's RTL: the unit and its self-checking testbench (file names in rtl/), the testbench's top module and
    /// the plusargument that names its vector file.
    static var rtl: ModelRTL { get }
    /// The testbench's vector file of one sample of population `n` (docs/rtl-<model>.md) from an engine's per-step
    /// records: input, membrane trace, the other state variables after each step, spikes.
    static func unitVectors(_ n: NeuronDecl, steps: ModelStepRecords) -> String
}

/// A model's RTL sources and how its testbench is run on one vector file (by every simulator of `RTLSimulator`).
public struct ModelRTL: Sendable {
    public var unit: String
    public var testbench: String
    /// The testbench's top module.
    public var top: String
    /// The plusargument that names the vector file (`+<vectorsArg>=<path>`).
    public var vectorsArg: String
    public init(unit: String, testbench: String, top: String, vectorsArg: String) {
        self.unit = unit
        self.testbench = testbench
        self.top = top
        self.vectorsArg = vectorsArg
    }
}

/// What an engine recorded about a population over one sample, step by step ([t][i]).
public struct ModelStepRecords: Sendable {
    public var input: [[Int64]]
    public var membrane: [[Int64]]
    /// The state variables other than the membrane, after each step, by name.
    public var state: [String: [[Int64]]]
    public var spiked: [[Bool]]
    public init(input: [[Int64]], membrane: [[Int64]], state: [String: [[Int64]]], spiked: [[Bool]]) {
        self.input = input
        self.membrane = membrane
        self.state = state
        self.spiked = spiked
    }
}

/// One field of a model's clause: `key value`.
public struct ModelField: Sendable, Equatable {
    /// What the value is.
    public enum Kind: Sendable, Equatable {
        /// A signed integer type with a bit range.
        case signedType(minBits: Int, maxBits: Int)
        /// An integer in a range.
        case integer(min: Int64, max: Int64)
        /// A rounding mode.
        case rounding
    }
    public var key: String
    public var kind: Kind
    public var meaning: String

    public init(_ key: String, _ kind: Kind, _ meaning: String) {
        self.key = key
        self.kind = kind
        self.meaning = meaning
    }
}

/// The IR parameters of a population of a registered model: field values by key and per-neuron lines by name.
public struct ModelParameters: Equatable, Sendable {
    public var model: String
    public var types: [String: IntType] = [:]
    public var integers: [String: Int64] = [:]
    public var roundings: [String: Rounding] = [:]
    public var perNeuron: [String: [Int64]] = [:]

    public init(model: String) { self.model = model }

    public func type(_ k: String) -> IntType { types[k]! }
    public func int(_ k: String) -> Int64 { integers[k]! }
    public func rounding(_ k: String) -> Rounding { roundings[k]! }
    public func vector(_ k: String) -> [Int64] { perNeuron[k]! }
}

/// What the compiler tells a model when it lowers a population.
public struct ModelLoweringOptions: Sendable {
    /// Width of the spike counter.
    public var countBits: Int
    /// Fraction bits the model should use, when the target or the graph sets them (nil: the model's default).
    public var fracBits: Int?
    public init(countBits: Int, fracBits: Int? = nil) {
        self.countBits = countBits
        self.fracBits = fracBits
    }
}

/// A model's native update of neurons [lo, hi): `state[k]` points at state variable k of the whole population,
/// `input` at this step's input, `out` receives spk (0/1) per neuron, `spikes` the indices that spiked (returned
/// count), `trace` (when non-nil) the membrane trace value per neuron. `count` is the spike counter (nil: the caller
/// counts).
public protocol NeuronKernel: Sendable {
    func update(lo: Int, hi: Int, input: UnsafePointer<Int64>, state: [UnsafeMutablePointer<Int64>],
                count: UnsafeMutablePointer<Int64>?, countMax: Int64, out: UnsafeMutablePointer<Int64>,
                trace: UnsafeMutablePointer<Int64>?, spikes: UnsafeMutablePointer<Int32>) -> Int
}

/// Arbitrary-precision integers for the exact update (the exact engine's GMP numbers).
public protocol ExactInteger {
    init(_ v: Int64)
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    /// round_R(self / 2^s) (docs/ir.md, "Rounded division").
    func shifted(right s: Int, _ r: Rounding) -> Self
    /// self >= other.
    func atLeast(_ other: Self) -> Bool
}

/// A double-precision neuron population: the software reference of a model.
public protocol FloatNeuronDynamics: Sendable {
    /// Names of the state variables (as the IR model's).
    var stateNames: [String] { get }
    /// Initial state per variable.
    func initialState() -> [[Double]]
    /// One step of neuron i with input `input` (the model's real input units); returns whether it spiked and the
    /// membrane trace value.
    func update(_ i: Int, input: Double, state: inout [[Double]]) -> (spike: Bool, trace: Double)
}

/// Dynamics whose input arrives in other units: `scale` x input is handed to `inner` (a program's population, whose
/// input is in state LSBs, run by the graph-unit dynamics).
public struct InputScaledDynamics: FloatNeuronDynamics {
    public var inner: any FloatNeuronDynamics
    public var scale: Double
    public init(inner: any FloatNeuronDynamics, scale: Double) {
        self.inner = inner
        self.scale = scale
    }
    public var stateNames: [String] { inner.stateNames }
    public func initialState() -> [[Double]] { inner.initialState() }
    public func update(_ i: Int, input: Double, state: inout [[Double]]) -> (spike: Bool, trace: Double) {
        inner.update(i, input: scale * input, state: &state)
    }
}

/// The registered neuron models.
public enum NeuronModels {
    /// The model named `keyword`, or nil (`lif` is built in and not listed).
    public static func model(_ keyword: String) -> (any NeuronModel.Type)? {
        registered.first { $0.keyword == keyword }
    }

    /// The model of a graph population's `kind` (or an IR neuron line's model), or a one-line error naming `field`.
    public static func require(_ keyword: String, file: String, field: String) throws -> any NeuronModel.Type {
        guard let m = model(keyword) else {
            throw XbarError(file: file, field: field, "unknown neuron model \"\(keyword)\" (expected \(keywords.joined(separator: ", ")))")
        }
        return m
    }

    /// Every model keyword, the built-in `lif` first.
    public static var keywords: [String] { ["lif"] + registered.map { $0.keyword } }
}
