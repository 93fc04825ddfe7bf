import XbarCore

/// The newest IR version this tool reads and writes. A program text starts with `xbar-ir <version>`; version 1 has
/// only `lif` populations, version 2 adds model-qualified neuron lines (docs/ir.md, "Neuron models"), version 3 the
/// plasticity ops `trace` and `stdp` and realised arrays (docs/ir.md, "Plasticity").
public let irVersion = 3

/// A compiled fixed-point crossbar program: declarations plus the op list run once per timestep.
/// Its semantics are written in docs/ir.md; every engine implements exactly that.
public struct Program: Equatable, Sendable {
    /// Version of the IR this program is written in: 1 unless a population uses a registered model (then 2).
    public var version: Int = 1
    /// Program name (from the graph).
    public var name: String
    /// Name of the hardware target it was compiled for.
    public var target: String
    /// Number of timesteps one sample runs.
    public var timesteps: Int
    /// Event input channels.
    public var inputs: [InputDecl]
    /// Stateful neuron populations.
    public var neurons: [NeuronDecl]
    /// Physical crossbar arrays with their programmed conductance codes.
    public var arrays: [ArrayDecl]
    /// Digital readouts evaluated once after the last timestep.
    public var readouts: [ReadoutDecl]
    /// Ops executed in order at every timestep.
    public var step: [Op]

    public init(name: String, target: String, timesteps: Int, inputs: [InputDecl], neurons: [NeuronDecl],
                arrays: [ArrayDecl], readouts: [ReadoutDecl], step: [Op]) {
        self.name = name
        self.target = target
        self.timesteps = timesteps
        self.inputs = inputs
        self.neurons = neurons
        self.arrays = arrays
        self.readouts = readouts
        self.step = step
    }

    /// The lowest version that can express this program: 3 with plasticity ops or realised arrays, 2 when a population
    /// uses a registered model, else 1.
    public var requiredVersion: Int {
        if step.contains(where: { OpDefinition.plasticity.contains($0.kind.mnemonic) }) || arrays.contains(where: { $0.realised }) { return 3 }
        return neurons.contains { $0.model != nil } ? 2 : 1
    }

    /// Whether the step changes cells (has an `stdp` or `homeostasis` op): such a program runs its samples in order on
    /// one chip state.
    public var isPlastic: Bool { step.contains { $0.kind.writesCells } }

    /// The digital SRAM the learning ops need (docs/ir.md, "Plasticity"): `state` = the bits they keep across steps (traces,
    /// eligibilities, modulators, homeostasis accumulators: length x type width); `configuration` = their per-synapse
    /// enable bits (ops with a synapse mask) and per-neuron homeostasis targets (31 bits each).
    public var learningSRAMBits: (state: Int, configuration: Int) {
        var state = 0, config = 0
        for op in step where OpDefinition.plasticity.contains(op.kind.mnemonic) {
            state += op.length * op.type.bits
            switch op.kind {
            case let .stdp(r) where r.synapses != nil: config += op.length
            case let .homeostasis(h): config += (h.synapses != nil ? op.length * h.row.count : 0) + 31 * h.targets.count
            default: break
            }
        }
        return (state, config)
    }

    public func input(named n: String) -> InputDecl? { inputs.first { $0.name == n } }
    public func neuron(named n: String) -> NeuronDecl? { neurons.first { $0.name == n } }
    public func array(named n: String) -> ArrayDecl? { arrays.first { $0.name == n } }
}

/// An input population: `size` event channels, each a 1-bit spike per timestep.
public struct InputDecl: Equatable, Sendable {
    public var name: String
    public var size: Int
    public init(name: String, size: Int) { self.name = name; self.size = size }
}

/// How a neuron resets after a spike.
public enum ResetMode: String, CaseIterable, Sendable {
    /// Membrane set to 0.
    case zero
    /// Threshold subtracted from the membrane (result fitted with the membrane's overflow rule).
    case subtract
}

/// How the membrane is compared with the threshold.
public enum Compare: String, CaseIterable, Sendable {
    /// spike = v > threshold (the reference LSM's rule).
    case gt
    /// spike = v >= threshold.
    case ge
}

/// A population of digital LIF neuron units. All parameters are integers in membrane LSBs.
///
/// Optional features (docs/ir.md, "lif"): a per-neuron bias added to `bias`, a current-based synapse state in front
/// of the membrane, and a non-spiking mode (a leaky integrator whose membrane is its output).
public struct NeuronDecl: Equatable, Sendable {
    public var name: String
    public var size: Int
    /// Membrane state type (for example i24) and its overflow rule.
    public var memType: IntType
    public var memOverflow: Overflow
    /// Decay: m' = round(m * decayMul / 2^decayShift).
    public var decayMul: Int64
    public var decayShift: Int
    public var decayRounding: Rounding
    /// Threshold, in membrane LSBs (ignored when `spiking` is false).
    public var threshold: Int64
    public var compare: Compare
    public var reset: ResetMode
    /// Steps a neuron stays silent (input ignored, membrane held at its post-reset value) after a spike.
    public var refractory: Int
    /// Constant added every step, in membrane LSBs.
    public var bias: Int64
    /// Refractory counter type (fits `refractory`).
    public var refractoryType: IntType
    /// Spike-count register type (saturating) used by readouts.
    public var countType: IntType
    /// Per-neuron bias added to `bias` (one value per neuron, membrane LSBs), or nil (all 0).
    public var neuronBias: [Int64]?
    /// Current-based synapse state integrating the input before the membrane, or nil (the input goes straight in).
    public var synapse: SynapseDecl?
    /// False for a leaky integrator: no threshold compare, no spike, no reset, no refractory period.
    public var spiking: Bool
    /// The parameters of a registered neuron model (docs/ir.md, "Neuron models"), or nil for the built-in `lif`
    /// (whose parameters are the fields above).
    public var model: ModelParameters? = nil

    /// The model keyword: `lif` or the registered model's.
    public var modelKeyword: String { model?.model ?? "lif" }

    public init(name: String, size: Int, memType: IntType, memOverflow: Overflow, decayMul: Int64, decayShift: Int,
                decayRounding: Rounding, threshold: Int64, compare: Compare, reset: ResetMode, refractory: Int,
                bias: Int64, refractoryType: IntType, countType: IntType, neuronBias: [Int64]? = nil,
                synapse: SynapseDecl? = nil, spiking: Bool = true) {
        self.name = name
        self.size = size
        self.memType = memType
        self.memOverflow = memOverflow
        self.decayMul = decayMul
        self.decayShift = decayShift
        self.decayRounding = decayRounding
        self.threshold = threshold
        self.compare = compare
        self.reset = reset
        self.refractory = refractory
        self.bias = bias
        self.refractoryType = refractoryType
        self.countType = countType
        self.neuronBias = neuronBias
        self.synapse = synapse
        self.spiking = spiking
    }

    /// A population of a registered model: its parameters are `model`; the `lif` fields are unused (the membrane type
    /// is the model's first state type, for readers that size a membrane).
    public init(name: String, size: Int, model: ModelParameters, countType: IntType, membraneType: IntType) {
        self.init(name: name, size: size, memType: membraneType, memOverflow: .sat, decayMul: 0, decayShift: 0,
                  decayRounding: .floor, threshold: 0, compare: .ge, reset: .zero, refractory: 0, bias: 0,
                  refractoryType: .u(1), countType: countType)
        self.model = model
    }

    /// The membrane bias of neuron `i`: bias + neuronBias[i].
    public func bias(of i: Int) -> Int64 { bias + (neuronBias?[i] ?? 0) }
}

/// The synaptic current state of a neuron population (docs/ir.md, "lif"):
/// c' = fit(round(c * decayMul / 2^decayShift) + I + bias + neuronBias[i], type). It shares the membrane's LSB.
public struct SynapseDecl: Equatable, Sendable {
    /// Synaptic state type (signed) and its overflow rule.
    public var type: IntType
    public var overflow: Overflow
    /// Decay: c * decayMul / 2^decayShift, rounded with `decayRounding`.
    public var decayMul: Int64
    public var decayShift: Int
    public var decayRounding: Rounding
    /// Constant added to the current every step.
    public var bias: Int64
    /// Per-neuron synaptic bias added to `bias`, or nil (all 0).
    public var neuronBias: [Int64]?

    public init(type: IntType, overflow: Overflow, decayMul: Int64, decayShift: Int, decayRounding: Rounding,
                bias: Int64 = 0, neuronBias: [Int64]? = nil) {
        self.type = type
        self.overflow = overflow
        self.decayMul = decayMul
        self.decayShift = decayShift
        self.decayRounding = decayRounding
        self.bias = bias
        self.neuronBias = neuronBias
    }

    /// The synaptic bias of neuron `i`: bias + neuronBias[i].
    public func bias(of i: Int) -> Int64 { bias + (neuronBias?[i] ?? 0) }
}

/// One physical crossbar array: `rows x cols` cells holding unsigned conductance codes.
/// A code c means conductance c * gUnitNS nanosiemens (the device model may perturb the realised value).
public struct ArrayDecl: Equatable, Sendable {
    public var name: String
    /// Which macro and which array inside it this is.
    public var macro: Int
    public var index: Int
    public var rows: Int
    public var cols: Int
    /// Conductance code unit in nS.
    public var gUnitNS: Double
    /// Type of one cell's code.
    public var codeType: IntType
    /// Row-major programmed codes, rows * cols entries (dense or sparse in memory, the same values either way).
    public var codes: CellCodes
    /// True when the codes are the read-back state of electroformed cells (nothing left to program);
    /// false when they are programming targets.
    public var formed: Bool
    /// True when the codes are a chip's realised cells after a learning run (`state realised`): a chip loads them as
    /// they are, with `writes` as each cell's pulse count so far.
    public var realised: Bool = false
    /// Write pulses per cell so far (row-major), for a realised array; nil when no cell was written.
    public var writes: [UInt32]? = nil

    public init(name: String, macro: Int, index: Int, rows: Int, cols: Int, gUnitNS: Double, codeType: IntType,
                codes: [Int32], formed: Bool = false) {
        self.init(name: name, macro: macro, index: index, rows: rows, cols: cols, gUnitNS: gUnitNS, codeType: codeType,
                  cells: CellCodes(codes), formed: formed)
    }

    public init(name: String, macro: Int, index: Int, rows: Int, cols: Int, gUnitNS: Double, codeType: IntType,
                cells codes: CellCodes, formed: Bool = false) {
        self.formed = formed
        self.name = name
        self.macro = macro
        self.index = index
        self.rows = rows
        self.cols = cols
        self.gUnitNS = gUnitNS
        self.codeType = codeType
        self.codes = codes
    }

    public func code(_ r: Int, _ c: Int) -> Int32 { codes[r * cols + c] }
}

/// A digital readout: y[k] = fit_acc(sum_j W[k][j] * count[j] + bias[k]) after the last timestep,
/// where count[j] is the population's spike count over the sample.
public struct ReadoutDecl: Equatable, Sendable {
    public var name: String
    public var source: String
    public var classes: Int
    public var weightType: IntType
    public var accType: IntType
    public var accOverflow: Overflow
    /// Row-major classes x source.size.
    public var weights: [Int32]
    public var bias: [Int32]
    /// Real value of one accumulator LSB (for reporting real-valued outputs).
    public var scale: Double

    public init(name: String, source: String, classes: Int, weightType: IntType, accType: IntType,
                accOverflow: Overflow, weights: [Int32], bias: [Int32], scale: Double) {
        self.name = name
        self.source = source
        self.classes = classes
        self.weightType = weightType
        self.accType = accType
        self.accOverflow = accOverflow
        self.weights = weights
        self.bias = bias
        self.scale = scale
    }
}

/// Largest row-source delay (timesteps) the IR accepts.
public let maxRowSourceDelay = 4096

/// Which input or neuron spikes drive a block of an array's rows, and with what delay.
/// Rows [rowStart, rowStart+count) are driven by source[srcStart ..< srcStart+count] at step t - delay.
public struct RowSource: Equatable, Sendable {
    public var rowStart: Int
    public var source: String
    public var srcStart: Int
    public var count: Int
    /// 0 = this step's spikes (inputs, or a neuron population updated earlier in the step); d >= 1: the spikes of
    /// step t - d (0 ... `maxRowSourceDelay`).
    public var delay: Int

    public init(rowStart: Int, source: String, srcStart: Int, count: Int, delay: Int) {
        self.rowStart = rowStart
        self.source = source
        self.srcStart = srcStart
        self.count = count
        self.delay = delay
    }
}

/// One op of the timestep program. Its result is a vector `type[length]` named `result`.
public struct Op: Equatable, Sendable {
    public var result: String
    public var type: IntType
    public var length: Int
    public var kind: OpKind

    public init(result: String, type: IntType, length: Int, kind: OpKind) {
        self.result = result
        self.type = type
        self.length = length
        self.kind = kind
    }
}

/// The operations of the IR (semantics in docs/ir.md).
public enum OpKind: Equatable, Sendable {
    /// Analog read of columns [colStart, colStart+length) of an array with 1-bit row drive:
    /// out[j] = sum over driven rows r of G[r][colStart+j] (exact; the type must hold the worst case).
    /// Read voltage and pulse width are recorded for the energy model.
    /// `cellsPerWeight` columns make one synapse (2 x slices): synaptic ops = driven rows x length / cellsPerWeight.
    case read(array: String, rows: [RowSource], colStart: Int, cellsPerWeight: Int, vReadMV: Double, tReadNS: Double)
    /// Column current to ADC code: out = clamp(round((x - offset) / lsb)) to the result type (unsigned or signed).
    /// Conversions happen only when the operand read drove at least one row (otherwise the op yields the code of
    /// zero current without a conversion).
    case adc(operand: String, bits: Int, lsb: Int64, offset: Int64, rounding: Rounding)
    /// out[i] = x[start + i * stride].
    case slice(operand: String, start: Int, stride: Int)
    /// out = concatenation of operands.
    case concat(operands: [String])
    /// out = fit(a + b).
    case add(a: String, b: String, overflow: Overflow)
    /// out = fit(a - b).
    case sub(a: String, b: String, overflow: Overflow)
    /// out = fit(round(x * mul / 2^shift)).
    case scale(operand: String, mul: Int64, shift: Int, rounding: Rounding, overflow: Overflow)
    /// LIF update of a neuron population with this step's input current; out = spikes (u1).
    case lif(population: String, input: String)
    /// Update of a population of the registered neuron model `model` (docs/ir.md, "Neuron models"); out = spikes (u1).
    case neuron(model: String, population: String, input: String)
    /// The spike trace of a source (docs/ir.md, "Plasticity"): out := fit_sat(round(out * mul / 2^shift) + increment *
    /// hist_source(t - delay), T), out = 0 at the start of a sample.
    case trace(source: String, delay: Int, decayMul: Int64, decayShift: Int, rounding: Rounding, increment: Int64)
    /// Pair-based STDP of the synapses of one row source of an array, and the cell programming of its schedule
    /// (docs/ir.md, "Plasticity"); out = the eligibility accumulators, N x NN, row-major.
    case stdp(STDPRule)
    /// Homeostatic plasticity of the synapses of one row source of an array (docs/ir.md, "Plasticity"): each neuron's
    /// incoming weights move against its rate error (rate trace - target); out = the per-neuron accumulators.
    case homeostasis(HomeostasisRule)
    /// A global neuromodulatory scalar (docs/ir.md, "Plasticity"): a leaky integrator of weighted spike counts,
    /// out := fit_sat(round(out * mul / 2^shift) + sum_k weight_k * |hist_k(t - delay_k)| + bias), out = init before step 0.
    case modulator(ModulatorSpec)

    /// Names of the values this op reads.
    public var operands: [String] {
        switch self {
        case .read: return []
        case let .adc(o, _, _, _, _): return [o]
        case let .slice(o, _, _): return [o]
        case let .concat(os): return os
        case let .add(a, b, _), let .sub(a, b, _): return [a, b]
        case let .scale(o, _, _, _, _): return [o]
        case let .lif(_, i), let .neuron(_, _, i): return [i]
        case .trace, .modulator: return []
        case let .stdp(r): return [r.post, r.preTrace, r.postTrace] + [r.modulator, r.gate].compactMap { $0 }
        case let .homeostasis(h): return [h.rate]
        }
    }

    /// Whether the op's result carries over from one step to the next (a trace, eligibility, accumulator or modulator
    /// value, docs/ir.md "Plasticity"); every other result is computed afresh each step before it is read.
    public var carriesState: Bool {
        switch self {
        case .trace, .stdp, .homeostasis, .modulator: return true
        default: return false
        }
    }

    /// The population an update op (`lif` or a registered model's) updates; nil for other ops.
    public var updatedPopulation: String? {
        switch self {
        case let .lif(pop, _), let .neuron(_, pop, _): return pop
        default: return nil
        }
    }

    /// Whether the op programs cells while the program runs (docs/ir.md, "Plasticity").
    public var writesCells: Bool {
        switch self {
        case .stdp, .homeostasis: return true
        default: return false
        }
    }

    /// The mnemonic in the text form.
    public var mnemonic: String {
        switch self {
        case .read: return "read"
        case .adc: return "adc"
        case .slice: return "slice"
        case .concat: return "concat"
        case .add: return "add"
        case .sub: return "sub"
        case .scale: return "scale"
        case .lif: return "lif"
        case let .neuron(m, _, _): return m
        case .trace: return "trace"
        case .stdp: return "stdp"
        case .modulator: return "modulator"
        case .homeostasis: return "homeostasis"
        }
    }
}

/// Whether an STDP pairing includes the spikes of its own step (docs/ir.md, "Plasticity").
public enum STDPSameStep: String, CaseIterable, Sendable {
    case include, exclude
}

/// What an STDP op's modulator changes (docs/ir.md, "Plasticity").
public enum STDPModulation: String, CaseIterable, Sendable {
    case aPlus = "a_plus", aMinus = "a_minus", update
    /// The delta rule (a three-factor update whose eligibility is presynaptic only: e += AP x pre trace every step).
    case delta

    /// The update's pulses come from eligibility x modulator, and the eligibility is a trace, not consumed.
    public var isThreeFactor: Bool { self == .update || self == .delta }
}

/// One weighted source of a modulator: the spike count of `source` at step t - delay, times `weight`.
public struct ModulatorSource: Equatable, Sendable {
    public var source: String
    public var delay: Int
    public var weight: Int64
    public init(source: String, delay: Int, weight: Int64) {
        self.source = source
        self.delay = delay
        self.weight = weight
    }
}

/// The parameters of a `modulator` op (docs/ir.md, "Plasticity").
public struct ModulatorSpec: Equatable, Sendable {
    public var sources: [ModulatorSource]
    public var bias: Int64
    public var initial: Int64
    public var decayMul: Int64
    public var decayShift: Int
    public var rounding: Rounding
    public init(sources: [ModulatorSource], bias: Int64, initial: Int64, decayMul: Int64, decayShift: Int, rounding: Rounding) {
        self.sources = sources
        self.bias = bias
        self.initial = initial
        self.decayMul = decayMul
        self.decayShift = decayShift
        self.rounding = rounding
    }
}

/// How an STDP update scales with the weight it changes (docs/ir.md, "Plasticity").
public enum STDPBound: String, CaseIterable, Sendable {
    /// The pulse count is the eligibility's, whatever the weight (additive STDP; hard bounds at the clip range).
    case additive
    /// Potentiation scaled by (HI - w) / (HI - LO), depression by (w - LO) / (HI - LO) (multiplicative, soft-bounded).
    case soft
}

/// The parameters of one `stdp` op: which synapses (one row source of an array and the neurons of its columns), the
/// traces and spikes it pairs, its integer amplitudes, and the schedule and limits of the cell programming that
/// turns its eligibility into pulses (docs/ir.md, "Plasticity").
public struct STDPRule: Equatable, Sendable {
    public var array: String
    /// The synapses' rows: row `row.rowStart + i` holds the synapse of source element `row.srcStart + i`.
    public var row: RowSource
    /// Column of the first synapse's positive cell; synapse j uses columns colStart + 2j (G+) and + 2j + 1 (G-).
    public var colStart: Int
    /// The post population's spike vector (its update op's result) and the neuron of column 0.
    public var post: String
    public var postStart: Int
    /// Trace ops of the pre source (same delay) and of the post population (delay 0).
    public var preTrace: String
    public var postTrace: String
    public var aPlus: Int64
    public var aMinus: Int64
    public var shift: Int
    public var bound: STDPBound
    /// Whether a pairing sees the spikes of its own step in the traces (`include`) or the traces without this step's
    /// increment (`exclude`: x - add x spike, as Ivanov & Michmizos' NALSM code, where simultaneous spikes do not pair).
    public var sameStep: STDPSameStep = .include
    /// The eligibility decays by eligibilityDecay / 2^eligibilityShift each step before pairing (2^shift: no decay).
    public var eligibilityDecay: Int64 = 1
    public var eligibilityShift: Int = 0
    /// A modulator value (a `modulator` op's result) that scales a_plus or a_minus, or multiplies the eligibility at
    /// the update (a three-factor rule: the eligibility is then a decaying trace, not consumed); nil: none.
    public var modulator: String? = nil
    public var modulation: STDPModulation = .aMinus
    public var modulatorShift: Int = 0
    /// A gate value: pairing and update happen only at steps where it is > 0; nil: always.
    public var gate: String? = nil
    /// The pairs that are synapses (nil: all).
    public var synapses: SynapseMask? = nil
    /// Pair reads before every pulse, or open loop.
    public var write: PulseTrain.Write = .verify
    /// Allowed range of a synapse's pair difference code(G+) - code(G-), in conductance codes (LO <= 0 <= HI).
    public var clipLow: Int64
    public var clipHigh: Int64
    /// Update steps: t with (t + 1) mod every = 0; 0 = the last step of the sample only.
    public var every: Int
    /// One pulse per 2^pulseShift of eligibility; at most maxPulses per synapse and update.
    public var pulseShift: Int
    public var maxPulses: Int
    /// An ideal device's response to one pulse: the cell's code moves by pulseCodes within [cellLow, cellHigh].
    public var pulseCodes: Int64
    public var cellLow: Int64
    public var cellHigh: Int64

    public init(array: String, row: RowSource, colStart: Int, post: String, postStart: Int, preTrace: String, postTrace: String,
                aPlus: Int64, aMinus: Int64, shift: Int, bound: STDPBound, clipLow: Int64, clipHigh: Int64, every: Int,
                pulseShift: Int, maxPulses: Int, pulseCodes: Int64, cellLow: Int64, cellHigh: Int64) {
        self.array = array
        self.row = row
        self.colStart = colStart
        self.post = post
        self.postStart = postStart
        self.preTrace = preTrace
        self.postTrace = postTrace
        self.aPlus = aPlus
        self.aMinus = aMinus
        self.shift = shift
        self.bound = bound
        self.clipLow = clipLow
        self.clipHigh = clipHigh
        self.every = every
        self.pulseShift = pulseShift
        self.maxPulses = maxPulses
        self.pulseCodes = pulseCodes
        self.cellLow = cellLow
        self.cellHigh = cellHigh
    }

    /// Whether the synapses are programmed at the end of step t of a sample of `timesteps` steps.
    public func updates(at t: Int, timesteps: Int) -> Bool { every == 0 ? t == timesteps - 1 : (t + 1) % every == 0 }

    /// How its pulse trains are limited.
    public var train: PulseTrain {
        var t = PulseTrain(bound: bound, clipLow: clipLow, clipHigh: clipHigh, pulseCodes: pulseCodes, cellLow: cellLow, cellHigh: cellHigh)
        t.write = write
        return t
    }
}

/// Which pairs of a learning op's N x NN block are synapses (docs/ir.md, "Plasticity"): per row i, the ascending
/// neuron indices j (relative to the op's first column) that are connected. A learning rule never pairs or writes a
/// pair that is not a synapse (a sparse projection stays sparse).
public struct SynapseMask: Equatable, Sendable {
    /// Rows up to the last one with a synapse (later rows have none).
    public private(set) var rows: [[Int32]]
    public init(rows: [[Int32]]) {
        var r = rows
        while r.last?.isEmpty == true { r.removeLast() }
        self.rows = r
    }

    /// Synapses in all.
    public var count: Int { rows.reduce(0) { $0 + $1.count } }

    /// Whether (i, j) is a synapse.
    public func contains(_ i: Int, _ j: Int) -> Bool {
        guard i < rows.count else { return false }
        let r = rows[i]
        var lo = 0, hi = r.count
        while lo < hi {
            let m = (lo + hi) / 2
            if r[m] < Int32(j) { lo = m + 1 } else { hi = m }
        }
        return lo < r.count && r[lo] == Int32(j)
    }

    /// The mask as a flat row-major Bool array of rows x neurons.
    public func flat(rows n: Int, neurons nn: Int) -> [Bool] {
        var b = [Bool](repeating: false, count: n * nn)
        for (i, r) in rows.enumerated() { for j in r { b[i * nn + Int(j)] = true } }
        return b
    }
}

/// The limits of one synapse's pulse train (docs/ir.md, "Plasticity", the update): the clip range of the pair's weight,
/// soft or hard bounds, and the ideal device's pulse (a change of `pulseCodes` within [cellLow, cellHigh]).
public struct PulseTrain: Equatable, Sendable {
    /// How the write controller drives a synapse's pulses (docs/ir.md, "Plasticity", the update).
    public enum Write: String, CaseIterable, Sendable {
        /// The pair is read before every pulse: the cell follows the weight's sign, the clip range stops the train.
        case verify
        /// No read: every pulse goes to the synapse's one cell (G+ for a clip range [0, HI], G- for [LO, 0]); only the
        /// device's range bounds it.
        case openLoop = "open_loop"
    }
    public var write: Write = .verify
    public var bound: STDPBound
    public var clipLow: Int64
    public var clipHigh: Int64
    public var pulseCodes: Int64
    public var cellLow: Int64
    public var cellHigh: Int64
    public init(bound: STDPBound, clipLow: Int64, clipHigh: Int64, pulseCodes: Int64, cellLow: Int64, cellHigh: Int64) {
        self.bound = bound
        self.clipLow = clipLow
        self.clipHigh = clipHigh
        self.pulseCodes = pulseCodes
        self.cellLow = cellLow
        self.cellHigh = cellHigh
    }
}

/// The parameters of a `homeostasis` op (docs/ir.md, "Plasticity"): the synapses (one row source of an array and the
/// neurons of its columns), the post population's rate trace and per-neuron targets, the rate of adaptation, and the
/// schedule and limits of the cell programming.
public struct HomeostasisRule: Equatable, Sendable {
    public var array: String
    public var row: RowSource
    public var colStart: Int
    /// A trace op of the post population (delay 0): its rate estimate.
    public var rate: String
    public var postStart: Int
    /// Target rate-trace value per neuron of the op (NN values).
    public var targets: [Int64]
    public var eta: Int64
    public var shift: Int
    public var every: Int
    public var pulseShift: Int
    public var maxPulses: Int
    public var train: PulseTrain
    /// The pairs that are synapses (nil: all).
    public var synapses: SynapseMask? = nil

    public init(array: String, row: RowSource, colStart: Int, rate: String, postStart: Int, targets: [Int64], eta: Int64, shift: Int,
                every: Int, pulseShift: Int, maxPulses: Int, train: PulseTrain) {
        self.array = array
        self.row = row
        self.colStart = colStart
        self.rate = rate
        self.postStart = postStart
        self.targets = targets
        self.eta = eta
        self.shift = shift
        self.every = every
        self.pulseShift = pulseShift
        self.maxPulses = maxPulses
        self.train = train
    }

    public func updates(at t: Int, timesteps: Int) -> Bool { every == 0 ? t == timesteps - 1 : (t + 1) % every == 0 }
}
