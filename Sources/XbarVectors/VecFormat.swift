import Foundation
import XbarCore

/// One field (column) of a `.vec` record (docs/vectors.md, "The .vec format").
public struct VecField: Sendable, Equatable {
    /// `key`: where the record sits (sample, cycle, step); `index`: which element of a vector signal (neuron,
    /// column, element, class); `value`: the data.
    public enum Role: String, Sendable { case key, index, value }
    public var name: String
    public var bits: Int
    public var signed: Bool
    public var role: Role
    /// For value fields: the signal the field carries (`mem.lsm`), shown as `signal[index]` in mismatch reports.
    public var signal: String?
    public var description: String

    public init(_ name: String, bits: Int, signed: Bool = false, role: Role, signal: String? = nil, _ description: String) {
        self.name = name
        self.bits = bits
        self.signed = signed
        self.role = role
        self.signal = signal
        self.description = description
    }

    /// Hex digits of one word: ceil(bits / 4).
    public var digits: Int { (bits + 3) / 4 }
    public var typeName: String { (signed ? "i" : "u") + String(bits) }

    public static func key(_ name: String, _ description: String) -> VecField { VecField(name, bits: 32, role: .key, description) }
    public static func index(_ name: String, _ description: String) -> VecField { VecField(name, bits: 32, role: .index, description) }

    var json: JSONValue {
        var o: [(String, JSONValue)] = [("name", .string(name)), ("bits", .int(Int64(bits))), ("signed", .bool(signed)),
                                        ("digits", .int(Int64(digits))), ("role", .string(role.rawValue))]
        if let s = signal { o.append(("signal", .string(s))) }
        o.append(("description", .string(description)))
        return .object(o)
    }
}

/// Hexadecimal words of declared width (two's complement for signed values), the encoding of every vector file.
public enum Hex {
    static let digitChars: [Character] = Array("0123456789abcdef")

    static let digitBytes: [UInt8] = Array("0123456789abcdef".utf8)

    /// `v` as `ceil(bits/4)` lower-case hex digits of its `bits`-bit two's complement (bits <= 64).
    public static func word(_ v: Int64, bits: Int) -> String {
        var out: [UInt8] = []
        append(v, bits: bits, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the hex digits of `word(v, bits:)` to a byte buffer.
    @inline(__always)
    static func append(_ v: Int64, bits: Int, to out: inout [UInt8]) {
        let mask: UInt64 = bits >= 64 ? ~0 : (UInt64(1) << UInt64(bits)) - 1
        let u = UInt64(bitPattern: v) & mask
        var shift = ((bits + 3) / 4 - 1) * 4
        while shift >= 0 {
            out.append(digitBytes[Int((u >> UInt64(shift)) & 15)])
            shift -= 4
        }
    }

    /// A `bits`-bit vector with the given bit positions set (bit i = 2^i), most significant digit first.
    public static func bitmap<S: Sequence>(_ set: S, bits: Int) -> String where S.Element: BinaryInteger {
        let d = max(1, (bits + 3) / 4)
        var nib = [UInt8](repeating: 0, count: d)
        for b in set {
            let i = Int(b)
            nib[d - 1 - i / 4] |= UInt8(1 << (i % 4))
        }
        return String(nib.map { digitChars[Int($0)] })
    }

    /// Decodes a hex word of a `bits`-bit field (bits <= 63) to its value (sign-extended when `signed`);
    /// nil if it is not hex or does not fit the field.
    public static func decode(_ s: Substring, bits: Int, signed: Bool) -> Int64? {
        var u: UInt64 = 0
        var significant = 0
        for ch in s.utf8 {
            let v: UInt64
            switch ch {
            case 48...57: v = UInt64(ch - 48)
            case 97...102: v = UInt64(ch - 87)
            case 65...70: v = UInt64(ch - 55)
            default: return nil
            }
            if significant > 0 || v != 0 { significant += 1 }
            if significant > 16 { return nil }
            u = u << 4 | v
        }
        if bits < 64 && u >> UInt64(bits) != 0 { return nil }
        if signed && bits < 64 && (u >> UInt64(bits - 1)) & 1 == 1 { return Int64(bitPattern: u | ~((UInt64(1) << UInt64(bits)) - 1)) }
        return Int64(bitPattern: u)
    }

    /// Binary digits (VCD vectors): `width` characters of the two's complement of v.
    public static func binary(_ v: Int64, width: Int) -> String {
        var out = [UInt8](repeating: 48, count: width)
        let u = UInt64(bitPattern: v)
        for i in 0..<min(width, 64) where (u >> UInt64(i)) & 1 == 1 { out[width - 1 - i] = 49 }
        if width > 64 && v < 0 { for i in 64..<width { out[width - 1 - i] = 49 } }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A value of one field of a record.
enum VecValue {
    case int(Int64)
    /// Bit positions set in a `bits`-wide vector.
    case bitmap([Int])
}

/// A `.vec` file under construction: header comment plus one line per record.
final class VecTable {
    let path: String
    let role: String
    let description: String
    let fields: [VecField]
    private var body: [UInt8] = []
    private(set) var count = 0

    init(path: String, role: String, description: String, fields: [VecField]) {
        self.path = path
        self.role = role
        self.description = description
        self.fields = fields
    }

    func add(_ values: [VecValue]) {
        precondition(values.count == fields.count, "record of \(path) has \(values.count) fields, expected \(fields.count)")
        for (i, v) in values.enumerated() {
            if i > 0 { body.append(32) }
            switch v {
            case let .int(x): Hex.append(x, bits: fields[i].bits, to: &body)
            case let .bitmap(set): body += Array(Hex.bitmap(set, bits: fields[i].bits).utf8)
            }
        }
        body.append(10)
        count += 1
    }

    func add(_ values: [Int64]) {
        precondition(values.count == fields.count, "record of \(path) has \(values.count) fields, expected \(fields.count)")
        for i in 0..<values.count {
            if i > 0 { body.append(32) }
            Hex.append(values[i], bits: fields[i].bits, to: &body)
        }
        body.append(10)
        count += 1
    }

    var header: String {
        var s = "// neuroxbar test vectors (docs/vectors.md): \(path)\n"
        s += "// \(description)\n"
        s += "// fields: " + fields.map { "\($0.name):\($0.typeName)" }.joined(separator: " ") + "\n"
        s += "// one record per line, hexadecimal words; signed fields in two's complement of their width\n"
        return s
    }

    var data: Data { Data(header.utf8) + Data(body) }
}
