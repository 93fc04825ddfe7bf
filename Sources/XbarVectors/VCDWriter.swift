import Foundation
import XbarCore

/// Builds a Value Change Dump (IEEE 1364 §18) cycle by cycle: one clock `clk` high in the first half of every cycle,
/// every other variable changing with the rising edge that starts the cycle it belongs to. Deterministic: no date,
/// variables declared and changes written in declaration order.
final class VCDBuilder {
    struct Var {
        var scope: [String]
        var name: String
        var width: Int
        var signed: Bool
        var description: String
        var id: String
        var value: String
    }

    private(set) var vars: [Var] = []
    let periodPS: Int64
    private var body: [String] = []
    /// The cycle whose changes are being collected, and its changes (var -> value).
    private var cycle: Int64 = 0
    private var sets: [Int: String] = [:]
    /// Pulse ends: cycle -> [(var, idle value)].
    private var resets: [Int64: [(Int, String)]] = [:]
    private var started = false
    private let clk: Int

    init(periodPS: Int64) {
        self.periodPS = periodPS
        clk = 0
        vars.append(Var(scope: ["xbar"], name: "clk", width: 1, signed: false, description: "macro clock: high in the first half of every cycle; cycle c starts with the rising edge at time c x period", id: VCDBuilder.ident(0), value: "1"))
    }

    static func ident(_ i: Int) -> String {
        var n = i
        var s = ""
        repeat {
            s.append(Character(UnicodeScalar(UInt8(33 + n % 94))))
            n /= 94
        } while n > 0
        return s
    }

    /// Declares a variable (initially 0) and returns its handle.
    func declare(_ scope: [String], _ name: String, width: Int, signed: Bool = false, _ description: String) -> Int {
        precondition(!started)
        vars.append(Var(scope: scope, name: name, width: width, signed: signed, description: description, id: VCDBuilder.ident(vars.count),
                        value: String(repeating: "0", count: width)))
        return vars.count - 1
    }

    func fullName(_ v: Var) -> String { (v.scope + [v.name]).joined(separator: ".") }

    /// Moves to global cycle `c` (>= the current one), writing every cycle before it.
    func advance(to c: Int64) {
        precondition(c >= cycle, "VCD time must not go back")
        while cycle < c { flush() }
    }

    func set(_ v: Int, _ value: Int64) { sets[v] = Hex.binary(value, width: vars[v].width) }
    func setBits(_ v: Int, _ set: [Int]) {
        var chars = [Character](repeating: "0", count: vars[v].width)
        for b in set { chars[vars[v].width - 1 - b] = "1" }
        sets[v] = String(chars)
    }
    /// Sets a value now and returns the variable to `idle` after `cycles` cycles (unless set again then).
    func pulse(_ v: Int, _ value: Int64, idle: Int64 = 0, cycles: Int64 = 1) {
        set(v, value)
        resets[cycle + max(1, cycles), default: []].append((v, Hex.binary(idle, width: vars[v].width)))
    }
    func pulseBits(_ v: Int, _ set: [Int], cycles: Int64) {
        setBits(v, set)
        resets[cycle + max(1, cycles), default: []].append((v, String(repeating: "0", count: vars[v].width)))
    }

    private func line(_ v: Int, _ value: String) -> String {
        vars[v].width == 1 ? value + vars[v].id : "b" + value + " " + vars[v].id
    }

    private func flush() {
        var changes: [Int: String] = [:]
        if let r = resets.removeValue(forKey: cycle) { for (v, x) in r { changes[v] = x } }
        for (v, x) in sets { changes[v] = x }
        sets = [:]
        let t = cycle * periodPS
        if !started {
            started = true
            for (v, x) in changes { vars[v].value = x }
            body.append("#0")
            body.append("$dumpvars")
            for v in vars.indices { body.append(line(v, vars[v].value)) }
            body.append("$end")
        } else {
            body.append("#\(t)")
            body.append("1" + vars[clk].id)
            for v in changes.keys.sorted() where vars[v].value != changes[v]! {
                vars[v].value = changes[v]!
                body.append(line(v, changes[v]!))
            }
        }
        body.append("#\(t + periodPS / 2)")
        body.append("0" + vars[clk].id)
        cycle += 1
    }

    /// The whole file, ending at the start of cycle `end`.
    func finish(end: Int64, comment: String) -> String {
        advance(to: max(end, cycle))
        var changes: [Int: String] = [:]
        if let r = resets.removeValue(forKey: cycle) { for (v, x) in r { changes[v] = x } }
        body.append("#\(cycle * periodPS)")
        body.append("1" + vars[clk].id)
        for v in changes.keys.sorted() where vars[v].value != changes[v]! { body.append(line(v, changes[v]!)) }
        var h = "$comment\n  \(comment)\n$end\n$version\n  neuroxbar \(toolVersion)\n$end\n$timescale\n  1ps\n$end\n"
        // Scopes: variables grouped under their scope path, in declaration order of first appearance.
        var order: [[String]] = []
        for v in vars where !order.contains(v.scope) { order.append(v.scope) }
        var open: [String] = []
        for sc in order {
            var common = 0
            while common < open.count && common < sc.count && open[common] == sc[common] { common += 1 }
            for _ in common..<open.count { h += "$upscope $end\n" }
            open = Array(open.prefix(common))
            for s in sc[common...] { h += "$scope module \(s) $end\n"; open.append(s) }
            for v in vars where v.scope == sc {
                h += "$var wire \(v.width) \(v.id) \(v.name)" + (v.width > 1 ? " [\(v.width - 1):0]" : "") + " $end\n"
            }
        }
        for _ in open { h += "$upscope $end\n" }
        h += "$enddefinitions $end\n"
        return h + body.joined(separator: "\n") + "\n"
    }
}
