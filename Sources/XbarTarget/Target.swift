import XbarCore

/// One RRAM in-memory-computing macro as described by a target TOML file (schema in docs/targets.md).
/// Device stochasticity, timing and energy sections plug in here as the emulator grows.
public struct Target: Equatable, Sendable {
    public var name: String
    public var description: String
    public var technologyNM: Int
    public var macro: MacroSpec
    public var cell: CellSpec
    public var read: ReadSpec
    public var adc: ADCSpec
    public var neuron: NeuronSpec
    public var readout: ReadoutSpec
    public var mapping: MappingSpec
    public var clockMHz: Double
    /// Cell physics; `.ideal` when the file has no `[device]` table.
    public var device: DeviceSpec
    /// Microarchitecture timing, energy per action, area (defaults: unconstrained, zero cost).
    public var timing = TimingSpec()
    public var energy = EnergySpec()
    public var area = AreaSpec()

    public init(name: String, description: String, technologyNM: Int, macro: MacroSpec, cell: CellSpec,
                read: ReadSpec, adc: ADCSpec, neuron: NeuronSpec, readout: ReadoutSpec, mapping: MappingSpec,
                clockMHz: Double, device: DeviceSpec = .ideal) {
        self.device = device
        self.name = name
        self.description = description
        self.technologyNM = technologyNM
        self.macro = macro
        self.cell = cell
        self.read = read
        self.adc = adc
        self.neuron = neuron
        self.readout = readout
        self.mapping = mapping
        self.clockMHz = clockMHz
    }
}

/// Geometry: `count` macros, each with `arrays` crossbars of `rows x cols` cells.
public struct MacroSpec: Equatable, Sendable {
    public var count: Int
    public var arrays: Int
    public var rows: Int
    public var cols: Int
}

/// The programmable conductance window of one 1T1R cell.
public struct CellSpec: Equatable, Sendable {
    /// Lowest programmed conductance (weight level 0), uS.
    public var gMinUS: Double
    /// Highest programmed conductance (top level), uS.
    public var gMaxUS: Double
    /// Number of distinct programmable levels per cell (>= 2).
    public var levels: Int
    /// Resolution of conductance codes in the IR, nS per code.
    public var gUnitNS: Double
    /// Conductance of cells left unprogrammed (pristine or unused), uS.
    public var unusedUS: Double
}

/// Word-line read pulse.
public struct ReadSpec: Equatable, Sendable {
    public var vReadMV: Double
    public var tReadNS: Double
}

/// Column ADC. Exactly one of `fullScaleUS` / `lsbUS` sets its range, as summed conductance of a column.
public struct ADCSpec: Equatable, Sendable {
    public var bits: Int
    public var lsbUS: Double?
    public var fullScaleUS: Double?
    public var offsetUS: Double
    public var rounding: Rounding
}

/// Digital LIF neuron units: membrane width and fraction bits, decay precision.
public struct NeuronSpec: Equatable, Sendable {
    public var memBits: Int
    public var fracBits: Int
    public var decayBits: Int
    public var decayRounding: Rounding
    public var memOverflow: Overflow
    public var countBits: Int
    public var refractoryBits: Int
}

/// Digital readout MAC.
public struct ReadoutSpec: Equatable, Sendable {
    public var weightBits: Int
    public var accBits: Int
}

/// How the compiler maps weights onto cells.
public struct MappingSpec: Equatable, Sendable {
    /// Cells (column pairs) per weight; slice s holds digit s of |w| in base `cell.levels`.
    public var slices: Int
    /// Rounding used when weights are quantised.
    public var weightRounding: Rounding
    /// Scaling to membrane units after the ADC: rounding of the multiply-and-shift.
    public var scaleRounding: Rounding
}
