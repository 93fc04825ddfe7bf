import Foundation
import XCTest
import XbarCost
import XbarEmulator
import XbarTarget

/// docs/neurram-validation.md against a recomputation from targets/neurram-130nm.toml: the doc's table must be what
/// the target predicts, the predicted points must be within +-10 % of NeuRRAM's measured TOPS/W, and the constants
/// must be fitted on the declared points only.
final class NeuRRAMValidationTests: XCTestCase {
    struct DocRow: Equatable {
        var label: String
        var measured: Double
        var predicted: Double
        var errorPct: Double
        var role: String
    }

    static let begin = "<!-- BEGIN xbar validate neurram -->"
    static let end = "<!-- END xbar validate neurram -->"

    /// The generated block of the doc (between the markers, without them).
    func docBlock() throws -> String {
        let text = try String(contentsOfFile: Repo.path("docs/neurram-validation.md"), encoding: .utf8)
        guard let b = text.range(of: Self.begin), let e = text.range(of: Self.end), b.upperBound <= e.lowerBound else {
            XCTFail("docs/neurram-validation.md lacks the generated block markers")
            return ""
        }
        var s = String(text[b.upperBound..<e.lowerBound])
        if s.hasPrefix("\n") { s.removeFirst() }
        return s
    }

    func cells(_ line: Substring) -> [String] {
        line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Rows of the efficiency table: `| out/in | measured | predicted | error % | role |`.
    func docRows(_ block: String) -> [DocRow] {
        var rows: [DocRow] = []
        for line in block.split(separator: "\n") where line.hasPrefix("|") {
            let c = cells(line)
            guard c.count == 5, c[0].contains("/"), let m = Double(c[1]), let p = Double(c[2]), let e = Double(c[3]) else {
                continue
            }
            rows.append(DocRow(label: c[0], measured: m, predicted: p, errorPct: e, role: c[4]))
        }
        return rows
    }

    /// Rows of the breakdown table: `| component | measured fJ/op | predicted fJ/op |`.
    func docBreakdown(_ block: String) -> [(String, Double, Double)] {
        var rows: [(String, Double, Double)] = []
        for line in block.split(separator: "\n") where line.hasPrefix("|") {
            let c = cells(line)
            guard c.count == 3, let m = Double(c[1]), let p = Double(c[2]) else { continue }
            rows.append((c[0], m, p))
        }
        return rows
    }

    func validation() throws -> NeuRRAMValidation { NeuRRAMValidation.run(target: try Repo.target("neurram-130nm")) }

    func testDocTableEqualsRecomputationFromTarget() throws {
        let block = try docBlock()
        let rows = docRows(block)
        let v = try validation()
        XCTAssertEqual(rows.map { $0.label }, NeuRRAMData.measured.map { $0.label })
        XCTAssertEqual(rows.count, 8)
        for (d, r) in zip(rows, v.rows) {
            XCTAssertEqual(d.label, r.point.label)
            XCTAssertEqual(d.measured, r.point.topsPerW, accuracy: 0.005 + 1e-9, d.label)
            XCTAssertEqual(d.predicted, r.predictedTOPSPerW, accuracy: 0.005 + 1e-9, d.label)
            XCTAssertEqual(d.errorPct, r.errorPct, accuracy: 0.05 + 1e-9, d.label)
            XCTAssertEqual(d.role, r.role, d.label)
        }
        let bd = docBreakdown(block)
        XCTAssertEqual(bd.map { $0.0 }, NeuRRAMData.breakdown.map { $0.name } + ["total"])
        for ((name, m, p), c) in zip(bd, v.breakdown) {
            XCTAssertEqual(name, c.name)
            XCTAssertEqual(m, c.measured, accuracy: 0.005 + 1e-9, name)
            XCTAssertEqual(p, c.predicted, accuracy: 0.005 + 1e-9, name)
        }
        // The block is the command's output verbatim (regenerate it as the doc says when the model changes).
        XCTAssertEqual(block, v.markdown())
    }

    func testPredictedPointsWithinTenPercentOfMeasured() throws {
        let rows = docRows(try docBlock())
        let predicted = rows.filter { $0.role == "predicted" }
        XCTAssertGreaterThanOrEqual(predicted.count, 6)
        XCTAssertEqual(predicted.count + rows.filter { $0.role == "fitted" }.count, rows.count)
        for r in predicted {
            // From the doc's own numbers, not its error column.
            XCTAssertLessThanOrEqual(abs(r.predicted - r.measured) / r.measured, 0.10, r.label)
        }
        let v = try validation()
        XCTAssertEqual(v.predictedRows.count, predicted.count)
        for r in v.predictedRows { XCTAssertLessThanOrEqual(abs(r.errorPct), 10, r.point.label) }
        XCTAssertEqual(v.passing, v.predictedRows.count)
    }

    func testFittedPointsAndConstantsAreTheDeclaredOnes() throws {
        let rows = docRows(try docBlock())
        let fitted = rows.filter { $0.role == "fitted" }.map { $0.label }
        XCTAssertEqual(fitted, NeuRRAMData.fittedPoints)
        XCTAssertEqual(fitted, ["3/1"])
        XCTAssertLessThanOrEqual(fitted.count, 2)
        XCTAssertLessThanOrEqual(NeuRRAMData.fittedKeys.count, 3)
        XCTAssertTrue(try docBlock().contains("Fitted on 3/1 (breakdown): `wl_activation_pj`, `input_pulse_pj`, `adc_fixed_fj`."))

        // The target's constants are the fit on the declared point: refitting reproduces them.
        let t = try Repo.target("neurram-130nm")
        let fit = NeuRRAMFit.fromBreakdown(rows: t.macro.rows, cols: t.macro.cols)
        XCTAssertEqual(t.energy.wlActivationPJ, fit.wlActivationPJ, accuracy: 1e-9 * fit.wlActivationPJ)
        XCTAssertEqual(t.energy.inputPulsePJ, fit.inputPulsePJ, accuracy: 1e-9 * fit.inputPulsePJ)
        XCTAssertEqual(t.energy.adcFixedFJ, fit.adcFixedFJ, accuracy: 1e-9 * fit.adcFixedFJ)
        XCTAssertEqual(fit.wlActivationPJ, 4.60288, accuracy: 1e-12)
        XCTAssertEqual(fit.inputPulsePJ, 1.7664, accuracy: 1e-12)
        XCTAssertEqual(fit.adcFixedFJ, 1812.48, accuracy: 1e-9)
        // Nothing else the workload is priced by carries energy: exactly three constants make the predictions.
        XCTAssertEqual(NeuRRAMData.unfittedKeys, ["column_read_pj", "adc_per_step_fj", "shift_add_pj", "leakage_mw"])
        XCTAssertEqual(t.energy.columnReadPJ, 0)
        XCTAssertEqual(t.energy.adcPerStepFJ, 0)
        XCTAssertEqual(t.energy.shiftAddPJ, 0)
        XCTAssertEqual(t.energy.leakageMW, 0)
        // So the fitted point's breakdown is reproduced exactly.
        for c in try validation().breakdown { XCTAssertEqual(c.predicted, c.measured, accuracy: 1e-9, c.name) }
    }

    func testWorkloadCountersAndClosedForm() throws {
        let t = try Repo.target("neurram-130nm")
        let a = NeuRRAMMVM(inputBits: 1, outputBits: 3)
        XCTAssertEqual(a.magnitudeBits, 1)
        XCTAssertEqual(a.segments, [1])
        let ca = a.counters(timing: t.timing)
        XCTAssertEqual(ca.wlActivations, 256)
        XCTAssertEqual(ca.cellReads, 256 * 256)
        XCTAssertEqual(ca.columnIntegrations, 256)
        XCTAssertEqual(ca.adcConversions, [1: 768])
        XCTAssertEqual(ca.digitalOps, 0)
        XCTAssertEqual(ca.denseSynapticOps, 65536)
        // settle 1 + 1 integrate, then 3 x 2 + 1 conversion cycles.
        XCTAssertEqual(ca.cycles, 9)

        let b = NeuRRAMMVM(inputBits: 8, outputBits: 10)
        XCTAssertEqual(b.magnitudeBits, 7)
        XCTAssertEqual(b.segments, [4, 3])
        let cb = b.counters(timing: t.timing)
        XCTAssertEqual(cb.wlActivations, 256 * 7)
        XCTAssertEqual(cb.columnIntegrations, 256 * (15 + 7))
        XCTAssertEqual(cb.adcConversions, [1: 256 * 2 * 10])
        XCTAssertEqual(cb.digitalOps, 256)
        XCTAssertEqual(NeuRRAMMVM(inputBits: 4, outputBits: 6).segments, [3])
        XCTAssertEqual(NeuRRAMMVM(inputBits: 5, outputBits: 7).segments, [2, 2])

        // CostModel's price equals the closed form of the doc: 12.44 fJ/op per magnitude bit + 3.54 per decision step.
        for p in NeuRRAMData.measured {
            let m = NeuRRAMMVM(inputBits: p.inputBits, outputBits: p.outputBits)
            let r = m.report(target: t)
            let closed = (8.99 + 3.45) * Double(m.magnitudeBits) + 10.62 / 3 * Double(m.segments.count * p.outputBits)
            XCTAssertEqual(r.totalPJ * 1000 / r.denseOps, closed, accuracy: 1e-9, p.label)
            XCTAssertEqual(r.denseOps, 131072)
        }
        // Activity scales word-line and input-pulse energy only.
        let half = NeuRRAMMVM(inputBits: 1, outputBits: 3, activity: 0.5).report(target: t)
        XCTAssertEqual(half.totalPJ * 1000 / half.denseOps, (8.99 + 3.45) / 2 + 10.62, accuracy: 1e-9)
    }

    func testValidateCommand() throws {
        let (s, out, err) = try Repo.run(["validate", "neurram"])
        XCTAssertEqual(s, 0, err)
        XCTAssertEqual(out, try docBlock())
        let (sj, js, ej) = try Repo.run(["validate", "neurram", "--json"])
        XCTAssertEqual(sj, 0, ej)
        let j = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(js.utf8)) as? [String: Any])
        XCTAssertEqual(j["target"] as? String, "neurram-130nm")
        XCTAssertEqual(j["fitted_points"] as? [String], ["3/1"])
        XCTAssertEqual((j["points"] as? [Any])?.count, 8)
        XCTAssertEqual(j["predicted_within_tolerance"] as? Int, 7)
        let (sb, _, eb) = try Repo.run(["validate", "loihi"])
        XCTAssertNotEqual(sb, 0)
        XCTAssertTrue(eb.contains("unknown chip"), eb)
    }
}
