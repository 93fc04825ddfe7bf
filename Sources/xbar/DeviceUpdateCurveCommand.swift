import ArgumentParser
import Foundation
import XbarCore
import XbarDevice
import XbarTarget

/// `xbar device TARGET update-curve`: the noise-free pulse response (conductance after each SET or RESET pulse) of
/// a nominal cell of the target's `[device.update]` model, as CSV (docs/device.md, "Conductance updates").
struct DeviceUpdateCurveCommand: ParsableCommand {
    /// Which pulses to apply.
    enum Direction: String, ExpressibleByArgument, CaseIterable {
        case up, down, both
    }

    static let configuration = CommandConfiguration(
        commandName: "update-curve",
        abstract: "Print the conductance of a nominal cell after each programming pulse (CSV pulse,g_us).",
        discussion: """
        Applies --pulses SET (up) or RESET (down) pulses to a cell of the target's [device.update] model without \
        device-to-device or cycle-to-cycle variation. 'both' applies the up pulses, then as many down pulses from \
        where they ended; the pulse column keeps counting. Row 0 is the starting conductance. The target is the \
        argument of 'xbar device' before the subcommand: xbar device rram-plastic-130nm update-curve.
        """)

    /// `xbar device TARGET`: the target is the parent command's argument.
    @ParentCommand var device: DeviceCommand
    @Option(name: .customLong("set"), help: ArgumentHelp("Change one target value, e.g. --set device.update.dw_min_us=0.2 (repeatable).", valueName: "TABLE.KEY=VALUE"))
    var overrides: [String] = []
    @Option(help: "Pulses per direction (default: ceil((g_max - g_min) / dw_min_us)).") var pulses: Int?
    @Option(help: "up (SET), down (RESET) or both (up, then down).") var direction: Direction = .up
    @Option(help: "Starting conductance in uS (default: the lower bound for up and both, the upper bound for down).")
    var from: Double?

    func validate() throws {
        if let n = pulses, n < 0 || n > 10_000_000 { throw ValidationError("--pulses must be in 0...10000000 (got \(n))") }
        if let g = from, !(g >= 0 && g.isFinite) { throw ValidationError("--from must be a finite conductance >= 0 uS") }
    }

    func run() throws {
        try reportingErrors {
            let target = device.target
            let t = try TargetLoader.resolve(target, searchDirs: targetSearchDirs(), overrides: overrides)
            guard let spec = t.device.update else {
                throw XbarError(file: target, field: "device.update", "the target has no [device.update] table (no pulse-response model)")
            }
            let u = CellUpdater(spec: spec, cell: t.cell, seed: 0)
            let n = pulses ?? Int(((u.gMaxUS - u.gMinUS) / spec.dwMinUS).rounded(.up))
            var g = from ?? (direction == .down ? u.gMaxUS : u.gMinUS)
            var rows: [Double] = [g]
            for up in direction == .both ? [true, false] : [direction != .down] {
                let curve = u.responseCurve(from: g, pulses: n, up: up, noiseFree: true)
                rows += curve.dropFirst()
                g = curve.last!
            }
            var out = "pulse,g_us\n"
            for (i, x) in rows.enumerated() { out += "\(i),\(String(format: "%.6f", x))\n" }
            print(out, terminator: "")
            let what = "\(t.name), \(spec.model.rawValue), \(direction.rawValue), nominal noise-free cell"
            FileHandle.standardError.write(Data("update-curve: \(rows.count) rows (\(what))\n".utf8))
        }
    }
}
