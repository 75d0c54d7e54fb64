/// One entry point for `C[M, N] = A[M, K] · W[N, K]ᵀ` at every weight precision, with ggml's semantics:
/// `prepare` converts the activations the way the precision requires (once per A), `run` multiplies.
public enum WeightKernels {
    /// Activations ready for one weight precision.
    public enum Prepared: Sendable {
        case f32(values: [Float], rows: Int, columns: Int)
        case half(HalfGEMM.Prepared)
        case quantized(QuantGEMM.Prepared)

        public var rows: Int {
            switch self {
            case .f32(_, let rows, _): rows
            case .half(let prepared): prepared.rows
            case .quantized(let prepared): prepared.rows
            }
        }
    }

    public static func prepare(a: [Float], m: Int, k: Int, precision: Precision) throws -> Prepared {
        guard m > 0, k > 0 else { throw KernelError.invalidShape("GEMM needs M > 0 and K > 0, got M = \(m), K = \(k)") }
        switch precision {
        case .f32:
            guard a.count == m * k else { throw KernelError.shapeMismatch(what: "the activations A", expected: m * k, actual: a.count) }
            return .f32(values: a, rows: m, columns: k)
        case .f16, .bf16: return .half(try HalfGEMM.prepare(a: a, m: m, k: k, format: precision))
        case .q8_0, .q4_0: return .quantized(try QuantGEMM.prepare(a: a, m: m, k: k, format: precision))
        }
    }

    /// Multiplies into `c` (M × N). `weights` must have the precision and K the activations were prepared for.
    public static func run(_ prepared: Prepared, weights: WeightMatrix, c: UnsafeMutablePointer<Float>, threads: Int) {
        switch prepared {
        case .f32(let values, let m, let k):
            precondition(weights.precision == .f32 && weights.columns == k, "prepared for other weights")
            values.withUnsafeBufferPointer { a in
                weights.storage.withUnsafeBytes { w in
                    // f32 weights are stored little-endian, which is this machine's own order on x86-64 and arm64.
                    F32Kernels.gemm(a: a.baseAddress!, w: w.baseAddress!.assumingMemoryBound(to: Float.self), c: c,
                                    m: m, n: weights.rows, k: k, threads: threads)
                }
            }
        case .half(let prepared): HalfGEMM.run(prepared, weights: weights, c: c, threads: threads)
        case .quantized(let prepared): QuantGEMM.run(prepared, weights: weights, c: c, threads: threads)
        }
    }
}
