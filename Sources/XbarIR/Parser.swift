import XbarCore

/// Parses the IR text form back into a `Program`; every error names the file and line. Run `IRVerifier` after.
public struct IRParser {
    let file: String
    var lines: [Substring]
    var index = 0
    /// The version the file declares (model-qualified lines need 2).
    var version = 1

    /// Largest array a program may declare (cells), refused before allocating.
    public static let maxArrayCells = 1 << 24
    /// Largest vector length an op may declare.
    public static let maxLength = 1 << 22

    public static func parse(_ text: String, file: String = "<ir>") throws -> Program {
        var p = IRParser(file: file, lines: lines(of: text))
        return try p.program()
    }

    /// The lines of `text`, split at every newline byte by a scan of its UTF-8 (Character-wise splitting costs most
    /// of a large program's parse). A "\r" before the newline stays on the line, where it is white space.
    static func lines(of text: String) -> [Substring] {
        var out: [Substring] = []
        let u = text.utf8
        var start = u.startIndex
        var i = u.startIndex
        while i != u.endIndex {
            if u[i] == 0x0A {
                out.append(text[start..<i])
                start = u.index(after: i)
            }
            i = u.index(after: i)
        }
        out.append(text[start..<u.endIndex])
        return out
    }

    func fail(_ msg: String, line: Int? = nil) -> XbarError {
        XbarError(file: file, field: "line \((line ?? index) + 1)", msg)
    }

    /// Next non-blank, non-comment line, tokenised; nil at end of text.
    mutating func nextLine() -> (line: Int, tokens: [Substring])? {
        while index < lines.count {
            let raw = lines[index]
            index += 1
            let body = raw.utf8.firstIndex(of: 0x23).map { raw[..<$0] } ?? raw  // "#"
            let t = tokenize(body)
            if !t.isEmpty { return (index - 1, t) }
        }
        return nil
    }

    /// The tokens of a line: runs of non-blank bytes, a quoted string (with `\` escapes) or a bracketed group
    /// (row-source lists contain spaces and nested `[START:COUNT]`) as one token. Scanned as UTF-8 bytes: every
    /// delimiter is ASCII, so tokens start and end on character boundaries of the IR's ASCII syntax.
    func tokenize(_ s: Substring) -> [Substring] {
        var out: [Substring] = []
        let u = s.utf8
        var i = u.startIndex
        let end = u.endIndex
        @inline(__always) func blank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }
        while i < end {
            let b = u[i]
            if blank(b) { u.formIndex(after: &i); continue }
            let start = i
            if b == 0x22 {  // "
                u.formIndex(after: &i)
                while i < end && u[i] != 0x22 {
                    if u[i] == 0x5C && u.index(after: i) < end { u.formIndex(after: &i) }  // \
                    u.formIndex(after: &i)
                }
                if i < end { u.formIndex(after: &i) }
            } else if b == 0x5B {  // [
                var depth = 0
                repeat {
                    if u[i] == 0x5B { depth += 1 } else if u[i] == 0x5D { depth -= 1 }
                    u.formIndex(after: &i)
                } while i < end && depth > 0
            } else {
                while i < end && !blank(u[i]) { u.formIndex(after: &i) }
            }
            out.append(s[start..<i])
        }
        return out
    }

    // MARK: helpers on a token list

    struct Cursor {
        let tokens: [Substring]
        var pos = 0
        let line: Int
        let parser: IRParser

        var atEnd: Bool { pos >= tokens.count }

        mutating func next(_ what: String) throws -> Substring {
            guard pos < tokens.count else { throw parser.fail("expected \(what) at end of line", line: line) }
            pos += 1
            return tokens[pos - 1]
        }

        mutating func keyword(_ k: String) throws {
            let t = try next("'\(k)'")
            guard t == k else { throw parser.fail("expected '\(k)', found '\(t)'", line: line) }
        }

        mutating func int(_ what: String, min: Int64 = Int64.min, max: Int64 = Int64.max) throws -> Int64 {
            let t = try next(what)
            guard let v = Int64(t) else { throw parser.fail("\(what): expected an integer, found '\(t)'", line: line) }
            guard v >= min && v <= max else {
                throw parser.fail("\(what): \(v) out of range \(min)...\(max)", line: line)
            }
            return v
        }

        mutating func count(_ what: String, max: Int) throws -> Int {
            Int(try int(what, min: 0, max: Int64(max)))
        }

        mutating func double(_ what: String) throws -> Double {
            let t = try next(what)
            guard let v = Double(t), v.isFinite else {
                throw parser.fail("\(what): expected a finite number, found '\(t)'", line: line)
            }
            return v
        }

        mutating func type(_ what: String) throws -> IntType {
            let t = try next(what)
            guard let ty = IntType(t) else {
                throw parser.fail("\(what): expected an integer type like i24 or u8, found '\(t)'", line: line)
            }
            return ty
        }

        mutating func name(_ sigil: Character, _ what: String) throws -> String {
            let t = try next(what)
            guard t.first == sigil, t.utf8.count > 1 else {  // the sigil is one byte
                throw parser.fail("\(what): expected \(sigil)name, found '\(t)'", line: line)
            }
            let n = t.dropFirst()
            // ASCII letters, digits, "_", "." and "-" pass byte by byte; anything else goes through Character.
            let ascii = n.utf8.allSatisfy { b in
                (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2E || b == 0x2D
            }
            guard ascii || n.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" }) else {
                throw parser.fail("\(what): invalid name '\(t)'", line: line)
            }
            return String(n)
        }

        mutating func string(_ what: String) throws -> String {
            let t = try next(what)
            guard t.count >= 2, t.first == "\"", t.last == "\"" else {
                throw parser.fail("\(what): expected a quoted string, found '\(t)'", line: line)
            }
            var s = ""
            var escape = false
            for ch in t.dropFirst().dropLast() {
                if escape {
                    s.append(ch == "n" ? "\n" : ch)
                    escape = false
                } else if ch == "\\" {
                    escape = true
                } else {
                    s.append(ch)
                }
            }
            return s
        }

        mutating func enumValue<E: RawRepresentable & CaseIterable>(_ e: E.Type, _ what: String) throws -> E
        where E.RawValue == String {
            let t = try next(what)
            guard let v = E(rawValue: String(t)) else {
                let opts = E.allCases.map { $0.rawValue }.joined(separator: "|")
                throw parser.fail("\(what): expected \(opts), found '\(t)'", line: line)
            }
            return v
        }

        func done() throws {
            if pos < tokens.count {
                throw parser.fail("unexpected '\(tokens[pos])' at end of line", line: line)
            }
        }
    }

    func cursor(_ l: (line: Int, tokens: [Substring])) -> Cursor { Cursor(tokens: l.tokens, line: l.line, parser: self) }

    // MARK: grammar

    mutating func program() throws -> Program {
        guard let h = nextLine() else { throw fail("empty file: expected 'xbar-ir \(irVersion)'", line: 0) }
        var c = cursor(h)
        try c.keyword("xbar-ir")
        let v = try c.int("version")
        guard v >= 1 && v <= Int64(irVersion) else {
            throw fail("version: this tool reads IR versions 1...\(irVersion), the file is version \(v)", line: h.line)
        }
        version = Int(v)
        try c.done()
        guard let pl = nextLine() else { throw fail("expected 'program' line") }
        c = cursor(pl)
        try c.keyword("program")
        let name = try c.string("program name")
        try c.keyword("target")
        let target = try c.string("target name")
        try c.keyword("timesteps")
        let steps = try c.count("timesteps", max: 100_000_000)
        try c.done()

        var p = Program(name: name, target: target, timesteps: steps, inputs: [], neurons: [], arrays: [],
                        readouts: [], step: [])
        p.version = version
        while let l = nextLine() {
            switch l.tokens[0] {
            case "input":
                var c = cursor(l)
                _ = try c.next("input")
                let n = try c.name("@", "input name")
                let size = try c.count("input size", max: IRParser.maxLength)
                try c.done()
                p.inputs.append(InputDecl(name: n, size: size))
            case "neuron": p.neurons.append(try neuron(l))
            case "array": p.arrays.append(try array(l))
            case "readout": p.readouts.append(try readout(l))
            case "step":
                try cursor(l).done2(1)
                p.step = try steps_()
                if let extra = nextLine() { throw fail("unexpected '\(extra.tokens[0])' after the step block", line: extra.line) }
                return p
            default:
                throw fail("expected input, neuron, array, readout or step, found '\(l.tokens[0])'", line: l.line)
            }
        }
        throw fail("missing 'step' block")
    }

    mutating func array(_ l: (line: Int, tokens: [Substring])) throws -> ArrayDecl {
        var c = cursor(l)
        _ = try c.next("array")
        let name = try c.name("%", "array name")
        try c.keyword("macro")
        let macro = try c.count("macro", max: 1 << 20)
        try c.keyword("index")
        let idx = try c.count("index", max: 1 << 20)
        try c.keyword("rows")
        let rows = try c.count("rows", max: 1 << 16)
        try c.keyword("cols")
        let cols = try c.count("cols", max: 1 << 16)
        try c.keyword("code")
        let ct = try c.type("code type")
        try c.keyword("gunit_ns")
        let gu = try c.double("gunit_ns")
        try c.keyword("state")
        let st = try c.next("state")
        guard st == "formed" || st == "programmed" || (st == "realised" && version >= 3) else {
            throw fail("state: expected formed or programmed\(version >= 3 ? " or realised" : ""), found '\(st)'", line: l.line)
        }
        try c.done()
        guard rows * cols <= IRParser.maxArrayCells else {
            throw fail("array %\(name): \(rows)x\(cols) cells exceeds the limit of \(IRParser.maxArrayCells)", line: l.line)
        }
        guard !ct.signed, ct.bits <= 31 else { throw fail("code type: expected unsigned of at most 31 bits", line: l.line) }
        // Rows are parsed into one row buffer; the array stays one fill code until a row differs from it.
        var row = [Int32](repeating: 0, count: cols)
        var dense: [Int32]? = nil
        var uniform: Int32 = 0
        // `*: fill F`: every row is F (the binary form's skeleton, docs/ir.md).
        let saved = index
        var allRows = false
        if let l = nextLine(), l.tokens.count == 3, l.tokens[0] == "*:", l.tokens[1] == "fill" {
            uniform = try hexCode(l.tokens[2], ct, l.line)
            allRows = true
        } else {
            index = saved
        }
        for r in 0..<rows where !allRows {
            if index < lines.count, IRParser.fastRow(lines[index], row: r, cols: cols, max: ct.max, into: &row[...]) {
                index += 1
            } else {
                guard let rl = nextLine() else { throw fail("array %\(name): missing row \(r)") }
                var rc = cursor(rl)
                let tag = try rc.next("row index")
                guard tag == "\(r):" else { throw fail("array %\(name): expected row '\(r):', found '\(tag)'", line: rl.line) }
                if rl.tokens.count == 3 && rl.tokens[1] == "fill" {
                    let v = try hexCode(rl.tokens[2], ct, rl.line)
                    for cc in 0..<cols { row[cc] = v }
                } else {
                    guard rl.tokens.count == cols + 1 else {
                        throw fail("array %\(name) row \(r): expected \(cols) codes, found \(rl.tokens.count - 1)", line: rl.line)
                    }
                    for cc in 0..<cols { row[cc] = try hexCode(rl.tokens[cc + 1], ct, rl.line) }
                }
            }
            if dense == nil {
                if r == 0 { uniform = row[0] }
                if row.allSatisfy({ $0 == uniform }) { continue }
                dense = [Int32](repeating: uniform, count: rows * cols)
            }
            dense!.withUnsafeMutableBufferPointer { d in for cc in 0..<cols { d[r * cols + cc] = row[cc] } }
        }
        let codes = dense.map { CellCodes($0) } ?? CellCodes(repeating: uniform, count: rows * cols)
        let writes = st == "realised" ? try writeCounts(name, rows: rows, cols: cols) : nil
        guard let e = nextLine(), e.tokens == ["end"] else { throw fail("array %\(name): expected 'end' after \(rows) rows") }
        var a = ArrayDecl(name: name, macro: macro, index: idx, rows: rows, cols: cols, gUnitNS: gu, codeType: ct, cells: codes,
                          formed: st == "formed")
        a.realised = st == "realised"
        a.writes = writes
        return a
    }

    /// The `writes R: n n ...` lines of a realised array (rows with a written cell, ascending), or nil when none.
    mutating func writeCounts(_ name: String, rows: Int, cols: Int) throws -> [UInt32]? {
        var w: [UInt32]? = nil
        var last = -1
        while true {
            let save = index
            guard let l = nextLine(), l.tokens.first == "writes" else { index = save; break }
            guard l.tokens.count == cols + 2, l.tokens[1].last == ":", let r = Int(l.tokens[1].dropLast()), r > last, r < rows else {
                throw fail("array %\(name): expected 'writes ROW: ' and \(cols) counts, rows ascending", line: l.line)
            }
            if w == nil { w = [UInt32](repeating: 0, count: rows * cols) }
            var c = cursor(l)
            _ = try c.next("writes")
            _ = try c.next("row")
            for cc in 0..<cols { w![r * cols + cc] = UInt32(try c.int("writes", min: 0, max: Int64(UInt32.max))) }
            last = r
        }
        return w
    }

    /// The codes of array row `row` from its line when it is plain (`  R: h h ...` with `cols` hex codes of at most 8
    /// digits, or `R: fill h`, single spaces or tabs, no comment), read byte by byte: the values the token path
    /// gives. False for any other line (blank, commented, malformed): the caller takes the token path, which also
    /// words every error.
    static func fastRow(_ raw: Substring, row: Int, cols: Int, max: Int64, into out: inout ArraySlice<Int32>) -> Bool {
        raw.utf8.withContiguousStorageIfAvailable { b -> Bool in
            let n = b.count
            var i = 0
            @inline(__always) func skipSpace() { while i < n && (b[i] == 0x20 || b[i] == 0x09) { i += 1 } }
            // The row tag (after indentation): the decimal row index without leading zeros, then ':'.
            skipSpace()
            let first = i
            var tag = 0, digits = 0
            while i < n, b[i] >= 0x30, b[i] <= 0x39, digits < 7 { tag = tag * 10 + Int(b[i] - 0x30); i += 1; digits += 1 }
            guard digits > 0, tag == row, digits == 1 || b[first] != 0x30, i < n, b[i] == 0x3A else { return false }
            i += 1
            // One hex token at i (after spaces); nil when absent or not plain hex within max.
            func hex() -> Int32? {
                skipSpace()
                var v: Int64 = 0, d = 0
                while i < n {
                    let c = b[i]
                    let x: Int64
                    if c >= 0x30 && c <= 0x39 { x = Int64(c - 0x30) }
                    else if c >= 0x61 && c <= 0x66 { x = Int64(c - 0x61 + 10) }
                    else if c >= 0x41 && c <= 0x46 { x = Int64(c - 0x41 + 10) }
                    else { break }
                    v = v * 16 + x
                    d += 1
                    i += 1
                    if d > 8 { return nil }
                }
                guard d > 0, v <= max, i == n || b[i] == 0x20 || b[i] == 0x09 else { return nil }
                return Int32(v)
            }
            skipSpace()
            if i + 4 <= n, b[i] == 0x66, b[i + 1] == 0x69, b[i + 2] == 0x6C, b[i + 3] == 0x6C {  // "fill"
                i += 4
                guard i < n, b[i] == 0x20 || b[i] == 0x09, let v = hex() else { return false }
                skipSpace()
                guard i == n else { return false }
                for k in out.indices { out[k] = v }
                return true
            }
            var k = out.startIndex
            for _ in 0..<cols {
                guard let v = hex() else { return false }
                out[k] = v
                k += 1
            }
            skipSpace()
            return i == n
        } ?? false
    }

    func hexCode(_ t: Substring, _ ct: IntType, _ line: Int) throws -> Int32 {
        guard let v = UInt32(t, radix: 16), Int64(v) <= ct.max else {
            throw fail("conductance code '\(t)': expected hex in 0...\(String(ct.max, radix: 16))", line: line)
        }
        return Int32(v)
    }

    mutating func readout(_ l: (line: Int, tokens: [Substring])) throws -> ReadoutDecl {
        var c = cursor(l)
        _ = try c.next("readout")
        let name = try c.name("@", "readout name")
        try c.keyword("from")
        let src = try c.name("@", "readout source")
        try c.keyword("classes")
        let k = try c.count("classes", max: 1 << 16)
        try c.keyword("weight")
        let wt = try c.type("weight type")
        try c.keyword("acc")
        let at = try c.type("acc type")
        let ao = try c.enumValue(Overflow.self, "acc overflow")
        try c.keyword("scale")
        let sc = try c.double("scale")
        try c.done()
        var weights: [Int32] = []
        var width: Int? = nil
        for kk in 0..<k {
            guard let wl = nextLine() else { throw fail("readout @\(name): missing weights of class \(kk)") }
            var wc = cursor(wl)
            try wc.keyword("w")
            let tag = try wc.next("class index")
            guard tag == "\(kk):" else { throw fail("readout @\(name): expected '\(kk):', found '\(tag)'", line: wl.line) }
            let n = wl.tokens.count - 2
            if let w = width, w != n { throw fail("readout @\(name): class \(kk) has \(n) weights, expected \(w)", line: wl.line) }
            width = n
            for _ in 0..<n { weights.append(Int32(try wc.int("weight", min: Int64(Int32.min), max: Int64(Int32.max)))) }
        }
        guard let bl = nextLine() else { throw fail("readout @\(name): missing 'bias:' line") }
        var bc = cursor(bl)
        try bc.keyword("bias:")
        var bias: [Int32] = []
        while !bc.atEnd { bias.append(Int32(try bc.int("bias", min: Int64(Int32.min), max: Int64(Int32.max)))) }
        guard let e = nextLine(), e.tokens == ["end"] else { throw fail("readout @\(name): expected 'end'") }
        return ReadoutDecl(name: name, source: src, classes: k, weightType: wt, accType: at, accOverflow: ao,
                           weights: weights, bias: bias, scale: sc)
    }

    mutating func steps_() throws -> [Op] {
        var ops: [Op] = []
        while let l = nextLine() {
            if l.tokens == ["end"] { return ops }
            ops.append(try op(l))
        }
        throw fail("step block: missing 'end'")
    }

    func op(_ l: (line: Int, tokens: [Substring])) throws -> Op {
        var c = cursor(l)
        let result = try c.name("%", "result name")
        try c.keyword("=")
        let mnemonic = try c.next("op")
        // Every op's text is its definition's parts (OpDefinitions.swift); model ops exist from version 2 on.
        let known = OpDefinition.plasticity.contains(String(mnemonic)) ? version >= 3 : version >= 2 || OpDefinition.builtIn[String(mnemonic)] != nil
        guard let def = OpDefinition.definition(String(mnemonic)), known else {
            throw fail("unknown op '\(mnemonic)' (expected \(OpDefinition.mnemonics.joined(separator: ", ")))", line: l.line)
        }
        var fields: [OpField] = []
        for part in def.parts {
            switch part {
            case let .keyword(k): try c.keyword(k)
            case let .value(what), let .array(what): fields.append(.name(try c.name("%", what)))
            case let .values(what):
                var os: [String] = []
                while c.pos < c.tokens.count && c.tokens[c.pos] != ":" { os.append(try c.name("%", what)) }
                fields.append(.names(os))
            case let .population(what): fields.append(.name(try c.name("@", what)))
            case let .int(what, lo, hi): fields.append(.int(try c.int(what, min: lo, max: hi)))
            case let .real(what): fields.append(.real(try c.double(what)))
            case let .rounding(what): fields.append(.rounding(try c.enumValue(Rounding.self, what)))
            case let .overflow(what): fields.append(.overflow(try c.enumValue(Overflow.self, what)))
            case let .rowSources(what): fields.append(.rows(try rowSources(try c.next(what), l.line)))
            case let .word(what, words):
                let w = try c.next(what)
                guard words.contains(String(w)) else {
                    throw fail("\(what): expected \(words.joined(separator: " or ")), found '\(w)'", line: l.line)
                }
                fields.append(.word(String(w)))
            case let .optionalValue(what):
                if c.pos < c.tokens.count && c.tokens[c.pos] == "none" { c.pos += 1; fields.append(.optionalName(nil)) }
                else { fields.append(.optionalName(try c.name("%", what))) }
            case let .weightedSources(what): fields.append(.weighted(try weightedSources(try c.next(what), l.line)))
            case let .synapses(what):
                let t = try c.next(what)
                fields.append(.mask(t == "all" ? nil : try synapseMask(t, l.line)))
            case let .intList(what, lo, hi):
                let t = try c.next(what)
                guard t.first == "[", t.last == "]" else { throw fail("\(what): expected [n, n, ...], found '\(t)'", line: l.line) }
                var v: [Int64] = []
                for part in t.dropFirst().dropLast().split(separator: ",") {
                    guard let x = Int64(part.trimmingSpaces()), x >= lo, x <= hi else {
                        throw fail("\(what): '\(part.trimmingSpaces())' is not an integer in \(lo)...\(hi)", line: l.line)
                    }
                    v.append(x)
                }
                fields.append(.ints(v))
            }
        }
        let kind = def.make(fields)
        try c.keyword(":")
        let tt = try c.next("result type")
        guard let lb = tt.firstIndex(of: "["), tt.last == "]", let ty = IntType(tt[..<lb]),
              let n = Int(tt[tt.index(after: lb)..<tt.index(before: tt.endIndex)]), n >= 0, n <= IRParser.maxLength
        else { throw fail("result type: expected like i24[200], found '\(tt)'", line: l.line) }
        try c.done()
        return Op(result: result, type: ty, length: n, kind: kind)
    }

    /// `[0:1/5/9, 3:0/2]`: per listed row, its connected neurons (ascending); unlisted rows have none. The op's
    /// verifier checks the shape.
    func synapseMask(_ t: Substring, _ line: Int) throws -> SynapseMask {
        guard t.first == "[", t.last == "]" else { throw fail("synapses: expected all or [ROW:J/J/..., ...], found '\(t)'", line: line) }
        var rows: [Int: [Int32]] = [:]
        var last = -1
        for part in t.dropFirst().dropLast().split(separator: ",") {
            let s = part.trimmingSpaces()
            let kv = s.split(separator: ":")
            guard kv.count == 2, let i = Int(kv[0]), i > last, i < IRParser.maxLength else {
                throw fail("synapses: '\(s)': expected ROW:J/J/... with rows ascending", line: line)
            }
            var js: [Int32] = []
            for j in kv[1].split(separator: "/") {
                guard let x = Int32(j), x >= 0, x > (js.last ?? -1) else { throw fail("synapses: row \(i): neurons must be ascending integers", line: line) }
                js.append(x)
            }
            rows[i] = js
            last = i
        }
        return SynapseMask(rows: (0..<(last + 1)).map { rows[$0] ?? [] })
    }

    /// `[@liquid@0*3, @in@0*-3]`: a modulator's sources.
    func weightedSources(_ t: Substring, _ line: Int) throws -> [ModulatorSource] {
        guard t.first == "[", t.last == "]" else { throw fail("sources: expected [@S@D*W, ...], found '\(t)'", line: line) }
        var out: [ModulatorSource] = []
        for part in t.dropFirst().dropLast().split(separator: ",") {
            let s = part.trimmingSpaces()
            let at = s.split(separator: "@", omittingEmptySubsequences: false)
            let dw = at.count == 3 ? at[2].split(separator: "*") : []
            guard at.count == 3, at[0].isEmpty, !at[1].isEmpty, dw.count == 2, let d = Int(dw[0]), let w = Int64(dw[1]),
                  d >= 0, d <= maxRowSourceDelay, w.magnitude <= UInt64(1) << 31
            else { throw fail("source '\(s)': expected @NAME@DELAY*WEIGHT (delay 0...\(maxRowSourceDelay), |weight| <= 2^31)", line: line) }
            out.append(ModulatorSource(source: String(at[1]), delay: d, weight: w))
        }
        return out
    }

    /// `[0:@in[0:256]@0, 256:@lsm[0:200]@1]`
    func rowSources(_ t: Substring, _ line: Int) throws -> [RowSource] {
        guard t.first == "[", t.last == "]" else { throw fail("row sources: expected [...], found '\(t)'", line: line) }
        let inner = t.dropFirst().dropLast()
        var out: [RowSource] = []
        for part in inner.split(separator: ",") {
            let s = part.trimmingSpaces()
            if s.isEmpty { continue }
            // rowStart ':' '@' name '[' start ':' count ']' '@' delay
            guard let colon = s.firstIndex(of: ":"), let rs = Int(s[..<colon]),
                  s[s.index(after: colon)...].first == "@",
                  let lb = s.firstIndex(of: "["), let rb = s.firstIndex(of: "]"), lb < rb,
                  s[s.index(after: rb)...].first == "@",
                  let delay = Int(s[s.index(rb, offsetBy: 2)...])
            else { throw fail("row source '\(s)': expected ROW:@name[START:COUNT]@DELAY", line: line) }
            let name = String(s[s.index(colon, offsetBy: 2)..<lb])
            let range = s[s.index(after: lb)..<rb].split(separator: ":")
            guard range.count == 2, let a = Int(range[0]), let n = Int(range[1]), a >= 0, n >= 0, rs >= 0, delay >= 0,
                  !name.isEmpty
            else { throw fail("row source '\(s)': expected ROW:@name[START:COUNT]@DELAY", line: line) }
            out.append(RowSource(rowStart: rs, source: name, srcStart: a, count: n, delay: delay))
        }
        return out
    }
}

extension IRParser.Cursor {
    func done2(_ n: Int) throws {
        if tokens.count > n { throw parser.fail("unexpected '\(tokens[n])'", line: line) }
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
