import Foundation

/// SHA-256 (FIPS 180-4), a small self-contained implementation: test-vector manifests hash their files with it and
/// sweeps key their points with it.
/// Tested against the FIPS/NIST example vectors and against `sha256sum` (Tests/XbarTests/VectorsTests.swift).
public struct SHA256: Sendable {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    private var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    private var buffer: [UInt8] = []
    private var length: UInt64 = 0

    public init() {}

    /// Feeds bytes.
    public mutating func update<B: Sequence>(_ bytes: B) where B.Element == UInt8 {
        for b in bytes {
            buffer.append(b)
            length &+= 1
            if buffer.count == 64 {
                compress(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Feeds a whole `Data` quickly (whole blocks straight from its bytes).
    public mutating func update(_ text: String) { update(Array(text.utf8)) }

    public mutating func update(_ data: Data) {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var i = 0
            let n = raw.count
            // Complete a partial block first.
            while !buffer.isEmpty && i < n {
                buffer.append(raw[i]); i += 1; length &+= 1
                if buffer.count == 64 { compress(buffer); buffer.removeAll(keepingCapacity: true) }
            }
            if n - i >= 64, let base = raw.baseAddress {
                let blocks = (n - i) / 64
                compressBlocks(base + i, count: blocks)
                i += blocks * 64
                length &+= UInt64(blocks * 64)
            }
            while i < n { buffer.append(raw[i]); i += 1; length &+= 1 }
        }
    }

    /// The 32-byte digest (the hasher is consumed).
    public mutating func finalize() -> [UInt8] {
        let bits = length &* 8
        var pad: [UInt8] = [0x80]
        let rem = (buffer.count + 1) % 64
        pad += [UInt8](repeating: 0, count: rem <= 56 ? 56 - rem : 120 - rem)
        for s in stride(from: 56, through: 0, by: -8) { pad.append(UInt8(truncatingIfNeeded: bits >> UInt64(s))) }
        let saved = length
        update(pad)
        length = saved
        precondition(buffer.isEmpty)
        var out: [UInt8] = []
        for w in h { out += [UInt8(w >> 24), UInt8((w >> 16) & 0xff), UInt8((w >> 8) & 0xff), UInt8(w & 0xff)] }
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

    private mutating func compress(_ block: [UInt8]) {
        block.withUnsafeBytes { compressBlocks($0.baseAddress!, count: 1) }
    }

    /// Compresses `count` consecutive 64-byte blocks (raw pointers: fast in debug builds too).
    private mutating func compressBlocks(_ p: UnsafeRawPointer, count: Int) {
        let w = UnsafeMutablePointer<UInt32>.allocate(capacity: 64)
        defer { w.deallocate() }
        let k = UnsafeMutablePointer<UInt32>.allocate(capacity: 64)
        defer { k.deallocate() }
        for t in 0..<64 { k[t] = SHA256.k[t] }
        var h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7]
        let bytes = p.assumingMemoryBound(to: UInt8.self)
        for blk in 0..<count {
            let b = bytes + blk * 64
            for t in 0..<16 {
                w[t] = UInt32(b[4 * t]) << 24 | UInt32(b[4 * t + 1]) << 16 | UInt32(b[4 * t + 2]) << 8 | UInt32(b[4 * t + 3])
            }
            for t in 16..<64 {
                let x = w[t - 15], y = w[t - 2]
                let s0 = (x >> 7 | x << 25) ^ (x >> 18 | x << 14) ^ (x >> 3)
                let s1 = (y >> 17 | y << 15) ^ (y >> 19 | y << 13) ^ (y >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            var a = h0, bb = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7
            for t in 0..<64 {
                let s1 = (e >> 6 | e << 26) ^ (e >> 11 | e << 21) ^ (e >> 25 | e << 7)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ ch &+ k[t] &+ w[t]
                let s0 = (a >> 2 | a << 30) ^ (a >> 13 | a << 19) ^ (a >> 22 | a << 10)
                let maj = (a & bb) ^ (a & c) ^ (bb & c)
                hh = g; g = f; f = e; e = d &+ t1; d = c; c = bb; bb = a; a = t1 &+ s0 &+ maj
            }
            h0 &+= a; h1 &+= bb; h2 &+= c; h3 &+= d; h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= hh
        }
        h = [h0, h1, h2, h3, h4, h5, h6, h7]
    }
}
