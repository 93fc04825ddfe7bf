/// Device physics of a target's cells (docs/device.md). Every effect is optional; a target without a `[device]`
/// table (or with every effect off) reads exactly the programmed conductances.
public struct DeviceSpec: Equatable, Sendable {
    /// How programmed weights reach the cells.
    public enum Programming: String, CaseIterable, Sendable {
        /// Cells hold the target conductance exactly.
        case exact
        /// One programming pulse: G = target + sigma(target) * N(0,1).
        case oneShot = "one_shot"
        /// Program-and-verify until |G - target| <= tolerance or the pulse budget is spent.
        case writeVerify = "write_verify"
        /// The LSM's random weights are the post-forming conductances (random projections only).
        case forming
    }

    public var programming: Programming
    /// State-dependent programming noise sigma(G).
    public var sigma: SigmaSpec
    public var writeVerify: WriteVerifySpec
    public var forming: FormingSpec?
    public var readNoise: ReadNoiseSpec?
    public var faults: FaultSpec?
    public var drift: DriftSpec?
    public var irDrop: IRDropSpec?
    public var adc: ADCNoiseSpec?
    /// What one SET/RESET pulse does to a cell (on-chip learning); nil when the target has no `[device.update]` table.
    public var update: UpdateSpec?

    public init(programming: Programming = .exact, sigma: SigmaSpec = SigmaSpec(), writeVerify: WriteVerifySpec = WriteVerifySpec(),
                forming: FormingSpec? = nil, readNoise: ReadNoiseSpec? = nil, faults: FaultSpec? = nil, drift: DriftSpec? = nil,
                irDrop: IRDropSpec? = nil, adc: ADCNoiseSpec? = nil, update: UpdateSpec? = nil) {
        self.programming = programming
        self.sigma = sigma
        self.writeVerify = writeVerify
        self.forming = forming
        self.readNoise = readNoise
        self.faults = faults
        self.drift = drift
        self.irDrop = irDrop
        self.adc = adc
        self.update = update
    }

    /// A device with no effect at all.
    public static let ideal = DeviceSpec()

    /// True when reads can differ from the programmed codes (`update` only acts when pulses are applied).
    public var isIdeal: Bool {
        programming == .exact && readNoise == nil && faults == nil && drift == nil && irDrop == nil && adc == nil
    }
}

/// sigma(G) of programming: a published preset or a custom polynomial sigma = c0 + c1*G + c2*G^2 (uS, G in uS).
public struct SigmaSpec: Equatable, Sendable {
    /// Preset names a target may give (coefficients in XbarDevice's PublishedFits; a test keeps the two in step).
    public static let knownPresets = ["none", "custom", "crosssim-milo", "hfox-cmo", "hfox-cmo-0.2pct", "neurram-wan2022",
                                      "neurram-wan2022-aihwkit"]
    public var preset: String
    public var coefficients: [Double]
    public init(preset: String = "none", coefficients: [Double] = []) {
        self.preset = preset
        self.coefficients = coefficients
    }
}

/// Program-and-verify loop parameters.
public struct WriteVerifySpec: Equatable, Sendable {
    public var toleranceUS: Double = 1.0
    public var maxPulses: Int = 20
    public init(toleranceUS: Double = 1.0, maxPulses: Int = 20) {
        self.toleranceUS = toleranceUS
        self.maxPulses = maxPulses
    }
}

/// Electroforming of pristine cells (docs/device.md, "Forming").
public struct FormingSpec: Equatable, Sendable {
    /// Breakdown voltage distribution at the reference pulse width (V).
    public var breakdownMeanV: Double
    public var breakdownSigmaV: Double
    /// Forming pulse amplitude (V) and width (ns).
    public var pulseV: Double
    public var pulseNS: Double
    /// Reference width of the breakdown distribution (ns) and the voltage-time slope (V per decade of width).
    public var referenceNS: Double
    public var voltsPerDecade: Double
    /// Post-forming conductance under the compliance current: mean, spread, and the gain per volt of overdrive.
    public var formedMeanUS: Double
    public var formedSigmaUS: Double
    public var overdriveUSPerV: Double
    /// Upper clamp of formed conductance (uS).
    public var formedMaxUS: Double
    /// Pristine (unformed) conductance and its spread (uS).
    public var pristineUS: Double
    public var pristineSigmaUS: Double
}

/// Per-read conductance noise: sigma_read(G) = absUS + relative * G, independent per cell and read.
public struct ReadNoiseSpec: Equatable, Sendable {
    public var relative: Double
    public var absUS: Double
}

/// Stuck-at faults: rates per cell, and the conductance of a stuck-on cell.
public struct FaultSpec: Equatable, Sendable {
    public var stuckOnRate: Double
    public var stuckOffRate: Double
    public var stuckOnUS: Double
    public var stuckOffUS: Double
}

/// Log-time relaxation: G(t) = G0 * (1 - nu * L) + sigma_relax(G0) * sqrt(L) * N(0,1), L = log10(1 + t/t0).
public struct DriftSpec: Equatable, Sendable {
    public var nu: Double
    public var t0S: Double
    /// sigma_relax(G) = absUS + relative * G, per unit sqrt(L).
    public var relaxRelative: Double
    public var relaxAbsUS: Double
    /// Default time since programming at which the chip is read (s); `--age` overrides.
    public var ageS: Double
}

/// First-order IR drop: each cell sees series wire resistance r * (col + 1 + rows - row).
public struct IRDropSpec: Equatable, Sendable {
    public var wireOhmPerCell: Double
}

/// ADC non-idealities, in column conductance units: static per-column offset and gain error, per-conversion noise.
public struct ADCNoiseSpec: Equatable, Sendable {
    public var offsetSigmaUS: Double
    public var gainSigma: Double
    public var noiseSigmaUS: Double
}
