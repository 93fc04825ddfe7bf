import Foundation
import TOMLKit
import XbarCore

/// Reads target TOML files, strictly: unknown keys, missing keys, wrong types and out-of-range values are errors
/// naming the file and the dotted key.
public enum TargetLoader {
    public static func load(_ path: String) throws -> Target {
        try parse(try AtomicFile.readText(path), file: path)
    }

    /// Resolves a name like `ideal` to `targets/ideal.toml` (searching `searchDirs`), or loads a path.
    /// `overrides` are `--set` assignments (TABLE.KEY=VALUE, see `TargetOverride`) applied before validation.
    public static func resolve(_ nameOrPath: String, searchDirs: [String], overrides: [String] = []) throws -> Target {
        if nameOrPath.hasSuffix(".toml") || nameOrPath.contains("/") {
            return try TargetOverride.load(nameOrPath, assignments: overrides)
        }
        for d in searchDirs {
            let p = (d as NSString).appendingPathComponent(nameOrPath + ".toml")
            if FileManager.default.fileExists(atPath: p) { return try TargetOverride.load(p, assignments: overrides) }
        }
        throw XbarError(file: nameOrPath, field: "target", "no such target (looked in \(searchDirs.joined(separator: ", ")))")
    }

    public static func parse(_ text: String, file: String) throws -> Target {
        let root = try TOMLText.parse(text, file: file)
        let r = TableReader(table: root, path: "", file: file)
        let t = try r.table("target")
        let m = try r.table("macro")
        let c = try r.table("cell")
        let rd = try r.table("read")
        let a = try r.table("adc")
        let n = try r.table("neuron")
        let ro = try r.table("readout")
        let mp = try r.table("mapping")
        let ck = try r.table("clock")

        let cell = CellSpec(gMinUS: try c.double("g_min_us", min: 0, max: 1e4),
                            gMaxUS: try c.double("g_max_us", min: 0, max: 1e4),
                            levels: try c.int("levels", min: 2, max: 1 << 16),
                            gUnitNS: try c.double("g_unit_ns", min: 1e-6, max: 1e6),
                            unusedUS: try c.double("unused_us", min: 0, max: 1e4))
        guard cell.gMaxUS > cell.gMinUS else {
            throw XbarError(file: file, field: "cell.g_max_us", "must be greater than cell.g_min_us (\(cell.gMinUS))")
        }
        let adc = ADCSpec(bits: try a.int("bits", min: 1, max: 24),
                          lsbUS: try a.optionalDouble("lsb_us", min: 1e-9, max: 1e6),
                          fullScaleUS: try a.optionalDouble("full_scale_us", min: 1e-9, max: 1e9),
                          offsetUS: try a.optionalDouble("offset_us", min: -1e6, max: 1e6) ?? 0,
                          rounding: try a.enumValue("rounding", Rounding.self))
        guard (adc.lsbUS == nil) != (adc.fullScaleUS == nil) else {
            throw XbarError(file: file, field: "adc", "give exactly one of lsb_us or full_scale_us")
        }
        let target = Target(
            name: try t.string("name"),
            description: try t.optionalString("description") ?? "",
            technologyNM: try t.int("technology_nm", min: 1, max: 10_000),
            macro: MacroSpec(count: try m.int("count", min: 1, max: 1 << 16), arrays: try m.int("arrays", min: 1, max: 1 << 16),
                             rows: try m.int("rows", min: 1, max: 1 << 14), cols: try m.int("cols", min: 2, max: 1 << 14)),
            cell: cell,
            read: ReadSpec(vReadMV: try rd.double("v_read_mv", min: 1e-3, max: 1e4),
                           tReadNS: try rd.double("t_read_ns", min: 1e-3, max: 1e9)),
            adc: adc,
            neuron: NeuronSpec(memBits: try n.int("mem_bits", min: 4, max: 40), fracBits: try n.int("frac_bits", min: 0, max: 24),
                               decayBits: try n.int("decay_bits", min: 1, max: 20),
                               decayRounding: try n.enumValue("decay_rounding", Rounding.self),
                               memOverflow: try n.enumValue("overflow", Overflow.self),
                               countBits: try n.int("count_bits", min: 1, max: 31),
                               refractoryBits: try n.int("refractory_bits", min: 1, max: 16)),
            readout: ReadoutSpec(weightBits: try ro.int("weight_bits", min: 2, max: 16), accBits: try ro.int("acc_bits", min: 8, max: 48)),
            mapping: MappingSpec(slices: try mp.int("slices", min: 1, max: 8),
                                 weightRounding: try mp.enumValue("weight_rounding", Rounding.self),
                                 scaleRounding: try mp.enumValue("scale_rounding", Rounding.self)),
            clockMHz: try ck.double("mhz", min: 1e-3, max: 1e5))
        guard pow(Double(target.cell.levels), Double(target.mapping.slices)) <= Double(1 << 24) else {
            throw XbarError(file: file, field: "mapping.slices", "cell.levels ^ slices must be <= 2^24")
        }
        guard target.macro.cols % (2 * target.mapping.slices) == 0 else {
            throw XbarError(file: file, field: "macro.cols", "must be a multiple of 2 x mapping.slices")
        }
        var target2 = target
        var readers = [r, t, m, c, rd, a, n, ro, mp, ck]
        if r.table.contains(key: "device") {
            let (spec, used) = try DeviceLoader.parse(try r.table("device"), cell: cell)
            target2.device = spec
            readers += used
        } else {
            r.seen.insert("device")
        }
        if let tm = try r.optionalTable("timing") {
            readers.append(tm)
            var x = TimingSpec()
            x.maxRowsDriven = try tm.int("max_rows_driven", min: 1, max: 1 << 16)
            x.colsPerADC = try tm.int("cols_per_adc", min: 1, max: 1 << 14)
            x.adcKind = try tm.enumValue("adc_kind", TimingSpec.ADCKind.self)
            x.adcCyclesPerBit = try tm.int("adc_cycles_per_bit", min: 1, max: 1 << 10)
            x.adcOverheadCycles = try tm.int("adc_overhead_cycles", min: 0, max: 1 << 16)
            x.settleCycles = try tm.int("settle_cycles", min: 0, max: 1 << 16)
            x.integrateCycles = try tm.int("integrate_cycles", min: 1, max: 1 << 16)
            x.digitalLanes = try tm.int("digital_lanes", min: 1, max: 1 << 16)
            x.neuronUnits = try tm.int("neuron_units", min: 1, max: 1 << 16)
            x.neuronPipeline = try tm.int("neuron_pipeline", min: 1, max: 1 << 10)
            x.routerQueue = try tm.int("router_queue", min: 1, max: 1 << 20)
            x.routerSpikesPerCycle = try tm.int("router_spikes_per_cycle", min: 1, max: 1 << 16)
            x.readoutMACs = try tm.int("readout_macs", min: 1, max: 1 << 16)
            if let w = try tm.optionalDouble("write_pulse_cycles", min: 1, max: Double(1 << 20)) {
                guard w == w.rounded() else { throw XbarError(file: file, field: "timing.write_pulse_cycles", "expected an integer") }
                x.writePulseCycles = Int(w)
            }
            guard x.routerQueue >= x.neuronUnits else {
                throw XbarError(file: file, field: "timing.router_queue", "must be >= timing.neuron_units (\(x.neuronUnits)): one pipeline group must fit")
            }
            target2.timing = x
        }
        if let en = try r.optionalTable("energy") {
            readers.append(en)
            var e = EnergySpec()
            func v(_ k: String) throws -> Double { try en.optionalDouble(k, min: 0, max: 1e9) ?? 0 }
            e.wlActivationPJ = try v("wl_activation_pj")
            e.inputPulsePJ = try v("input_pulse_pj")
            e.adcFixedFJ = try v("adc_fixed_fj")
            e.adcPerStepFJ = try v("adc_per_step_fj")
            e.columnReadPJ = try v("column_read_pj")
            e.shiftAddPJ = try v("shift_add_pj")
            e.neuronUpdatePJ = try v("neuron_update_pj")
            e.spikeRoutePJ = try v("spike_route_pj")
            e.sramAccessPJ = try v("sram_access_pj")
            e.cellWritePJ = try v("cell_write_pj")
            e.verifyPJ = try v("verify_pj")
            e.leakageMW = try v("leakage_mw")
            target2.energy = e
        }
        if let ar = try r.optionalTable("area") {
            readers.append(ar)
            var a = AreaSpec()
            func v(_ k: String) throws -> Double { try ar.optionalDouble(k, min: 0, max: 1e6) ?? 0 }
            a.arrayMM2 = try v("array_mm2")
            a.adcMM2 = try v("adc_mm2")
            a.neuronUnitMM2 = try v("neuron_unit_mm2")
            a.routerMM2 = try v("router_mm2")
            a.digitalMM2 = try v("digital_mm2")
            target2.area = a
        }
        for tr in readers { try tr.rejectUnknown() }
        return target2
    }
}

/// Typed access to one TOML table that remembers which keys were read, so unknown keys can be refused.
final class TableReader {
    let table: TOMLTable
    let path: String
    let file: String
    var seen = Set<String>()

    init(table: TOMLTable, path: String, file: String) {
        self.table = table
        self.path = path
        self.file = file
    }

    func key(_ k: String) -> String { path.isEmpty ? k : "\(path).\(k)" }
    func fail(_ k: String, _ m: String) -> XbarError { XbarError(file: file, field: key(k), m) }

    func value(_ k: String) throws -> TOMLValueConvertible {
        seen.insert(k)
        guard let v = table[k] else { throw fail(k, "missing (required)") }
        return v
    }

    func table(_ k: String) throws -> TableReader {
        guard let t = try value(k).table else { throw fail(k, "expected a table [\(key(k))]") }
        return TableReader(table: t, path: key(k), file: file)
    }

    func int(_ k: String, min: Int, max: Int) throws -> Int {
        guard let v = try value(k).int else { throw fail(k, "expected an integer") }
        guard v >= min && v <= max else { throw fail(k, "\(v) out of range \(min)...\(max)") }
        return v
    }

    func double(_ k: String, min: Double, max: Double) throws -> Double {
        let raw = try value(k)
        guard let v = raw.double ?? raw.int.map(Double.init) else { throw fail(k, "expected a number") }
        guard v.isFinite, v >= min && v <= max else { throw fail(k, "\(v) out of range \(min)...\(max)") }
        return v
    }

    func optionalDouble(_ k: String, min: Double, max: Double) throws -> Double? {
        seen.insert(k)
        return table[k] == nil ? nil : try double(k, min: min, max: max)
    }

    func string(_ k: String) throws -> String {
        guard let s = try value(k).string else { throw fail(k, "expected a string") }
        return s
    }

    func optionalString(_ k: String) throws -> String? {
        seen.insert(k)
        return table[k] == nil ? nil : try string(k)
    }

    func enumValue<E: RawRepresentable & CaseIterable>(_ k: String, _ e: E.Type) throws -> E where E.RawValue == String {
        let s = try string(k)
        guard let v = E(rawValue: s) else {
            throw fail(k, "expected one of \(E.allCases.map { $0.rawValue }.joined(separator: ", ")), found \"\(s)\"")
        }
        return v
    }

    func rejectUnknown() throws {
        for k in table.keys.sorted() where !seen.contains(k) {
            throw fail(k, "unknown key")
        }
    }
}
