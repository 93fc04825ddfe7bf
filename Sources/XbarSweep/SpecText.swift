/// Finds the line of every key and table header of a TOML text, so spec errors can name the line (TOMLKit keeps no
/// source positions for values). Paths are dotted with quotes removed: `[axes]` then `"adc.bits" = [...]` is
/// `axes.adc.bits`, like `[axes.adc]` then `bits = ...`.
struct SpecText {
    private(set) var lines: [String: Int] = [:]

    init(_ text: String) {
        var table: [String] = []
        var n = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            n += 1
            var s = Substring(raw)
            while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
            guard let f = s.first, f != "#" else { continue }
            if f == "[" {
                var body = s.dropFirst()
                if body.first == "[" { body = body.dropFirst() }
                if let parts = SpecText.keyParts(body, until: "]") {
                    table = parts
                    record(table, n)
                }
                continue
            }
            if let parts = SpecText.keyParts(s, until: "=") { record(table + parts, n) }
        }
    }

    private mutating func record(_ path: [String], _ line: Int) {
        let k = path.joined(separator: ".")
        if lines[k] == nil { lines[k] = line }
        // Prefixes of a dotted key line are defined there too (`adc.bits = 1` defines `adc`).
        for i in 1..<max(path.count, 1) where lines[path.prefix(i).joined(separator: ".")] == nil {
            lines[path.prefix(i).joined(separator: ".")] = line
        }
    }

    /// The line of `path` (or of its nearest defined parent).
    func line(_ path: [String]) -> Int? {
        var p = path
        while !p.isEmpty {
            if let l = lines[p.joined(separator: ".")] { return l }
            p.removeLast()
        }
        return nil
    }

    /// Dotted key parts up to `until` (`=` for keys, `]` for headers); nil when the text is not a key.
    static func keyParts(_ s: Substring, until: Character) -> [String]? {
        var parts: [String] = []
        var cur = ""
        var i = s.startIndex
        var quote: Character? = nil
        var sawQuoted = false
        while i < s.endIndex {
            let c = s[i]
            if let q = quote {
                if c == q { quote = nil } else { cur.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
                sawQuoted = true
            } else if c == "." {
                guard !cur.isEmpty || sawQuoted else { return nil }
                parts.append(cur)
                cur = ""
                sawQuoted = false
            } else if c == until {
                guard !cur.isEmpty || sawQuoted else { return nil }
                parts.append(cur)
                return parts
            } else if c == " " || c == "\t" {
                // whitespace around keys and dots
            } else if c.isLetter || c.isNumber || c == "_" || c == "-" {
                cur.append(c)
            } else {
                return nil
            }
            i = s.index(after: i)
        }
        return nil
    }
}
