import TOMLKit
import XbarCore

/// The one way target, override and sweep files reach the TOML parser (TOMLKit, which wraps toml++).
///
/// toml++ reports most malformed input as a parse error, but on a table header whose first character is not a key
/// (`[.01, to = 0.1` where `[axes]` was meant) and on a `}` where an array expects a value (`["a", }b"]`) its parser
/// asserts and the process aborts (both found by mutating the bundled files, scripts/fuzz-toml.py). `parse` first
/// scans the text for those cases (strings, comments and multi-line values understood) and reports them as a
/// one-line syntax error with the line; everything else is left to toml++ and its errors are reported the same way.
public enum TOMLText {
    /// The parsed table, or an `XbarError` naming `file` and the line.
    public static func parse(_ text: String, file: String) throws -> TOMLTable {
        if let (line, message) = headerProblem(text) { throw XbarError(file: file, field: "line \(line)", "TOML syntax: \(message)") }
        do {
            return try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw XbarError(file: file, field: "line \(e.source.begin.line)", "TOML syntax: \(e.description)")
        } catch {
            throw XbarError(file: file, field: "", "TOML syntax error")
        }
    }

    /// The first table header (`[` or `[[` opening a line outside any value) whose key does not start with a bare-key
    /// character or a quote, or the first `}` inside an array: its line and what is wrong.
    public static func headerProblem(_ text: String) -> (Int, String)? {
        let s = Array(text.unicodeScalars)
        var i = 0, line = 1
        var open: [Unicode.Scalar] = []  // the '[' and '{' of the values being read
        var lineStart = true  // only whitespace so far on this line, outside any value
        func at(_ k: Int) -> Unicode.Scalar? { k < s.count ? s[k] : nil }
        func skipString(quote: Unicode.Scalar) {
            let triple = at(i + 1) == quote && at(i + 2) == quote
            i += triple ? 3 : 1
            while i < s.count {
                let c = s[i]
                if c == "\n" {
                    if !triple { return }  // an unterminated one-line string: toml++ reports it; the newline is the caller's
                    line += 1
                }
                if quote == "\"" && c == "\\" { i += 2; continue }
                if c == quote && (!triple || (at(i + 1) == quote && at(i + 2) == quote)) {
                    i += triple ? 3 : 1
                    return
                }
                i += 1
            }
        }
        while i < s.count {
            let c = s[i]
            switch c {
            case "\n":
                line += 1
                if open.isEmpty { lineStart = true }
                i += 1
            case " ", "\t", "\r":
                i += 1
            case "#":
                while i < s.count && s[i] != "\n" { i += 1 }
            case "\"", "'":
                lineStart = false
                skipString(quote: c)
            case "[" where lineStart && open.isEmpty:
                var k = i + 1
                if at(k) == "[" { k += 1 }
                while at(k) == " " || at(k) == "\t" { k += 1 }
                guard let first = at(k), isBareKey(first) || first == "\"" || first == "'" || first == "]" else {
                    let saw = at(k).map { $0 == "\n" ? "the end of the line" : "'\($0)'" } ?? "the end of the file"
                    return (line, "a table header must start with a key, saw \(saw)")
                }
                // The rest of the header line is toml++'s to check.
                while i < s.count && s[i] != "\n" {
                    if s[i] == "\"" || s[i] == "'" { skipString(quote: s[i]) } else { i += 1 }
                }
            case "[", "{":
                open.append(c)
                lineStart = false
                i += 1
            case "}" where open.last == "[":
                return (line, "expected a value, ',' or ']' in an array, saw '}'")
            case "]", "}":
                _ = open.popLast()
                i += 1
            default:
                lineStart = false
                i += 1
            }
        }
        return nil
    }

    static func isBareKey(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-"
    }
}
