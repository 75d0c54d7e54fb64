/// How f32 activations are quantized to q8_0 / q8_1 before block dot products.
///
/// ggml has two: the reference quantizers (`quantize_row_q8_0_ref`, `quantize_row_q8_1_ref`, used to
/// write model files) and the ones its CPU backend runs on activations (`quantize_row_q8_0`,
/// `quantize_row_q8_1` in ggml-cpu/arch/x86/quants.c with AVX/AVX2). They differ in two details:
/// the SIMD versions compute the inverse scale as 127 / max instead of 1 / (max / 127), and round
/// with `_mm256_round_ps(_, _MM_ROUND_NEAREST)` (half to even) instead of `roundf` (half away from
/// zero). Kernels are verified with either; the model runtime uses `.ggmlX86` so that its matmuls see
/// the same int8 activations as llama.cpp on an x86 CPU.
public enum ActivationQuantizer: Sendable, Hashable {
    /// `quantize_row_q8_0_ref` / `quantize_row_q8_1_ref`.
    case reference
    /// ggml-cpu's x86 `quantize_row_q8_0` / `quantize_row_q8_1` (AVX2 path).
    case ggmlX86

    /// Quantizes `x` (a multiple of 32 values) to q8_0 blocks (34 bytes each) into `out`.
    public func q8_0(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        switch self {
        case .reference: QuantizeReference.q8_0(x, into: out)
        case .ggmlX86: Self.x86(x, into: out, withSum: false)
        }
    }

    /// Quantizes `x` (a multiple of 32 values) to q8_1 blocks (36 bytes each) into `out`.
    public func q8_1(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        switch self {
        case .reference: QuantizeReference.q8_1(x, into: out)
        case .ggmlX86: Self.x86(x, into: out, withSum: true)
        }
    }

    /// d = max|x| / 127 (fp16), id = 127 / max|x|, q = round half to even (x · id); q8_1 also stores
    /// s = fp16(d · Σq).
    private static func x86(
        _ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer, withSum: Bool
    ) {
        QuantizeReference.int8Blocks(
            x, into: out, withSum: withSum, inverse: { _, amax in amax != 0 ? 127 / amax : 0 },
            rounding: .toNearestOrEven)
    }
}
