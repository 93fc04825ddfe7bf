import Foundation
import XbarCore

/// JSON lines (default) or CSV, chosen by the file's extension.
public enum ResultFormat: String, Sendable {
    case jsonl, csv
    public static func of(_ path: String) -> ResultFormat { path.lowercased().hasSuffix(".csv") ? .csv : .jsonl }
}

/// One row of a results file, flattened: `key`, `version`, `seed`, the axis values by axis name, the metric columns,
/// `error`, `wall_s`.
public struct ResultRow: Sendable {
    public var key: String
    public var fields: [(String, JSONValue)]
    /// The row's text as stored, without its newline.
    public var line: String
    public var lineNumber: Int
    /// Axis names of the row, in order (JSONL: the `point` object; CSV: the columns between seed and the metrics).
    public var axisNames: [String]
    public var metricNames: [String]

    public func value(_ name: String) -> JSONValue? { fields.first { $0.0 == name }?.1 }
    public var error: String? { value("error")?.stringValue }
    /// The row without its wall-clock field: what must be equal between two runs of the same point.
    public var deterministicText: String
}

/// Columns of a CSV results file for a plan.
func csvHeader(_ spec: SweepSpec) -> [String] {
    ["key", "version", "seed"] + spec.axes.map(\.name) + spec.metrics.flatMap(\.columns) + ["error", "wall_s"]
}

enum CSV {
    static func field(_ v: JSONValue) -> String {
        switch v {
        case .null: return ""
        case let .string(s):
            if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || s.isEmpty {
                return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return s
        default: return v.serialized(indent: nil)
        }
    }

    /// Splits one CSV line; nil when quotes are unbalanced.
    static func split(_ line: String) -> [String]? {
        var out: [String] = []
        var cur = ""
        var inQ = false
        var it = Array(line)
        var i = 0
        while i < it.count {
            let c = it[i]
            if inQ {
                if c == "\"" {
                    if i + 1 < it.count && it[i + 1] == "\"" { cur.append("\""); i += 1 } else { inQ = false }
                } else { cur.append(c) }
            } else if c == "\"" {
                inQ = true
            } else if c == "," {
                out.append(cur)
                cur = ""
            } else { cur.append(c) }
            i += 1
        }
        it.removeAll()
        if inQ { return nil }
        out.append(cur)
        return out
    }

    static func value(_ s: String) -> JSONValue {
        if s.isEmpty { return .null }
        if s == "true" { return .bool(true) }
        if s == "false" { return .bool(false) }
        if let f = s.first, f == "-" || f.isNumber, let v = try? JSONParse.parse(s) { return v }
        return .string(s)
    }
}

/// Reads and checks results files. A last line that is incomplete (no newline) or does not parse is a *torn tail*
/// (the writer was killed in the middle of it); any other bad line is an error naming it.
public enum ResultsFile {
    public struct Scan: Sendable {
        public var rows: [ResultRow]
        /// Byte length of the intact part (everything before the torn tail).
        public var goodLength: Int
        /// Lines of the torn tail: (line number, byte count, reason).
        public var torn: [(line: Int, bytes: Int, reason: String)]
        public var header: [String]?
    }

    struct Bad: Error { var reason: String; init(_ r: String) { reason = r } }

    static func isKey(_ s: String) -> Bool {
        s.count == 32 && s.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    /// Parses one JSONL row; the reason when it is not a valid row.
    static func jsonRow(_ line: String, number: Int) -> Result<ResultRow, Bad> {
        let v: JSONValue
        do { v = try JSONParse.parse(line) } catch let f as JSONParse.Failure {
            return .failure(Bad("not JSON (\(f.message) at byte \(f.offset))"))
        } catch { return .failure(Bad("not JSON")) }
        guard case let .object(o) = v else { return .failure(Bad("not a JSON object")) }
        guard let key = v.member("key")?.stringValue, isKey(key) else { return .failure(Bad("no valid \"key\"")) }
        guard v.member("version")?.stringValue != nil else { return .failure(Bad("no \"version\"")) }
        guard case .int? = v.member("seed") else { return .failure(Bad("no integer \"seed\"")) }
        guard case let .object(point)? = v.member("point") else { return .failure(Bad("no \"point\" object")) }
        var metrics: [(String, JSONValue)] = []
        switch v.member("metrics") {
        case let .object(m)?: metrics = m
        case .null?: guard v.member("error")?.stringValue != nil else { return .failure(Bad("null metrics without an error")) }
        default: return .failure(Bad("no \"metrics\" object"))
        }
        var fields: [(String, JSONValue)] = [("key", .string(key)), ("version", v.member("version")!), ("seed", v.member("seed")!)]
        fields += point
        fields += metrics
        fields.append(("error", v.member("error") ?? .null))
        fields.append(("wall_s", v.member("wall_s") ?? .null))
        let det = JSONValue.object(o.filter { $0.0 != "wall_s" }).serialized(indent: nil)
        return .success(ResultRow(key: key, fields: fields, line: line, lineNumber: number, axisNames: point.map(\.0),
                                  metricNames: metrics.map(\.0), deterministicText: det))
    }

    static func csvRow(_ line: String, header: [String], number: Int) -> Result<ResultRow, Bad> {
        guard let parts = CSV.split(line) else { return .failure(Bad("unbalanced quotes")) }
        guard parts.count == header.count else { return .failure(Bad("\(parts.count) fields, the header has \(header.count)")) }
        guard isKey(parts[0]) else { return .failure(Bad("no valid key in the first column")) }
        let fields = zip(header, parts).map { ($0.0, CSV.value($0.1)) }
        guard case .int = fields[2].1 else { return .failure(Bad("no integer seed")) }
        let metricCols = Set(Metric.columnDirections.keys)
        let axes = header.dropFirst(3).filter { !metricCols.contains($0) && $0 != "error" && $0 != "wall_s" }
        let metrics = header.filter { metricCols.contains($0) }
        let det = parts.dropLast().joined(separator: ",")
        return .success(ResultRow(key: parts[0], fields: fields, line: line, lineNumber: number, axisNames: Array(axes),
                                  metricNames: metrics, deterministicText: det))
    }

    /// Scans a file's bytes. Throws when a bad line is followed by good ones (that is damage, not a torn tail).
    public static func scan(_ data: [UInt8], format: ResultFormat, file: String) throws -> Scan {
        var rows: [ResultRow] = []
        var bad: [(line: Int, start: Int, bytes: Int, reason: String)] = []
        var header: [String]? = nil
        var start = 0
        var number = 0
        var goodEnd = 0
        while start < data.count {
            number += 1
            let nl = data[start...].firstIndex(of: 0x0A)
            let end = nl ?? data.count
            let text = String(decoding: data[start..<end], as: UTF8.self)
            let span = (nl.map { $0 + 1 } ?? data.count) - start
            if nl == nil {
                bad.append((number, start, span, "incomplete (no newline)"))
            } else if format == .csv && number == 1 {
                if let h = CSV.split(text), h.first == "key" {
                    header = h
                    goodEnd = end + 1
                } else {
                    bad.append((number, start, span, "not a CSV header"))
                }
            } else {
                let r = format == .jsonl ? jsonRow(text, number: number)
                    : (header.map { csvRow(text, header: $0, number: number) } ?? .failure(Bad("no header")))
                switch r {
                case let .success(row):
                    if let b = bad.first {
                        throw XbarError(file: file, field: "line \(b.line)",
                                        "not a valid row (\(b.reason)), and valid rows follow it: the file is damaged; remove or fix that line by hand")
                    }
                    rows.append(row)
                    goodEnd = end + 1
                case let .failure(b):
                    bad.append((number, start, span, b.reason))
                }
            }
            start = (nl ?? data.count - 1) + 1
        }
        return Scan(rows: rows, goodLength: goodEnd, torn: bad.map { ($0.line, $0.bytes, $0.reason) }, header: header)
    }

    /// Reads a results file for analysis; a torn tail is reported through `warn` and left out.
    public static func read(_ path: String, warn: (String) -> Void = { _ in }) throws -> Scan {
        let data = [UInt8](try AtomicFile.read(path))
        let s = try scan(data, format: ResultFormat.of(path), file: path)
        for t in s.torn { warn("\(path): line \(t.line) is \(t.reason) (\(t.bytes) bytes): left out; rerunning the sweep repairs it") }
        return s
    }
}

/// How often appended rows are forced to disk.
public enum FsyncPolicy: String, CaseIterable, Sendable {
    /// After every row.
    case always
    /// At most once a second, and when the sweep ends (default).
    case batch
    /// Only when the sweep ends.
    case never
}

/// Appends rows to a results file that this process has locked. Each row is one `write()` of the whole line.
public final class ResultsWriter: @unchecked Sendable {
    public let path: String
    public let format: ResultFormat
    let fd: Int32
    let policy: FsyncPolicy
    let lock = NSLock()
    var lastSync = Date()
    public private(set) var existing: [ResultRow] = []
    /// Human-readable notes on repairs done when opening.
    public private(set) var repairs: [String] = []

    public init(path: String, header: [String]?, policy: FsyncPolicy) throws {
        self.path = path
        format = ResultFormat.of(path)
        self.policy = policy
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw XbarError(file: path, field: "", "cannot open for appending (errno \(errno))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw XbarError(file: path, field: "", "another sweep is writing this file (it is locked); wait for it or use another --out")
        }
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        var off: off_t = 0
        while true {
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off) }
            if n < 0 { close(fd); throw XbarError(file: path, field: "", "cannot read (errno \(errno))") }
            if n == 0 { break }
            data += buf[0..<n]
            off += off_t(n)
        }
        let s: ResultsFile.Scan
        do { s = try ResultsFile.scan(data, format: format, file: path) } catch { close(fd); throw error }
        if !s.torn.isEmpty {
            for t in s.torn {
                repairs.append("\(path): line \(t.line) was \(t.reason), \(t.bytes) bytes (a run stopped while writing it): removed; its point runs again")
            }
            guard ftruncate(fd, off_t(s.goodLength)) == 0 else {
                close(fd)
                throw XbarError(file: path, field: "", "cannot truncate the damaged last line (errno \(errno))")
            }
            fsync(fd)
        }
        if format == .csv, let h = header {
            if let old = s.header {
                guard old == h else {
                    close(fd)
                    throw XbarError(file: path, field: "line 1", "the CSV header differs from this sweep's columns (another spec wrote this file?)")
                }
            } else {
                try write(h.map { CSV.field(.string($0)) }.joined(separator: ",") + "\n")
            }
        }
        existing = s.rows
    }

    deinit { close(fd) }

    func write(_ line: String) throws {
        var bytes = Array(line.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Foundation.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw XbarError(file: path, field: "", "cannot append (errno \(errno))")
            }
            done += n
        }
        bytes.removeAll()
    }

    /// Appends one complete line (the newline is added here).
    public func append(_ line: String) throws {
        lock.lock()
        defer { lock.unlock() }
        try write(line + "\n")
        switch policy {
        case .always: fsync(fd)
        case .batch:
            if Date().timeIntervalSince(lastSync) >= 1 {
                fsync(fd)
                lastSync = Date()
            }
        case .never: break
        }
    }

    public func sync() {
        lock.lock()
        fsync(fd)
        lock.unlock()
    }
}
