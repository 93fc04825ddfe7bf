import XbarEmulator
import XbarIR
import XbarTarget

/// Accelergy-style action counts (YAML, version 0.4 layout: components with named actions and counts), so the
/// run can be priced by Accelergy/CiMLoop energy reference tables as well as by ours.
public enum AccelergyExport {
    public static func yaml(counters c: Counters, program p: Program, target t: Target, samples: Int) -> String {
        func action(_ name: String, _ count: Int64, _ args: [(String, String)] = []) -> String {
            var s = "      - name: \(name)\n"
            if !args.isEmpty { s += "        arguments: {" + args.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}\n" }
            return s + "        counts: \(count)\n"
        }
        var y = "# NeuroXbar action counts: \(p.name) on \(t.name), \(samples) samples\naction_counts:\n  version: 0.4\n  local:\n"
        y += "  - name: \(t.name).macro.array\n    action_counts:\n"
        y += action("wl_activation", c.wlActivations)
        y += action("input_pulse", c.wlActivations)
        y += action("cell_read", c.cellReads)
        y += action("column_integrate", c.columnIntegrations)
        y += "  - name: \(t.name).macro.adc\n    action_counts:\n"
        for (b, n) in c.adcConversions.sorted(by: { $0.key < $1.key }) { y += action("convert", n, [("resolution", "\(b)")]) }
        y += "  - name: \(t.name).macro.shift_add\n    action_counts:\n" + action("add", c.digitalOps)
        y += "  - name: \(t.name).neuron\n    action_counts:\n" + action("update", c.neuronUpdates)
        y += "  - name: \(t.name).router\n    action_counts:\n" + action("route_spike", c.spikes)
        y += "  - name: \(t.name).sram\n    action_counts:\n" + action("access", 2 * c.neuronUpdates + c.readoutMACs)
        y += "  - name: \(t.name).readout\n    action_counts:\n" + action("mac", c.readoutMACs)
        y += "  - name: \(t.name).clock\n    action_counts:\n" + action("cycle", c.cycles)
        return y
    }
}
