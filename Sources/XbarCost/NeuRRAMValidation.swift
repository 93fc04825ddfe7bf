import Foundation
import XbarCore
import XbarTarget

/// NeuRRAM's published energy measurements (Wan et al., Nature 608, 504-512 (2022)), the points our energy constants
/// are fitted on, and the fit itself (docs/neurram-validation.md).
public enum NeuRRAMData {
    public struct Point: Equatable, Sendable {
        public var outputBits: Int
        public var inputBits: Int
        /// Measured energy efficiency, TOPS/W (two-phase mode; 1 MAC = 2 operations).
        public var topsPerW: Double
        public var label: String { "\(outputBits)/\(inputBits)" }
    }

    public static let source = "Wan et al., Nature 608, 504-512 (2022)"

    /// Measured efficiency by output/input bits (two-phase mode).
    public static let measured: [Point] = [
        Point(outputBits: 3, inputBits: 1, topsPerW: 43.1), Point(outputBits: 4, inputBits: 2, topsPerW: 40.3),
        Point(outputBits: 5, inputBits: 3, topsPerW: 23.1), Point(outputBits: 6, inputBits: 4, topsPerW: 16.0),
        Point(outputBits: 7, inputBits: 5, topsPerW: 11.0), Point(outputBits: 8, inputBits: 6, topsPerW: 8.26),
        Point(outputBits: 9, inputBits: 7, topsPerW: 7.75), Point(outputBits: 10, inputBits: 8, topsPerW: 6.44),
    ]

    /// Measured energy breakdown at 3/1, fJ per operation.
    public static let breakdownPoint = (outputBits: 3, inputBits: 1)
    public static let breakdown: [(name: String, fJPerOp: Double)] = [
        ("WL switching", 8.99), ("input pulses", 3.45), ("neuron + control", 10.62),
    ]

    /// The measured points the energy constants are fitted on (only the 3/1 breakdown), and the constants fitted.
    public static let fittedPoints: [String] = ["3/1"]
    public static let fittedKeys: [String] = ["wl_activation_pj", "input_pulse_pj", "adc_fixed_fj"]
    /// `[energy]` keys the MVM workload is priced by but that are not fitted: they must be 0 (or absent) in the target,
    /// so that exactly the three fitted constants produce the predictions.
    public static let unfittedKeys: [String] = ["column_read_pj", "adc_per_step_fj", "shift_add_pj", "leakage_mw"]
}

/// The three energy constants, fitted on the 3/1 breakdown with the workload's own counters: each measured component
/// (fJ/op x operations) divided by the count of the action that carries it.
public struct NeuRRAMFit: Equatable, Sendable {
    public var wlActivationPJ: Double
    public var inputPulsePJ: Double
    public var adcFixedFJ: Double

    public static func fromBreakdown(rows: Int = 256, cols: Int = 256) -> NeuRRAMFit {
        let p = NeuRRAMData.breakdownPoint
        let mvm = NeuRRAMMVM(inputBits: p.inputBits, outputBits: p.outputBits, rows: rows, cols: cols)
        let c = mvm.counters(timing: TimingSpec())
        let fj = Dictionary(uniqueKeysWithValues: NeuRRAMData.breakdown.map { ($0.name, $0.fJPerOp) })
        let decisions = Double(c.adcConversions[1] ?? 0)
        return NeuRRAMFit(wlActivationPJ: fj["WL switching"]! * mvm.ops / Double(c.wlActivations) / 1000,
                          inputPulsePJ: fj["input pulses"]! * mvm.ops / Double(c.wlActivations) / 1000,
                          adcFixedFJ: fj["neuron + control"]! * mvm.ops / decisions)
    }
}

/// Measured versus predicted NeuRRAM efficiency: every point's MVM priced by `CostModel` with the target's tables.
public struct NeuRRAMValidation: Sendable {
    public struct Row: Sendable {
        public var point: NeuRRAMData.Point
        public var mvm: NeuRRAMMVM
        public var report: CostReport
        public var fitted: Bool
        public var predictedTOPSPerW: Double { report.denseTOPSPerW }
        public var errorPct: Double { (predictedTOPSPerW - point.topsPerW) / point.topsPerW * 100 }
        public var role: String { fitted ? "fitted" : "predicted" }
        /// Energy of a report component, fJ per operation.
        public func fJPerOp(_ component: String) -> Double {
            (report.components.first { $0.name == component }?.pJ ?? 0) * 1000 / report.denseOps
        }
        public var totalFJPerOp: Double { report.totalPJ * 1000 / report.denseOps }
    }

    public var target: Target
    public var activity: Double
    public var rows: [Row]
    /// (component, measured fJ/op, predicted fJ/op) at 3/1.
    public var breakdown: [(name: String, measured: Double, predicted: Double)]

    /// The bar: predicted (not fitted) points within this many percent of the measured TOPS/W.
    public static let tolerancePct = 10.0

    public static func run(target t: Target, activity: Double = 1) -> NeuRRAMValidation {
        let rows = NeuRRAMData.measured.map { p -> Row in
            let mvm = NeuRRAMMVM(inputBits: p.inputBits, outputBits: p.outputBits, rows: t.macro.rows, cols: t.macro.cols,
                                 activity: activity)
            return Row(point: p, mvm: mvm, report: mvm.report(target: t), fitted: NeuRRAMData.fittedPoints.contains(p.label))
        }
        let b = NeuRRAMData.breakdownPoint
        let r = rows.first { $0.point.outputBits == b.outputBits && $0.point.inputBits == b.inputBits }!
        let wl = r.fJPerOp("wl_switching"), inp = r.fJPerOp("input_pulses")
        let predicted = ["WL switching": wl, "input pulses": inp, "neuron + control": r.totalFJPerOp - wl - inp]
        let bd = NeuRRAMData.breakdown.map { (name: $0.name, measured: $0.fJPerOp, predicted: predicted[$0.name]!) }
        return NeuRRAMValidation(target: t, activity: activity, rows: rows, breakdown: bd)
    }

    public var predictedRows: [Row] { rows.filter { !$0.fitted } }
    public var worst: Row? { predictedRows.max { abs($0.errorPct) < abs($1.errorPct) } }
    public var passing: Int { predictedRows.filter { abs($0.errorPct) <= NeuRRAMValidation.tolerancePct }.count }

    static func f(_ x: Double, _ d: Int) -> String { String(format: "%.\(d)f", x) }
    static func signed(_ x: Double) -> String { String(format: "%+.1f", x) }

    /// The report as markdown (what `xbar validate neurram` prints and docs/neurram-validation.md embeds).
    public func markdown() -> String {
        var s = "NeuRRAM validation: target `\(target.name)` vs \(NeuRRAMData.source), two-phase mode.\n"
        s += "One MVM of a \(target.macro.rows)x\(target.macro.cols) core = 2 x \(target.macro.rows) x \(target.macro.cols) operations; "
        s += "input activity \(NeuRRAMValidation.f(activity, 2)); priced by `CostModel` with the target's `[energy]` table.\n"
        s += "Fitted on \(NeuRRAMData.fittedPoints.joined(separator: ", ")) (breakdown): "
        s += NeuRRAMData.fittedKeys.map { "`\($0)`" }.joined(separator: ", ") + ".\n\n"
        s += "| out/in bits | measured TOPS/W | predicted TOPS/W | error % | role |\n"
        s += "|---|---:|---:|---:|---|\n"
        for r in rows {
            s += "| \(r.point.label) | \(NeuRRAMValidation.f(r.point.topsPerW, 2)) | \(NeuRRAMValidation.f(r.predictedTOPSPerW, 2)) "
            s += "| \(NeuRRAMValidation.signed(r.errorPct)) | \(r.role) |\n"
        }
        let b = NeuRRAMData.breakdownPoint
        s += "\n| \(b.outputBits)/\(b.inputBits) breakdown | measured fJ/op | predicted fJ/op |\n|---|---:|---:|\n"
        for c in breakdown {
            s += "| \(c.name) | \(NeuRRAMValidation.f(c.measured, 2)) | \(NeuRRAMValidation.f(c.predicted, 2)) |\n"
        }
        s += "| total | \(NeuRRAMValidation.f(breakdown.reduce(0) { $0 + $1.measured }, 2)) "
        s += "| \(NeuRRAMValidation.f(breakdown.reduce(0) { $0 + $1.predicted }, 2)) |\n\n"
        s += "Predicted points within +-\(Int(NeuRRAMValidation.tolerancePct)) %: \(passing) of \(predictedRows.count)"
        if let w = worst { s += " (largest |error| \(NeuRRAMValidation.f(abs(w.errorPct), 1)) % at \(w.point.label))" }
        return s + ".\n"
    }

    public func json() -> JSONValue {
        func d(_ x: Double) -> JSONValue { .double(x) }
        let points: [JSONValue] = rows.map { r in
            let c = r.report
            return .object([
                ("output_bits", .int(Int64(r.point.outputBits))), ("input_bits", .int(Int64(r.point.inputBits))),
                ("measured_tops_per_w", d(r.point.topsPerW)), ("predicted_tops_per_w", d(r.predictedTOPSPerW)),
                ("error_pct", d(r.errorPct)), ("role", .string(r.role)),
                ("magnitude_bits", .int(Int64(r.mvm.magnitudeBits))),
                ("segments", .array(r.mvm.segments.map { .int(Int64($0)) })),
                ("ops", d(r.mvm.ops)), ("total_pj", d(c.totalPJ)), ("cycles", .int(c.cycles)),
                ("components_fj_per_op", .object(c.components.map { ($0.name, d($0.pJ * 1000 / c.denseOps)) })),
            ])
        }
        let w = worst
        return .object([
            ("target", .string(target.name)), ("source", .string(NeuRRAMData.source)), ("mode", .string("two-phase")),
            ("activity", d(activity)),
            ("fitted_points", .array(NeuRRAMData.fittedPoints.map { .string($0) })),
            ("fitted_keys", .array(NeuRRAMData.fittedKeys.map { .string($0) })),
            ("points", .array(points)),
            ("breakdown_fj_per_op", .array(breakdown.map {
                .object([("component", .string($0.name)), ("measured", d($0.measured)), ("predicted", d($0.predicted))])
            })),
            ("tolerance_pct", d(NeuRRAMValidation.tolerancePct)),
            ("predicted_within_tolerance", .int(Int64(passing))), ("predicted_points", .int(Int64(predictedRows.count))),
            ("max_abs_error_pct", w.map { d(abs($0.errorPct)) } ?? .null),
        ])
    }
}
