/// A fixed-width integer type of the IR: signedness and bit width (1...32 for stored values).
public struct IntType: Hashable, Sendable, CustomStringConvertible {
    public var signed: Bool
    public var bits: Int

    public init(signed: Bool, bits: Int) {
        self.signed = signed
        self.bits = bits
    }

    public static func i(_ bits: Int) -> IntType { IntType(signed: true, bits: bits) }
    public static func u(_ bits: Int) -> IntType { IntType(signed: false, bits: bits) }

    /// Smallest representable value.
    public var min: Int64 { signed ? -(Int64(1) << (bits - 1)) : 0 }
    /// Largest representable value.
    public var max: Int64 { signed ? (Int64(1) << (bits - 1)) - 1 : (Int64(1) << bits) - 1 }

    public func contains(_ v: Int64) -> Bool { v >= min && v <= max }

    /// Text form: `i24`, `u8`.
    public var description: String { (signed ? "i" : "u") + String(bits) }

    /// Parses `i24` / `u8`; nil if malformed or the width is outside 1...62.
    public init?(_ text: Substring) {
        guard let first = text.first, first == "i" || first == "u", let b = Int(text.dropFirst()), b >= 1, b <= 62 else {
            return nil
        }
        self.init(signed: first == "i", bits: b)
    }

    /// The narrowest signed type holding [lo, hi].
    public static func signedFitting(_ lo: Int64, _ hi: Int64) -> IntType {
        var b = 1
        while b < 62 && !(IntType.i(b).contains(lo) && IntType.i(b).contains(hi)) { b += 1 }
        return .i(b)
    }

    /// The narrowest unsigned type holding [0, hi].
    public static func unsignedFitting(_ hi: Int64) -> IntType {
        var b = 1
        while b < 62 && !IntType.u(b).contains(hi) { b += 1 }
        return .u(b)
    }
}

/// How a division by a positive integer (or a right shift) rounds. Every one is written in the IR.
public enum Rounding: String, CaseIterable, Sendable {
    /// Toward minus infinity (arithmetic shift right).
    case floor
    /// Toward zero (C integer division).
    case trunc
    /// To nearest, ties toward plus infinity: floor(x/d + 1/2).
    case halfUp = "half_up"
    /// To nearest, ties to even.
    case halfEven = "half_even"
}

/// What happens when a result does not fit its type.
public enum Overflow: String, CaseIterable, Sendable {
    /// Clamp to [min, max] of the type.
    case sat
    /// Two's-complement wrap modulo 2^bits.
    case wrap
}

/// Reference scalar semantics for native (Int64) engines. The exact engine re-implements these with GMP.
public enum Fixed {
    /// Floor division for d > 0.
    @inline(__always)
    public static func floorDiv(_ n: Int64, _ d: Int64) -> Int64 {
        let q = n / d
        return (n % d != 0 && n < 0) ? q - 1 : q
    }

    /// n / d (d > 0) rounded as `r`.
    @inline(__always)
    public static func divide(_ n: Int64, by d: Int64, _ r: Rounding) -> Int64 {
        switch r {
        case .floor: return floorDiv(n, d)
        case .trunc: return n / d
        case .halfUp:
            let q = floorDiv(n, d)
            let rem = n - q * d  // 0 <= rem < d
            return 2 * rem >= d ? q + 1 : q
        case .halfEven:
            let q = floorDiv(n, d)
            let rem = n - q * d  // 0 <= rem < d
            if 2 * rem > d { return q + 1 }
            if 2 * rem < d { return q }
            return (q & 1) == 0 ? q : q + 1
        }
    }

    /// x / 2^s rounded as `r` (s >= 0).
    @inline(__always)
    public static func shiftRight(_ x: Int64, _ s: Int, _ r: Rounding) -> Int64 {
        s == 0 ? x : divide(x, by: Int64(1) << s, r)
    }

    /// Fit `v` into `t` with overflow behaviour `o`.
    @inline(__always)
    public static func fit(_ v: Int64, _ t: IntType, _ o: Overflow) -> Int64 {
        if v >= t.min && v <= t.max { return v }
        switch o {
        case .sat: return v < t.min ? t.min : t.max
        case .wrap:
            let m = UInt64(bitPattern: v) & ((UInt64(1) << t.bits) - 1)
            if t.signed && (m >> (t.bits - 1)) & 1 == 1 {
                return Int64(bitPattern: m | ~((UInt64(1) << t.bits) - 1))
            }
            return Int64(bitPattern: m)
        }
    }

    /// Round a real to an integer with ties as `r` (used by the compiler for quantisation, never by engines).
    public static func roundReal(_ x0: Double, _ r: Rounding) -> Int64 {
        let lim = Double(Int64(1) << 62)
        let x = x0.isNaN ? 0 : Swift.min(lim, Swift.max(-lim, x0))
        switch r {
        case .floor: return Int64(x.rounded(.down))
        case .trunc: return Int64(x.rounded(.towardZero))
        case .halfUp: return Int64((x + 0.5).rounded(.down))
        case .halfEven: return Int64(x.rounded(.toNearestOrEven))
        }
    }
}
