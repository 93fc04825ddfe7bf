import Foundation
import XbarCompiler
import XbarCore
import XbarEmulator
import XbarEvents
import XbarIR
import XbarTarget

/// The run report: a table for people, JSON for tools (docs/report.md).
enum EmulationReport {
    static func counters(_ c: Counters) -> JSONValue {
        .object([
            ("timesteps", .int(c.timesteps)),
            ("wl_activations", .int(c.wlActivations)),
            ("cell_reads", .int(c.cellReads)),
            ("adc_conversions", .object(c.adcConversions.keys.sorted().map { ("\($0)_bit", .int(c.adcConversions[$0]!)) })),
            ("neuron_updates", .int(c.neuronUpdates)),
            ("spikes", .int(c.spikes)),
            ("synaptic_events", .int(c.synapticEvents)),
            ("dense_synaptic_ops", .int(c.denseSynapticOps)),
            ("readout_macs", .int(c.readoutMACs)),
            ("cycles", .int(c.cycles)),
            ("column_integrations", .int(c.columnIntegrations)),
            ("digital_ops", .int(c.digitalOps)),
        ])
    }

    static func accuracy(_ data: EventDataset, _ o: Runner.Outcome, _ p: Program) -> (Int, Int)? {
        guard let r = p.readouts.first else { return nil }
        var right = 0, total = 0
        for (s, res) in zip(data.samples, o.samples) {
            guard let l = s.label, let pr = res.prediction(r.name) else { continue }
            total += 1
            if pr == l { right += 1 }
        }
        return total > 0 ? (right, total) : nil
    }

    static func device(_ chip: Chip, _ t: Target, _ options: EngineOptions) -> JSONValue {
        let d = t.device
        var f: [(String, JSONValue)] = [("ideal", .bool(options.idealDevice || d.isIdeal))]
        if !(options.idealDevice || d.isIdeal) {
            f.append(("programming", .string(d.programming.rawValue)))
            f.append(("sigma_preset", .string(d.sigma.preset)))
            f.append(("effects", .array([d.readNoise != nil ? "read_noise" : nil, d.faults != nil ? "stuck_at" : nil,
                                          d.drift != nil ? "relaxation" : nil, d.irDrop != nil ? "ir_drop" : nil,
                                          d.adc != nil ? "adc_noise" : nil].compactMap { $0.map { JSONValue.string($0) } })))
            f.append(("programming_pulses", .int(chip.programmingPulses)))
            f.append(("write_verify_not_converged", .int(Int64(chip.realised.reduce(0) { $0 + $1.nonConvergedCount }))))
            f.append(("stuck_cells", .int(Int64(chip.realised.reduce(0) { $0 + $1.stuckCount }))))
        }
        return .object(f)
    }

    static func json(program p: Program, input: String, data: EventDataset, outcome o: Runner.Outcome, options: EngineOptions,
                     chip: Chip, target: Target) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("tool", .string("neuroxbar")), ("version", .string(toolVersion)),
            ("program", .object([("name", .string(p.name)), ("target", .string(p.target)), ("ir_version", .int(Int64(p.version))),
                                 ("timesteps", .int(Int64(p.timesteps))), ("arrays", .int(Int64(p.arrays.count))),
                                 ("neurons", .int(Int64(p.neurons.reduce(0) { $0 + $1.size })))])),
            ("input", .string((input as NSString).lastPathComponent)),
            ("engine", .string(options.engine.rawValue)),
            ("seed", options.seed <= UInt64(Int64.max) ? .int(Int64(options.seed)) : .string(String(options.seed))),
            ("samples", .int(Int64(o.samples.count))),
            ("device", device(chip, target, options)),
            ("counters", counters(o.totals)),
        ]
        if let (r, t) = accuracy(data, o, p) {
            fields.append(("accuracy", .object([("correct", .int(Int64(r))), ("labelled", .int(Int64(t))), ("fraction", .double(Double(r) / Double(t)))])))
        }
        if options.engine == .exact { fields.append(("overflow_events", .int(Int64(o.overflowTotal)))) }
        fields.append(("per_sample", .array(zip(data.samples, o.samples).enumerated().map { i, pair in
            let (s, r) = pair
            var f: [(String, JSONValue)] = [("index", .int(Int64(i))), ("label", s.label.map { .int(Int64($0)) } ?? .null)]
            f.append(("spikes", .object(p.neurons.map { ($0.name, .int(Int64(r.spikes[$0.name]?.count ?? 0))) })))
            for ro in p.readouts {
                f.append(("prediction", r.prediction(ro.name).map { .int(Int64($0)) } ?? .null))
                f.append(("readout", .array((r.readout[ro.name] ?? []).map { .int($0) })))
            }
            return .object(f)
        })))
        fields.append(("timing", .object([("wall_seconds", .double(o.wallSeconds)),
                                          ("samples_per_second", .double(Double(o.samples.count) / max(o.wallSeconds, 1e-9)))])))
        return .object(fields)
    }

    static func rasterCSV(_ o: Runner.Outcome) -> String {
        var s = "sample,population,step,neuron\n"
        for (i, r) in o.samples.enumerated() {
            for pop in r.spikes.keys.sorted() {
                for sp in r.spikes[pop]! { s += "\(i),\(pop),\(sp.step),\(sp.neuron)\n" }
            }
        }
        return s
    }

    static func table(program p: Program, input: String, data: EventDataset, outcome o: Runner.Outcome, options: EngineOptions,
                      stats: CompileStats?, chip: Chip, target: Target) -> String {
        let c = o.totals
        let n = max(o.samples.count, 1)
        var s = "NeuroXbar \(toolVersion) — \(p.name) on \(p.target) (\(options.engine.rawValue) engine, seed \(options.seed))\n"
        s += "input: \((input as NSString).lastPathComponent), \(o.samples.count) samples x \(p.timesteps) steps, \(data.channels) channels\n"
        if let st = stats {
            s += String(format: "mapping: %d tiles on %d macro(s), %.1f%% of their cells used\n", st.tiles.count, st.macrosUsed,
                        100 * Double(st.cellsUsed) / Double(max(st.cellsTotal, 1)))
        }
        if options.idealDevice || target.device.isIdeal {
            s += "device: ideal (reads return the programmed conductances)\n"
        } else {
            let d = target.device
            var parts = ["programming \(d.programming.rawValue)"]
            if d.sigma.preset != "none" { parts.append("sigma(G) \(d.sigma.preset)") }
            if let r = d.readNoise { parts.append(String(format: "read noise %.3g uS + %.3g G", r.absUS, r.relative)) }
            if let f = d.faults { parts.append(String(format: "stuck-on %.2g, stuck-off %.2g", f.stuckOnRate, f.stuckOffRate)) }
            if d.drift != nil { parts.append(String(format: "relaxation at %.3g s", options.age ?? d.drift!.ageS)) }
            if let i = d.irDrop { parts.append(String(format: "IR drop %.3g ohm/cell", i.wireOhmPerCell)) }
            if d.adc != nil { parts.append("ADC offset/gain/noise") }
            s += "device: " + parts.joined(separator: ", ") + "\n"
            if let f = stats?.unformedFraction { s += String(format: "forming: %.1f%% of used cells left unformed\n", 100 * f) }
            let bad = chip.realised.reduce(0) { $0 + $1.nonConvergedCount }
            if chip.programmingPulses > 0 { s += "programming: \(chip.programmingPulses) pulses, \(bad) cells did not converge\n" }
        }
        s += "\nspikes (first sample shown as a raster, '|' = spike):\n"
        if let first = o.samples.first {
            for pop in p.neurons {
                let sp = first.spikes[pop.name] ?? []
                s += "  @\(pop.name): \(sp.count) spikes, \(Set(sp.map { $0.neuron }).count) of \(pop.size) neurons active\n"
                let show = min(pop.size, 16)
                for i in 0..<show {
                    var line = [Character](repeating: ".", count: p.timesteps)
                    for x in sp where x.neuron == i { line[Int(x.step)] = "|" }
                    s += String(format: "    %4d ", i) + String(line) + "\n"
                }
                if pop.size > show { s += "    ... (\(pop.size - show) more neurons)\n" }
            }
        }
        if let ro = p.readouts.first {
            s += "\nreadout @\(ro.name) (\(ro.classes) classes, value = acc x \(String(format: "%.4g", ro.scale))):\n"
            for (i, (smp, r)) in zip(data.samples, o.samples).enumerated().prefix(10) {
                let y = r.readout[ro.name] ?? []
                let pred = r.prediction(ro.name).map(String.init) ?? "-"
                let lab = smp.label.map(String.init) ?? "-"
                s += "  sample \(i): label \(lab)  predicted \(pred)  [" + y.map { String(format: "%.2f", Double($0) * ro.scale) }.joined(separator: " ") + "]\n"
            }
            if o.samples.count > 10 { s += "  ... (\(o.samples.count - 10) more samples)\n" }
            if let (r, t) = accuracy(data, o, p) {
                s += String(format: "  accuracy: %d/%d = %.2f%%\n", r, t, 100 * Double(r) / Double(t))
            }
        }
        s += "\nops per sample (mean over \(o.samples.count)):\n"
        func row(_ name: String, _ v: Int64) -> String {
            "  " + name.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "%14.1f\n", Double(v) / Double(n))
        }
        s += row("timesteps", c.timesteps)
        s += row("word-line activations", c.wlActivations)
        s += row("cell reads", c.cellReads)
        for b in c.adcConversions.keys.sorted() { s += row("ADC conversions (\(b)-bit)", c.adcConversions[b]!) }
        s += row("neuron updates", c.neuronUpdates)
        s += row("spikes", c.spikes)
        s += row("synaptic ops (event-driven)", c.synapticEvents)
        s += row("synaptic ops (dense ANN)", c.denseSynapticOps)
        s += row("readout MACs", c.readoutMACs)
        if c.denseSynapticOps > 0 {
            s += "  " + "event-driven / dense ops".padding(toLength: 30, withPad: " ", startingAt: 0)
                + String(format: "%13.1f%%\n", 100 * Double(c.synapticEvents) / Double(c.denseSynapticOps))
        }
        if options.engine == .exact { s += "\nexact engine: \(o.overflowTotal) value(s) saturated or wrapped\n" }
        s += String(format: "\nwall time %.3f s (%.1f samples/s)", o.wallSeconds, Double(o.samples.count) / max(o.wallSeconds, 1e-9))
        return s
    }
}
