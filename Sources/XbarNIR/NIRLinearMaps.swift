import Foundation
import XbarCore
import XbarGraph

/// One NIR linear node as a map from its flat input (row-major C,H,W) to its flat output: y = A x + b, where A's
/// entries may carry a delay in steps (Delay nodes). `map == nil` means the identity (Flatten and pass-throughs).
struct LinearOperator {
    var map: DelayedMatrix?
    var bias: [Double]?
    var outputShape: [Int]
}

/// Builds `LinearOperator`s for Affine, Linear, Scale, Conv1d, Conv2d, SumPool2d, AvgPool2d, Flatten, Delay and
/// pass-through nodes (docs/nir.md, "Linear nodes").
enum NIRLinearMaps {
    /// Largest number of matrix entries one unrolled or composed linear map may have.
    static let maxEntries = 1 << 26

    /// The operator of `n` given the shape of its input (nil when nothing feeds it).
    static func make(_ n: FlatNIRGraph.Node, input: [Int]?, options o: NIRImportOptions, file: String) throws -> LinearOperator {
        let p = NodeParameters(n, file: file)
        if n.passThrough { return try passThrough(p, input: input) }
        switch n.node.type {
        case .affine, .linear: return try dense(p, input: input, affine: n.node.type == .affine)
        case .scale: return try scale(p, input: input)
        case .delay: return try delay(p, input: input, dt: o.dt)
        case .flatten: return try flatten(p, input: input)
        case .conv1d: return try convolution(p, input: input, spatialRank: 1)
        case .conv2d: return try convolution(p, input: input, spatialRank: 2)
        case .sumPool2d: return try pool(p, input: input, average: false)
        case .avgPool2d: return try pool(p, input: input, average: true)
        default: throw p.fail("", "is not a linear node")
        }
    }

    /// Largest number of elements one tensor (a node's input or output) may hold.
    static let maxElements = 1 << 26

    /// The element count of `shape` (saturating at Int.max, never trapping; shapes are checked against
    /// `maxElements` where they are read or computed, so this does not saturate in practice).
    static func count(_ shape: [Int]) -> Int { checkedCount(shape, limit: Int.max) ?? Int.max }

    /// The product of `factors` (all >= 0), or nil when it overflows or exceeds `limit`.
    static func checkedCount(_ factors: [Int], limit: Int) -> Int? {
        var n = 1
        for f in factors {
            let (m, overflow) = n.multipliedReportingOverflow(by: f)
            guard !overflow, m <= limit else { return nil }
            n = m
        }
        return n
    }

    private static func passThrough(_ p: NodeParameters, input: [Int]?) throws -> LinearOperator {
        let declared = try p.node.parameters["shape"].map { try p.shape("shape", $0.values) }
        if let input, let declared, count(input) != count(declared) {
            throw p.fail("shape", "size mismatch: its shape \(declared) holds \(count(declared)) values but \(count(input)) arrive")
        }
        return LinearOperator(map: nil, bias: nil, outputShape: input ?? declared ?? [0])
    }

    /// Affine (W x + b) and Linear (W x); NIR's weight is [out, in].
    private static func dense(_ p: NodeParameters, input: [Int]?, affine: Bool) throws -> LinearOperator {
        let w = try p.array("weight")
        guard w.shape.count == 2 else { throw p.fail("weight", "expected a 2-d weight [out, in], found shape \(w.shape)") }
        let nOut = w.shape[0], nIn = w.shape[1]
        guard nOut >= 1, nIn >= 1 else { throw p.fail("weight", "expected a weight [out, in] with out, in >= 1, found shape \(w.shape)") }
        try p.checkSize([nOut, nIn], limit: maxEntries, "weight", what: "the weight")
        try p.checkInput(input, count: nIn, what: "its weight has \(nIn) columns")
        var m = SparseMatrix(rows: nOut, cols: nIn)
        for r in 0..<nOut { m.appendRow((0..<nIn).lazy.map { ($0, w.values[r * nIn + $0]) }) }
        let bias = affine ? try p.perElement("bias", count: nOut, default: 0) : nil
        return LinearOperator(map: DelayedMatrix(m), bias: bias, outputShape: [nOut])
    }

    /// Scale: y = x ⊙ s.
    private static func scale(_ p: NodeParameters, input: [Int]?) throws -> LinearOperator {
        let s = try p.array("scale")
        guard s.count >= 1 else { throw p.fail("scale", "expected 1 value or one per element, found none") }
        let shape = s.count > 1 ? s.shape : try p.known(input)
        try p.checkInput(input, count: count(shape), what: "its scale has \(count(shape)) values")
        let values = try p.oneOrN("scale", s, n: count(shape))
        return LinearOperator(map: DelayedMatrix(.diagonal(values)), bias: nil, outputShape: shape)
    }

    /// Delay: y[t] = x[t - round(delay/dt)] per element.
    private static func delay(_ p: NodeParameters, input: [Int]?, dt: Double) throws -> LinearOperator {
        let d = try p.array("delay")
        guard d.count >= 1 else { throw p.fail("delay", "expected 1 value or one per element, found none") }
        let shape = d.count > 1 ? d.shape : try p.known(input)
        let n = count(shape)
        try p.checkInput(input, count: n, what: "its delay has \(n) values")
        var steps: [Int] = []
        for v in d.values {
            let x = v / dt, s = x.rounded()
            guard x.isFinite, s >= 0, abs(x - s) <= 1e-6 * max(1, abs(x)) else {
                throw p.fail("delay", "delay \(v) s is not a non-negative whole number of --dt \(dt) s steps (within 1e-6)")
            }
            guard s <= Double(maxProjectionDelay) else {
                throw p.fail("delay", "delay \(v) s is \(Int(s)) steps; the graph format allows at most \(maxProjectionDelay)")
            }
            steps.append(Int(s))
        }
        if steps.count == 1 { steps = [Int](repeating: steps[0], count: n) }
        var terms: [Int: SparseMatrix] = [:]
        for s in Set(steps) {
            var m = SparseMatrix(rows: n, cols: n)
            for i in 0..<n { m.appendRow([(i, steps[i] == s ? 1.0 : 0.0)]) }
            terms[s] = m
        }
        return LinearOperator(map: DelayedMatrix(rows: n, cols: n, terms: terms), bias: nil, outputShape: shape)
    }

    /// Flatten: a reshape of row-major data (the identity on the flat vector).
    private static func flatten(_ p: NodeParameters, input: [Int]?) throws -> LinearOperator {
        var shape = input
        if let t = p.node.parameters["input_type"] {
            let declared = try p.shape("input_type", t.values)
            try p.checkInput(input, count: count(declared), what: "its input_type \(declared) holds \(count(declared)) values")
            shape = declared
        }
        guard let inShape = shape else {
            throw p.fail("", "input shape unknown: it has no input_type and nothing feeds it")
        }
        let rank = inShape.count
        func dim(_ key: String, _ def: Int) throws -> Int {
            guard let a = p.node.parameters[key] else { return def }
            guard let v = a.scalar, v.isFinite, v == v.rounded(), abs(v) <= Double(rank) else {
                throw p.fail(key, "expected one integer in -\(rank)...\(rank) (its input has rank \(rank)), found \(a.values)")
            }
            return Int(v) < 0 ? Int(v) + rank : Int(v)
        }
        let start = try dim("start_dim", 1), end = try dim("end_dim", -1)
        guard rank > 0, 0 <= start, start <= end, end < rank else {
            throw p.fail("", "start_dim/end_dim (\(start), \(end)) do not fit its input shape \(inShape)")
        }
        let out = Array(inShape[..<start]) + [count(Array(inShape[start...end]))] + Array(inShape[(end + 1)...])
        return LinearOperator(map: nil, bias: nil, outputShape: out)
    }

    /// Conv1d / Conv2d, PyTorch semantics: weight [C_out, C_in/groups, k...], zero padding, stride, dilation, groups.
    private static func convolution(_ p: NodeParameters, input: [Int]?, spatialRank r: Int) throws -> LinearOperator {
        let w = try p.array("weight")
        guard w.shape.count == r + 2 else {
            throw p.fail("weight", "expected a \(r + 2)-d weight [C_out, C_in/groups, k...], found shape \(w.shape)")
        }
        let cOut = w.shape[0], cInGroup = w.shape[1], kernel = Array(w.shape[2...])
        guard w.shape.allSatisfy({ $0 >= 1 }) else {
            throw p.fail("weight", "expected C_out, C_in/groups and kernel sizes >= 1, found weight shape \(w.shape)")
        }
        let groups = try p.intVector("groups", count: 1, default: 1, min: 1)[0]
        var inShape: [Int]
        if let a = p.node.parameters["input_shape"] {
            inShape = [cInGroup * groups] + (try p.shape("input_shape", a.values))
            guard inShape.count == r + 1 else { throw p.fail("input_shape", "expected \(r) spatial sizes, found \(a.values)") }
            try p.checkSize(inShape, limit: maxElements, "input_shape", what: "its input [C_in] + input_shape \(inShape)")
            try p.checkInput(input, count: count(inShape), what: "its input_shape \(inShape) holds \(count(inShape)) values")
        } else {
            guard let input, input.count == r + 1 else {
                throw p.fail("", "input shape unknown: no input_shape, and its input \(input.map { "\($0)" } ?? "(none)") is not [C, "
                             + (r == 2 ? "H, W]" : "L]"))
            }
            inShape = input
        }
        let cIn = inShape[0]
        guard cIn % groups == 0, cOut % groups == 0, cIn / groups == cInGroup else {
            throw p.fail("groups", "groups \(groups) does not fit C_in \(cIn) and C_out \(cOut) with a weight of \(cInGroup) "
                         + "input channels per group (need C_in = groups x \(cInGroup), both divisible by groups)")
        }
        let stride = try p.intVector("stride", count: r, default: 1, min: 1)
        let dilation = try p.intVector("dilation", count: r, default: 1, min: 1)
        var pad: [Int]
        var outSpatial: [Int] = []
        if let text = p.node.textParameters["padding"]?.first {
            switch text {
            case "valid": pad = [Int](repeating: 0, count: r)
            case "same":
                guard stride.allSatisfy({ $0 == 1 }) else { throw p.fail("padding", "padding 'same' needs stride 1, found \(stride)") }
                pad = (0..<r).map { dilation[$0] * (kernel[$0] - 1) / 2 }
                outSpatial = Array(inShape[1...])
            default: throw p.fail("padding", "padding '\(text)' is not 'same', 'valid' or integers")
            }
        } else {
            pad = try p.intVector("padding", count: r, default: 0, min: 0)
        }
        if outSpatial.isEmpty {
            outSpatial = (0..<r).map { i in
                let span = inShape[i + 1] + 2 * pad[i] - dilation[i] * (kernel[i] - 1) - 1
                return span < 0 ? 0 : span / stride[i] + 1
            }
        }
        guard outSpatial.allSatisfy({ $0 >= 1 }) else {
            throw p.fail("", "kernel \(kernel) (dilation \(dilation), padding \(pad)) does not fit its input \(inShape)")
        }
        let outShape = [cOut] + outSpatial
        let perOutput = cInGroup * count(kernel)
        try checkUnrolling(p, outShape, taps: perOutput)
        // Spatial helpers for 1-d and 2-d alike (a 1-d input is treated as height 1).
        let (H, W) = r == 2 ? (inShape[1], inShape[2]) : (1, inShape[1])
        let (OH, OW) = r == 2 ? (outSpatial[0], outSpatial[1]) : (1, outSpatial[0])
        let (KH, KW) = r == 2 ? (kernel[0], kernel[1]) : (1, kernel[0])
        let (SH, SW) = r == 2 ? (stride[0], stride[1]) : (1, stride[0])
        let (DH, DW) = r == 2 ? (dilation[0], dilation[1]) : (1, dilation[0])
        let (PH, PW) = r == 2 ? (pad[0], pad[1]) : (0, pad[0])
        let outPerGroup = cOut / groups
        var m = SparseMatrix(rows: count(outShape), cols: count(inShape), reserve: count(outShape) * perOutput)
        var row: [(Int, Double)] = []
        for co in 0..<cOut {
            let g = co / outPerGroup
            for oy in 0..<OH {
                for ox in 0..<OW {
                    row.removeAll(keepingCapacity: true)
                    for cl in 0..<cInGroup {
                        let ci = g * cInGroup + cl
                        for ky in 0..<KH {
                            let iy = oy * SH - PH + ky * DH
                            guard iy >= 0, iy < H else { continue }
                            for kx in 0..<KW {
                                let ix = ox * SW - PW + kx * DW
                                guard ix >= 0, ix < W else { continue }
                                row.append(((ci * H + iy) * W + ix, w.values[((co * cInGroup + cl) * KH + ky) * KW + kx]))
                            }
                        }
                    }
                    row.sort { $0.0 < $1.0 }
                    m.appendRow(row)
                }
            }
        }
        let channelBias = try p.perElement("bias", count: cOut, default: 0)
        let bias = channelBias.flatMap { b in [Double](repeating: b, count: OH * OW) }
        return LinearOperator(map: DelayedMatrix(m), bias: bias.allSatisfy { $0 == 0 } ? nil : bias, outputShape: outShape)
    }

    /// Refuses, before allocating, an unrolled map of more than `maxEntries` entries (outputs x taps per output; this
    /// also bounds the output tensor, as `maxElements == maxEntries`). Checked multiplication: never traps.
    private static func checkUnrolling(_ p: NodeParameters, _ outShape: [Int], taps: Int) throws {
        guard checkedCount(outShape + [taps], limit: maxEntries) != nil else {
            throw p.fail("", "unrolling its output \(outShape) x \(taps) taps each needs more than the limit \(maxEntries) synapses")
        }
    }

    /// SumPool2d / AvgPool2d over [C, H, W] with zero padding (AvgPool2d divides by the full kernel area, PyTorch's
    /// count_include_pad = True).
    private static func pool(_ p: NodeParameters, input: [Int]?, average: Bool) throws -> LinearOperator {
        guard let input, input.count == 3 else {
            throw p.fail("", "input shape unknown: pooling needs a [C, H, W] input, found \(input.map { "\($0)" } ?? "(none)")")
        }
        let kernel = try p.intVector("kernel_size", count: 2, default: nil, min: 1)
        let stride = try p.intVector("stride", count: 2, default: nil, min: 1, fallback: kernel)
        let pad = try p.intVector("padding", count: 2, default: 0, min: 0)
        let (C, H, W) = (input[0], input[1], input[2])
        let OH = (H + 2 * pad[0] - kernel[0]) / stride[0] + 1, OW = (W + 2 * pad[1] - kernel[1]) / stride[1] + 1
        guard H + 2 * pad[0] >= kernel[0], W + 2 * pad[1] >= kernel[1] else {
            throw p.fail("kernel_size", "kernel \(kernel) (padding \(pad)) does not fit its input \(input)")
        }
        try checkUnrolling(p, [C, OH, OW], taps: kernel[0] * kernel[1])
        let weight = average ? 1 / Double(kernel[0] * kernel[1]) : 1
        var m = SparseMatrix(rows: C * OH * OW, cols: C * H * W, reserve: C * OH * OW * kernel[0] * kernel[1])
        for c in 0..<C {
            for oy in 0..<OH {
                for ox in 0..<OW {
                    var row: [(Int, Double)] = []
                    for ky in 0..<kernel[0] {
                        let iy = oy * stride[0] - pad[0] + ky
                        guard iy >= 0, iy < H else { continue }
                        for kx in 0..<kernel[1] {
                            let ix = ox * stride[1] - pad[1] + kx
                            if ix >= 0, ix < W { row.append(((c * H + iy) * W + ix, weight)) }
                        }
                    }
                    m.appendRow(row)
                }
            }
        }
        return LinearOperator(map: DelayedMatrix(m), bias: nil, outputShape: [C, OH, OW])
    }
}
