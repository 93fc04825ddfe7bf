import XbarCore
import XbarEmulator
import XbarIR
import XbarTarget

/// One matrix-vector multiplication on a NeuRRAM core (Wan et al., Nature 608, 504-512 (2022); model and citations in
/// docs/neurram-validation.md), expressed as the action counters the emulator produces, so that `CostModel.report`
/// prices it with the target's `[energy]` table exactly as it prices an emulated run.
///
/// The MVM, in NeuRRAM's voltage mode (Fig. 3 of the paper):
/// - inputs are signed integers of `inputBits` bits: the sign sets the drive polarity, the `inputBits - 1` magnitude bits
///   are applied bit-serially (a 1-bit input is a single binary bit). Every word line is pulsed once per magnitude bit
///   (one input pulse per row per magnitude bit), and the neuron samples and integrates the source-line voltage
///   2^(k-1) times for the k-th least significant magnitude bit;
/// - two-phase mode: inputs wider than `maxSegmentInputBits` are split into an MSB and an LSB segment; each segment
///   is a separate MVM with its own output conversion, then the two outputs are shifted and added digitally;
/// - each neuron converts its integrated charge to `outputBits` signed bits: one comparison for the sign, then a binary
///   search over the magnitude that adds or subtracts a halving charge on the integration capacitor, i.e. one 1-bit
///   comparator decision per output bit.
public struct NeuRRAMMVM: Equatable, Sendable {
    public var inputBits: Int
    public var outputBits: Int
    public var rows: Int
    public var cols: Int
    /// Fraction of (row, magnitude bit) pairs whose word line and input driver are pulsed. 1 = every row every magnitude
    /// bit (binary or full-scale inputs; also every row of a voltage-mode read, whose zero inputs are driven to the
    /// reference). Word-line switching and input pulses share this one count, as in the emulator's counters.
    public var activity: Double
    /// Widest input applied in one phase; wider inputs use two phases (MSB and LSB segments).
    public var maxSegmentInputBits: Int

    public init(inputBits: Int, outputBits: Int, rows: Int = 256, cols: Int = 256, activity: Double = 1,
                maxSegmentInputBits: Int = 4) {
        precondition(inputBits >= 1 && inputBits <= 16 && outputBits >= 1 && outputBits <= 16, "bit widths out of range")
        precondition(rows >= 1 && cols >= 1 && activity >= 0 && activity <= 1, "bad MVM shape or activity")
        self.inputBits = inputBits
        self.outputBits = outputBits
        self.rows = rows
        self.cols = cols
        self.activity = activity
        self.maxSegmentInputBits = maxSegmentInputBits
    }

    /// Magnitude bits applied bit-serially: inputBits - 1 for signed inputs, 1 for a binary (1-bit) input.
    public var magnitudeBits: Int { max(1, inputBits - 1) }

    /// Magnitude bits of each phase: one segment, or MSB and LSB segments (MSB segment gets the odd bit).
    public var segments: [Int] {
        let m = magnitudeBits
        if inputBits <= maxSegmentInputBits { return [m] }
        return [m - m / 2, m / 2]
    }

    /// Sample-and-integrate operations of one neuron: 2^(k-1) for the k-th magnitude bit of each segment.
    public var samplesPerNeuron: Int { segments.reduce(0) { $0 + (1 << $1) - 1 } }

    /// 1-bit comparator decisions of one neuron: sign plus binary-search magnitude bits, per segment.
    public var decisionsPerNeuron: Int { segments.count * outputBits }

    /// Operations of the MVM: 2 per weight (multiply and accumulate), independent of the bit widths.
    public var ops: Double { 2 * Double(rows) * Double(cols) }

    /// Action counters of one MVM (docs/ir.md "Counters", docs/energy.md): word-line activations and input pulses
    /// per pulsed row per magnitude bit; column integrations per neuron sample-and-integrate; ADC conversions keyed by
    /// bit width 1, one per comparator decision of the binary search; shift-add elements for the two-phase sum; cycles
    /// from the target's timing parameters.
    public func counters(timing tm: TimingSpec) -> Counters {
        var c = Counters()
        c.timesteps = 1
        c.wlActivations = Int64((Double(rows * magnitudeBits) * activity).rounded())
        c.cellReads = c.wlActivations * Int64(cols)
        c.columnIntegrations = Int64(cols * samplesPerNeuron)
        c.adcConversions = [1: Int64(cols * decisionsPerNeuron)]
        c.digitalOps = Int64(cols * (segments.count - 1))
        c.synapticEvents = Int64((Double(rows * cols) * activity).rounded())
        c.denseSynapticOps = Int64(rows * cols)
        c.cycles = cycles(timing: tm)
        return c
    }

    /// Latency of one MVM, cycles: per segment, each magnitude bit settles once (word-line pulse) and integrates 2^(k-1)
    /// times; then the binary-search conversion (`outputBits` SAR steps, every column has its own neuron when
    /// `cols_per_adc` is 1); then one shift-add pass when there are two segments.
    public func cycles(timing tm: TimingSpec) -> Int64 {
        var n: Int64 = 0
        let rounds = Int64(min(tm.colsPerADC, cols))
        for m in segments {
            for k in 1...m { n += Int64(tm.settleCycles) + Int64(1 << (k - 1)) * Int64(tm.integrateCycles) }
            n += rounds * Int64(tm.conversionCycles(bits: outputBits))
        }
        if segments.count > 1 { n += Int64((cols + tm.digitalLanes - 1) / tm.digitalLanes) }
        return n
    }

    /// A one-array program standing for the core (for the area terms of the report; it has no ops, so no read physics).
    public func program(target t: Target) -> Program {
        let codeBits = max(1, Int.bitWidth - (t.cell.levels - 1).leadingZeroBitCount)
        let a = ArrayDecl(name: "core", macro: 0, index: 0, rows: rows, cols: cols, gUnitNS: t.cell.gUnitNS,
                          codeType: .u(codeBits), codes: [Int32](repeating: 0, count: rows * cols))
        return Program(name: "neurram-mvm-\(outputBits)o\(inputBits)i", target: t.name, timesteps: 1, inputs: [],
                       neurons: [], arrays: [a], readouts: [], step: [])
    }

    /// The MVM priced by the target's energy table, through the same `CostModel` as emulated runs.
    public func report(target t: Target) -> CostReport {
        CostModel.report(counters: counters(timing: t.timing), program: program(target: t), target: t, samples: 1)
    }
}
