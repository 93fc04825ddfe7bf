import CLAPACK
import XbarCore

/// Dense linear algebra through LAPACK/BLAS (the `CLAPACK` system library: LAPACKE + CBLAS).
/// Matrices are row-major `[Double]` with explicit sizes.
public enum Linalg {
    /// G = Aᵀ A (d x d, both triangles filled) for A of n x d (BLAS dsyrk).
    public static func gram(_ a: [Double], rows n: Int, cols d: Int) -> [Double] {
        precondition(a.count == n * d)
        var g = [Double](repeating: 0, count: d * d)
        guard n > 0, d > 0 else { return g }
        a.withUnsafeBufferPointer { ap in
            g.withUnsafeMutableBufferPointer { gp in
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(n), 1.0, ap.baseAddress, Int32(d), 0.0,
                            gp.baseAddress, Int32(d))
            }
        }
        for i in 0..<d { for j in 0..<i { g[i * d + j] = g[j * d + i] } }
        return g
    }

    /// Aᵀ (d x n) for A of n x d.
    public static func transposed(_ a: [Double], rows n: Int, cols d: Int) -> [Double] {
        var t = [Double](repeating: 0, count: n * d)
        for i in 0..<n { for j in 0..<d { t[j * n + i] = a[i * d + j] } }
        return t
    }

    /// K = A Aᵀ (n x n, both triangles filled) for A of n x d: the kernel matrix of the rows (BLAS dsyrk).
    public static func kernel(_ a: [Double], rows n: Int, cols d: Int) -> [Double] {
        gram(transposed(a, rows: n, cols: d), rows: d, cols: n)
    }

    /// C = Aᵀ B (d x k) for A of n x d and B of n x k (BLAS dgemm).
    public static func transposeTimes(_ a: [Double], _ b: [Double], rows n: Int, colsA d: Int, colsB k: Int) -> [Double] {
        precondition(a.count == n * d && b.count == n * k)
        var c = [Double](repeating: 0, count: d * k)
        guard n > 0, d > 0, k > 0 else { return c }
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(d), Int32(k), Int32(n), 1.0, ap.baseAddress, Int32(d),
                                bp.baseAddress, Int32(k), 0.0, cp.baseAddress, Int32(k))
                }
            }
        }
        return c
    }

    /// C = A B (n x k) for A of n x d and B of d x k (BLAS dgemm).
    public static func times(_ a: [Double], _ b: [Double], rows n: Int, inner d: Int, cols k: Int) -> [Double] {
        precondition(a.count == n * d && b.count == d * k)
        var c = [Double](repeating: 0, count: n * k)
        guard n > 0, d > 0, k > 0 else { return c }
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(k), Int32(d), 1.0, ap.baseAddress, Int32(d),
                                bp.baseAddress, Int32(k), 0.0, cp.baseAddress, Int32(k))
                }
            }
        }
        return c
    }

    /// Eigendecomposition of a symmetric d x d matrix (LAPACK dsyevd): ascending eigenvalues and the eigenvectors as
    /// the columns of a row-major d x d matrix.
    public static func symmetricEigen(_ s: [Double], size d: Int) throws -> (values: [Double], vectors: [Double]) {
        precondition(s.count == d * d)
        var a = s
        var w = [Double](repeating: 0, count: d)
        guard d > 0 else { return ([], []) }
        let info = a.withUnsafeMutableBufferPointer { ap in
            w.withUnsafeMutableBufferPointer { wp in
                LAPACKE_dsyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")), Int32(d), ap.baseAddress,
                               Int32(d), wp.baseAddress)
            }
        }
        guard info == 0 else {
            throw XbarError(file: "<lapack>", field: "dsyevd", "eigendecomposition of a \(d)x\(d) matrix failed (info \(info))")
        }
        return (w, a)
    }

    /// Solves A X = B for symmetric positive-definite A (d x d) and B (d x k) by Cholesky (LAPACK dposv).
    public static func solvePositiveDefinite(_ a: [Double], _ b: [Double], size d: Int, rhs k: Int) throws -> [Double] {
        precondition(a.count == d * d && b.count == d * k)
        var m = a
        var x = b
        guard d > 0, k > 0 else { return x }
        let info = m.withUnsafeMutableBufferPointer { mp in
            x.withUnsafeMutableBufferPointer { xp in
                LAPACKE_dposv(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "U")), Int32(d), Int32(k), mp.baseAddress, Int32(d),
                              xp.baseAddress, Int32(k))
            }
        }
        guard info == 0 else {
            throw XbarError(file: "<lapack>", field: "dposv",
                            info > 0 ? "matrix is not positive definite (leading minor \(info)); raise the ridge lambda"
                                     : "illegal argument \(-info)")
        }
        return x
    }
}
