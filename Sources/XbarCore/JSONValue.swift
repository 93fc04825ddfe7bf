/// A JSON value with ordered object keys, serialised byte-stably (used for every JSON the tool writes).
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.serialized() == b.serialized() }

    /// Compact when `indent` is nil; otherwise pretty with that many spaces, arrays of scalars on one line.
    public func serialized(indent: Int? = 2) -> String {
        var out = ""
        write(&out, indent: indent, level: 0)
        return out
    }

    static func escape(_ s: String) -> String {
        var q = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": q += "\\\""
            case "\\": q += "\\\\"
            case "\n": q += "\\n"
            case "\t": q += "\\t"
            case "\r": q += "\\r"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    q += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    q.unicodeScalars.append(u)
                }
            }
        }
        return q + "\""
    }

    var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }

    func write(_ out: inout String, indent: Int?, level: Int) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d):
            if !d.isFinite { out += "null" }
            else if d == d.rounded() && abs(d) < 1e15 { out += String(Int64(d)) + ".0" }
            else { out += "\(d)" }
        case let .string(s): out += JSONValue.escape(s)
        case let .array(a):
            if a.isEmpty { out += "[]"; return }
            if indent == nil || a.allSatisfy({ $0.isScalar }) {
                out += "["
                for (i, v) in a.enumerated() {
                    if i > 0 { out += indent == nil ? "," : ", " }
                    v.write(&out, indent: indent, level: level + 1)
                }
                out += "]"
            } else {
                let pad = String(repeating: " ", count: (level + 1) * indent!)
                out += "[\n"
                for (i, v) in a.enumerated() {
                    out += pad
                    v.write(&out, indent: indent, level: level + 1)
                    out += i + 1 < a.count ? ",\n" : "\n"
                }
                out += String(repeating: " ", count: level * indent!) + "]"
            }
        case let .object(o):
            if o.isEmpty { out += "{}"; return }
            guard let ind = indent else {
                out += "{"
                for (i, (k, v)) in o.enumerated() {
                    if i > 0 { out += "," }
                    out += JSONValue.escape(k) + ":"
                    v.write(&out, indent: nil, level: 0)
                }
                out += "}"
                return
            }
            let pad = String(repeating: " ", count: (level + 1) * ind)
            out += "{\n"
            for (i, (k, v)) in o.enumerated() {
                out += pad + JSONValue.escape(k) + ": "
                v.write(&out, indent: indent, level: level + 1)
                out += i + 1 < o.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: level * ind) + "}"
        }
    }
}

/// The tool's version, written into reports and manifests.
public let toolVersion = "0.1.0"

extension JSONValue {
    /// This object with `field` inserted before key `before` (appended when absent); other values unchanged.
    public func inserting(_ field: (String, JSONValue), before: String) -> JSONValue {
        guard case var .object(o) = self else { return self }
        if let i = o.firstIndex(where: { $0.0 == before }) { o.insert(field, at: i) } else { o.append(field) }
        return .object(o)
    }
}
