import Foundation

/// Typed, path-tracking access to parsed JSON, so every error names the file and the field
/// (for example `projections[2].weights.std: expected a number`).
public struct JSONReader {
    public let value: Any
    public let path: String
    public let file: String

    public init(value: Any, path: String = "", file: String) {
        self.value = value
        self.path = path
        self.file = file
    }

    /// Parses JSON text, refusing files over `maxBytes` before parsing.
    public static func parse(_ data: Data, file: String, maxBytes: Int = 1 << 30) throws -> JSONReader {
        guard data.count <= maxBytes else {
            throw XbarError(file: file, field: "", "file is \(data.count) bytes, over the \(maxBytes)-byte limit")
        }
        do {
            // JSONDecoder parses numbers exactly (JSONSerialization on Linux can be off by one ulp).
            let tree = try JSONDecoder().decode(JSONTree.self, from: data)
            return JSONReader(value: tree.foundation, file: file)
        } catch let DecodingError.dataCorrupted(ctx) {
            let under = (ctx.underlyingError as NSError?)?.userInfo["NSDebugDescription"] as? String
            throw XbarError(file: file, field: "", "invalid JSON: \(under ?? ctx.debugDescription)")
        } catch {
            throw XbarError(file: file, field: "", "invalid JSON: \(error)")
        }
    }

    public func fail(_ msg: String) -> XbarError { XbarError(file: file, field: path.isEmpty ? "(top level)" : path, msg) }

    func child(_ v: Any, _ p: String) -> JSONReader { JSONReader(value: v, path: p, file: file) }

    public var object: [String: Any]? { value as? [String: Any] }

    public func has(_ key: String) -> Bool { (object?[key]).map { !($0 is NSNull) } ?? false }

    public func field(_ key: String) throws -> JSONReader {
        guard let o = object else { throw fail("expected an object") }
        let p = path.isEmpty ? key : "\(path).\(key)"
        guard let v = o[key], !(v is NSNull) else { throw XbarError(file: file, field: p, "missing (required)") }
        return child(v, p)
    }

    public func optionalField(_ key: String) throws -> JSONReader? {
        guard let o = object else { throw fail("expected an object") }
        guard let v = o[key], !(v is NSNull) else { return nil }
        return child(v, path.isEmpty ? key : "\(path).\(key)")
    }

    /// The object's keys, sorted.
    public func keys() throws -> [String] {
        guard let o = object else { throw fail("expected an object") }
        return o.keys.sorted()
    }

    /// Whether the value is an array.
    public var isArray: Bool { value is [Any] }

    /// Whether the value is a string.
    public var isString: Bool { value is String }

    /// Refuses keys not in `allowed` (catches typos in hand-written files).
    public func onlyKeys(_ allowed: Set<String>) throws {
        guard let o = object else { throw fail("expected an object") }
        for k in o.keys.sorted() where !allowed.contains(k) {
            throw XbarError(file: file, field: path.isEmpty ? k : "\(path).\(k)",
                            "unknown field (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    public func array() throws -> [JSONReader] {
        guard let a = value as? [Any] else { throw fail("expected an array") }
        return a.enumerated().map { child($0.element, "\(path)[\($0.offset)]") }
    }

    public func count() throws -> Int {
        guard let a = value as? [Any] else { throw fail("expected an array") }
        return a.count
    }

    public func string() throws -> String {
        guard let s = value as? String else { throw fail("expected a string") }
        return s
    }

    public func double() throws -> Double {
        guard let n = value as? NSNumber, !JSONBool.isBool(value) else { throw fail("expected a number") }
        let d = n.doubleValue
        guard d.isFinite else { throw fail("expected a finite number") }
        return d
    }

    public func double(min: Double, max: Double) throws -> Double {
        let d = try double()
        guard d >= min && d <= max else { throw fail("\(d) out of range \(min)...\(max)") }
        return d
    }

    public func int(min: Int = Int.min, max: Int = Int.max) throws -> Int {
        let d = try double()
        guard d == d.rounded(), abs(d) < 9e15 else { throw fail("expected an integer, found \(d)") }
        let i = Int(d)
        guard i >= min && i <= max else { throw fail("\(i) out of range \(min)...\(max)") }
        return i
    }

    public func bool() throws -> Bool {
        guard JSONBool.isBool(value), let b = value as? Bool else { throw fail("expected true or false") }
        return b
    }

    public func enumValue<E: RawRepresentable & CaseIterable>(_ e: E.Type) throws -> E where E.RawValue == String {
        let s = try string()
        guard let v = E(rawValue: s) else {
            throw fail("expected one of \(E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), found \"\(s)\"")
        }
        return v
    }

    /// A flat array of numbers, refusing more than `maxCount` entries before converting.
    public func doubles(maxCount: Int = 1 << 26) throws -> [Double] {
        guard let a = value as? [Any] else { throw fail("expected an array of numbers") }
        guard a.count <= maxCount else { throw fail("\(a.count) entries exceeds the limit \(maxCount)") }
        var out = [Double]()
        out.reserveCapacity(a.count)
        for (i, v) in a.enumerated() {
            guard let n = v as? NSNumber, !JSONBool.isBool(v), n.doubleValue.isFinite else {
                throw XbarError(file: file, field: "\(path)[\(i)]", "expected a finite number")
            }
            out.append(n.doubleValue)
        }
        return out
    }
}

/// A parsed JSON document, decoded exactly by JSONDecoder; `foundation` turns it into the Any tree JSONReader walks
/// (numbers as NSNumber(Double), booleans as NSNumber(Bool), NSNull).
enum JSONTree: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONTree]), object([String: JSONTree])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONTree].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONTree].self)) }
    }

    var foundation: Any {
        switch self {
        case .null: return NSNull()
        case let .bool(b): return NSNumber(value: b)
        case let .number(d): return NSNumber(value: d)
        case let .string(s): return s
        case let .array(a): return a.map { $0.foundation }
        case let .object(o): return o.mapValues { $0.foundation }
        }
    }
}

/// Tells JSON booleans from numbers (Foundation bridges both to NSNumber).
enum JSONBool {
    static let boolType = ObjectIdentifier(type(of: NSNumber(value: true)))
    static func isBool(_ v: Any) -> Bool {
        if v is NSNumber { return ObjectIdentifier(type(of: v as AnyObject)) == boolType }
        return v is Bool
    }
}
