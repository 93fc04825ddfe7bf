import ArgumentParser
import Foundation
import XbarCore
import XbarDevice
import XbarTarget

/// `xbar device TARGET`: samples cells of a target through its device physics and prints their statistics
/// (docs/device.md, "`xbar device`").
struct DeviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Sample cells of a target through its device model: conductance statistics before and after ageing.",
        discussion: """
        Programmed targets (exact, one_shot, write_verify) program level i mod levels into cell i (or one \
        --level); forming targets electroform every cell with the target's pulse. Then stuck-at faults, \
        relaxation at --age and IR drop apply, and the result is rounded to the IR code unit, exactly as on an \
        emulated chip. Cell i sits at row (i / cols) mod rows, column i mod cols of array i / (rows x cols).
        """,
        subcommands: [DeviceUpdateCurveCommand.self])

    @Argument(help: "Target name (in targets/) or path to a target .toml.") var target: String
    @Option(help: "Number of cells to sample.") var cells: Int = 100_000
    @Option(help: "Seed of the chip instance (device randomness).") var seed: UInt64 = 1
    @Option(help: "Seconds since programming of the 'after' figures (default: the target's drift.age_s, else 0).")
    var age: Double?
    @Option(help: "Program every cell to this level (0 ... levels-1).") var level: Int?
    @Option(help: "Program the levels round-robin: 'all' (the default).") var levels: String?
    @Option(help: "Write an SVG histogram of the conductances before and after the age to this file.") var svg: String?
    @Flag(help: "Print the statistics as JSON.") var json = false

    func validate() throws {
        if level != nil && levels != nil { throw ValidationError("give either --level L or --levels all, not both") }
        if let l = levels, l != "all" { throw ValidationError("--levels accepts only 'all' (got '\(l)')") }
        if cells < 1 || cells > 100_000_000 { throw ValidationError("--cells must be in 1...100000000 (got \(cells))") }
        if let a = age, !(a >= 0 && a.isFinite) { throw ValidationError("--age must be a finite number of seconds >= 0") }
    }

    func run() throws {
        try reportingErrors {
            let t = try TargetLoader.resolve(target, searchDirs: targetSearchDirs())
            let sampler = try DeviceSampler(target: t, seed: seed, ageS: age)
            let sel: LevelSelection = level.map { .level($0) } ?? .all
            let s = try sampler.run(cells: cells, levels: sel, keepValues: svg != nil)
            if let path = svg {
                try AtomicFile.write(DeviceReport.svg(s, target: t), to: path)
            }
            if json {
                print(DeviceReport.json(s, target: t).serialized())
            } else {
                print(DeviceReport.text(s, target: t), terminator: "")
            }
        }
    }
}

/// Text, JSON and SVG renderings of `DeviceStatistics`.
enum DeviceReport {
    static func g(_ x: Double) -> String { String(format: "%g", x) }

    static func programmingLine(_ s: DeviceStatistics, _ t: Target) -> String {
        let d = t.device
        switch d.programming {
        case .exact: return "exact programming (cells hold their target)"
        case .oneShot: return "one_shot programming, sigma \(sigmaName(d))"
        case .writeVerify:
            return "write_verify programming, sigma \(sigmaName(d)), tolerance \(g(d.writeVerify.toleranceUS)) uS, at most \(d.writeVerify.maxPulses) pulses"
        case .forming:
            let f = d.forming!
            return "forming: pulse \(g(f.pulseV)) V x \(g(f.pulseNS)) ns, breakdown N(\(g(f.breakdownMeanV)), \(g(f.breakdownSigmaV))) V at \(g(f.referenceNS)) ns"
        }
    }

    static func sigmaName(_ d: DeviceSpec) -> String {
        d.sigma.preset == "custom" ? "custom [" + d.sigma.coefficients.map(g).joined(separator: ", ") + "]" : d.sigma.preset
    }

    static func levelsLine(_ s: DeviceStatistics, _ t: Target) -> String {
        guard s.isProgrammed else { return "every cell electroformed" }
        switch s.levels {
        case .all: return "levels 0...\(t.cell.levels - 1) round-robin (\(g(t.cell.gMinUS))...\(g(t.cell.gMaxUS)) uS)"
        case let .level(l): return "level \(l) (\(g(s.perLevel.first?.targetUS ?? 0)) uS)"
        }
    }

    static func effectsLine(_ t: Target) -> String {
        let d = t.device
        var e: [String] = []
        if let f = d.faults {
            e.append("stuck-at (on \(g(f.stuckOnRate)) at \(g(f.stuckOnUS)) uS, off \(g(f.stuckOffRate)) at \(g(f.stuckOffUS)) uS)")
        }
        if let r = d.drift {
            e.append("relaxation (nu \(g(r.nu)), t0 \(g(r.t0S)) s, sigma (\(g(r.relaxAbsUS)) uS + \(g(r.relaxRelative)) G) sqrt(L))")
        }
        if let i = d.irDrop { e.append("IR drop (\(g(i.wireOhmPerCell)) ohm per cell)") }
        e.append("rounding to \(g(t.cell.gUnitNS)) nS codes")
        return e.joined(separator: ", ")
    }

    static func ageText(_ a: Double) -> String { "t = \(g(a)) s" }

    static func text(_ s: DeviceStatistics, target t: Target) -> String {
        var o = "\(t.name): \(s.cells) cells, seed \(s.seed), \(programmingLine(s, t))\n"
        o += "\(levelsLine(s, t)); after programming: \(effectsLine(t))\n\n"
        o += "conductance (uS)                 mean      sigma        min        max\n"
        func row(_ name: String, _ r: RunningStats) -> String {
            name.padding(toLength: 26, withPad: " ", startingAt: 0)
                + String(format: "%11.4f%11.4f%11.4f%11.4f\n", r.mean, r.sigma, r.min, r.max)
        }
        o += row(s.isProgrammed ? "t = 0 (programmed)" : "t = 0 (formed)", s.before)
        o += row("\(ageText(s.ageS)) (as read)", s.after)
        o += "\n"
        if let sp = s.sparsity {
            o += String(format: "sparsity (unformed): %d cells (%.3f %%)\n", s.unformed, sp * 100)
        }
        if t.device.faults != nil {
            o += String(format: "stuck-on: %d cells (%.4f %%), stuck-off: %d cells (%.4f %%)\n", s.stuckOn, s.stuckOnFraction * 100,
                        s.stuckOff, s.stuckOffFraction * 100)
        }
        if t.device.programming == .writeVerify || t.device.programming == .oneShot {
            o += String(format: "programming pulses: mean %.4f, max %d; not converged: %d cells (%.4f %%)\n", s.pulsesMean, s.pulsesMax,
                        s.nonConverged, 100 * Double(s.nonConverged) / Double(s.cells))
        }
        if let r = t.device.readNoise {
            o += "read noise (per read, not in these figures): sigma = \(g(r.absUS)) uS + \(g(r.relative)) G\n"
        }
        if let a = t.device.adc {
            o += "ADC (per column, not in these figures): offset sigma \(g(a.offsetSigmaUS)) uS, gain sigma \(g(a.gainSigma)), conversion noise \(g(a.noiseSigmaUS)) uS\n"
        }
        if s.isProgrammed {
            o += "\nlevel  target_uS     cells   mean_t0  sigma_t0   mean_t  sigma_t\n"
            for l in s.perLevel {
                o += String(format: "%5d %10.3f %9d %9.4f %9.4f %8.4f %8.4f\n", l.level, l.targetUS, l.before.count, l.before.mean,
                            l.before.sigma, l.after.mean, l.after.sigma)
            }
            o += "(t0: right after programming; t: \(ageText(s.ageS)), as read)\n"
        }
        return o
    }

    static func stats(_ r: RunningStats) -> JSONValue {
        .object([("mean", .double(r.mean)), ("sigma", .double(r.sigma)), ("min", .double(r.min)), ("max", .double(r.max))])
    }

    static func json(_ s: DeviceStatistics, target t: Target) -> JSONValue {
        var o: [(String, JSONValue)] = [
            ("target", .string(t.name)), ("seed", s.seed <= UInt64(Int64.max) ? .int(Int64(s.seed)) : .string(String(s.seed))), ("cells", .int(Int64(s.cells))),
            ("programming", .string(s.programming.rawValue)), ("sigma_preset", .string(t.device.sigma.preset)),
            ("age_s", .double(s.ageS)),
        ]
        switch s.levels {
        case .all: o.append(("levels", .string(s.isProgrammed ? "all" : "none")))
        case let .level(l): o.append(("level", .int(Int64(l))))
        }
        o.append(("before", stats(s.before)))
        o.append(("after", stats(s.after)))
        if let sp = s.sparsity {
            o.append(("unformed", .int(Int64(s.unformed))))
            o.append(("sparsity", .double(sp)))
        }
        o.append(("stuck_on", .object([("cells", .int(Int64(s.stuckOn))), ("fraction", .double(s.stuckOnFraction))])))
        o.append(("stuck_off", .object([("cells", .int(Int64(s.stuckOff))), ("fraction", .double(s.stuckOffFraction))])))
        o.append(("pulses", .object([("mean", .double(s.pulsesMean)), ("max", .int(Int64(s.pulsesMax))),
                                     ("non_converged", .int(Int64(s.nonConverged)))])))
        if s.isProgrammed {
            o.append(("per_level", .array(s.perLevel.map { l in
                .object([("level", .int(Int64(l.level))), ("target_us", .double(l.targetUS)), ("cells", .int(Int64(l.before.count))),
                         ("before_mean", .double(l.before.mean)), ("before_sigma", .double(l.before.sigma)),
                         ("after_mean", .double(l.after.mean)), ("after_sigma", .double(l.after.sigma))])
            })))
        }
        return .object(o)
    }

    static func svg(_ s: DeviceStatistics, target t: Target) -> String {
        func legend(_ name: String, _ r: RunningStats) -> String {
            name + String(format: ": mean %.2f, \u{3C3} %.2f \u{B5}S", r.mean, r.sigma)
        }
        let before = s.isProgrammed ? "t = 0, as programmed" : "t = 0, as formed"
        var after = "t = \(g(s.ageS)) s, as read ("
        var fx: [String] = []
        if t.device.faults != nil { fx.append("faults") }
        if t.device.drift != nil { fx.append("relaxation") }
        if t.device.irDrop != nil { fx.append("IR drop") }
        fx.append("\(g(t.cell.gUnitNS)) nS codes")
        after += fx.joined(separator: ", ") + ")"
        var sub = "\(s.cells) cells, \(programmingLine(s, t)); \(levelsLine(s, t))"
        if let sp = s.sparsity { sub += String(format: "; %.1f %% unformed", sp * 100) }
        return HistogramSVG.render(
            title: "\(t.name): cell conductance, seed \(s.seed)",
            subtitle: sub.replacingOccurrences(of: " uS", with: " \u{B5}S"),
            xLabel: "conductance G (\u{B5}S)",
            series: [HistogramSeries(label: legend(before, s.before), values: s.beforeValues, color: "#1f66b3"),
                     HistogramSeries(label: legend(after, s.after), values: s.afterValues, color: "#d1495b")])
    }
}
