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
        if let u = try sub("update") {
            spec.update = try parseUpdate(u, cell: cell)
        }
        return (spec, used)
    }

    /// `[device.update]`: the pulse-response model of a cell (docs/device.md, "Conductance updates").
    static func parseUpdate(_ u: TableReader, cell: CellSpec) throws -> UpdateSpec {
        let model = try u.enumValue("model", UpdateSpec.Model.self)
        for (m, keys) in UpdateSpec.modelKeys where m != model {
            for k in keys where u.table.contains(key: k) {
                throw u.fail(k, "only used by model = \"\(m.rawValue)\" (this table has model = \"\(model.rawValue)\")")
            }
        }
        var x = UpdateSpec(model: model, dwMinUS: try u.double("dw_min_us", min: -1e4, max: 1e4))
        x.gMinUS = try u.optionalDouble("g_min_us", min: 0, max: 1e4)
        x.gMaxUS = try u.optionalDouble("g_max_us", min: 0, max: 1e4)
        let lo = x.gMinUS ?? cell.gMinUS, hi = x.gMaxUS ?? cell.gMaxUS
        guard hi > lo else {
            throw u.fail(x.gMaxUS == nil ? "g_min_us" : "g_max_us", "the bounds need g_min_us < g_max_us (got \(lo) and \(hi) uS)")
        }
        guard x.dwMinUS > 0 else { throw u.fail("dw_min_us", "the step must be > 0 uS (got \(x.dwMinUS))") }
        guard x.dwMinUS <= hi - lo else {
            throw u.fail("dw_min_us", "the step \(x.dwMinUS) uS is larger than the range g_max_us - g_min_us = \(hi - lo) uS")
        }
        func opt(_ k: String, _ lo: Double, _ hi: Double, _ d: Double) throws -> Double { try u.optionalDouble(k, min: lo, max: hi) ?? d }
        x.upDown = try opt("up_down", -1, 1, 0)
        guard abs(x.upDown) < 1 else { throw u.fail("up_down", "must be strictly between -1 and 1 (got \(x.upDown))") }
        x.dwMinDtoD = try opt("dw_min_dtod", 0, 10, 0)
        x.upDownDtoD = try opt("up_down_dtod", 0, 10, 0)
        x.dwMinStd = try opt("dw_min_std", 0, 100, 0)
        x.dwStdUS = try opt("dw_std_us", 0, 1e4, 0)
        x.gMinDtoDUS = try opt("g_min_dtod_us", 0, 1e4, 0)
        x.gMaxDtoDUS = try opt("g_max_dtod_us", 0, 1e4, 0)
        x.writeNoiseUS = try opt("write_noise_us", 0, 1e4, 0)
        x.pulseNS = try opt("pulse_ns", 1e-3, 1e12, 100)
        if u.table.contains(key: "endurance_cycles") {
            x.enduranceCycles = UInt32(try u.int("endurance_cycles", min: 1, max: Int(UInt32.max)))
        }
        if let s = try u.optionalEnum("endurance_stuck", UpdateSpec.Stuck.self) {
            guard x.enduranceCycles != nil else { throw u.fail("endurance_stuck", "needs endurance_cycles") }
            x.enduranceStuck = s
        }
        try parseModelKeys(u, &x)
        return x
    }

    /// The keys of `x.model` alone (UpdateSpec.modelKeys).
    static func parseModelKeys(_ u: TableReader, _ x: inout UpdateSpec) throws {
        func opt(_ k: String, _ lo: Double, _ hi: Double, _ d: Double) throws -> Double { try u.optionalDouble(k, min: lo, max: hi) ?? d }
        switch x.model {
        case .constantStep, .softBounds: break
        case .linearStep:
            x.gammaUp = try opt("gamma_up", 0, 1, 0)
            x.gammaDown = try opt("gamma_down", 0, 1, 0)
            x.gammaUpDtoD = try opt("gamma_up_dtod", 0, 10, 0)
            x.gammaDownDtoD = try opt("gamma_down_dtod", 0, 10, 0)
        case .powStep:
            x.powGamma = try opt("pow_gamma", 1e-3, 100, 1)
            x.powGammaDtoD = try opt("pow_gamma_dtod", 0, 10, 0)
            x.powUpDown = try opt("pow_up_down", -1, 1, 0)
            guard abs(x.powUpDown) < 1 else { throw u.fail("pow_up_down", "must be strictly between -1 and 1 (got \(x.powUpDown))") }
            x.powUpDownDtoD = try opt("pow_up_down_dtod", 0, 10, 0)
        case .expStep:
            x.expAUp = try opt("exp_a_up", -1e6, 1e6, x.expAUp)
            x.expADown = try opt("exp_a_down", -1e6, 1e6, x.expADown)
            x.expGammaUp = try opt("exp_gamma_up", -1e3, 1e3, x.expGammaUp)
            x.expGammaDown = try opt("exp_gamma_down", -1e3, 1e3, x.expGammaDown)
            x.expA = try opt("exp_a", -1e3, 1e3, x.expA)
            x.expB = try opt("exp_b", -1e3, 1e3, x.expB)
        case .nonlinear:
            x.aLTP = try u.double("a_ltp", min: -1e4, max: 1e4)
            x.aLTD = try u.double("a_ltd", min: -1e4, max: 1e4)
            for (k, a) in [("a_ltp", x.aLTP), ("a_ltd", x.aLTD)] where abs(a) < 0.01 {
                throw u.fail(k, "the normalised A (A / Pmax) must be at least 0.01 in magnitude (got \(a))")
            }
        }
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
