/// The Verilog simulators a vector set's scripts run its testbenches with (docs/vectors.md, "RTL cross-check"): Icarus
/// Verilog (event-driven interpreter) and Verilator (compiles the design to C++; `--binary --timing` for the
/// testbenches' delays). Both run the same testbench files on the same vector files; a script exits 0 only when every
/// testbench printed a line starting with PASS.
public enum RTLSimulator: String, CaseIterable, Sendable {
    case iverilog, verilator

    /// Shell lines (run from the vector directory) that build the testbench `name` from `sources`, top module `top`;
    /// `standard` is Icarus Verilog's language generation (2005 or 2012). A failed build ends the script.
    func build(name: String, top: String, sources: [String], standard: Int) -> String {
        let src = sources.joined(separator: " ")
        switch self {
        case .iverilog:
            return "iverilog -g\(standard) -o tb/\(name).vvp \(src)\n"
        case .verilator:
            // Testbench code assigns 64-bit record fields to narrower signals on purpose: width warnings are for the units,
            // which are linted with -Wall (docs/vectors.md).
            let dir = "tb/verilator/\(name)"
            return "verilator --binary --timing -Wno-WIDTH --top-module \(top) -Mdir \(dir) -o \(name) \(src) > \(dir).build.log 2>&1 "
                + "|| { cat \(dir).build.log; exit 1; }\n"
        }
    }

    /// Shell lines that run the built testbench `name` with `args`, its output copied to `log`, and stop the script
    /// unless the output has a PASS line.
    func run(name: String, args: String, log: String) -> String {
        let sim: String
        switch self {
        case .iverilog: sim = "vvp -n tb/\(name).vvp"
        case .verilator: sim = "tb/verilator/\(name)/\(name)"
        }
        return "\(sim)\(args.isEmpty ? "" : " " + args) | tee \(log)\ngrep -q '^PASS' \(log)\n"
    }

    /// The head of a run script: `purpose` in the comment, `set -e`, and the vector directory as working directory.
    func scriptHead(_ purpose: String) -> String {
        var s = "#!/bin/sh\n# \(purpose) with \(displayName) (docs/vectors.md). Exit status 0 = every check passed.\n"
        s += "set -e\ncd \"$(dirname \"$0\")/..\"\n"
        if self == .verilator { s += "mkdir -p tb/verilator\n" }
        return s
    }

    var displayName: String { self == .iverilog ? "Icarus Verilog" : "Verilator" }
}
