import Foundation
import XbarCore

/// Two linear projection heads, one per modality (audio features -> R^P, image features -> R^P), trained digitally on
/// the LSM encoders' fixed features, and the cross-modal retrieval that scores them (docs/experiment.md, "LSM-CLIP").
/// Embeddings are L2-normalised; similarity is their dot product (cosine).
public struct ProjectionHeads: Sendable {
    public var inputs: Int
    public var dim: Int
    /// [audio, image]: W (dim x inputs, row-major) and b (dim).
    public var weights: [[Double]]
    public var biases: [[Double]]

    /// Heads initialised with N(0, 1 / inputs) weights (Philox purpose spokenDigits, counter (8 + modality, row, col)).
    public init(inputs: Int, dim: Int, seed: UInt64) {
        self.inputs = inputs
        self.dim = dim
        let rng = Philox(seed: seed)
        let s = 1 / Double(inputs).squareRoot()
        weights = (0..<2).map { m in
            (0..<(dim * inputs)).map { s * rng.normal(purpose: RandomPurpose.spokenDigits.rawValue, UInt32(8 + m), UInt32($0 / inputs), UInt32($0 % inputs)) }
        }
        biases = [[Double](repeating: 0, count: dim), [Double](repeating: 0, count: dim)]
    }

    /// The unnormalised projection of x by head m (0 audio, 1 image).
    func project(_ x: ArraySlice<Double>, _ m: Int) -> [Double] {
        let w = weights[m], base = x.startIndex
        return (0..<dim).map { r in
            var s = biases[m][r]
            for c in 0..<inputs { s += w[r * inputs + c] * x[base + c] }
            return s
        }
    }

    /// The L2-normalised embedding of x by head m.
    public func embed(_ x: ArraySlice<Double>, _ m: Int) -> [Double] { Self.normalised(project(x, m)).u }

    static func normalised(_ v: [Double]) -> (u: [Double], norm: Double) {
        let n = max(1e-12, v.reduce(0) { $0 + $1 * $1 }.squareRoot())
        return (v.map { $0 / n }, n)
    }

    /// Adam over both heads' parameters.
    struct Adam {
        var m: [[Double]], v: [[Double]], t = 0
        let lr: Double
        init(sizes: [Int], lr: Double) { m = sizes.map { [Double](repeating: 0, count: $0) }; v = m; self.lr = lr }
        mutating func step(_ params: inout [[Double]], _ grads: [[Double]], offset: Int) {
            let b1 = 0.9, b2 = 0.999, c1 = 1 - pow(b1, Double(t)), c2 = 1 - pow(b2, Double(t))
            for k in params.indices {
                for i in params[k].indices {
                    let g = grads[k][i]
                    m[offset + k][i] = b1 * m[offset + k][i] + (1 - b1) * g
                    v[offset + k][i] = b2 * v[offset + k][i] + (1 - b2) * g * g
                    params[k][i] -= lr * (m[offset + k][i] / c1) / ((v[offset + k][i] / c2).squareRoot() + 1e-8)
                }
            }
        }
    }

    /// Adds dLoss/dx to head m's gradients for input x, given dLoss/du at its normalised embedding u = p / |p|.
    func backward(_ x: ArraySlice<Double>, _ m: Int, u: [Double], norm: Double, du: [Double], gw: inout [[Double]], gb: inout [[Double]]) {
        let dot = zip(u, du).reduce(0) { $0 + $1.0 * $1.1 }
        let base = x.startIndex
        for r in 0..<dim {
            let dp = (du[r] - u[r] * dot) / norm
            gb[m][r] += dp
            for c in 0..<inputs { gw[m][r * inputs + c] += dp * x[base + c] }
        }
    }

    /// CLIP training: symmetric InfoNCE with temperature `tau` over batches of (audio, image) pairs, Adam. Pairs are
    /// shuffled every epoch (Philox purpose spokenDigits, counter (16, epoch, pair)); the last batch may be short.
    /// `afterEpoch` sees the heads after every epoch (epochs counted from 1).
    public mutating func trainContrastive(audio: Features, image: Features, epochs: Int, batch: Int, lr: Double, tau: Double, seed: UInt64,
                                          afterEpoch: ((ProjectionHeads, Int) -> Void)? = nil) {
        let n = audio.rows
        var adam = Adam(sizes: [weights[0].count, weights[1].count, dim, dim], lr: lr)
        let rng = Philox(seed: seed)
        for epoch in 0..<epochs {
            let order = (0..<n).sorted {
                let a = rng.uniform(purpose: RandomPurpose.spokenDigits.rawValue, 16, UInt32(epoch), UInt32($0))
                let b = rng.uniform(purpose: RandomPurpose.spokenDigits.rawValue, 16, UInt32(epoch), UInt32($1))
                return a != b ? a < b : $0 < $1
            }
            var i = 0
            while i < n {
                let idx = Array(order[i..<min(n, i + batch)])
                contrastiveStep(idx, audio: audio, image: image, tau: tau, adam: &adam)
                i += batch
            }
            afterEpoch?(self, epoch + 1)
        }
    }

    mutating func contrastiveStep(_ idx: [Int], audio: Features, image: Features, tau: Double, adam: inout Adam) {
        let (_, gw, gb) = contrastiveGradient(idx, audio: audio, image: image, tau: tau)
        adam.t += 1
        adam.step(&weights, gw, offset: 0)
        adam.step(&biases, gb, offset: 2)
    }

    /// The symmetric InfoNCE loss of the pairs `idx` and its gradient (weights, biases per head).
    func contrastiveGradient(_ idx: [Int], audio: Features, image: Features, tau: Double) -> (loss: Double, gw: [[Double]], gb: [[Double]]) {
        let b = idx.count
        let a = idx.map { Self.normalised(project(audio.row($0), 0)) }, v = idx.map { Self.normalised(project(image.row($0), 1)) }
        var logits = [[Double]](repeating: [Double](repeating: 0, count: b), count: b)
        for i in 0..<b { for j in 0..<b { logits[i][j] = zip(a[i].u, v[j].u).reduce(0) { $0 + $1.0 * $1.1 } / tau } }
        // dL/dlogits of L = (CE over rows + CE over columns) / 2, each a mean over the batch.
        var g = [[Double]](repeating: [Double](repeating: 0, count: b), count: b)
        var loss = 0.0
        for i in 0..<b {
            let mx = logits[i].max()!
            let e = logits[i].map { exp($0 - mx) }, z = e.reduce(0, +)
            loss += (log(z) + mx - logits[i][i]) / (2 * Double(b))
            for j in 0..<b { g[i][j] += (e[j] / z - (i == j ? 1 : 0)) / (2 * Double(b)) }
        }
        for j in 0..<b {
            let col = (0..<b).map { logits[$0][j] }, mx = col.max()!
            let e = col.map { exp($0 - mx) }, z = e.reduce(0, +)
            loss += (log(z) + mx - logits[j][j]) / (2 * Double(b))
            for i in 0..<b { g[i][j] += (e[i] / z - (i == j ? 1 : 0)) / (2 * Double(b)) }
        }
        var gw = weights.map { [Double](repeating: 0, count: $0.count) }, gb = biases.map { [Double](repeating: 0, count: $0.count) }
        for i in 0..<b {
            var du = [Double](repeating: 0, count: dim), dv = du
            for j in 0..<b { for r in 0..<dim { du[r] += g[i][j] * v[j].u[r] / tau } }
            for j in 0..<b { for r in 0..<dim { dv[r] += g[j][i] * a[j].u[r] / tau } }
            backward(audio.row(idx[i]), 0, u: a[i].u, norm: a[i].norm, du: du, gw: &gw, gb: &gb)
            backward(image.row(idx[i]), 1, u: v[i].u, norm: v[i].norm, du: dv, gw: &gw, gb: &gb)
        }
        return (loss, gw, gb)
    }

    /// Prototypical-network training (the paper's baseline): every epoch, the class prototypes are the mean unnormalised
    /// embeddings of each class's support samples (both modalities), and each sample (both modalities) is classified by
    /// softmax over minus its squared distances to them; cross-entropy, one full batch, Adam.
    public mutating func trainPrototypes(audio: Features, audioLabels: [Int], image: Features, imageLabels: [Int], classes: [Int],
                                         epochs: Int, lr: Double, afterEpoch: ((ProjectionHeads, Int) -> Void)? = nil) {
        var adam = Adam(sizes: [weights[0].count, weights[1].count, dim, dim], lr: lr)
        let k = classes.count
        var items: [(Int, Int, Int)] = []
        for i in 0..<audio.rows { items.append((0, i, classes.firstIndex(of: audioLabels[i])!)) }
        for i in 0..<image.rows { items.append((1, i, classes.firstIndex(of: imageLabels[i])!)) }
        func x(_ it: (Int, Int, Int)) -> ArraySlice<Double> { it.0 == 0 ? audio.row(it.1) : image.row(it.1) }
        for epoch in 0..<epochs {
            defer { afterEpoch?(self, epoch + 1) }
            let e = items.map { project(x($0), $0.0) }
            var proto = [[Double]](repeating: [Double](repeating: 0, count: dim), count: k), count = [Double](repeating: 0, count: k)
            for (it, v) in zip(items, e) { for r in 0..<dim { proto[it.2][r] += v[r] }; count[it.2] += 1 }
            for c in 0..<k { for r in 0..<dim { proto[c][r] /= max(1, count[c]) } }
            var de = [[Double]](repeating: [Double](repeating: 0, count: dim), count: items.count)
            var dproto = [[Double]](repeating: [Double](repeating: 0, count: dim), count: k)
            let scale = 1 / Double(items.count)
            for (q, it) in items.enumerated() {
                var d = [Double](repeating: 0, count: k)
                for c in 0..<k { for r in 0..<dim { let t = e[q][r] - proto[c][r]; d[c] += t * t } }
                let mx = d.map { -$0 }.max()!
                let p = d.map { exp(-$0 - mx) }, z = p.reduce(0, +)
                for c in 0..<k {
                    let gl = (p[c] / z - (c == it.2 ? 1 : 0)) * scale      // dL/dlogit, logit = -d
                    for r in 0..<dim {
                        let diff = e[q][r] - proto[c][r]
                        de[q][r] -= gl * 2 * diff
                        dproto[c][r] += gl * 2 * diff
                    }
                }
            }
            for (q, it) in items.enumerated() { for r in 0..<dim { de[q][r] += dproto[it.2][r] / max(1, count[it.2]) } }
            var gw = weights.map { [Double](repeating: 0, count: $0.count) }, gb = biases.map { [Double](repeating: 0, count: $0.count) }
            for (q, it) in items.enumerated() {
                let xs = x(it), base = xs.startIndex
                for r in 0..<dim {
                    gb[it.0][r] += de[q][r]
                    for c in 0..<inputs { gw[it.0][r * inputs + c] += de[q][r] * xs[base + c] }
                }
            }
            adam.t += 1
            adam.step(&weights, gw, offset: 0)
            adam.step(&biases, gb, offset: 2)
        }
    }

    /// Audio -> image retrieval: each audio query's nearest image (cosine) in the gallery; the fraction whose label is the
    /// query's (the paper's "audio search image" top-1 accuracy).
    public func retrieval(audio: Features, audioLabels: [Int], image: Features, imageLabels: [Int]) -> Double {
        let gallery = (0..<image.rows).map { embed(image.row($0), 1) }
        var correct = 0
        for q in 0..<audio.rows {
            let u = embed(audio.row(q), 0)
            var best = -Double.infinity, label = -1
            for (j, g) in gallery.enumerated() {
                let s = zip(u, g).reduce(0) { $0 + $1.0 * $1.1 }
                if s > best { best = s; label = imageLabels[j] }
            }
            if label == audioLabels[q] { correct += 1 }
        }
        return Double(correct) / Double(max(1, audio.rows))
    }
}
