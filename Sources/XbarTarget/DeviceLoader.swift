import TOMLKit
import XbarCore

/// Reads the optional `[device]` table of a target (schema in docs/device.md). An effect's sub-table that is
/// absent, or has `enabled = false`, is off.
enum DeviceLoader {
    static func parse(_ d: TableReader, cell: CellSpec) throws -> (DeviceSpec, [TableReader]) {
        var used = [d]
        var spec = DeviceSpec()
        spec.programming = try d.optionalEnum("programming", DeviceSpec.Programming.self) ?? .exact
        spec.sigma = SigmaSpec(preset: try d.optionalString("sigma_preset") ?? "none",
                               coefficients: try d.optionalDoubles("sigma_coefficients") ?? [])
        guard SigmaSpec.knownPresets.contains(spec.sigma.preset) else {
            throw d.fail("sigma_preset", "unknown preset \"\(spec.sigma.preset)\" (expected one of \(SigmaSpec.knownPresets.joined(separator: ", ")))")
        }
        if spec.sigma.preset == "custom" && spec.sigma.coefficients.isEmpty {
            throw d.fail("sigma_coefficients", "required when sigma_preset = \"custom\" (uS: c0 + c1*G + c2*G^2)")
        }
        func sub(_ k: String) throws -> TableReader? {
            guard let t = try d.optionalTable(k) else { return nil }
            used.append(t)
            return try t.optionalBool("enabled") == false ? nil : t
        }
        if let w = try sub("write_verify") {
            spec.writeVerify = WriteVerifySpec(toleranceUS: try w.double("tolerance_us", min: 1e-6, max: 1e4),
                                               maxPulses: try w.int("max_pulses", min: 1, max: 10_000))
        }
        if let f = try sub("forming") {
            spec.forming = FormingSpec(
                breakdownMeanV: try f.double("breakdown_mean_v", min: 0, max: 100),
                breakdownSigmaV: try f.double("breakdown_sigma_v", min: 0, max: 100),
                pulseV: try f.double("pulse_v", min: 0, max: 100),
                pulseNS: try f.double("pulse_ns", min: 1e-3, max: 1e12),
                referenceNS: try f.double("reference_ns", min: 1e-3, max: 1e12),
                voltsPerDecade: try f.double("volts_per_decade", min: 0, max: 100),
                formedMeanUS: try f.double("formed_mean_us", min: 0, max: 1e4),
                formedSigmaUS: try f.double("formed_sigma_us", min: 0, max: 1e4),
                overdriveUSPerV: try f.double("overdrive_us_per_v", min: 0, max: 1e4),
                formedMaxUS: try f.double("formed_max_us", min: 0, max: 1e4),
                pristineUS: try f.double("pristine_us", min: 0, max: 1e4),
                pristineSigmaUS: try f.double("pristine_sigma_us", min: 0, max: 1e4))
        }
        if spec.programming == .forming && spec.forming == nil {
            throw d.fail("forming", "programming = \"forming\" needs a [device.forming] table")
        }
        if let r = try sub("read_noise") {
            spec.readNoise = ReadNoiseSpec(relative: try r.double("relative", min: 0, max: 10), absUS: try r.double("abs_us", min: 0, max: 1e4))
        }
        if let f = try sub("faults") {
            spec.faults = FaultSpec(stuckOnRate: try f.double("stuck_on_rate", min: 0, max: 1),
                                    stuckOffRate: try f.double("stuck_off_rate", min: 0, max: 1),
                                    stuckOnUS: try f.double("stuck_on_us", min: 0, max: 1e4),
                                    stuckOffUS: try f.optionalDouble("stuck_off_us", min: 0, max: 1e4) ?? cell.unusedUS)
            if spec.faults!.stuckOnRate + spec.faults!.stuckOffRate > 1 {
                throw f.fail("stuck_off_rate", "stuck_on_rate + stuck_off_rate must be <= 1")
            }
        }
        if let t = try sub("drift") {
            spec.drift = DriftSpec(nu: try t.double("nu", min: 0, max: 1), t0S: try t.double("t0_s", min: 1e-12, max: 1e12),
                                   relaxRelative: try t.double("relax_relative", min: 0, max: 10),
                                   relaxAbsUS: try t.double("relax_abs_us", min: 0, max: 1e4),
                                   ageS: try t.double("age_s", min: 0, max: 1e12))
        }
        if let i = try sub("ir_drop") {
            spec.irDrop = IRDropSpec(wireOhmPerCell: try i.double("wire_ohm_per_cell", min: 0, max: 1e6))
        }
        if let a = try sub("adc_noise") {
            spec.adc = ADCNoiseSpec(offsetSigmaUS: try a.double("offset_sigma_us", min: 0, max: 1e6),
                                    gainSigma: try a.double("gain_sigma", min: 0, max: 1),
                                    noiseSigmaUS: try a.double("noise_sigma_us", min: 0, max: 1e6))
        }
        return (spec, used)
    }
}

extension TableReader {
    func optionalTable(_ k: String) throws -> TableReader? {
        seen.insert(k)
        guard let v = table[k] else { return nil }
        guard let t = v.table else { throw fail(k, "expected a table [\(key(k))]") }
        return TableReader(table: t, path: key(k), file: file)
    }

    func optionalBool(_ k: String) throws -> Bool? {
        seen.insert(k)
        guard let v = table[k] else { return nil }
        guard let b = v.bool else { throw fail(k, "expected true or false") }
        return b
    }

    func optionalEnum<E: RawRepresentable & CaseIterable>(_ k: String, _ e: E.Type) throws -> E? where E.RawValue == String {
        seen.insert(k)
        return table[k] == nil ? nil : try enumValue(k, e)
    }

    func optionalDoubles(_ k: String) throws -> [Double]? {
        seen.insert(k)
        guard let v = table[k] else { return nil }
        guard let a = v.array else { throw fail(k, "expected an array of numbers") }
        var out: [Double] = []
        for x in a {
            guard let d = x.double ?? x.int.map(Double.init), d.isFinite else { throw fail(k, "expected an array of numbers") }
            out.append(d)
        }
        guard out.count <= 8 else { throw fail(k, "at most 8 coefficients") }
        return out
    }
}
