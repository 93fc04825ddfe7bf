import CGMP
import XbarCore

/// An arbitrary-precision integer: a thin owner of one GMP `mpz_t`.
///
/// Used only by the exact engine (docs/ir.md, "Values and types"): every operation returns a fresh `MPZ`
/// (values are never shared mutably), except the `…InPlace` helpers, which callers use only on values they
/// created themselves. Deliberately independent of `Fixed` (the native reference arithmetic).
public final class MPZ: CustomStringConvertible, Comparable {
    /// The `__mpz_struct` this object owns (an `mpz_t` is a one-element array of it).
    let p: UnsafeMutablePointer<__mpz_struct>

    /// Zero.
    public init() {
        p = UnsafeMutablePointer<__mpz_struct>.allocate(capacity: 1)
        __gmpz_init(p)
    }

    /// The value `v`.
    public convenience init(_ v: Int64) {
        self.init()
        __gmpz_set_si(p, Int(v))
    }

    /// The value `v`.
    public convenience init(_ v: Int) { self.init(Int64(v)) }

    /// The value 2^k (k >= 0).
    public static func pow2(_ k: Int) -> MPZ {
        precondition(k >= 0, "negative exponent")
        let r = MPZ(1)
        __gmpz_mul_2exp(r.p, r.p, UInt(k))
        return r
    }

    deinit {
        __gmpz_clear(p)
        p.deallocate()
    }

    // MARK: Arithmetic (fresh results)

    public static func + (a: MPZ, b: MPZ) -> MPZ { let r = MPZ(); __gmpz_add(r.p, a.p, b.p); return r }
    public static func - (a: MPZ, b: MPZ) -> MPZ { let r = MPZ(); __gmpz_sub(r.p, a.p, b.p); return r }
    public static func * (a: MPZ, b: MPZ) -> MPZ { let r = MPZ(); __gmpz_mul(r.p, a.p, b.p); return r }
    public static prefix func - (a: MPZ) -> MPZ { let r = MPZ(); __gmpz_neg(r.p, a.p); return r }

    public func adding(_ b: MPZ) -> MPZ { self + b }
    public func subtracting(_ b: MPZ) -> MPZ { self - b }
    public func multiplied(by b: MPZ) -> MPZ { self * b }

    /// self += b, in place (only on an `MPZ` the caller owns exclusively).
    public func addInPlace(_ b: MPZ) { __gmpz_add(p, p, b.p) }
    /// self += v, in place (only on an `MPZ` the caller owns exclusively).
    public func addInPlace(_ v: Int64) {
        if v >= 0 { __gmpz_add_ui(p, p, UInt(v)) } else { __gmpz_sub_ui(p, p, UInt(v.magnitude)) }
    }

    /// floor(self / d) for d > 0.
    public func floorDiv(_ d: MPZ) -> MPZ {
        precondition(d.signum > 0, "division by a non-positive MPZ")
        let r = MPZ(); __gmpz_fdiv_q(r.p, p, d.p); return r
    }

    /// self / d rounded toward zero, for d > 0.
    public func truncDiv(_ d: MPZ) -> MPZ {
        precondition(d.signum > 0, "division by a non-positive MPZ")
        let r = MPZ(); __gmpz_tdiv_q(r.p, p, d.p); return r
    }

    /// (floor(self / d), self - d * floor(self / d)) for d > 0; the remainder lies in [0, d).
    public func floorDivRem(_ d: MPZ) -> (q: MPZ, r: MPZ) {
        precondition(d.signum > 0, "division by a non-positive MPZ")
        let q = MPZ(), r = MPZ()
        __gmpz_fdiv_qr(q.p, r.p, p, d.p)
        return (q, r)
    }

    /// self mod 2^k in [0, 2^k).
    public func mod2exp(_ k: Int) -> MPZ {
        let r = MPZ(); __gmpz_fdiv_r_2exp(r.p, p, UInt(k)); return r
    }

    // MARK: Queries

    /// -1, 0 or 1.
    public var signum: Int {
        let c = __gmpz_cmp_si(p, 0)
        return c < 0 ? -1 : (c > 0 ? 1 : 0)
    }

    public var isOdd: Bool { __gmpz_tstbit(p, 0) == 1 }
    public var isZero: Bool { signum == 0 }

    /// Three-way comparison: negative, zero or positive as self <, ==, > b.
    public func compare(_ b: MPZ) -> Int {
        let c = __gmpz_cmp(p, b.p)
        return c < 0 ? -1 : (c > 0 ? 1 : 0)
    }

    public static func == (a: MPZ, b: MPZ) -> Bool { a.compare(b) == 0 }
    public static func < (a: MPZ, b: MPZ) -> Bool { a.compare(b) < 0 }

    /// Whether the value lies in Int64's range.
    public var fitsInt64: Bool { __gmpz_fits_slong_p(p) != 0 }

    /// The value as Int64, nil if it does not fit.
    public var int64: Int64? { fitsInt64 ? Int64(__gmpz_get_si(p)) : nil }

    /// Decimal text (with a leading `-` when negative).
    public var decimal: String {
        let n = __gmpz_sizeinbase(p, 10) + 2  // digits (maybe one too many) + sign + NUL
        var buf = [CChar](repeating: 0, count: n)
        buf.withUnsafeMutableBufferPointer { b in _ = __gmpz_get_str(b.baseAddress, 10, p) }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { decimal }
}

// MARK: - IR arithmetic on MPZ (docs/ir.md, "Values and types")

extension MPZ {
    /// round_R(self / d) for d > 0, as docs/ir.md defines each rounding.
    public func divided(by d: MPZ, rounding: Rounding) -> MPZ {
        switch rounding {
        case .floor:
            return floorDiv(d)
        case .trunc:
            return truncDiv(d)
        case .halfUp:
            // floor((2n + d) / (2d)), literally.
            let two = MPZ(2)
            return (two * self + d).floorDiv(two * d)
        case .halfEven:
            // Nearest; on a tie (2n + d divisible by 2d, i.e. n/d = k + 1/2) pick the even one of k, k + 1.
            let two = MPZ(2)
            let (q, r) = (two * self + d).floorDivRem(two * d)
            if r.isZero && q.isOdd { return q - MPZ(1) }
            return q
        }
    }

    /// round_R(self / 2^s) for s >= 0 (a rounded right shift).
    public func shiftedRight(_ s: Int, rounding: Rounding) -> MPZ {
        divided(by: MPZ.pow2(s), rounding: rounding)
    }

    /// Smallest value of `t`.
    public static func minimum(of t: IntType) -> MPZ { t.signed ? -pow2(t.bits - 1) : MPZ(0) }
    /// Largest value of `t`.
    public static func maximum(of t: IntType) -> MPZ { (t.signed ? pow2(t.bits - 1) : pow2(t.bits)) - MPZ(1) }

    /// Fits self into `t` with rule `o` (docs/ir.md "Fitting"); `changed` says whether the value changed
    /// (a saturation or a wrap happened).
    public func fitted(to t: IntType, _ o: Overflow) -> (value: MPZ, changed: Bool) {
        fitted(to: t, o, lo: MPZ.minimum(of: t), hi: MPZ.maximum(of: t))
    }

    /// `fitted(to:_:)` with the bounds of `t` supplied by the caller (`lo` = t.min, `hi` = t.max), to save
    /// recomputing them in loops.
    public func fitted(to t: IntType, _ o: Overflow, lo: MPZ, hi: MPZ) -> (value: MPZ, changed: Bool) {
        if self >= lo && self <= hi { return (self, false) }
        switch o {
        case .sat:
            return (self < lo ? lo : hi, true)
        case .wrap:
            // The unique w in [min, max] with w ≡ v (mod 2^N).
            var w = mod2exp(t.bits)  // [0, 2^N)
            if t.signed && w > hi { w = w - MPZ.pow2(t.bits) }
            return (w, true)
        }
    }
}
