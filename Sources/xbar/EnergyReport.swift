import Foundation
import XbarCore
import XbarCost
import XbarTarget

/// The energy/latency/area part of the run report.
enum EnergyReport {
    static func json(_ c: CostReport) -> JSONValue {
        .object([
            ("per_sample_pj", .object(c.components.map { ($0.name, .double($0.pJ / Double(max(c.samples, 1)))) })),
            ("total_per_sample_pj", .double(c.perSamplePJ)),
            ("total_per_step_pj", .double(c.perStepPJ)),
            ("latency_cycles_per_sample", .double(c.latencyCyclesPerSample)),
            ("latency_seconds_per_sample", .double(c.latencySecondsPerSample)),
            ("event_ops", .double(c.eventOps)), ("dense_ops", .double(c.denseOps)),
            ("tops_per_w_event", .double(c.eventTOPSPerW)), ("tops_per_w_dense_equivalent", .double(c.denseTOPSPerW)),
            ("programming_pj", .double(c.programmingPJ)), ("programming_pulses", .int(c.programmingPulses)),
            ("area_mm2", .object(c.area.map { ($0.name, .double($0.mm2)) })),
            ("total_area_mm2", .double(c.totalAreaMM2)),
        ])
    }

    static func table(_ c: CostReport, target t: Target) -> String {
        var s = "energy per sample (target \(t.name), \(String(format: "%.0f", t.clockMHz)) MHz):\n"
        let total = max(c.perSamplePJ, 1e-30)
        for comp in c.components {
            let v = comp.pJ / Double(max(c.samples, 1))
            s += "  " + comp.name.padding(toLength: 22, withPad: " ", startingAt: 0)
                + String(format: "%14.2f pJ  %5.1f%%\n", v, 100 * v / total)
        }
        s += "  " + "total".padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%14.2f pJ  (%.2f pJ per timestep)\n", c.perSamplePJ, c.perStepPJ)
        s += String(format: "latency: %.0f cycles = %.3f us per sample\n", c.latencyCyclesPerSample, c.latencySecondsPerSample * 1e6)
        s += String(format: "efficiency: %.3g TOPS/W event-driven (%.3g ops), %.3g TOPS/W dense-equivalent (%.3g ops)\n",
                    c.eventTOPSPerW, c.eventOps / Double(max(c.samples, 1)), c.denseTOPSPerW, c.denseOps / Double(max(c.samples, 1)))
        if c.programmingPulses > 0 {
            s += String(format: "programming (once per chip): %lld pulses, %.3g nJ\n", c.programmingPulses, c.programmingPJ / 1000)
        }
        s += String(format: "area: %.4f mm^2 (", c.totalAreaMM2) + c.area.map { String(format: "%@ %.4f", $0.name, $0.mm2) }.joined(separator: ", ") + ")"
        return s
    }
}
