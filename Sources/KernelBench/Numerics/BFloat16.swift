/// bfloat16: the upper 16 bits of a binary32.
///
/// Conversion from `Float` is ggml's `ggml_compute_fp32_to_bf16` (ggml-impl.h): NaN becomes a quiet
/// NaN with its sign and upper payload kept; everything else rounds to nearest, ties to even, so
/// values above the largest bfloat16 round to ±infinity.
public enum BFloat16 {
    /// The bfloat16 bit pattern for `value`.
    @inlinable
    public static func bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if bits & 0x7fff_ffff > 0x7f80_0000 {
            // Quiet NaN: keep sign and upper payload, set the quiet bit (bit 6 of the upper half).
            return UInt16(truncatingIfNeeded: (bits >> 16) | 64)
        }
        let roundingBias: UInt32 = 0x7fff + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (UInt64(bits) + UInt64(roundingBias)) >> 16)
    }

    /// The exact `Float` value of a bfloat16 bit pattern.
    @inlinable
    public static func float(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// `value` rounded to bfloat16 and back.
    @inlinable
    public static func round(_ value: Float) -> Float { float(bits(value)) }
}
