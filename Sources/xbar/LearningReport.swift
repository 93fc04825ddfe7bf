import Foundation
import XbarCore
import XbarEmulator
import XbarIR
import XbarTarget

/// The learning section of a run of a plastic program (docs/report.md, "learning"): what the learning ops did, the
/// pulses' write energy and latency, and the wear of the cells after the run.
struct LearningReport {
    let counters: LearningCounters
    /// Write energy of every pulse and verify read (pJ), from the target's `[energy]` table.
    let writeEnergyPJ: Double
    /// Cells by pulses since the chip was realised: bucket 0 = never written, k >= 1 = [2^(k-1), 2^k).
    let wearHistogram: [Int64]
    let maxWrites: UInt32
    /// Cells written more often than the device's endurance (`device.update.endurance_cycles`).
    let wornOut: Int64
    let cells: Int64
    /// Digital SRAM of the learning ops (`Program.learningSRAMBits`).
    let sram: (state: Int, configuration: Int)

    init(counters c: LearningCounters, state: ChipState, target: Target, program: Program) {
        counters = c
        sram = program.learningSRAMBits
        writeEnergyPJ = Double(c.pulses) * target.energy.cellWritePJ + Double(c.verifyReads) * target.energy.verifyPJ
        var hist = [Int64](repeating: 0, count: 34)
        var worn: Int64 = 0, top: UInt32 = 0, n: Int64 = 0
        let endurance = target.device.update?.enduranceCycles
        for (a, w) in state.writes.enumerated() {
            n += Int64(state.codes[a].count)
            guard let w else { hist[0] += Int64(state.codes[a].count); continue }
            for x in w {
                hist[x == 0 ? 0 : UInt32.bitWidth - x.leadingZeroBitCount] += 1
                top = Swift.max(top, x)
                if let e = endurance, x > e { worn += 1 }
            }
        }
        while hist.count > 1 && hist.last == 0 { hist.removeLast() }
        wearHistogram = hist
        maxWrites = top
        wornOut = worn
        cells = n
    }

    var json: JSONValue {
        .object([
            ("set_pulses", .int(counters.setPulses)), ("reset_pulses", .int(counters.resetPulses)),
            ("verify_reads", .int(counters.verifyReads)), ("trace_updates", .int(counters.traceUpdates)),
            ("eligibility_updates", .int(counters.eligibilityUpdates)), ("modulator_updates", .int(counters.modulatorUpdates)),
            ("homeostasis_updates", .int(counters.homeostasisUpdates)), ("write_energy_pj", .double(writeEnergyPJ)),
            ("wear_histogram", .array(wearHistogram.map { .int($0) })), ("max_writes_per_cell", .int(Int64(maxWrites))),
            ("cells_worn_out", .int(wornOut)), ("cells", .int(cells)),
            ("sram_state_bits", .int(Int64(sram.state))), ("sram_configuration_bits", .int(Int64(sram.configuration))),
        ])
    }

    var table: String {
        var s = "learning (on-chip, samples in order):\n"
        s += "  pulses: \(counters.setPulses) SET, \(counters.resetPulses) RESET, \(counters.verifyReads) pair reads\n"
        s += String(format: "  write energy: %.4g pJ; trace updates %lld, eligibility updates %lld\n", writeEnergyPJ,
                    counters.traceUpdates, counters.eligibilityUpdates)
        let buckets = wearHistogram.enumerated().map { k, v in k == 0 ? "0: \(v)" : "\(1 << (k - 1))-\((1 << k) - 1): \(v)" }
        s += "  wear (cells by pulses): " + buckets.joined(separator: ", ") + "\n"
        s += "  most-written cell: \(maxWrites) pulses; cells worn out: \(wornOut) of \(cells)\n"
        s += "  learning SRAM: \(sram.state) state bits (traces, eligibilities, modulators), \(sram.configuration) configuration bits\n"
        return s
    }
}
