/// The f32 kernels perwatt times, and which variant serves which shape.
public enum F32Kernels {
    /// Largest M for which `SGEMMSmallM` (no packing of W) beats packing W (`SGEMM`): measured with
    /// `perwatt-bench-kernels --small-m` on the 2-core development VM (64: 118 vs 87 GFLOP/s at
    /// 64×4096×4096; 128: 100 vs 110).
    public static let smallMThreshold = 64

    /// `C[M, N] = A[M, K] · W[N, K]ᵀ` with the variant suited to M (GEMV for M = 1).
    public static func gemm(
        a: UnsafePointer<Float>, w: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, threads: Int
    ) {
        if m == 1 {
            SGEMV.run(w: w, x: a, y: c, n: n, k: k, threads: threads)
        } else if m <= smallMThreshold {
            SGEMMSmallM.run(a: a, w: w, c: c, m: m, n: n, k: k, threads: threads)
        } else {
            SGEMM.run(a: a, w: w, c: c, m: m, n: n, k: k, threads: threads)
        }
    }
}
