import Foundation
import XCTest
import XbarCompiler
import XbarCore
import XbarGraph
import XbarIR

/// The binary form of programs (`.xbir`, docs/ir.md "Binary form") against the text form, the reference.
final class ProgramFileTests: XCTestCase {
    func programs() throws -> [Program] {
        let paper = try Compiler.compile(LSMBuilder.paper(LSMBuilder.PaperOptions()), target: try Repo.target("rram-40nm-256kb")).program
        var o = LSMBuilder.NALSMOptions()
        o.neurons = 300
        o.inputs = 100
        let nalsm = try Compiler.compile(LSMBuilder.nalsm(o), target: try Repo.target("ideal"), options: CompileOptions(replicateMacros: true)).program
        return [paper, nalsm]
    }

    func testBinaryRoundTripsToTheSameText() throws {
        let dir = Repo.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (i, p) in try programs().enumerated() {
            let path = dir.appendingPathComponent("p\(i).xbir").path
            try ProgramFile.write(p, to: path)
            let back = try ProgramFile.read(path)
            XCTAssertEqual(back, p)
            XCTAssertEqual(IRPrinter.print(back), IRPrinter.print(p))
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
            XCTAssertLessThan(size, IRPrinter.print(p).utf8.count, "program \(i): binary \(size) bytes")
            // Text files still read as text.
            let text = dir.appendingPathComponent("p\(i).xir").path
            try ProgramFile.write(p, to: text)
            XCTAssertEqual(try AtomicFile.readText(text), IRPrinter.print(p))
            XCTAssertEqual(try ProgramFile.read(text), p)
        }
    }

    func testLayoutByHand() throws {
        // One 2 x 3 array, codes [5 5 7; 5 5 5]: fill 5, one exception (index 2, code 7).
        var p = try programs()[1]
        p.arrays = [ArrayDecl(name: "a", macro: 0, index: 0, rows: 2, cols: 3, gUnitNS: 1000, codeType: IntType(signed: false, bits: 4),
                              codes: [5, 5, 7, 5, 5, 5])]
        let d = ProgramFile.encode(p)
        XCTAssertEqual(Array(d.prefix(8)), Array("XBIR".utf8) + [2, 0, 0, 0])
        let tlen = Int(d[8]) | Int(d[9]) << 8 | Int(d[10]) << 16
        let text = String(decoding: d[16..<(16 + tlen)], as: UTF8.self)
        XCTAssertTrue(text.contains("array %a macro 0 index 0 rows 2 cols 3 code u4 gunit_ns 1000.0 state programmed\n  *: fill 5\nend\n"), text)
        XCTAssertEqual(Array(d[(16 + tlen)..<(16 + tlen + 13)]), [0, 1, 0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0])
        XCTAssertEqual(d.count, 16 + tlen + 13 + 32)
    }

    func testCorruptionIsAOneLineError() throws {
        let dir = Repo.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = try programs()[1]
        let good = ProgramFile.encode(p)
        let path = dir.appendingPathComponent("bad.xbir").path
        var flipped = good
        flipped[good.count / 2] ^= 0x40
        try flipped.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ProgramFile.read(path)) { XCTAssertEqual("\($0)", "\(path): checksum: SHA-256 mismatch: the file is corrupted or truncated") }
        try good.prefix(good.count - 100).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ProgramFile.read(path)) { XCTAssertTrue("\($0)".contains("SHA-256 mismatch"), "\($0)") }
        try Data(Array("XBIR".utf8)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ProgramFile.read(path)) { XCTAssertTrue("\($0)".contains("binary IR truncated: 4 bytes"), "\($0)") }
        // A well-formed file of another version (checksum recomputed).
        var v3 = Data(good.prefix(good.count - 32))
        v3[4] = 3
        var h = SHA256()
        h.update(v3)
        v3.append(contentsOf: h.finalize())
        try v3.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ProgramFile.read(path)) { XCTAssertTrue("\($0)".contains("binary IR version 3, this tool reads 1 and 2"), "\($0)") }
    }

    /// A version-2 file built by hand: the skeleton text of one 2 x 3 array at fill 5, then `pairs` (index, code).
    private func handFile(pairs: [(UInt32, UInt32)]) throws -> (path: String, dir: URL, program: Program) {
        var p = try programs()[1]
        p.arrays = [ArrayDecl(name: "a", macro: 0, index: 0, rows: 2, cols: 3, gUnitNS: 1000, codeType: IntType(signed: false, bits: 4),
                              codes: [5, 5, 5, 5, 5, 5])]
        var skeleton = ""
        IRPrinter.write(p, arrayFill: [5]) { skeleton += $0 }
        let text = Data(skeleton.utf8)
        var d = Data("XBIR".utf8) + Data([2, 0, 0, 0])
        withUnsafeBytes(of: UInt64(text.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(text)
        d.append(0)
        withUnsafeBytes(of: UInt32(pairs.count).littleEndian) { d.append(contentsOf: $0) }
        for (i, c) in pairs {
            withUnsafeBytes(of: i.littleEndian) { d.append(contentsOf: $0) }
            withUnsafeBytes(of: c.littleEndian) { d.append(contentsOf: $0) }
        }
        var h = SHA256()
        h.update(d)
        d.append(contentsOf: h.finalize())
        let dir = Repo.tempDir()
        let path = dir.appendingPathComponent("hand.xbir").path
        try d.write(to: URL(fileURLWithPath: path))
        return (path, dir, p)
    }

    /// Listed cells become the sparse array's cells in one step: one equal to the fill is dropped (the array still
    /// lists only what differs), indices must ascend and lie inside the array.
    func testListedCellsByHand() throws {
        let ok = try handFile(pairs: [(1, 5), (4, 9)])
        defer { try? FileManager.default.removeItem(at: ok.dir) }
        let back = try ProgramFile.read(ok.path)
        XCTAssertEqual(Array(back.arrays[0].codes), [5, 5, 5, 5, 9, 5])
        XCTAssertEqual(back.arrays[0].codes.exceptionCount, 1)
        let cases: [([(UInt32, UInt32)], String)] = [([(2, 7), (1, 7)], "cell index 1 out of order or beyond 6"),
                                                     ([(6, 7)], "cell index 6 out of order or beyond 6")]
        for (pairs, message) in cases {
            let bad = try handFile(pairs: pairs)
            defer { try? FileManager.default.removeItem(at: bad.dir) }
            XCTAssertThrowsError(try ProgramFile.read(bad.path)) { XCTAssertEqual("\($0)", "\(bad.path): array %a: \(message)") }
        }
    }

    /// Version 1 (every skeleton row printed as `R: fill F`), built by hand from its layout, still reads.
    func testVersion1StillReads() throws {
        var p = try programs()[1]
        p.arrays = [ArrayDecl(name: "a", macro: 0, index: 0, rows: 2, cols: 3, gUnitNS: 1000, codeType: IntType(signed: false, bits: 4),
                              codes: [5, 5, 7, 5, 5, 5])]
        var skeleton = p
        skeleton.arrays[0].codes = CellCodes(repeating: 5, count: 6)
        let text = Data(IRPrinter.print(skeleton).utf8)
        XCTAssertTrue(String(decoding: text, as: UTF8.self).contains("  0: fill 5\n  1: fill 5\nend\n"))
        var d = Data("XBIR".utf8) + Data([1, 0, 0, 0])
        withUnsafeBytes(of: UInt64(text.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(text)
        d.append(contentsOf: [0, 1, 0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0] as [UInt8])
        var h = SHA256()
        h.update(d)
        d.append(contentsOf: h.finalize())
        let dir = Repo.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("v1.xbir").path
        try d.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try ProgramFile.read(path), p)
        XCTAssertEqual(Array(try ProgramFile.read(path).arrays[0].codes), [5, 5, 7, 5, 5, 5])
    }
}
