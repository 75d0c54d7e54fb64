/// One entry point for `C[M, N] = A[M, K] · W[N, K]ᵀ` at every weight precision, with ggml's semantics:
/// `prepare` converts the activations the way the precision requires (once per A), `run` multiplies.
public enum WeightKernels {
    /// Activations ready for one weight precision.
    public enum Prepared: Sendable {
        case f32(values: [Float], rows: Int, columns: Int)
        case half(HalfGEMM.Prepared)
        case quantized(QuantGEMM.Prepared)
        /// Large M at f16/bf16/q8_0/q4_0/q4_1: activations converted the reference's way (rounded to
        /// f16/bf16, or quantized to q8_0/q8_1 and dequantized, exactly) for the packed f32 GEMM, which
        /// decodes the weights while packing them. For q4_1, `corrections` (M × K/32) holds per
        /// activation block s − d·Σq: ggml multiplies a weight block's minimum by q8_1's fp16-rounded s,
        /// the packed GEMM by the exact d·Σq, and `run` adds the difference. Empty for other precisions.
        case packed(values: [Float], rows: Int, columns: Int, precision: Precision, corrections: [Float])

        public var rows: Int {
            switch self {
            case .f32(_, let rows, _): rows
            case .half(let prepared): prepared.rows
            case .quantized(let prepared): prepared.rows
            case .packed(_, let rows, _, _, _): rows
            }
        }
    }

    /// Above this M, f16/bf16/q8_0/q4_0/q4_1 use the packed path: decoding W once per call is amortized over
    /// the rows, and the packed microkernel outruns the row-streaming kernels (which reread all of A per
    /// weight row).
    public static let packedThreshold = 64

    /// Converts A (M × K, row-major) for `precision`; block formats quantize with `quantizer`.
    /// `ggmlOrder` keeps block formats on `QuantGEMM` at every M, whose sums are ggml's per-row dot
    /// products bit for bit, instead of the faster packed path (what the model runtime needs to agree
    /// with llama.cpp; ggml itself uses the per-row dot products for q4_1 at any batch size).
    public static func prepare(
        a: [Float], m: Int, k: Int, precision: Precision, quantizer: ActivationQuantizer = .reference,
        ggmlOrder: Bool = false, threads: Int = 1
    ) throws -> Prepared {
        guard m > 0, k > 0 else { throw KernelError.invalidShape("GEMM needs M > 0 and K > 0, got M = \(m), K = \(k)") }
        if m > packedThreshold && precision != .f32 && !(ggmlOrder && precision.isBlockQuantized) {
            guard a.count == m * k else {
                throw KernelError.shapeMismatch(what: "the activations A", expected: m * k, actual: a.count)
            }
            guard k % precision.blockValues == 0 else {
                throw KernelError.notBlockAligned(
                    what: "K", value: k, block: precision.blockValues, precision: precision)
            }
            var values = [Float](repeating: 0, count: m * k)
            var corrections: [Float] = []
            switch precision {
            case .f16: for index in values.indices { values[index] = Half.round(a[index]) }
            case .bf16: for index in values.indices { values[index] = BFloat16.round(a[index]) }
            case .q4_1:
                corrections = [Float](repeating: 0, count: m * k / 32)
                for i in 0..<m {
                    let q8_1 = GEMMReference.quantizeActivationQ8_1(
                        Array(a[(i * k)..<((i + 1) * k)]), quantizer: quantizer)
                    for p in 0..<k { values[i * k + p] = q8_1.scales[p / 32] * Float(q8_1.quants[p]) }
                    for b in 0..<(k / 32) {
                        let sum = q8_1.quants[(b * 32)..<(b * 32 + 32)].reduce(0) { $0 + Int($1) }
                        corrections[i * k / 32 + b] = q8_1.sums[b] - q8_1.scales[b] * Float(sum)
                    }
                }
            default:
                for i in 0..<m {
                    let (scales, quants) = GEMMReference.quantizeActivationQ8_0(
                        Array(a[(i * k)..<((i + 1) * k)]), quantizer: quantizer)
                    for p in 0..<k { values[i * k + p] = scales[p / 32] * Float(quants[p]) }
                }
            }
            return .packed(values: values, rows: m, columns: k, precision: precision, corrections: corrections)
        }
        switch precision {
        case .f32:
            guard a.count == m * k else {
                throw KernelError.shapeMismatch(what: "the activations A", expected: m * k, actual: a.count)
            }
            return .f32(values: a, rows: m, columns: k)
        case .f16, .bf16: return .half(try HalfGEMM.prepare(a: a, m: m, k: k, format: precision))
        case .q8_0, .q4_0, .q4_1:
            return .quantized(
                try QuantGEMM.prepare(a: a, m: m, k: k, format: precision, quantizer: quantizer, threads: threads))
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
        case .packed(let values, let m, let k, let precision, let corrections):
            precondition(weights.precision == precision && weights.columns == k, "prepared for other weights")
            values.withUnsafeBufferPointer { a in
                SGEMM.run(a: a.baseAddress!, weights: weights, c: c, m: m, n: weights.rows, threads: threads)
            }
            if !corrections.isEmpty { addMinimumCorrections(corrections, weights: weights, c: c, m: m) }
        case .quantized(let prepared): QuantGEMM.run(prepared, weights: weights, c: c, threads: threads)
        }
    }

    /// C[i, j] += Σ_b m[j, b] · corrections[i, b] for q4_1 weights (m: the weight blocks' minimums): the
    /// packed path's q8_1 sums made ggml's fp16-rounded ones. M · N · K/32 multiply-adds, 1/32 of the GEMM.
    static func addMinimumCorrections(
        _ corrections: [Float], weights: WeightMatrix, c: UnsafeMutablePointer<Float>, m: Int
    ) {
        let (n, blocks) = (weights.rows, weights.columns / 32)
        var minimums = [Float](repeating: 0, count: blocks)
        weights.storage.withUnsafeBytes { storage in
            for j in 0..<n {
                for b in 0..<blocks {
                    minimums[b] = Half.float(
                        UInt16(
                            littleEndian: storage.loadUnaligned(
                                fromByteOffset: j * weights.rowBytes + b * BlockQ4_1.byteCount + 2, as: UInt16.self)))
                }
                for i in 0..<m {
                    var sum: Float = 0
                    for b in 0..<blocks { sum += minimums[b] * corrections[i * blocks + b] }
                    c[i * n + j] += sum
                }
            }
        }
    }
}
