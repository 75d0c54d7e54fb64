import CBLAS

/// OpenBLAS's single-precision kernels, the in-process f32 anchor.
public enum OpenBLAS {
    /// `C[M, N] = A[M, K] · W[N, K]ᵀ` through `cblas_sgemm` (row-major, W transposed).
    public static func sgemm(
        a: UnsafePointer<Float>, w: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, blasint(m), blasint(n), blasint(k),
            1, a, blasint(k), w, blasint(k), 0, c, blasint(n))
    }

    /// `y[N] = W[N, K] · x[K]` through `cblas_sgemv`.
    public static func sgemv(
        w: UnsafePointer<Float>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, n: Int, k: Int
    ) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(n), blasint(k), 1, w, blasint(k), x, 1, 0, y, 1)
    }

    /// Threads OpenBLAS uses (`openblas_set_num_threads`).
    public static func setThreads(_ count: Int) { openblas_set_num_threads(Int32(count)) }
}
