import Foundation
import TOMLKit
import XbarCore

/// Changes single values of a target's TOML before it is validated: `xbar ... --set device.programming=write_verify`
/// and a sweep spec's `[overrides]` (docs/targets.md, "Overrides"). Missing sub-tables are created; the result is
/// checked by `TargetLoader.parse` like any target file.
public enum TargetOverride {
    /// Why an override could not be applied (the caller adds the file and key).
    public struct Failure: Error { public var message: String }

    /// The target's top-level tables: an override must start with one of them.
    public static let tables: Set<String> = ["target", "macro", "cell", "read", "adc", "neuron", "readout", "mapping", "clock",
                                             "device", "timing", "energy", "area"]

    /// Sets the dotted key `path` of `root` to `value`, creating missing sub-tables; a key naming a table or an
    /// array is refused.
    public static func set(_ root: TOMLTable, _ path: [String], _ value: TOMLValueConvertible) throws {
        var t = root
        for (i, k) in path.dropLast().enumerated() {
            if let v = t[k] {
                guard let sub = v.table else {
                    throw Failure(message: "\(path.prefix(i + 1).joined(separator: ".")) is a value, not a table")
                }
                t = sub
            } else {
                t[k] = TOMLTable()
                t = t[k]!.table!
            }
        }
        if let existing = t[path.last!], existing.table != nil || existing.array != nil {
            throw Failure(message: "\(path.joined(separator: ".")) is a table or array in the target, not a single value")
        }
        t[path.last!] = value
    }

    /// Parses `KEY=VALUE` (`device.read_noise.relative=0.05`, `device.programming=write_verify`): VALUE is an
    /// integer, a real, `true`/`false`, or text (quotes optional).
    public static func parse(_ assignment: String) throws -> (path: [String], value: TOMLValueConvertible) {
        guard let eq = assignment.firstIndex(of: "=") else {
            throw XbarError(file: "--set", field: assignment, "expected TABLE.KEY=VALUE")
        }
        let key = assignment[..<eq].trimmingCharacters(in: .whitespaces)
        var raw = assignment[assignment.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        let path = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard path.count >= 2, !path.contains(where: \.isEmpty), tables.contains(path[0]) else {
            throw XbarError(file: "--set", field: key, "expected TABLE.KEY with TABLE one of \(tables.sorted().joined(separator: ", "))")
        }
        guard !raw.isEmpty else { throw XbarError(file: "--set", field: key, "missing value after '='") }
        if raw.count >= 2, raw.hasPrefix("\""), raw.hasSuffix("\"") { return (path, String(raw.dropFirst().dropLast())) }
        if let i = Int(raw) { return (path, i) }
        if let d = Double(raw), d.isFinite { return (path, d) }
        if raw == "true" || raw == "false" { return (path, raw == "true") }
        raw = raw.trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        return (path, raw)
    }

    /// Loads the target file at `path` with `assignments` (KEY=VALUE) applied; errors name the file and the key.
    public static func load(_ path: String, assignments: [String]) throws -> Target {
        let text = try AtomicFile.readText(path)
        if assignments.isEmpty { return try TargetLoader.parse(text, file: path) }
        _ = try TargetLoader.parse(text, file: path)
        let root = try TOMLText.parse(text, file: path)
        for a in assignments {
            let (p, v) = try parse(a)
            do { try set(root, p, v) } catch let f as Failure {
                throw XbarError(file: path, field: "--set \(p.joined(separator: "."))", f.message)
            }
        }
        return try TargetLoader.parse(root.convert(to: .toml), file: path + " (with --set " + assignments.joined(separator: ", ") + ")")
    }
}
