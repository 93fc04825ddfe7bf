/// What one programming pulse does to one physical cell's conductance: the `[device.update]` table of a target
/// (docs/device.md, "Conductance updates (on-chip learning)"). "Up" is a SET pulse (potentiation, conductance rises),
/// "down" a RESET pulse. Conductances are in uS on one physical cell; a signed weight is a pair of such cells.
public struct UpdateSpec: Equatable, Sendable {
    /// The step-size law: how the nominal step of one pulse depends on the conductance.
    public enum Model: String, CaseIterable, Sendable {
        /// The same step everywhere (aihwkit ConstantStepDevice).
        case constantStep = "constant_step"
        /// A step falling linearly towards the bound it moves to, by the fraction gamma (aihwkit LinearStepDevice).
        case linearStep = "linear_step"
        /// A step proportional to the distance to the bound it moves to (aihwkit SoftBoundsDevice).
        case softBounds = "soft_bounds"
        /// A step 1 - A exp(gamma z) of the position z in the range (aihwkit ExpStepDevice).
        case expStep = "exp_step"
        /// A step proportional to the relative distance to the bound raised to gamma (aihwkit PowStepDevice).
        case powStep = "pow_step"
        /// NeuroSim's G(P) = B (1 - exp(-P/A)) + Gmin curve walked one pulse at a time (Chen et al., TCAD 2018).
        case nonlinear
    }

    /// Which bound a worn-out cell sticks at.
    public enum Stuck: String, CaseIterable, Sendable {
        /// The cell's lower bound (a SET failure).
        case low
        /// The cell's upper bound (a RESET failure).
        case high
    }

    public var model: Model
    /// Nominal step of one pulse at the far bound (uS); for `nonlinear`, the range over the number of pulses (Pmax).
    public var dwMinUS: Double
    /// Systematic up/down asymmetry: up_down > 0 shrinks the down step by that fraction, < 0 the up step.
    public var upDown: Double = 0
    /// Device-to-device spread of the step (relative, common to both directions).
    public var dwMinDtoD: Double = 0
    /// Device-to-device spread of the up/down asymmetry (relative; + on up, - on down).
    public var upDownDtoD: Double = 0
    /// Cycle-to-cycle spread of each pulse's step, relative to the nominal step (multiplicative).
    public var dwMinStd: Double = 0
    /// Cycle-to-cycle spread of each pulse's step in uS (additive).
    public var dwStdUS: Double = 0
    /// Nominal bounds of the cell's conductance (uS); nil means the target's `cell.g_min_us` / `cell.g_max_us`.
    public var gMinUS: Double?
    public var gMaxUS: Double?
    /// Device-to-device spread of the lower and upper bound (uS).
    public var gMinDtoDUS: Double = 0
    public var gMaxDtoDUS: Double = 0
    /// linear_step: fraction by which the step shrinks across the range, per direction, and their d2d spread.
    public var gammaUp: Double = 0
    public var gammaDown: Double = 0
    public var gammaUpDtoD: Double = 0
    public var gammaDownDtoD: Double = 0
    /// pow_step: exponent, its up/down asymmetry and their d2d spreads (relative).
    public var powGamma: Double = 1
    public var powGammaDtoD: Double = 0
    public var powUpDown: Double = 0
    public var powUpDownDtoD: Double = 0
    /// exp_step: A_up, A_down, gamma_up, gamma_down, a, b of aihwkit's ExpStepDevice (its defaults).
    public var expAUp: Double = 0.00081
    public var expADown: Double = 0.36833
    public var expGammaUp: Double = 12.44625
    public var expGammaDown: Double = 12.78785
    public var expA: Double = 0.244
    public var expB: Double = 0.2425
    /// nonlinear: NeuroSim's normalised A (A / Pmax) for LTP (up) and LTD (down); negative for a convex curve.
    public var aLTP: Double = 1
    public var aLTD: Double = -1
    /// Write noise (uS): what a read sees after a pulse is the conductance plus N(0, write_noise_us), redrawn at every
    /// pulse and not accumulated (aihwkit's write_noise_std on the apparent weight).
    public var writeNoiseUS: Double = 0
    /// Width of one programming pulse (ns).
    public var pulseNS: Double = 100
    /// Pulses a cell survives; a cell written more often is stuck (nil: unlimited).
    public var enduranceCycles: UInt32?
    public var enduranceStuck: Stuck = .low

    public init(model: Model, dwMinUS: Double) {
        self.model = model
        self.dwMinUS = dwMinUS
    }

    /// The TOML keys that belong to one model only.
    public static let modelKeys: [Model: [String]] = [
        .linearStep: ["gamma_up", "gamma_down", "gamma_up_dtod", "gamma_down_dtod"],
        .powStep: ["pow_gamma", "pow_gamma_dtod", "pow_up_down", "pow_up_down_dtod"],
        .expStep: ["exp_a_up", "exp_a_down", "exp_gamma_up", "exp_gamma_down", "exp_a", "exp_b"],
        .nonlinear: ["a_ltp", "a_ltd"],
    ]
}
