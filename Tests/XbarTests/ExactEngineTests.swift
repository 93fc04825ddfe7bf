#if canImport(Glibc)
import Glibc
#endif
import XCTest
import XbarCore
import XbarEvents
import XbarIR
@testable import XbarEmulator

// MARK: - Helpers

/// Whether `Fixed.fit` (used by `FastEngine`) traps when wrapping a negative out-of-range value: XbarCore/FixedPoint.swift
/// line 105 converts with `UInt64(v)`, which traps for v < 0 (it should be `UInt64(bitPattern: v)`). Probed once in a
/// forked child so that a trap does not take the test process down; when the bug is fixed this becomes false and the
/// differential test runs `FastEngine` on every case again.
private let fastWrapOfNegativeTraps: Bool = {
    #if canImport(Glibc)
    let pid = fork()
    if pid == 0 {
        let devnull = open("/dev/null", O_WRONLY)
        if devnull >= 0 { dup2(devnull, 1); dup2(devnull, 2) }
        let v = Fixed.fit(-200, .i(8), .wrap)
        _exit(v == 56 ? 0 : 3)
    }
    guard pid > 0 else { return true }
    var status: Int32 = 0
    _ = waitpid(pid, &status, 0)
    let exitedNormally = (status & 0x7F) == 0
    return !(exitedNormally && ((status >> 8) & 0xFF) == 0)
    #else
    return true
    #endif
}()

/// A deterministic random stream over Philox (counter-based: draw n is a pure function of seed, stream and n).
struct TestRandom {
    let philox: Philox
    let stream: UInt32
    var counter: UInt32 = 0

    init(seed: UInt64, stream: UInt32) {
        philox = Philox(seed: seed)
        self.stream = stream
    }

    mutating func next() -> UInt64 {
        counter &+= 1
        return philox.words(purpose: 0x7E57_0001, stream, counter, 0).0
    }

    /// Uniform in the closed range.
    mutating func int(_ r: ClosedRange<Int>) -> Int {
        r.lowerBound + Int(next() % UInt64(r.upperBound - r.lowerBound + 1))
    }

    mutating func int64(_ lo: Int64, _ hi: Int64) -> Int64 { Int64(int(Int(lo)...Int(hi))) }

    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) < p }

    mutating func pick<T>(_ a: [T]) -> T { a[int(0...(a.count - 1))] }
}

private func mpz(_ v: Int64) -> MPZ { MPZ(v) }

private func neuron(_ name: String = "n", size: Int = 1, mem: IntType = .i(16), overflow: Overflow = .sat,
                    mul: Int64, shift: Int, rounding: Rounding = .floor, threshold: Int64, compare: Compare = .gt,
                    reset: ResetMode = .zero, refractory: Int = 0, bias: Int64 = 0, count: IntType = .u(8)) -> NeuronDecl {
    NeuronDecl(name: name, size: size, memType: mem, memOverflow: overflow, decayMul: mul, decayShift: shift,
               decayRounding: rounding, threshold: threshold, compare: compare, reset: reset, refractory: refractory,
               bias: bias, refractoryType: .u(2), countType: count)
}

/// One input channel @x drives the single row of a 1x1 array %a (code `code`, u8); the read %r goes through
/// `adc %c bits 8 lsb 1 offset 0 floor` (so c = code when @x spikes, else 0), then `extra` ops, then `lif @n lifInput`.
private func singleNeuronProgram(timesteps: Int, code: Int32, neuron n: NeuronDecl, extra: [Op] = [],
                                 lifInput: String = "c", readouts: [ReadoutDecl] = []) -> Program {
    let read = Op(result: "r", type: .u(8), length: 1,
                  kind: .read(array: "a", rows: [RowSource(rowStart: 0, source: "x", srcStart: 0, count: 1, delay: 0)],
                              colStart: 0, cellsPerWeight: 1, vReadMV: 200, tReadNS: 10))
    let adc = Op(result: "c", type: .u(8), length: 1, kind: .adc(operand: "r", bits: 8, lsb: 1, offset: 0, rounding: .floor))
    let lif = Op(result: "s", type: .u(1), length: n.size, kind: .lif(population: n.name, input: lifInput))
    return Program(name: "single", target: "test", timesteps: timesteps, inputs: [InputDecl(name: "x", size: 1)],
                   neurons: [n],
                   arrays: [ArrayDecl(name: "a", macro: 0, index: 0, rows: 1, cols: 1, gUnitNS: 1, codeType: .u(8),
                                      codes: [code])],
                   readouts: readouts, step: [read, adc] + extra + [lif])
}

/// A one-channel raster that spikes at `steps`.
private func raster(timesteps: Int, spikesAt steps: Set<Int>) -> SpikeRaster {
    SpikeRaster(channels: 1, timesteps: timesteps, active: (0..<timesteps).map { steps.contains($0) ? [0] : [] })
}

// MARK: - Random valid programs

/// Builds small random programs that obey every verifier rule, with narrow types so that saturation and wrap
/// happen often.
struct ProgramGenerator {
    var rng: TestRandom
    var ops: [Op] = []
    var names = 0

    init(seed: UInt64, stream: UInt32) { rng = TestRandom(seed: seed, stream: stream) }

    mutating func fresh() -> String {
        names += 1
        return "v\(names)"
    }

    mutating func randomType(maxBits: Int = 10) -> IntType {
        rng.chance(0.6) ? .i(rng.int(2...maxBits)) : .u(rng.int(1...(maxBits - 1)))
    }

    mutating func program() -> Program {
        ops = []
        names = 0
        let T = rng.int(2...12)
        let inputs = (0..<rng.int(1...3)).map { InputDecl(name: "in\($0)", size: rng.int(1...6)) }
        var neurons: [NeuronDecl] = []
        for k in 0..<rng.int(1...3) {
            let memType = IntType.i(rng.int(3...12))
            let shift = rng.int(0...5)
            let threshold = rng.chance(0.85) ? rng.int64(0, memType.max / 2) : rng.int64(memType.min, memType.max)
            let refractory = rng.int(0...3)
            var n = NeuronDecl(
                name: "n\(k)", size: rng.int(1...6), memType: memType, memOverflow: rng.pick(Overflow.allCases),
                decayMul: rng.int64(0, Int64(1) << shift), decayShift: shift,
                decayRounding: rng.pick(Rounding.allCases), threshold: threshold, compare: rng.pick(Compare.allCases),
                reset: rng.pick(ResetMode.allCases), refractory: refractory,
                bias: rng.int64(max(-3, memType.min), min(3, memType.max)),
                refractoryType: .u(rng.int(2...3)), countType: .u(rng.int(1...5)))
            // Neuron options of docs/ir.md: per-neuron biases, a narrow synapse (so @POP.syn fits happen), non-spiking.
            if rng.chance(0.3) { n.neuronBias = perNeuronBias(size: n.size, scalar: n.bias, type: memType) }
            if rng.chance(0.35) {
                let st = IntType.i(rng.int(3...12)), ss = rng.int(0...5)
                var y = SynapseDecl(type: st, overflow: rng.pick(Overflow.allCases), decayMul: rng.int64(0, Int64(1) << ss),
                                    decayShift: ss, decayRounding: rng.pick(Rounding.allCases),
                                    bias: rng.int64(max(-3, st.min), min(3, st.max)))
                if rng.chance(0.5) { y.neuronBias = perNeuronBias(size: n.size, scalar: y.bias, type: st) }
                n.synapse = y
            }
            n.spiking = k == 0 || rng.chance(0.75)
            neurons.append(n)
        }
        var arrays: [ArrayDecl] = []
        for a in 0..<rng.int(1...4) {
            let rows = rng.int(1...8), cols = rng.int(1...8)
            let ct = IntType.u(rng.int(1...6))
            arrays.append(ArrayDecl(name: "a\(a)", macro: a / 2, index: a % 2, rows: rows, cols: cols, gUnitNS: 1.5,
                                    codeType: ct, codes: (0..<(rows * cols)).map { _ in Int32(rng.int64(0, ct.max)) }))
        }

        for (k, n) in neurons.enumerated() {
            // Pieces: read + adc, until their total length reaches the population size.
            var pieces: [(String, IntType, Int)] = []
            var total = 0
            repeat {
                let piece = adcPiece(pop: k, inputs: inputs, neurons: neurons, arrays: arrays)
                pieces.append(piece)
                total += piece.2
            } while total < n.size || (pieces.count < 3 && rng.chance(0.2))
            var cur: (String, IntType, Int)
            if pieces.count == 1 {
                cur = pieces[0]
            } else {
                let maxBits = pieces.map { $0.1.bits }.max()!
                let t: IntType = rng.chance(0.5) ? .u(maxBits + rng.int(0...1)) : .i(maxBits + 1 + rng.int(0...1))
                let name = fresh()
                ops.append(Op(result: name, type: t, length: total, kind: .concat(operands: pieces.map { $0.0 })))
                cur = (name, t, total)
            }
            if cur.2 != n.size || rng.chance(0.2) {
                let maxStride = n.size == 1 ? 1 : max(1, (cur.2 - 1) / (n.size - 1))
                let stride = rng.int(1...maxStride)
                let start = rng.int(0...(cur.2 - 1 - (n.size - 1) * stride))
                let name = fresh()
                ops.append(Op(result: name, type: cur.1, length: n.size, kind: .slice(operand: cur.0, start: start, stride: stride)))
                cur = (name, cur.1, n.size)
            }
            // Arithmetic chain with narrow results.
            var chain = [cur]
            for _ in 0..<rng.int(0...3) {
                let name = fresh()
                let t = randomType()
                let ovf = rng.pick(Overflow.allCases)
                switch rng.int(0...2) {
                case 0:
                    ops.append(Op(result: name, type: t, length: n.size,
                                  kind: .scale(operand: cur.0, mul: rng.int64(-12, 12), shift: rng.int(0...4),
                                               rounding: rng.pick(Rounding.allCases), overflow: ovf)))
                case 1:
                    ops.append(Op(result: name, type: t, length: n.size, kind: .add(a: cur.0, b: rng.pick(chain).0, overflow: ovf)))
                default:
                    ops.append(Op(result: name, type: t, length: n.size, kind: .sub(a: rng.pick(chain).0, b: cur.0, overflow: ovf)))
                }
                cur = (name, t, n.size)
                chain.append(cur)
            }
            ops.append(Op(result: "s\(k)", type: .u(1), length: n.size, kind: .lif(population: n.name, input: cur.0)))
        }

        var readouts: [ReadoutDecl] = []
        let spiking = neurons.filter(\.spiking)
        for r in 0..<rng.int(0...2) {
            let src = rng.pick(spiking)
            let classes = rng.int(1...4)
            let wt = IntType.i(rng.int(2...8)), acc = IntType.i(rng.int(3...10))
            readouts.append(ReadoutDecl(
                name: "r\(r)", source: src.name, classes: classes, weightType: wt, accType: acc,
                accOverflow: rng.pick(Overflow.allCases),
                weights: (0..<(classes * src.size)).map { _ in Int32(rng.int64(wt.min, wt.max)) },
                bias: (0..<classes).map { _ in Int32(rng.int64(acc.min / 2, acc.max / 2)) }, scale: 0.25))
        }
        return Program(name: "random", target: "test", timesteps: T, inputs: inputs, neurons: neurons, arrays: arrays,
                       readouts: readouts, step: ops)
    }

    /// Per-neuron biases in -3...3 whose sum with `scalar` fits `type`.
    mutating func perNeuronBias(size: Int, scalar: Int64, type: IntType) -> [Int64] {
        (0..<size).map { _ in rng.int64(max(-3, type.min - scalar), min(3, type.max - scalar)) }
    }

    /// A read of random columns of a random array with random row sources, followed by an adc; returns the adc.
    /// Row sources are inputs and spiking populations at delays 0...6 (a population not yet updated in the step at
    /// 1...6); the same source often appears at several delays in one read.
    mutating func adcPiece(pop k: Int, inputs: [InputDecl], neurons: [NeuronDecl], arrays: [ArrayDecl]) -> (String, IntType, Int) {
        let a = rng.pick(arrays)
        let colStart = rng.int(0...(a.cols - 1))
        let L = rng.int(1...(a.cols - colStart))
        let cpw = L % 2 == 0 && rng.chance(0.4) ? 2 : 1
        var sources: [RowSource] = []
        var r = rng.int(0...min(1, a.rows - 1))
        var driven = 0
        while r < a.rows {
            let spikingPops = neurons.indices.filter { neurons[$0].spiking }
            let choice = rng.int(0...(inputs.count + spikingPops.count - 1))
            let name: String, size: Int, delay: Int
            if choice < inputs.count {
                name = inputs[choice].name; size = inputs[choice].size; delay = rng.int(0...6)
            } else {
                let j = spikingPops[choice - inputs.count]
                name = neurons[j].name; size = neurons[j].size; delay = j < k ? rng.int(0...6) : rng.int(1...6)
            }
            let count = rng.int(1...min(a.rows - r, size))
            sources.append(RowSource(rowStart: r, source: name, srcStart: rng.int(0...(size - count)), count: count, delay: delay))
            driven += count
            r += count + rng.int(0...1)
            if rng.chance(0.3) { break }
        }
        let readType = IntType.u(min(48, IntType.unsignedFitting(Int64(driven) * a.codeType.max).bits + rng.int(0...1)))
        let read = fresh()
        ops.append(Op(result: read, type: readType, length: L,
                      kind: .read(array: a.name, rows: sources, colStart: colStart, cellsPerWeight: cpw, vReadMV: 150,
                                  tReadNS: 20)))
        let bits = rng.int(1...8)
        let adc = fresh()
        ops.append(Op(result: adc, type: .u(bits), length: L,
                      kind: .adc(operand: read, bits: bits, lsb: rng.int64(1, 6), offset: rng.int64(-4, 6),
                                 rounding: rng.pick(Rounding.allCases))))
        return (adc, .u(bits), L)
    }

    /// A random raster for `p`'s inputs.
    mutating func raster(for p: Program) -> SpikeRaster {
        let channels = p.inputs.reduce(0) { $0 + $1.size }
        let density = rng.pick([0.1, 0.3, 0.6, 0.9])
        let active: [[Int32]] = (0..<p.timesteps).map { _ in
            (0..<channels).compactMap { rng.chance(density) ? Int32($0) : nil }
        }
        return SpikeRaster(channels: channels, timesteps: p.timesteps, active: active)
    }
}

// MARK: - Tests

final class ExactEngineTests: XCTestCase {
    // MARK: MPZ

    func testMPZBasics() {
        XCTAssertEqual(mpz(7).decimal, "7")
        XCTAssertEqual(mpz(-12345).decimal, "-12345")
        XCTAssertEqual(MPZ().decimal, "0")
        let big = MPZ.pow2(70)
        XCTAssertEqual(big.decimal, "1180591620717411303424")
        XCTAssertEqual((-big).decimal, "-1180591620717411303424")
        XCTAssertEqual((big + mpz(5) - mpz(3)).decimal, "1180591620717411303426")
        XCTAssertEqual((mpz(-6) * mpz(7)).int64, -42)
        XCTAssertEqual(mpz(Int64.min).int64, Int64.min)
        XCTAssertEqual(mpz(Int64.max).int64, Int64.max)
        XCTAssertTrue((MPZ.pow2(63) - mpz(1)).fitsInt64)
        XCTAssertFalse(MPZ.pow2(63).fitsInt64)
        XCTAssertTrue((-MPZ.pow2(63)).fitsInt64)
        XCTAssertFalse((-MPZ.pow2(63) - mpz(1)).fitsInt64)
        XCTAssertNil(big.int64)
        XCTAssertTrue(mpz(-3) < mpz(2))
        XCTAssertEqual(mpz(5).compare(mpz(5)), 0)
        XCTAssertEqual(mpz(6).compare(mpz(5)), 1)
        XCTAssertEqual(mpz(-6).signum, -1)
        let acc = mpz(10)
        acc.addInPlace(-25)
        acc.addInPlace(mpz(3))
        XCTAssertEqual(acc.int64, -12)
        XCTAssertEqual(MPZ.minimum(of: .i(8)).int64, -128)
        XCTAssertEqual(MPZ.maximum(of: .i(8)).int64, 127)
        XCTAssertEqual(MPZ.maximum(of: .u(62)).int64, (Int64(1) << 62) - 1)
        XCTAssertEqual(mpz(-7).floorDivRem(mpz(2)).q.int64, -4)
        XCTAssertEqual(mpz(-7).floorDivRem(mpz(2)).r.int64, 1)
    }

    func testMPZRoundings() {
        // (n, d, floor, trunc, half_up, half_even), each computed by hand.
        let cases: [(Int64, Int64, Int64, Int64, Int64, Int64)] = [
            (-5, 2, -3, -2, -2, -2),   // -2.5: half_up -> -2 (toward +inf), half_even -> -2
            (5, 2, 2, 2, 3, 2),        // 2.5
            (7, 2, 3, 3, 4, 4),        // 3.5: even is 4
            (-7, 2, -4, -3, -3, -4),   // -3.5: half_up -> -3, even is -4
            (-3, 2, -2, -1, -1, -2),   // -1.5: even is -2
            (-1, 2, -1, 0, 0, 0),      // -0.5: half_up -> 0, even is 0
            (1, 2, 0, 0, 1, 0),        // 0.5
            (-7, 3, -3, -2, -2, -2),   // -2.333...
            (-8, 3, -3, -2, -3, -3),   // -2.666...
            (8, 3, 2, 2, 3, 3),        // 2.666...
            (9, 3, 3, 3, 3, 3),        // exact
            (-9, 3, -3, -3, -3, -3),   // exact
            (0, 5, 0, 0, 0, 0),
            (-30, 4, -8, -7, -7, -8),  // -7.5
            (-18, 4, -5, -4, -4, -4),  // -4.5
            (13, 1, 13, 13, 13, 13),
        ]
        for (n, d, fl, tr, hu, he) in cases {
            XCTAssertEqual(mpz(n).divided(by: mpz(d), rounding: .floor).int64, fl, "floor(\(n)/\(d))")
            XCTAssertEqual(mpz(n).divided(by: mpz(d), rounding: .trunc).int64, tr, "trunc(\(n)/\(d))")
            XCTAssertEqual(mpz(n).divided(by: mpz(d), rounding: .halfUp).int64, hu, "half_up(\(n)/\(d))")
            XCTAssertEqual(mpz(n).divided(by: mpz(d), rounding: .halfEven).int64, he, "half_even(\(n)/\(d))")
        }
        // Shifts: -5 >> 1 is -2.5; -13 >> 2 is -3.25.
        XCTAssertEqual(mpz(-5).shiftedRight(1, rounding: .floor).int64, -3)
        XCTAssertEqual(mpz(-5).shiftedRight(1, rounding: .halfEven).int64, -2)
        XCTAssertEqual(mpz(-13).shiftedRight(2, rounding: .trunc).int64, -3)
        XCTAssertEqual(mpz(-13).shiftedRight(2, rounding: .floor).int64, -4)
        XCTAssertEqual(mpz(-13).shiftedRight(0, rounding: .halfUp).int64, -13)
        // Beyond 64 bits: (2^65 + 1) / 2 = 2^64 + 1/2 -> half_even keeps 2^64, half_up gives 2^64 + 1.
        let n = MPZ.pow2(65) + mpz(1)
        XCTAssertEqual(n.divided(by: mpz(2), rounding: .halfEven).decimal, "18446744073709551616")
        XCTAssertEqual(n.divided(by: mpz(2), rounding: .halfUp).decimal, "18446744073709551617")
        // -(2^70) >> 70 = -1 exactly; (2^70 - 1) >> 70 = 0.99.. -> floor 0, half_up 1.
        XCTAssertEqual((-MPZ.pow2(70)).shiftedRight(70, rounding: .floor).int64, -1)
        XCTAssertEqual((MPZ.pow2(70) - mpz(1)).shiftedRight(70, rounding: .floor).int64, 0)
        XCTAssertEqual((MPZ.pow2(70) - mpz(1)).shiftedRight(70, rounding: .halfUp).int64, 1)
    }

    func testMPZFit() {
        func check(_ v: MPZ, _ t: IntType, _ o: Overflow, _ expected: Int64, changed: Bool, line: UInt = #line) {
            let (w, c) = v.fitted(to: t, o)
            XCTAssertEqual(w.int64, expected, "\(v) into \(t) \(o)", line: line)
            XCTAssertEqual(c, changed, "\(v) into \(t) \(o)", line: line)
        }
        check(mpz(200), .i(8), .wrap, -56, changed: true)   // 200 - 256
        check(mpz(200), .i(8), .sat, 127, changed: true)
        check(mpz(-129), .i(8), .wrap, 127, changed: true)  // -129 + 256
        check(mpz(-129), .i(8), .sat, -128, changed: true)
        check(mpz(127), .i(8), .wrap, 127, changed: false)
        check(mpz(-128), .i(8), .sat, -128, changed: false)
        check(mpz(256), .u(8), .wrap, 0, changed: true)
        check(mpz(-1), .u(8), .wrap, 255, changed: true)
        check(mpz(-1), .u(8), .sat, 0, changed: true)
        check(mpz(300), .u(8), .sat, 255, changed: true)
        check(mpz(1), .i(1), .wrap, -1, changed: true)     // i1 = [-1, 0]
        check(mpz(2), .u(1), .wrap, 0, changed: true)
        check(mpz(-3), .i(2), .wrap, 1, changed: true)     // -3 + 4
        check(mpz(-500), .i(10), .wrap, -500, changed: false)
        check(mpz(-1000), .i(10), .wrap, 24, changed: true) // -1000 + 1024
        check(mpz(1000), .i(10), .wrap, -24, changed: true) // 1000 - 1024
        check(MPZ.pow2(70) + mpz(5), .i(8), .wrap, 5, changed: true)
        check(-MPZ.pow2(70) - mpz(3), .i(8), .wrap, -3, changed: true)
        check(MPZ.pow2(70), .i(48), .sat, (Int64(1) << 47) - 1, changed: true)
        check(MPZ.pow2(61), .u(62), .sat, Int64(1) << 61, changed: false)
        check(MPZ.pow2(62), .u(62), .wrap, 0, changed: true)
    }

    // MARK: Hand-computed traces


    func testLIFTraceResetZero() throws {
        // Code 40: I = 40 when @x spikes, else 0. Decay 3/4 floor, threshold 100 (gt), reset zero, refractory 2, bias 5.
        // Input spikes at steps 0 1 2 3 6 7 8 9.
        //  t0: d = 0;                    v = 0 + 40 + 5 = 45
        //  t1: d = floor(45*3/4 = 33.75) = 33;  v = 33 + 45 = 78
        //  t2: d = floor(78*3/4 = 58.5)  = 58;  v = 103 > 100: spike, mem = 0, refr = 2
        //  t3: refractory (2 -> 1): input ignored, trace mem = 0
        //  t4: refractory (1 -> 0): trace 0
        //  t5: d = 0, I = 0;             v = 5
        //  t6: d = floor(15/4 = 3.75) = 3;  v = 3 + 45 = 48
        //  t7: d = floor(144/4) = 36;    v = 81
        //  t8: d = floor(243/4 = 60.75) = 60;  v = 105: spike, mem = 0, refr = 2
        //  t9: refractory: trace 0
        let n = neuron(mul: 3, shift: 2, rounding: .floor, threshold: 100, compare: .gt, reset: .zero, refractory: 2, bias: 5)
        let p = singleNeuronProgram(timesteps: 10, code: 40, neuron: n)
        let (r, report) = try runOnAllEngines(p, raster(timesteps: 10, spikesAt: [0, 1, 2, 3, 6, 7, 8, 9]))
        XCTAssertEqual(r.traces["n"]!.membrane.map { $0[0] }, [45, 78, 103, 0, 0, 5, 48, 81, 105, 0])
        XCTAssertEqual(r.traces["n"]!.preActivation.map { $0[0] }, [40, 40, 40, 40, 0, 0, 40, 40, 40, 40])
        XCTAssertEqual(r.spikes["n"]!, [Spike(step: 2, neuron: 0), Spike(step: 8, neuron: 0)])
        XCTAssertEqual(r.counts["n"]!, [2])
        XCTAssertEqual(report.total, 0)
        // Counters: 8 driven steps x 1 row; adc fired on those 8 steps only.
        XCTAssertEqual(r.counters.wlActivations, 8)
        XCTAssertEqual(r.counters.cellReads, 8)
        XCTAssertEqual(r.counters.synapticEvents, 8)
        XCTAssertEqual(r.counters.denseSynapticOps, 10)
        XCTAssertEqual(r.counters.adcConversions, [8: 8])
        XCTAssertEqual(r.counters.neuronUpdates, 10)
        XCTAssertEqual(r.counters.spikes, 2)
        XCTAssertEqual(r.counters.timesteps, 10)
    }

    func testLIFTraceResetSubtractGE() throws {
        // Same input (code 40, spikes at 0 1 2 3 6 7 8 9), decay 3/4 floor, bias 5, threshold 78 with ge,
        // reset subtract, refractory 2.
        //  t0: v = 45
        //  t1: d = floor(33.75) = 33; v = 78 >= 78: spike (gt would not fire), mem = 78 - 78 = 0, refr 2
        //  t2: refractory (-> 1), trace 0;  t3: refractory (-> 0), trace 0
        //  t4: d = 0, I = 0: v = 5
        //  t5: d = floor(15/4) = 3, I = 0: v = 8
        //  t6: d = floor(24/4) = 6: v = 6 + 40 + 5 = 51
        //  t7: d = floor(153/4 = 38.25) = 38: v = 83 >= 78: spike, mem = 5, refr 2
        //  t8: refractory, trace 5;  t9: refractory, trace 5
        let n = neuron(mul: 3, shift: 2, rounding: .floor, threshold: 78, compare: .ge, reset: .subtract, refractory: 2, bias: 5)
        let p = singleNeuronProgram(timesteps: 10, code: 40, neuron: n)
        let (r, _) = try runOnAllEngines(p, raster(timesteps: 10, spikesAt: [0, 1, 2, 3, 6, 7, 8, 9]))
        XCTAssertEqual(r.traces["n"]!.membrane.map { $0[0] }, [45, 78, 0, 0, 5, 8, 51, 83, 5, 5])
        XCTAssertEqual(r.spikes["n"]!.map(\.step), [1, 7])
        XCTAssertEqual(r.counts["n"]!, [2])

        // The same with gt: t1 v = 78 does not fire; mem 78.
        //  t2: d = floor(58.5) = 58, v = 103 > 78: spike, mem = 25, refr 2
        //  t3, t4: refractory, trace 25
        //  t5: d = floor(75/4 = 18.75) = 18, I = 0: v = 23
        //  t6: d = floor(69/4 = 17.25) = 17: v = 62
        //  t7: d = floor(186/4 = 46.5) = 46: v = 91 > 78: spike, mem = 13
        //  t8, t9: refractory, trace 13
        var gt = n
        gt.compare = .gt
        let (r2, _) = try runOnAllEngines(singleNeuronProgram(timesteps: 10, code: 40, neuron: gt),
                                  raster(timesteps: 10, spikesAt: [0, 1, 2, 3, 6, 7, 8, 9]))
        XCTAssertEqual(r2.traces["n"]!.membrane.map { $0[0] }, [45, 78, 103, 25, 25, 23, 62, 91, 13, 13])
        XCTAssertEqual(r2.spikes["n"]!.map(\.step), [2, 7])
    }

    func testLIFHalfEvenDecayOnNegativeMembrane() throws {
        // Code 10 -> adc 10 -> scale mul -1 -> I = -10 when @x spikes (steps 0 and 1 only). Decay 3/4 half_even,
        // bias 0, threshold 50 gt (never reached).
        //  t0: v = -10
        //  t1: d = he(-30/4 = -7.5) = -8 (floor -8, half_up -7); v = -18
        //  t2: d = he(-54/4 = -13.5) = -14;  v = -14
        //  t3: d = he(-42/4 = -10.5) = -10;  v = -10   (floor would give -11)
        //  t4: d = he(-7.5) = -8;            v = -8
        //  t5: d = -24/4 = -6 exactly;       v = -6
        //  t6: d = he(-18/4 = -4.5) = -4;    v = -4    (floor -5)
        //  t7: d = -12/4 = -3;               v = -3
        //  t8: d = he(-9/4 = -2.25) = -2;    v = -2
        //  t9: d = he(-6/4 = -1.5) = -2;     v = -2
        let n = neuron(mul: 3, shift: 2, rounding: .halfEven, threshold: 50)
        let neg = Op(result: "i", type: .i(8), length: 1,
                     kind: .scale(operand: "c", mul: -1, shift: 0, rounding: .floor, overflow: .sat))
        let p = singleNeuronProgram(timesteps: 10, code: 10, neuron: n, extra: [neg], lifInput: "i")
        let (r, report) = try runOnAllEngines(p, raster(timesteps: 10, spikesAt: [0, 1]))
        XCTAssertEqual(r.traces["n"]!.membrane.map { $0[0] }, [-10, -18, -14, -10, -8, -6, -4, -3, -2, -2])
        XCTAssertEqual(r.traces["n"]!.preActivation.map { $0[0] }, [-10, -10, 0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(r.spikes["n"]!, [])
        XCTAssertEqual(report.total, 0)

        // half_up on the same input: t1 he -> hu(-7.5) = -7: v = -17; t2: hu(-51/4 = -12.75) = -13: v = -13;
        // t3: hu(-39/4 = -9.75) = -10: v = -10; t4: hu(-7.5) = -7: v = -7; t5: hu(-21/4 = -5.25) = -5: v = -5;
        // t6: hu(-15/4 = -3.75) = -4: v = -4; t7: -3; t8: hu(-2.25) = -2; t9: hu(-1.5) = -1.
        var hu = n
        hu.decayRounding = .halfUp
        let (r2, _) = try runOnAllEngines(singleNeuronProgram(timesteps: 10, code: 10, neuron: hu, extra: [neg], lifInput: "i"),
                                  raster(timesteps: 10, spikesAt: [0, 1]))
        XCTAssertEqual(r2.traces["n"]!.membrane.map { $0[0] }, [-10, -17, -13, -10, -7, -5, -4, -3, -2, -1])
    }

    // MARK: Overflow events

    func testHandOverflowEvent() throws {
        // Code 100, adc lsb 1 -> c = 100 when @x spikes; scale mul 3 shr 0 into i8: 300 does not fit.
        // sat stores 127, wrap stores 300 - 256 = 44. @x spikes at step 1 only; mem i16 never overflows.
        for (ovf, stored) in [(Overflow.sat, Int64(127)), (.wrap, Int64(44))] {
            let sc = Op(result: "cur", type: .i(8), length: 1,
                        kind: .scale(operand: "c", mul: 3, shift: 0, rounding: .floor, overflow: ovf))
            let n = neuron(mul: 0, shift: 0, threshold: 1000)
            let p = singleNeuronProgram(timesteps: 4, code: 100, neuron: n, extra: [sc], lifInput: "cur")
            let (r, report) = try runOnAllEngines(p, raster(timesteps: 4, spikesAt: [1]))
            XCTAssertEqual(report.events, [OverflowEvent(step: 1, site: "cur", index: 0, exact: "300", stored: stored)])
            XCTAssertEqual(report.total, 1)
            XCTAssertEqual(r.traces["n"]!.preActivation.map { $0[0] }, [0, stored, 0, 0])
        }
    }

    func testLIFMemCountReadoutAndADCEvents() throws {
        // Code 200 -> c = 200 each step. mem i8 sat, no decay (mul 0), bias 0, threshold 100 gt, reset subtract.
        //  t0: v = 200 -> sat 127 (event @n.mem exact 200); 127 > 100: spike, mem = 27, count 1.
        //  t1: v = 0 + 200 -> 127 again (event); spike; count = 2 -> u1 sat 1 (event @n.count exact 2 stored 1).
        //  t2: same as t1.
        // Readout: 1 class, weight 100 (i8), bias 0, acc i6 sat: 100 * 1 = 100 -> 31 (event @ro exact 100 stored 31).
        let n = neuron(mem: .i(8), mul: 0, shift: 0, threshold: 100, reset: .subtract, count: .u(1))
        let ro = ReadoutDecl(name: "ro", source: "n", classes: 1, weightType: .i(8), accType: .i(6), accOverflow: .sat,
                             weights: [100], bias: [0], scale: 1)
        let p = singleNeuronProgram(timesteps: 3, code: 200, neuron: n, readouts: [ro])
        let (r, report) = try runOnAllEngines(p, raster(timesteps: 3, spikesAt: [0, 1, 2]))
        XCTAssertEqual(report.events, [
            OverflowEvent(step: 0, site: "@n.mem", index: 0, exact: "200", stored: 127),
            OverflowEvent(step: 1, site: "@n.mem", index: 0, exact: "200", stored: 127),
            OverflowEvent(step: 1, site: "@n.count", index: 0, exact: "2", stored: 1),
            OverflowEvent(step: 2, site: "@n.mem", index: 0, exact: "200", stored: 127),
            OverflowEvent(step: 2, site: "@n.count", index: 0, exact: "2", stored: 1),
            OverflowEvent(step: 2, site: "@ro", index: 0, exact: "100", stored: 31),
        ])
        XCTAssertEqual(r.readout["ro"]!, [31])
        XCTAssertEqual(r.counters.readoutMACs, 1)

        // ADC clamping: offset 300 makes (x - 300) negative: clamped to 0 on every step, fired or not.
        var q = p
        q.readouts = []
        q.step[1].kind = .adc(operand: "r", bits: 8, lsb: 1, offset: 300, rounding: .floor)
        let (r2, rep2) = try runOnAllEngines(q, raster(timesteps: 3, spikesAt: [1]))
        XCTAssertEqual(rep2.events, [
            OverflowEvent(step: 0, site: "c", index: 0, exact: "-300", stored: 0),
            OverflowEvent(step: 1, site: "c", index: 0, exact: "-100", stored: 0),
            OverflowEvent(step: 2, site: "c", index: 0, exact: "-300", stored: 0),
        ])
        XCTAssertEqual(r2.counters.adcConversions, [8: 1])
    }

    func testEventCapKeepsTotal() throws {
        // 1200 steps, each saturating the scale: 1200 events, 1000 stored.
        let T = 1200
        let sc = Op(result: "cur", type: .i(8), length: 1,
                    kind: .scale(operand: "c", mul: 3, shift: 0, rounding: .floor, overflow: .sat))
        let p = singleNeuronProgram(timesteps: T, code: 100, neuron: neuron(mul: 0, shift: 0, threshold: 1000),
                                    extra: [sc], lifInput: "cur")
        let (_, report) = try runOnAllEngines(p, raster(timesteps: T, spikesAt: Set(0..<T)))
        XCTAssertEqual(report.total, T)
        XCTAssertEqual(report.events.count, ExactEngine.maxStoredEvents)
        XCTAssertEqual(report.events.last, OverflowEvent(step: 999, site: "cur", index: 0, exact: "300", stored: 127))
    }

    func testLargeScaleShiftIsExact() throws {
        // The verifier bounds a scale's shift to 48 (docs/ir.md) and refuses this program; the exact engine still
        // divides by 2^70 exactly when handed it unverified.
        // c = 100 -> scale mul 5 shr 70 half_up: 500 / 2^70 rounds to 0; with mul -5 floor: -1.
        for (mul, rnd, expected) in [(Int64(5), Rounding.halfUp, Int64(0)), (-5, .floor, -1), (-5, .trunc, 0)] {
            let sc = Op(result: "cur", type: .i(8), length: 1,
                        kind: .scale(operand: "c", mul: mul, shift: 70, rounding: rnd, overflow: .sat))
            let p = singleNeuronProgram(timesteps: 1, code: 100, neuron: neuron(mul: 0, shift: 0, threshold: 1000),
                                        extra: [sc], lifInput: "cur")
            XCTAssertThrowsError(try IRVerifier.verify(p)) {
                XCTAssertTrue(String(describing: $0).contains("shr must be in 0...48"))
            }
            let chip = Chip(program: p, seed: 1)
            let binding = try InputBinding(program: p, channels: 1, file: "<test>")
            let (r, _) = ExactEngine(chip: chip).run(raster(timesteps: 1, spikesAt: [0]), binding: binding, trace: true)
            XCTAssertEqual(r.traces["n"]!.preActivation, [[expected]])
        }
    }

    func testNegativeWrap() throws {
        // c = 200; scale mul -1 into i8 wrap: exact -200, stored -200 + 256 = 56.
        let sc = Op(result: "neg", type: .i(8), length: 1,
                    kind: .scale(operand: "c", mul: -1, shift: 0, rounding: .floor, overflow: .wrap))
        let p = singleNeuronProgram(timesteps: 1, code: 200, neuron: neuron(mul: 0, shift: 0, threshold: 1000),
                                    extra: [sc], lifInput: "neg")
        let r = raster(timesteps: 1, spikesAt: [0])
        let chip = Chip(program: p, seed: 1)
        let binding = try InputBinding(program: p, channels: 1, file: "<test>")
        let (e, report) = ExactEngine(chip: chip).run(r, binding: binding, trace: true)
        XCTAssertEqual(e.traces["n"]!.preActivation, [[56]])
        XCTAssertEqual(report.events, [OverflowEvent(step: 0, site: "neg", index: 0, exact: "-200", stored: 56)])
        // FastEngine must agree; it cannot be called while Fixed.fit traps on this input (it would kill the process).
        XCTAssertFalse(fastWrapOfNegativeTraps,
                       "FastEngine traps wrapping a negative value: Fixed.fit (Sources/XbarCore/FixedPoint.swift:105) uses "
                       + "UInt64(v), which traps for v < 0; it should be UInt64(bitPattern: v)")
        if !fastWrapOfNegativeTraps { _ = try runOnAllEngines(p, r) }
    }

    // MARK: Random differential test

    func testRandomProgramsFastEqualsExact() throws {
        var gen = ProgramGenerator(seed: 0x5EED_E4AC, stream: 7)
        var programs = 0
        var verified = 0
        var cases = 0          // (program, raster) pairs compared
        var skippedTrap = 0    // pairs not run on FastEngine because Fixed.fit would trap (see fastWrapOfNegativeTraps)
        var totalEvents = 0
        var satEvents = 0, wrapEvents = 0, memEvents = 0, countEvents = 0, readoutEvents = 0, adcEvents = 0, synEvents = 0
        var synapsePops = 0, nonSpikingPops = 0, biasedPops = 0, longDelays = 0, mixedDelayReads = 0
        var firstFailures: [String] = []
        while (cases < 1000 || programs < 500) && programs < 3000 {
            let p = gen.program()
            programs += 1
            do {
                try IRVerifier.verify(p)
            } catch {
                if firstFailures.count < 5 { firstFailures.append("program \(programs - 1): \(error)") }
                continue
            }
            verified += 1
            synapsePops += p.neurons.filter { $0.synapse != nil }.count
            nonSpikingPops += p.neurons.filter { !$0.spiking }.count
            biasedPops += p.neurons.filter { $0.neuronBias != nil || $0.synapse?.neuronBias != nil }.count
            for op in p.step {
                guard case let .read(_, rows, _, _, _, _) = op.kind else { continue }
                longDelays += rows.filter { $0.delay > 1 }.count
                if Dictionary(grouping: rows, by: \.source).values.contains(where: { Set($0.map(\.delay)).count > 1 }) { mixedDelayReads += 1 }
            }
            let chip = Chip(program: p, seed: 1)
            let fast = FastEngine(chip: chip)
            let exact = ExactEngine(chip: chip)
            var ovfOf: [String: Overflow] = [:]
            var isADC = Set<String>()
            for op in p.step {
                switch op.kind {
                case let .add(_, _, o), let .sub(_, _, o), let .scale(_, _, _, _, o): ovfOf[op.result] = o
                case .adc: isADC.insert(op.result)
                default: break
                }
            }
            for n in p.neurons {
                ovfOf["@\(n.name).mem"] = n.memOverflow
                if let y = n.synapse { ovfOf["@\(n.name).syn"] = y.overflow }
            }
            for r in p.readouts { ovfOf["@\(r.name)"] = r.accOverflow }
            for _ in 0..<2 {
                let raster = gen.raster(for: p)
                let binding = try InputBinding(program: p, channels: raster.channels, file: "<random>")
                let (b, report) = exact.run(raster, binding: binding, trace: true)
                totalEvents += report.total
                for e in report.events {
                    if e.site.hasSuffix(".count") { countEvents += 1; satEvents += 1; continue }
                    if isADC.contains(e.site) { adcEvents += 1; satEvents += 1; continue }
                    if e.site.hasSuffix(".mem") { memEvents += 1 }
                    if e.site.hasSuffix(".syn") { synEvents += 1 }
                    if e.site.hasPrefix("@"), !e.site.hasSuffix(".mem"), !e.site.hasSuffix(".syn") { readoutEvents += 1 }
                    if ovfOf[e.site] == .wrap { wrapEvents += 1 } else { satEvents += 1 }
                }
                if fastWrapOfNegativeTraps {
                    let negativeWrap = report.events.contains { ovfOf[$0.site] == .wrap && $0.exact.hasPrefix("-") }
                    if negativeWrap || report.total > report.events.count {
                        skippedTrap += 1
                        continue
                    }
                }
                let a = fast.run(raster, binding: binding, trace: true)
                cases += 1
                if a != b {
                    XCTFail("program \(programs - 1): fast and exact differ\n\(IRPrinter.print(p))")
                    return
                }
            }
        }
        XCTAssertTrue(firstFailures.isEmpty, firstFailures.joined(separator: "\n"))
        XCTAssertGreaterThanOrEqual(Double(verified), 0.99 * Double(programs), "only \(verified)/\(programs) verify")
        XCTAssertGreaterThanOrEqual(cases, 1000)
        XCTAssertGreaterThan(totalEvents, 0)
        for (name, c) in [("sat", satEvents), ("wrap", wrapEvents), ("mem", memEvents), ("count", countEvents),
                          ("readout", readoutEvents), ("adc", adcEvents), ("syn", synEvents),
                          ("synapse population", synapsePops), ("non-spiking population", nonSpikingPops),
                          ("per-neuron bias population", biasedPops), ("delay > 1 row source", longDelays),
                          ("read with one source at two delays", mixedDelayReads)] {
            XCTAssertGreaterThan(c, 0, "no \(name) overflow events in \(cases) random cases")
        }
        print("random differential: \(verified)/\(programs) programs verified, \(cases) cases compared"
              + " (\(skippedTrap) skipped: FastEngine would trap on a negative wrap), \(totalEvents) overflow events"
              + " (sat \(satEvents), wrap \(wrapEvents), mem \(memEvents), count \(countEvents), readout \(readoutEvents),"
              + " adc \(adcEvents))")
    }
}
