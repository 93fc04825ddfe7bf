import XbarCore
import XbarEvents
import XbarIR

/// Maps an event sample's channels onto the program's input populations: channels are the concatenation of the
/// inputs in declaration order (docs/events.md). Per step, each input gets its sorted list of active indices.
public struct InputBinding: Sendable {
    public let offsets: [String: Int]
    public let totalChannels: Int

    public init(program: Program, channels: Int, file: String) throws {
        var off: [String: Int] = [:]
        var n = 0
        for i in program.inputs {
            off[i.name] = n
            n += i.size
        }
        guard channels == n else {
            throw XbarError(file: file, field: "channels",
                            "input has \(channels) channels, program \"\(program.name)\" expects \(n) (\(program.inputs.map { "@\($0.name) \($0.size)" }.joined(separator: " + ")))")
        }
        offsets = off
        totalChannels = n
    }

    /// Active indices of input `name` at step t of `sample` (empty outside 0..<timesteps).
    public func active(_ sample: SpikeRaster, input name: String, size: Int, step t: Int) -> [Int32] {
        guard t >= 0, t < sample.active.count, let o = offsets[name] else { return [] }
        let lo = Int32(o), hi = Int32(o + size)
        return sample.active[t].compactMap { $0 >= lo && $0 < hi ? $0 - lo : nil }
    }
}
