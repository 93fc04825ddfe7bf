import XbarCore
import XbarIR

/// How programmed conductance codes become the codes a read sees. The seam for device stochasticity:
/// an ideal device returns the programmed codes unchanged.
public protocol DeviceModel: Sendable {
    /// Realised codes of `array` on the chip instance identified by `seed` (row-major, same shape).
    func realise(_ array: ArrayDecl, arrayIndex: Int, seed: UInt64) -> [Int32]
}

/// A device with no variability: reads return the programmed conductance exactly.
public struct IdealDevice: DeviceModel {
    public init() {}
    public func realise(_ array: ArrayDecl, arrayIndex: Int, seed: UInt64) -> [Int32] { array.codes }
}

/// A program loaded onto one chip instance: the realised conductance of every array.
public struct Chip: Sendable {
    public let program: Program
    public let codes: [[Int32]]
    public let seed: UInt64

    public init(program: Program, device: DeviceModel = IdealDevice(), seed: UInt64) {
        self.program = program
        self.seed = seed
        codes = program.arrays.enumerated().map { device.realise($0.element, arrayIndex: $0.offset, seed: seed) }
    }
}
