import Foundation
import XbarCore

/// Reads and writes programs in either form: the IR text (the reference, docs/ir.md) or the compact binary form
/// (`.xbir`, docs/ir.md "Binary form"): the text with every array's rows as one fill code, then each array's other
/// cells as (index, code) pairs (or all its codes when that is smaller), then a SHA-256 of everything before it.
/// Text -> binary -> text gives the same text, byte for byte.
public enum ProgramFile {
    static let magic: [UInt8] = Array("XBIR".utf8)
    /// 2: each array of the skeleton is one `*: fill F` line (version 1 printed every row as `R: fill F`; still read).
    public static let binaryVersion: UInt32 = 2

    /// Whether `path` names the binary form (by its extension).
    public static func isBinary(_ path: String) -> Bool { path.hasSuffix(".xbir") }

    /// Reads a program, binary if the file starts with the binary form's magic, else text.
    public static func read(_ path: String) throws -> Program {
        let url = URL(fileURLWithPath: path)
        guard let data = try? Data(contentsOf: url, options: .alwaysMapped) else {
            throw XbarError(file: path, field: "", "cannot read file (missing or unreadable)")
        }
        if data.count >= 4 && Array(data.prefix(4)) == magic { return try decode(data, file: path) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw XbarError(file: path, field: "", "file is neither IR text (UTF-8) nor the binary form (magic XBIR)")
        }
        return try IRParser.parse(text, file: path)
    }

    /// Writes `p` atomically, in the binary form if `path` ends in `.xbir`, else as text.
    public static func write(_ p: Program, to path: String) throws {
        guard isBinary(path) else { return try IRPrinter.write(p, to: path) }
        try AtomicFile.write(to: path) { tmp in
            guard FileManager.default.createFile(atPath: tmp, contents: nil), let f = FileHandle(forWritingAtPath: tmp) else {
                throw XbarError(file: path, field: "", "cannot write file")
            }
            defer { try? f.close() }
            try encode(p) { try f.write(contentsOf: $0) }
        }
    }

    /// The most common code of an array (ties: the smallest).
    static func fill(_ a: ArrayDecl) -> Int32 {
        // A sparse store's fill covers more than half the cells when fewer than half differ: it is the mode.
        if let n = a.codes.exceptionCount, n * 2 < a.codes.count { return a.codes.fill }
        if let r = a.codes.range, Int(r.upperBound) - Int(r.lowerBound) < 1 << 20 {
            let lo = r.lowerBound, hi = r.upperBound
            var h = [Int](repeating: 0, count: Int(hi) - Int(lo) + 1)
            for c in a.codes { h[Int(c) - Int(lo)] += 1 }
            let best = h.indices.max { (h[$0], -$0) < (h[$1], -$1) } ?? 0
            return lo + Int32(best)
        }
        var counts: [Int32: Int] = [:]
        for c in a.codes { counts[c, default: 0] += 1 }
        return counts.max { ($0.value, -Int64($0.key)) < ($1.value, -Int64($1.key)) }?.key ?? 0
    }

    /// The binary form of `p`.
    public static func encode(_ p: Program) -> Data {
        var out = Data()
        encode(p) { out.append($0) }
        return out
    }

    /// The binary form of `p` in pieces, the checksum computed as they go (a large program goes to a file without its
    /// whole binary form in memory).
    public static func encode(_ p: Program, _ emit: (Data) throws -> Void) rethrows {
        var h = SHA256()
        func put(_ d: Data) throws {
            h.update(d)
            try emit(d)
        }
        let fills = p.arrays.parallelMap(threads: 0, fill)
        var text = ""
        IRPrinter.write(p, arrayFill: fills) { text += $0 }
        var head = Data(magic)
        append(&head, binaryVersion)
        let t = Data(text.utf8)
        append(&head, UInt64(t.count))
        try put(head)
        try put(t)
        // The arrays' cells, a chunk of arrays per piece, encoded on every core.
        try forEachPieceInOrder(p.arrays.count, chunk: 64) { ks in
            var out = Data()
            for k in ks { cells(p.arrays[k], fill: fills[k], into: &out) }
            return out
        } consume: { try put($0) }
        try emit(Data(h.finalize()))
    }

    /// One array's cells after the skeleton: layout 1 and every code when more than half differ from the fill, else
    /// layout 0, the count and the (index, code) pairs of the cells that differ.
    static func cells(_ a: ArrayDecl, fill f: Int32, into out: inout Data) {
        var n = 0
        a.codes.forEachCell(differingFrom: f) { _, _ in n += 1 }
        if n * 2 > a.codes.count {
            out.append(1)
            a.codes.withContiguousCodes { out.append(contentsOf: UnsafeRawBufferPointer($0)) }
        } else {
            out.append(0)
            append(&out, UInt32(n))
            var pairs = [UInt32](); pairs.reserveCapacity(2 * n)
            a.codes.forEachCell(differingFrom: f) { i, c in pairs.append(UInt32(i)); pairs.append(UInt32(bitPattern: c)) }
            pairs.withUnsafeBytes { out.append(contentsOf: $0) }
        }
    }

    static func append<T: FixedWidthInteger>(_ d: inout Data, _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) }
    }

    /// Reads the binary form: checks the checksum first, then the version, the text, and each array's cells (sizes
    /// checked against what is left of the file before anything is allocated).
    public static func decode(_ data: Data, file: String) throws -> Program {
        // Read in place (a mapped file is not copied).
        try data.withUnsafeBytes { try decode(bytes: $0, file: file) }
    }

    static func decode(bytes all: UnsafeRawBufferPointer, file: String) throws -> Program {
        func fail(_ field: String, _ m: String) -> XbarError { XbarError(file: file, field: field, m) }
        guard all.count >= 16 + 32 else { throw fail("", "binary IR truncated: \(all.count) bytes") }
        let bytes = UnsafeRawBufferPointer(rebasing: all[0..<(all.count - 32)])
        var h = SHA256()
        h.update(bytes)
        guard h.finalize() == Array(all[(all.count - 32)...]) else { throw fail("checksum", "SHA-256 mismatch: the file is corrupted or truncated") }
        var at = 4
        func u32() throws -> UInt32 {
            guard at + 4 <= bytes.count else { throw fail("", "binary IR truncated at byte \(at)") }
            defer { at += 4 }
            return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))
        }
        let version = try u32()
        guard version == binaryVersion || version == 1 else { throw fail("version", "binary IR version \(version), this tool reads 1 and \(binaryVersion)") }
        let tlen = UInt64(try u32()) | UInt64(try u32()) << 32
        guard tlen <= UInt64(bytes.count - at) else { throw fail("text", "text length \(tlen) exceeds the file") }
        let text = String(decoding: bytes[at..<(at + Int(tlen))], as: UTF8.self)
        at += Int(tlen)
        var p = try IRParser.parse(text, file: file)
        for k in p.arrays.indices {
            let cells = p.arrays[k].codes.count, field = "array %\(p.arrays[k].name)"
            guard at < bytes.count else { throw fail(field, "cells missing") }
            let layout = bytes[at]; at += 1
            switch layout {
            case 1:
                guard cells * 4 <= bytes.count - at else { throw fail(field, "\(cells) codes exceed the file") }
                p.arrays[k].codes = CellCodes(try (0..<cells).map { _ in Int32(bitPattern: try u32()) })
            case 0:
                let n = Int(try u32())
                guard n <= cells, n * 8 <= bytes.count - at else { throw fail(field, "\(n) cells listed for \(cells)") }
                p.arrays[k].codes = try listedCells(bytes, at: &at, n, over: p.arrays[k].codes, field: field, fail)
            default: throw fail(field, "unknown cell layout \(layout)")
            }
        }
        guard at == bytes.count else { throw fail("", "\(bytes.count - at) bytes after the last array") }
        return p
    }

    /// `n` (index, code) pairs at `at` written over `base` (the skeleton's cells): indices must ascend and lie inside.
    /// Over a sparse skeleton the pairs become its listed cells at once (those equal to its fill are dropped).
    static func listedCells(_ bytes: UnsafeRawBufferPointer, at: inout Int, _ n: Int, over base: CellCodes, field: String,
                            _ fail: (String, String) -> XbarError) throws -> CellCodes {
        let cells = base.count
        var index: [Int32] = [], code: [Int32] = []
        index.reserveCapacity(n)
        code.reserveCapacity(n)
        var last = -1
        for e in 0..<n {
            let o = at + 8 * e
            let i = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
            let c = Int32(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: o + 4, as: UInt32.self)))
            guard i > last, i < cells else { throw fail(field, "cell index \(i) out of order or beyond \(cells)") }
            last = i
            index.append(Int32(i))
            code.append(c)
        }
        at += 8 * n
        if base.exceptionCount == 0 {
            let keep = code.indices.filter { code[$0] != base.fill }
            if keep.count < n { return CellCodes(fill: base.fill, count: cells, indices: keep.map { index[$0] }, codes: keep.map { code[$0] }) }
            return CellCodes(fill: base.fill, count: cells, indices: index, codes: code)
        }
        var out = base
        for (i, c) in zip(index, code) { out[Int(i)] = c }
        return out
    }
}
