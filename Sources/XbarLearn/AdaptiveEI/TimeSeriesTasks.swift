import Foundation
import XbarCore

/// The adaptive E/I experiment's tasks (docs/experiment.md, "Adaptive E/I reservoir"), generated in the project from a
/// seed: a scalar input sequence u(t) in [-1, 1] that drives the reservoir and the targets its readout learns.
public enum TimeSeriesTask: String, CaseIterable, Sendable {
    /// Linear memory capacity (Jaeger 2001): u i.i.d. uniform on [-1, 1]; one readout per delay k recalls u(t - k);
    /// MC = sum over k of r^2.
    case memory = "memory-capacity"
    /// NARMA-10 (Atiya & Parlos 2000): y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i=0..9} y(t-i) + 1.5 s(t-9) s(t) + 0.1 with
    /// s ~ U[0, 0.5]; the reservoir sees u = 4 s - 1 and predicts y(t+1) from its state at t (NRMSE).
    case narma10 = "narma10"
    /// Mackey-Glass tau 17 (dx/dt = 0.2 x(t-17) / (1 + x(t-17)^10) - 0.1 x), one-step prediction (NRMSE).
    case mackeyGlass = "mackey-glass"

    /// The input the reservoir sees and, for the prediction tasks, the target at each step (y[t] is predicted from the
    /// state after u[t]). Memory capacity's targets are the delayed inputs themselves.
    public struct Series: Sendable, Equatable {
        public var input: [Double]
        public var target: [Double]
    }

    /// `length` steps of the task from `seed` (sequence index `sequence`: adaptation, then evaluation, use different
    /// ones).
    public func series(length: Int, seed: UInt64, sequence: UInt32) -> Series {
        let rng = Philox(seed: seed)
        let purpose = RandomPurpose.taskSeries.rawValue
        let kind = UInt32(Self.allCases.firstIndex(of: self)!)
        func uniform(_ t: Int) -> Double { rng.uniform(purpose: purpose, kind, sequence, UInt32(t)) }
        switch self {
        case .memory:
            let u = (0..<length).map { 2 * uniform($0) - 1 }
            return Series(input: u, target: u)
        case .narma10:
            let s = (0..<(length + 1)).map { 0.5 * uniform($0) }
            let y = Self.narma10(s)
            return Series(input: s.prefix(length).map { 4 * $0 - 1 }, target: Array(y[1...length]))
        case .mackeyGlass:
            // A random start in [1.1, 1.3] per sequence, then 1000 time units of transient dropped.
            let x = Self.mackeyGlass(length: length + 1, x0: 1.1 + 0.2 * uniform(0), transient: 1000)
            let (lo, hi) = (0.2, 1.4)
            let u = x.map { Swift.max(-1, Swift.min(1, 2 * ($0 - lo) / (hi - lo) - 1)) }
            return Series(input: Array(u.prefix(length)), target: Array(u[1...length]))
        }
    }

    /// y(0...n-1) of NARMA-10 for the drive s (y = 0 for the first 10 steps).
    public static func narma10(_ s: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: s.count)
        guard s.count > 10 else { return y }
        for t in 9..<(s.count - 1) {
            let sum = y[(t - 9)...t].reduce(0, +)
            y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * sum + 1.5 * s[t - 9] * s[t] + 0.1
        }
        return y
    }

    /// Mackey-Glass (beta 0.2, gamma 0.1, n 10, tau 17) integrated by 4th-order Runge-Kutta with step 0.1 (the delayed
    /// term linearly interpolated at half steps), x = x0 for t <= 0, sampled every time unit after `transient` units.
    public static func mackeyGlass(length: Int, x0: Double, transient: Int, tau: Double = 17) -> [Double] {
        let h = 0.1, perUnit = 10
        let lag = Int((tau / h).rounded())
        let total = (transient + length) * perUnit
        var x = [Double](repeating: x0, count: lag + total + 1)
        func f(_ xt: Double, _ xd: Double) -> Double { 0.2 * xd / (1 + pow(xd, 10)) - 0.1 * xt }
        for k in lag..<(lag + total) {
            let xd0 = x[k - lag], xd1 = x[k - lag + 1], xdm = 0.5 * (xd0 + xd1)
            let k1 = f(x[k], xd0)
            let k2 = f(x[k] + 0.5 * h * k1, xdm)
            let k3 = f(x[k] + 0.5 * h * k2, xdm)
            let k4 = f(x[k] + h * k3, xd1)
            x[k + 1] = x[k] + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        }
        return (0..<length).map { x[lag + (transient + $0) * perUnit] }
    }
}

/// Ridge regression of real targets on reservoir features (docs/experiment.md, "Adaptive E/I reservoir"): features
/// centred on the training rows (not scaled: they share one unit, and a neuron that barely fires must not be
/// amplified), a bias column, the penalty lambda x the mean feature variance x rows chosen on held-out rows from a grid,
/// then refitted on all training rows (LAPACK: BLAS Gram matrices computed once per feature set, Cholesky solves).
public enum RidgeRegression {
    /// Penalties tried, relative to the mean feature variance.
    public static let lambdas: [Double] = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1]

    /// The feature side of a regression, prepared once for any number of targets: the centred design matrices and
    /// the Gram matrices of the penalty-choosing fit rows and of all training rows.
    public struct Fit {
        let d: Int, n: Int, fit: Int
        let a: [Double], at: [Double]
        let gramFit: [Double], gramAll: [Double]
        let penalty: Double

        /// `train` rows (row-major, `d` features) to learn from, `test` rows to predict; the last `validation` fraction
        /// of the training rows chooses the penalty.
        public init(train x: [Double], test xt: [Double], features d: Int, validation: Double = 0.2) {
            let n = x.count / d
            precondition(x.count == n * d && xt.count % d == 0 && n >= 2)
            self.d = d
            self.n = n
            fit = Swift.max(1, Int(Double(n) * (1 - validation)))
            var mean = [Double](repeating: 0, count: d)
            for i in 0..<n { for j in 0..<d { mean[j] += x[i * d + j] } }
            for j in 0..<d { mean[j] /= Double(n) }
            var variance = 0.0
            for i in 0..<n { for j in 0..<d { let v = x[i * d + j] - mean[j]; variance += v * v } }
            penalty = Swift.max(variance / Double(n * d), 1e-12)
            let e = d + 1
            func design(_ m: [Double], _ rows: Int) -> [Double] {
                var a = [Double](repeating: 1, count: rows * e)
                for i in 0..<rows { for j in 0..<d { a[i * e + j] = m[i * d + j] - mean[j] } }
                return a
            }
            a = design(x, n)
            at = design(xt, xt.count / d)
            gramFit = Linalg.gram(Array(a[0..<(fit * e)]), rows: fit, cols: e)
            gramAll = Linalg.gram(a, rows: n, cols: e)
        }

        func solve(_ gram: [Double], rows: Int, _ y: [Double], lambda: Double) throws -> [Double] {
            let e = d + 1
            var g = gram
            for j in 0..<d { g[j * e + j] += lambda * penalty * Double(rows) }
            g[d * e + d] += 1e-9 * Double(rows)
            let b = Linalg.transposeTimes(Array(a[0..<(rows * e)]), Array(y[0..<rows]), rows: rows, colsA: e, colsB: 1)
            return try Linalg.solvePositiveDefinite(g, b, size: e, rhs: 1)
        }

        /// Predictions of the test rows for targets `y` (one per training row).
        public func predict(_ y: [Double]) throws -> [Double] {
            precondition(y.count == n)
            let e = d + 1
            var best = (error: Double.infinity, lambda: lambdas[0])
            for l in lambdas {
                let w = try solve(gramFit, rows: fit, y, lambda: l)
                let p = Linalg.times(Array(a[(fit * e)...]), w, rows: n - fit, inner: e, cols: 1)
                let err = zip(p, y[fit...]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                if err < best.error { best = (err, l) }
            }
            let w = try solve(gramAll, rows: n, y, lambda: best.lambda)
            return Linalg.times(at, w, rows: at.count / e, inner: e, cols: 1)
        }
    }

    /// Predictions on `test` rows after training on `train` rows for targets `y` (one `Fit`, one target).
    public static func predict(train x: [Double], _ y: [Double], test xt: [Double], features d: Int, validation: Double = 0.2) throws -> [Double] {
        try Fit(train: x, test: xt, features: d, validation: validation).predict(y)
    }

    /// Normalised root-mean-square error sqrt(mean((p - y)^2) / var(y)).
    public static func nrmse(_ p: [Double], _ y: [Double]) -> Double {
        let m = y.reduce(0, +) / Double(max(1, y.count))
        let v = y.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(1, y.count))
        let e = zip(p, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(max(1, y.count))
        return v > 0 ? (e / v).squareRoot() : .nan
    }

    /// Squared Pearson correlation (0 when either side is constant).
    public static func rSquared(_ p: [Double], _ y: [Double]) -> Double {
        let n = Double(max(1, p.count))
        let mp = p.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(p, y) { sxy += (a - mp) * (b - my); sxx += (a - mp) * (a - mp); syy += (b - my) * (b - my) }
        return sxx > 0 && syy > 0 ? sxy * sxy / (sxx * syy) : 0
    }
}
