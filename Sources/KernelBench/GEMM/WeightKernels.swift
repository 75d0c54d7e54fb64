/// One entry point for `C[M, N] = A[M, K] · W[N, K]ᵀ` at every weight precision, with ggml's semantics:
/// `prepare` converts the activations the way the precision requires (once per A), `run` multiplies.
public enum WeightKernels {
    /// Activations ready for one weight precision.
    public enum Prepared: Sendable {
        case f32(values: [Float], rows: Int, columns: Int)
        case half(HalfGEMM.Prepared)
        case quantized(QuantGEMM.Prepared)
        /// Large M at f16/bf16/q8_0/q4_0: activations converted the reference's way (rounded to
        /// f16/bf16, or quantized to q8_0 and dequantized, exactly) for the packed f32 GEMM, which
        /// decodes the weights while packing them.
        case packed(values: [Float], rows: Int, columns: Int, precision: Precision)

        public var rows: Int {
            switch self {
            case .f32(_, let rows, _): rows
            case .half(let prepared): prepared.rows
            case .quantized(let prepared): prepared.rows
            case .packed(_, let rows, _, _): rows
            }
        }
    }

    /// Above this M, f16/bf16/q8_0/q4_0 use the packed path: decoding W once per call is amortized over
    /// the rows, and the packed microkernel outruns the row-streaming kernels (which reread all of A per
    /// weight row).
    public static let packedThreshold = 64

    public static func prepare(a: [Float], m: Int, k: Int, precision: Precision) throws -> Prepared {
        guard m > 0, k > 0 else { throw KernelError.invalidShape("GEMM needs M > 0 and K > 0, got M = \(m), K = \(k)") }
        if m > packedThreshold && precision != .f32 {
            guard a.count == m * k else {
                throw KernelError.shapeMismatch(what: "the activations A", expected: m * k, actual: a.count)
            }
            guard k % precision.blockValues == 0 else {
                throw KernelError.notBlockAligned(
                    what: "K", value: k, block: precision.blockValues, precision: precision)
            }
            var values = [Float](repeating: 0, count: m * k)
            switch precision {
            case .f16: for index in values.indices { values[index] = Half.round(a[index]) }
            case .bf16: for index in values.indices { values[index] = BFloat16.round(a[index]) }
            default:
                for i in 0..<m {
                    let (scales, quants) = GEMMReference.quantizeActivationQ8_0(Array(a[(i * k)..<((i + 1) * k)]))
                    for p in 0..<k { values[i * k + p] = scales[p / 32] * Float(quants[p]) }
                }
            }
            return .packed(values: values, rows: m, columns: k, precision: precision)
        }
        switch precision {
        case .f32:
            guard a.count == m * k else {
                throw KernelError.shapeMismatch(what: "the activations A", expected: m * k, actual: a.count)
            }
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
                    F32Kernels.gemm(
                        a: a.baseAddress!, w: w.baseAddress!.assumingMemoryBound(to: Float.self), c: c,
                        m: m, n: weights.rows, k: k, threads: threads)
                }
            }
        case .half(let prepared): HalfGEMM.run(prepared, weights: weights, c: c, threads: threads)
        case .packed(let values, let m, let k, let precision):
            precondition(weights.precision == precision && weights.columns == k, "prepared for other weights")
            values.withUnsafeBufferPointer { a in
                SGEMM.run(a: a.baseAddress!, weights: weights, c: c, m: m, n: weights.rows, threads: threads)
            }
        case .quantized(let prepared): QuantGEMM.run(prepared, weights: weights, c: c, threads: threads)
        }
    }
}
