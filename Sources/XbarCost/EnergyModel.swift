import XbarEmulator
import XbarIR
import XbarTarget

/// Energy, latency, throughput and area of a run: action counts x the target's per-action energies, plus the
/// analog read energy from physics, V^2 x G x t over the cells actually read (docs/energy.md).
public struct CostReport: Equatable, Sendable {
    /// (component, pJ) over the whole run, in a fixed order.
    public var components: [(name: String, pJ: Double)]
    public var samples: Int
    public var timesteps: Int
    public var cycles: Int64
    public var clockMHz: Double
    /// Event-driven and dense-equivalent operations (2 per synaptic multiply-accumulate).
    public var eventOps: Double
    public var denseOps: Double
    /// One-time programming energy of the chip (pJ) and its pulses.
    public var programmingPJ: Double
    public var programmingPulses: Int64
    /// Area of the macros used, per component (mm^2).
    public var area: [(name: String, mm2: Double)]

    public static func == (a: CostReport, b: CostReport) -> Bool {
        a.components.map { $0.name } == b.components.map { $0.name } && a.components.map { $0.pJ } == b.components.map { $0.pJ }
            && a.cycles == b.cycles && a.samples == b.samples
    }

    public var totalPJ: Double { components.reduce(0) { $0 + $1.pJ } }
    public var perSamplePJ: Double { totalPJ / Double(max(samples, 1)) }
    public var perStepPJ: Double { perSamplePJ / Double(max(timesteps, 1)) }
    public var seconds: Double { Double(cycles) / (clockMHz * 1e6) }
    public var latencyCyclesPerSample: Double { Double(cycles) / Double(max(samples, 1)) }
    public var latencySecondsPerSample: Double { seconds / Double(max(samples, 1)) }
    /// Tera-operations per second per watt = ops per pJ.
    public var eventTOPSPerW: Double { totalPJ > 0 ? eventOps / totalPJ : 0 }
    public var denseTOPSPerW: Double { totalPJ > 0 ? denseOps / totalPJ : 0 }
    public var totalAreaMM2: Double { area.reduce(0) { $0 + $1.mm2 } }
}

/// Prices counters with a target's energy table.
public enum CostModel {
    public static func report(counters c: Counters, program p: Program, target t: Target, samples: Int,
                              programmingPulses: Int64 = 0) -> CostReport {
        let e = t.energy
        var readPhysicsPJ = 0.0
        let gUnit = Dictionary(p.arrays.map { ($0.name, $0.gUnitNS) }, uniquingKeysWith: { a, _ in a })
        for (k, sum) in c.readCodeSums.sorted(by: { $0.key < $1.key }) {
            guard case let .read(a, _, _, _, vMV, tNS) = p.step[k].kind, let gUnitNS = gUnit[a] else { continue }
            let siemens = Double(sum) * gUnitNS * 1e-9
            let v = vMV / 1000
            readPhysicsPJ += v * v * siemens * tNS * 1e-9 * 1e12
        }
        let adcPJ = c.adcConversions.sorted(by: { $0.key < $1.key }).reduce(0.0) { $0 + Double($1.value) * e.adcPJ(bits: $1.key) }
        let seconds = Double(c.cycles) / (t.clockMHz * 1e6)
        let components: [(String, Double)] = [
            ("wl_switching", Double(c.wlActivations) * e.wlActivationPJ),
            ("input_pulses", Double(c.wlActivations) * e.inputPulsePJ),
            ("array_read_physics", readPhysicsPJ),
            ("column_integration", Double(c.columnIntegrations) * e.columnReadPJ),
            ("adc", adcPJ),
            ("shift_add", Double(c.digitalOps) * e.shiftAddPJ),
            ("neuron_update", Double(c.neuronUpdates) * e.neuronUpdatePJ),
            ("spike_routing", Double(c.spikes) * e.spikeRoutePJ),
            ("sram", Double(2 * c.neuronUpdates + c.readoutMACs) * e.sramAccessPJ),
            ("readout_mac", Double(c.readoutMACs) * e.shiftAddPJ),
            ("leakage", e.leakageMW * 1e-3 * seconds * 1e12),
        ]
        let macros = Set(p.arrays.map { $0.macro }).count
        let adcs = p.arrays.reduce(0) { $0 + ($1.cols + t.timing.colsPerADC - 1) / t.timing.colsPerADC }
        let units = min(t.timing.neuronUnits, 1 << 12)
        let area: [(String, Double)] = [
            ("arrays", Double(p.arrays.count) * t.area.arrayMM2),
            ("adcs", Double(adcs) * t.area.adcMM2),
            ("neuron_units", Double(units * macros) * t.area.neuronUnitMM2),
            ("router", Double(macros) * t.area.routerMM2),
            ("digital", Double(macros) * t.area.digitalMM2),
        ]
        return CostReport(components: components.map { (name: $0.0, pJ: $0.1) }, samples: samples, timesteps: p.timesteps,
                          cycles: c.cycles, clockMHz: t.clockMHz, eventOps: 2 * Double(c.synapticEvents),
                          denseOps: 2 * Double(c.denseSynapticOps),
                          programmingPJ: Double(programmingPulses) * (e.cellWritePJ + e.verifyPJ), programmingPulses: programmingPulses,
                          area: area.map { (name: $0.0, mm2: $0.1) })
    }
}
