/// Timing of the macro's state machine (docs/timing.md). All durations in clock cycles.
public struct TimingSpec: Equatable, Sendable {
    /// ADC architecture: SAR takes `cyclesPerBit` per bit; ramp/integrating takes 2^bits steps.
    public enum ADCKind: String, CaseIterable, Sendable { case sar, ramp }

    /// Word lines that may be driven at once: the compiler's row-tile limit (one analog phase per read).
    public var maxRowsDriven: Int
    /// Columns sharing one ADC through a multiplexer.
    public var colsPerADC: Int
    public var adcKind: ADCKind
    public var adcCyclesPerBit: Int
    public var adcOverheadCycles: Int
    /// Word-line/bit-line settling and integration per read phase.
    public var settleCycles: Int
    public var integrateCycles: Int
    /// Elements per cycle of the digital shift-add unit (sub, add, scale).
    public var digitalLanes: Int
    /// Neuron update units (neurons entering the pipeline per cycle) and pipeline depth.
    public var neuronUnits: Int
    public var neuronPipeline: Int
    /// Spike router: queue depth and spikes delivered per cycle.
    public var routerQueue: Int
    public var routerSpikesPerCycle: Int
    /// Readout multiply-accumulate units.
    public var readoutMACs: Int
    /// Cycles of one programming pulse of on-chip learning, its verify read included (docs/timing.md, "Learning").
    public var writePulseCycles: Int = 1

    public init(maxRowsDriven: Int = 1 << 16, colsPerADC: Int = 1, adcKind: ADCKind = .sar, adcCyclesPerBit: Int = 1,
                adcOverheadCycles: Int = 0, settleCycles: Int = 0, integrateCycles: Int = 1, digitalLanes: Int = 1 << 16,
                neuronUnits: Int = 1 << 16, neuronPipeline: Int = 1, routerQueue: Int = 1 << 16, routerSpikesPerCycle: Int = 1 << 16,
                readoutMACs: Int = 1 << 16) {
        self.maxRowsDriven = maxRowsDriven
        self.colsPerADC = colsPerADC
        self.adcKind = adcKind
        self.adcCyclesPerBit = adcCyclesPerBit
        self.adcOverheadCycles = adcOverheadCycles
        self.settleCycles = settleCycles
        self.integrateCycles = integrateCycles
        self.digitalLanes = digitalLanes
        self.neuronUnits = neuronUnits
        self.neuronPipeline = neuronPipeline
        self.routerQueue = routerQueue
        self.routerSpikesPerCycle = routerSpikesPerCycle
        self.readoutMACs = readoutMACs
    }

    /// Cycles of one ADC conversion of `bits` bits.
    public func conversionCycles(bits: Int) -> Int {
        switch adcKind {
        case .sar: return bits * adcCyclesPerBit + adcOverheadCycles
        case .ramp: return (1 << bits) + adcOverheadCycles
        }
    }
}

/// Energy per action (Accelergy-style table, docs/energy.md). pJ unless the name says otherwise.
public struct EnergySpec: Equatable, Sendable {
    /// Per driven word line per read (WL switching).
    public var wlActivationPJ: Double = 0
    /// Per driven row per read (input driver / DAC pulse).
    public var inputPulsePJ: Double = 0
    /// ADC conversion: fixed + perStep * 2^bits (Walden figure of merit), fJ.
    public var adcFixedFJ: Double = 0
    public var adcPerStepFJ: Double = 0
    /// Per column integrated per read (sense amplifier / integrator / control).
    public var columnReadPJ: Double = 0
    /// Per element of a digital sub/add/scale.
    public var shiftAddPJ: Double = 0
    /// Per neuron update and per spike routed.
    public var neuronUpdatePJ: Double = 0
    public var spikeRoutePJ: Double = 0
    /// Per register/SRAM word accessed (membrane state read + write per update; readout weights).
    public var sramAccessPJ: Double = 0
    /// Per programming pulse and per verify read (write-verify).
    public var cellWritePJ: Double = 0
    public var verifyPJ: Double = 0
    /// Static power.
    public var leakageMW: Double = 0
    public init() {}

    /// ADC energy of one conversion of `bits` bits, pJ.
    public func adcPJ(bits: Int) -> Double { (adcFixedFJ + adcPerStepFJ * Double(1 << bits)) / 1000 }
}

/// Silicon area per component, mm^2.
public struct AreaSpec: Equatable, Sendable {
    public var arrayMM2: Double = 0
    public var adcMM2: Double = 0
    public var neuronUnitMM2: Double = 0
    public var routerMM2: Double = 0
    public var digitalMM2: Double = 0
    public init() {}
}
