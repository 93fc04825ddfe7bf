import Foundation
import XbarCore

/// Compares a captured dump in the `.vec` format with the expected vectors (`xbar check`, docs/vectors.md).
public enum VectorCheck {
    /// One `.vec` file of a manifest.
    public struct VecSpec: Sendable {
        public var path: String
        public var fields: [VecField]
        public var sha256: String
        public var records: Int
    }

    /// The first difference between expected and dump.
    public struct Mismatch: Sendable, CustomStringConvertible {
        public var file: String
        /// 0-based record index and 1-based line of the dump (0 when the dump has no such line).
        public var record: Int
        public var dumpLine: Int
        public var sample: Int64?
        public var cycle: Int64?
        public var signal: String
        public var expected: String
        public var got: String

        public var description: String {
            var s = "first mismatch in \(file), record \(record)"
            if dumpLine > 0 { s += " (dump line \(dumpLine))" }
            s += ": "
            if let c = cycle { s += "cycle \(c)" + (sample.map { " (sample \($0))" } ?? "") + ", " }
            return s + "signal \(signal): expected \(expected), got \(got)"
        }
    }

    public enum Outcome: Sendable {
        case match(records: Int)
        case mismatch(Mismatch)
    }

    /// Reads the `.vec` entries of DIR/manifest.json.
    public static func specs(dir: String) throws -> [VecSpec] {
        let mpath = URL(fileURLWithPath: dir).appendingPathComponent(VectorSet.manifestName).path
        let m = try JSONReader.parse(try AtomicFile.read(mpath), file: mpath)
        guard try m.field("format").string() == "neuroxbar-vectors" else { throw m.fail("not a neuroxbar-vectors manifest") }
        let v = try m.field("format_version").int()
        guard v == VectorSet.formatVersion else {
            throw XbarError(file: mpath, field: "format_version", "version \(v); this tool reads version \(VectorSet.formatVersion)")
        }
        var out: [VecSpec] = []
        for f in try m.field("files").array() where try f.field("format").string() == "vec" {
            var fields: [VecField] = []
            for x in try f.field("fields").array() {
                let role = VecField.Role(rawValue: try x.field("role").string()) ?? .value
                fields.append(VecField(try x.field("name").string(), bits: try x.field("bits").int(min: 1, max: 1 << 20),
                                       signed: try x.field("signed").bool(), role: role,
                                       signal: try x.optionalField("signal")?.string(), try x.field("description").string()))
            }
            out.append(VecSpec(path: try f.field("path").string(), fields: fields, sha256: try f.field("sha256").string(),
                               records: try f.field("records").int()))
        }
        return out
    }

    /// Records of a `.vec` text: (1-based line, words).
    static func records(_ text: String) -> [(Int, [Substring])] {
        var out: [(Int, [Substring])] = []
        var n = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            n += 1
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("//") { continue }
            var body = Substring(line)
            if let r = line.range(of: "//") { body = line[..<r.lowerBound] }
            out.append((n, body.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })))
        }
        return out
    }

    /// A word's value for display: decimal (for fields up to 63 bits) and hex.
    static func show(_ w: Substring, _ f: VecField) -> String {
        if f.bits <= 63, let v = Hex.decode(w, bits: f.bits, signed: f.signed) {
            return "\(v) (0x\(Hex.word(v, bits: f.bits)))"
        }
        return "0x" + w.lowercased()
    }

    static func normalized(_ w: Substring) -> String {
        let s = w.lowercased().drop { $0 == "0" }
        return s.isEmpty ? "0" : String(s)
    }

    /// Compares `dump` with `expected` (both `.vec` text of `spec`).
    public static func compare(expected: String, dump: String, spec: VecSpec) -> Outcome {
        let e = records(expected), d = records(dump)
        let F = spec.fields.count
        let iSample = spec.fields.firstIndex { $0.name == "sample" }
        let iCycle = spec.fields.firstIndex { $0.name == "cycle" }
        let iIndex = spec.fields.firstIndex { $0.role == .index }
        func value(_ w: [Substring], _ i: Int?) -> Int64? {
            guard let i = i, i < w.count else { return nil }
            return Hex.decode(w[i], bits: spec.fields[i].bits, signed: spec.fields[i].signed)
        }
        func signal(_ f: Int, _ w: [Substring]) -> String {
            let fd = spec.fields[f]
            let name = fd.role == .value ? (fd.signal ?? fd.name) : fd.name
            if fd.role == .value, let ii = iIndex, let x = value(w, ii) { return "\(name)[\(x)]" }
            return name
        }
        for r in 0..<e.count {
            let ew = e[r].1
            let mm = { (sig: String, exp: String, got: String, line: Int) -> Outcome in
                .mismatch(Mismatch(file: spec.path, record: r, dumpLine: line, sample: value(ew, iSample), cycle: value(ew, iCycle),
                                   signal: sig, expected: exp, got: got))
            }
            guard r < d.count else {
                let sig = signal(F - 1, ew)
                return mm(sig, show(ew[F - 1], spec.fields[F - 1]), "nothing (the dump ends after \(d.count) records)", 0)
            }
            let (line, dw) = d[r]
            guard dw.count == F else {
                return mm("record", "\(F) fields", "\(dw.count) fields", line)
            }
            // Keys and index first (where the record is), then the values.
            let order = spec.fields.indices.filter { spec.fields[$0].role != .value } + spec.fields.indices.filter { spec.fields[$0].role == .value }
            for f in order {
                let fd = spec.fields[f]
                let same: Bool
                if fd.bits <= 63 {
                    guard let x = Hex.decode(dw[f], bits: fd.bits, signed: fd.signed) else {
                        return mm(signal(f, ew), show(ew[f], fd), "'\(dw[f])' (not a valid \(fd.typeName) word)", line)
                    }
                    same = x == Hex.decode(ew[f], bits: fd.bits, signed: fd.signed)
                } else {
                    same = normalized(dw[f]) == normalized(ew[f])
                }
                if !same { return mm(signal(f, ew), show(ew[f], fd), show(dw[f], fd), line) }
            }
        }
        if d.count > e.count {
            let (line, dw) = d[e.count]
            return .mismatch(Mismatch(file: spec.path, record: e.count, dumpLine: line, sample: value(dw, iSample), cycle: value(dw, iCycle),
                                      signal: "record", expected: "end of file after \(e.count) records", got: "an extra record"))
        }
        return .match(records: e.count)
    }
}
