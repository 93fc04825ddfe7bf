import XbarCore
import XbarTarget

/// A feature matrix: one row of per-neuron spike counts per sample, and the samples' labels.
public struct Features: Sendable {
    public var rows: Int
    public var cols: Int
    /// Row-major rows x cols.
    public var x: [Double]
    public var labels: [Int]

    public init(rows: Int, cols: Int, x: [Double], labels: [Int]) {
        precondition(x.count == rows * cols && labels.count == rows)
        self.rows = rows
        self.cols = cols
        self.x = x
        self.labels = labels
    }

    /// Features from integer spike counts (one array per sample).
    public init(counts: [[Int64]], labels: [Int]) {
        let d = counts.first?.count ?? 0
        self.init(rows: counts.count, cols: d, x: counts.flatMap { $0.map(Double.init) }, labels: labels)
    }

    public func row(_ i: Int) -> ArraySlice<Double> { x[(i * cols)..<((i + 1) * cols)] }

    /// The rows at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Features {
        var v: [Double] = []
        v.reserveCapacity(indices.count * cols)
        for i in indices { v.append(contentsOf: row(i)) }
        return Features(rows: indices.count, cols: cols, x: v, labels: indices.map { labels[$0] })
    }

    /// Rows of `self` followed by rows of `o`.
    public func appending(_ o: Features) -> Features {
        precondition(o.cols == cols || rows == 0)
        return Features(rows: rows + o.rows, cols: o.cols, x: x + o.x, labels: labels + o.labels)
    }
}

/// A real-valued linear readout: score[k] = sum_j weights[k * features + j] * x[j] + bias[k] (Graph.Readout layout).
public struct LinearReadout: Equatable, Sendable {
    public var classes: Int
    public var features: Int
    public var weights: [Double]
    public var bias: [Double]

    public init(classes: Int, features: Int, weights: [Double], bias: [Double]) {
        precondition(weights.count == classes * features && bias.count == classes)
        self.classes = classes
        self.features = features
        self.weights = weights
        self.bias = bias
    }

    public func scores<C: Collection>(_ x: C) -> [Double] where C.Element == Double {
        (0..<classes).map { k in
            var s = bias[k]
            var j = 0
            for v in x {
                s += weights[k * features + j] * v
                j += 1
            }
            return s
        }
    }

    /// Smallest index of the largest score.
    public func predict<C: Collection>(_ x: C) -> Int where C.Element == Double { argmax(scores(x)) }
}

/// The chip's digital readout: int weights with one symmetric scale shared by all classes, bias on the same scale,
/// a saturating accumulator. Mirrors the compiler's readout lowering (docs/compiler.md, "Readout"; docs/experiment.md):
/// s = max|w| / (2^(bits-1) - 1), q = clamp(round_half_even(w / s)), b_q = round_half_even(b / s).
public struct QuantisedReadout: Equatable, Sendable {
    public var classes: Int
    public var features: Int
    public var weights: [Int32]
    public var bias: [Int32]
    /// Real value of one weight / accumulator step.
    public var scale: Double
    public var accBits: Int

    public init(_ r: LinearReadout, weightBits: Int, accBits: Int) {
        let wmax = Int64(1) << (weightBits - 1) - 1
        let maxAbs = r.weights.reduce(0.0) { max($0, abs($1)) }
        let s = maxAbs > 0 ? maxAbs / Double(wmax) : 1.0
        classes = r.classes
        features = r.features
        scale = s
        self.accBits = accBits
        weights = r.weights.map { Int32(max(-wmax, min(wmax, Fixed.roundReal($0 / s, .halfEven)))) }
        let acc = IntType.i(accBits)
        bias = r.bias.map { Int32(max(max(acc.min, Int64(Int32.min)), min(min(acc.max, Int64(Int32.max)), Fixed.roundReal($0 / s, .halfEven)))) }
    }

    public init(_ r: LinearReadout, target: Target) {
        self.init(r, weightBits: target.readout.weightBits, accBits: target.readout.accBits)
    }

    /// Integer scores on integer counts (saturating accumulator).
    public func scores(_ counts: [Int64]) -> [Int64] {
        let acc = IntType.i(accBits)
        return (0..<classes).map { k in
            var a = Int64(bias[k])
            for j in 0..<features { a += Int64(weights[k * features + j]) * counts[j] }
            return Fixed.fit(a, acc, .sat)
        }
    }

    public func predict(_ counts: [Int64]) -> Int { argmax(scores(counts)) }

    /// The real-valued readout these integers stand for (weights and bias times the scale).
    public var dequantised: LinearReadout {
        LinearReadout(classes: classes, features: features, weights: weights.map { Double($0) * scale },
                      bias: bias.map { Double($0) * scale })
    }
}

func argmax<T: Comparable>(_ v: [T]) -> Int {
    var best = 0
    for i in 1..<max(1, v.count) where v[i] > v[best] { best = i }
    return best
}

/// Ridge regression onto one-hot targets, with the penalty chosen on a validation set.
///
/// Features are standardised on the fitting data (mean 0, variance 1; constant features get weight 0); the penalty is
/// lambda_abs = lambda * rows, so lambda is relative to the diagonal of the standardised Gram matrix. The standardisation
/// is folded back, so the result acts on raw counts. Candidate penalties are compared by the validation accuracy of the
/// readout *as the chip will run it* (quantised to the target's weight bits); ties go to the larger penalty. The chosen
/// penalty is then refitted on train + validation. LAPACK: dsyevd for the whole penalty path from one eigendecomposition,
/// dposv (Cholesky) for the final fit; with fewer than half as many samples as features both work on the n x n kernel
/// matrix instead of the d x d Gram matrix (the dual form, `usesDual`).
public enum RidgeTrainer {
    public static let defaultLambdas: [Double] = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3]

    public struct Options: Sendable {
        public var lambdas: [Double] = RidgeTrainer.defaultLambdas
        public var weightBits = 8
        public var accBits = 32
        /// Refit on train + validation with the chosen penalty (otherwise the train-only fit is returned).
        public var refit = true
        /// Scale every feature to unit variance (true) or all features by one common factor (false, the default: it keeps
        /// rarely firing neurons from getting the largest weights, which would coarsen the shared int8 scale).
        public var standardise = false
        /// Candidate clips of the weights before quantisation, as fractions of max |w| (chosen on validation).
        public var clips: [Double] = [1.0]
        public init() {}
    }

    public struct Fit: Sendable {
        public var readout: LinearReadout
        public var quantised: QuantisedReadout
        public var lambda: Double
        /// Chosen weight clip (fraction of max |w|).
        public var clip: Double
        /// Best validation accuracy per candidate lambda (quantised readout), in `Options.lambdas` order.
        public var validation: [(lambda: Double, accuracy: Double)]
        public var validationAccuracy: Double
        public var trainAccuracy: Double
    }

    struct Standardiser {
        var mean: [Double]
        var inv: [Double]

        init(_ f: Features, perFeature: Bool = true) {
            let n = max(1, f.rows)
            var m = [Double](repeating: 0, count: f.cols), v = m
            for i in 0..<f.rows { for j in 0..<f.cols { m[j] += f.x[i * f.cols + j] } }
            for j in 0..<f.cols { m[j] /= Double(n) }
            for i in 0..<f.rows { for j in 0..<f.cols { let d = f.x[i * f.cols + j] - m[j]; v[j] += d * d } }
            mean = m
            inv = v.map { let sd = ($0 / Double(n)).squareRoot(); return sd > 1e-9 ? 1 / sd : 0 }
            if !perFeature {
                let active = v.filter { $0 > 1e-18 }
                let common = active.isEmpty ? 0 : (active.reduce(0, +) / Double(active.count * n)).squareRoot()
                inv = v.map { $0 > 1e-18 && common > 0 ? 1 / common : 0 }
            }
        }

        func apply(_ f: Features) -> [Double] {
            var z = f.x
            for i in 0..<f.rows { for j in 0..<f.cols { z[i * f.cols + j] = (z[i * f.cols + j] - mean[j]) * inv[j] } }
            return z
        }

        /// Readout on raw features from weights W (d x k) on standardised ones and intercepts.
        func fold(_ w: [Double], intercept: [Double], classes k: Int) -> LinearReadout {
            let d = mean.count
            var weights = [Double](repeating: 0, count: k * d)
            var bias = intercept
            for c in 0..<k {
                for j in 0..<d {
                    let wr = w[j * k + c] * inv[j]
                    weights[c * d + j] = wr
                    bias[c] -= wr * mean[j]
                }
            }
            return LinearReadout(classes: k, features: d, weights: weights, bias: bias)
        }
    }

    static func targets(_ labels: [Int], classes k: Int) -> (y: [Double], mean: [Double]) {
        var y = [Double](repeating: 0, count: labels.count * k)
        var m = [Double](repeating: 0, count: k)
        for (i, l) in labels.enumerated() where l >= 0 && l < k {
            y[i * k + l] = 1
            m[l] += 1
        }
        let n = Double(max(1, labels.count))
        m = m.map { $0 / n }
        for i in 0..<labels.count { for c in 0..<k { y[i * k + c] -= m[c] } }
        return (y, m)
    }

    public static func accuracy(_ q: QuantisedReadout, _ f: Features) -> Double {
        guard f.rows > 0 else { return 0 }
        var right = 0
        for i in 0..<f.rows where q.predict(f.row(i).map { Int64($0) }) == f.labels[i] { right += 1 }
        return Double(right) / Double(f.rows)
    }

    public static func accuracy(_ r: LinearReadout, _ f: Features) -> Double {
        guard f.rows > 0 else { return 0 }
        var right = 0
        for i in 0..<f.rows where r.predict(f.row(i)) == f.labels[i] { right += 1 }
        return Double(right) / Double(f.rows)
    }

    /// Whether a fit on `n` rows of `d` features uses the dual form: with fewer than half as many rows as features, the
    /// n x n kernel matrix Z Zᵀ is much cheaper than the d x d Gram matrix ZᵀZ (O(n² d + n³) against O(n d² + d³): an
    /// 8000-neuron reservoir read out from 300 samples takes seconds instead of tens of minutes). Both forms give the
    /// same weights up to rounding: (ZᵀZ + l I)⁻¹ Zᵀ Y = Zᵀ (Z Zᵀ + l I)⁻¹ Y.
    static func usesDual(rows n: Int, cols d: Int) -> Bool { d > 2 * n }

    /// Ridge fit of `f` at one relative penalty by Cholesky (dposv), in the primal or the dual form (`usesDual`;
    /// `dual` forces one, for tests).
    public static func fit(_ f: Features, classes k: Int, lambda: Double, standardise: Bool = false,
                           dual: Bool? = nil) throws -> LinearReadout {
        let st = Standardiser(f, perFeature: standardise)
        let z = st.apply(f)
        let (y, ym) = targets(f.labels, classes: k)
        let lam = max(lambda * Double(f.rows), 1e-9)
        let w: [Double]
        if dual ?? usesDual(rows: f.rows, cols: f.cols) {
            var km = Linalg.kernel(z, rows: f.rows, cols: f.cols)
            for i in 0..<f.rows { km[i * f.rows + i] += lam }
            let a = try Linalg.solvePositiveDefinite(km, y, size: f.rows, rhs: k)
            w = Linalg.transposeTimes(z, a, rows: f.rows, colsA: f.cols, colsB: k)
        } else {
            var g = Linalg.gram(z, rows: f.rows, cols: f.cols)
            for j in 0..<f.cols { g[j * f.cols + j] += lam }
            w = try Linalg.solvePositiveDefinite(g, Linalg.transposeTimes(z, y, rows: f.rows, colsA: f.cols, colsB: k),
                                                 size: f.cols, rhs: k)
        }
        return st.fold(w, intercept: ym, classes: k)
    }

    /// Ridge weights (d x k, on standardised features) for every penalty from one eigendecomposition: of ZᵀZ = V Λ Vᵀ
    /// (primal: W = V (Λ + l)⁻¹ Vᵀ Zᵀ Y) or, in the dual form (`usesDual`), of Z Zᵀ = U S Uᵀ
    /// (W = Zᵀ U (S + l)⁻¹ Uᵀ Y).
    struct PenaltyPath {
        let dual: Bool
        let rows: Int, cols: Int, classes: Int
        let z: [Double]
        let values: [Double]
        let vectors: [Double]
        /// Primal: Vᵀ Zᵀ Y (d x k); dual: Uᵀ Y (n x k).
        let projected: [Double]

        init(z: [Double], y: [Double], rows n: Int, cols d: Int, classes k: Int) throws {
            dual = RidgeTrainer.usesDual(rows: n, cols: d)
            (rows, cols, classes, self.z) = (n, d, k, z)
            if dual {
                let eig = try Linalg.symmetricEigen(Linalg.kernel(z, rows: n, cols: d), size: n)
                (values, vectors) = (eig.values, eig.vectors)
                projected = Linalg.transposeTimes(eig.vectors, y, rows: n, colsA: n, colsB: k)
            } else {
                let eig = try Linalg.symmetricEigen(Linalg.gram(z, rows: n, cols: d), size: d)
                (values, vectors) = (eig.values, eig.vectors)
                // Vᵀ Zᵀ Y (d x k): the projections of the targets on the eigenvectors.
                let zty = Linalg.transposeTimes(z, y, rows: n, colsA: d, colsB: k)
                projected = Linalg.transposeTimes(eig.vectors, zty, rows: d, colsA: d, colsB: k)
            }
        }

        /// The weights at absolute penalty `l`.
        func weights(penalty l: Double) -> [Double] {
            let m = dual ? rows : cols, k = classes
            var scaled = projected
            for i in 0..<m {
                let f = 1 / max(values[i] + l, 1e-12)
                for c in 0..<k { scaled[i * k + c] *= f }
            }
            let w = Linalg.times(vectors, scaled, rows: m, inner: m, cols: k)
            return dual ? Linalg.transposeTimes(z, w, rows: rows, colsA: cols, colsB: k) : w
        }
    }

    /// `r` with its weights clipped to ±fraction * max |w| (the bias is left alone).
    public static func clipped(_ r: LinearReadout, fraction: Double) -> LinearReadout {
        guard fraction < 1 else { return r }
        let c = fraction * r.weights.reduce(0.0) { max($0, abs($1)) }
        var o = r
        o.weights = r.weights.map { max(-c, min(c, $0)) }
        return o
    }

    /// Chooses the penalty (and weight clip) on `val`, then refits (see the type's documentation).
    public static func train(train: Features, val: Features, classes k: Int, options o: Options = Options()) throws -> Fit {
        guard train.rows > 0 else {
            throw XbarError(file: "<training>", field: "train", "no training samples")
        }
        let st = Standardiser(train, perFeature: o.standardise)
        let z = st.apply(train)
        let (y, ym) = targets(train.labels, classes: k)
        let path = try PenaltyPath(z: z, y: y, rows: train.rows, cols: train.cols, classes: k)
        var scores: [(Double, Double)] = []
        var best: (lambda: Double, clip: Double, acc: Double, readout: LinearReadout)? = nil
        let evalSet = val.rows > 0 ? val : train
        for lam in o.lambdas {
            let r = st.fold(path.weights(penalty: lam * Double(train.rows)), intercept: ym, classes: k)
            var bestHere = -1.0
            // Larger clips first: on a tie the smaller distortion wins.
            for clip in o.clips.sorted(by: >) {
                let rc = clipped(r, fraction: clip)
                let acc = accuracy(QuantisedReadout(rc, weightBits: o.weightBits, accBits: o.accBits), evalSet)
                bestHere = max(bestHere, acc)
                if best == nil || acc > best!.acc || (acc == best!.acc && (lam > best!.lambda || (lam == best!.lambda && clip > best!.clip))) {
                    best = (lam, clip, acc, rc)
                }
            }
            scores.append((lam, bestHere))
        }
        var readout = best!.readout
        if o.refit && val.rows > 0 {
            readout = clipped(try fit(train.appending(val), classes: k, lambda: best!.lambda, standardise: o.standardise),
                              fraction: best!.clip)
        }
        let q = QuantisedReadout(readout, weightBits: o.weightBits, accBits: o.accBits)
        return Fit(readout: readout, quantised: q, lambda: best!.lambda, clip: best!.clip, validation: scores,
                   validationAccuracy: best!.acc, trainAccuracy: accuracy(q, train))
    }
}
