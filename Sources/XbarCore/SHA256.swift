import CCrypto
import Foundation

/// SHA-256 (FIPS 180-4) through OpenSSL's libcrypto (Debian libssl-dev), which uses the CPU's SHA instructions where
/// it has them: test-vector manifests hash their files with it, sweeps key their points with it and the binary IR
/// ends with it. Tested against the FIPS/NIST example vectors and against `sha256sum`
/// (Tests/XbarTests/VectorsTests.swift). A copy of a hasher continues independently (copy on write).
public struct SHA256: Sendable {
    /// One OpenSSL digest context.
    final class Context: @unchecked Sendable {
        let ctx: OpaquePointer

        init() {
            ctx = EVP_MD_CTX_new()!
            precondition(EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1, "OpenSSL SHA-256 unavailable")
        }

        init(copying other: Context) {
            ctx = EVP_MD_CTX_new()!
            precondition(EVP_MD_CTX_copy_ex(ctx, other.ctx) == 1, "OpenSSL SHA-256 context copy failed")
        }

        deinit { EVP_MD_CTX_free(ctx) }
    }

    private var context = Context()

    public init() {}

    private mutating func feed(_ raw: UnsafeRawBufferPointer) {
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context) }
        if let base = raw.baseAddress, raw.count > 0 { EVP_DigestUpdate(context.ctx, base, raw.count) }
    }

    /// Feeds bytes.
    public mutating func update<B: Sequence>(_ bytes: B) where B.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { feed(UnsafeRawBufferPointer($0)) }
        if done == nil { Array(bytes).withUnsafeBytes { feed($0) } }
    }

    public mutating func update(_ text: String) { update(Array(text.utf8)) }

    /// Feeds raw bytes in place.
    public mutating func update(_ raw: UnsafeRawBufferPointer) { feed(raw) }

    /// Feeds a whole `Data`.
    public mutating func update(_ data: Data) { data.withUnsafeBytes { feed($0) } }

    /// The 32-byte digest (the hasher is consumed).
    public mutating func finalize() -> [UInt8] {
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context) }
        var out = [UInt8](repeating: 0, count: 32)
        var n: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context.ctx, &out, &n) == 1 && n == 32, "OpenSSL SHA-256 final failed")
        return out
    }

    /// Lower-case hex digest of `data`.
    public static func hex(_ data: Data) -> String {
        var s = SHA256()
        s.update(data)
        return s.finalize().map { String(format: "%02x", $0) }.joined()
    }

    public static func hex(_ text: String) -> String { hex(Data(text.utf8)) }

    /// Lower-case hex of raw bytes (a finished digest), or of the digest of a byte array when `digest` is true.
    public static func hex(_ bytes: [UInt8], digest: Bool = true) -> String {
        if digest { return hex(Data(bytes)) }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }
}
