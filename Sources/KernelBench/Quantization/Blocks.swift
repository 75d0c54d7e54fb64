/// ggml's `block_q8_0` (ggml-common.h): `ggml_half d; int8_t qs[32];`, 34 bytes, no padding.
/// The struct documents the layout and its size is checked by a test (ggml's `static_assert`);
/// kernels read blocks from raw bytes at `byteCount` strides.
@frozen
public struct BlockQ8_0 {
    /// fp16 bit pattern of the scale.
    public var d: UInt16
    public var qs:
        (
            Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8,
            Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8
        )

    public static let values = 32
    public static let byteCount = 34
}

/// ggml's `block_q4_0` (ggml-common.h): `ggml_half d; uint8_t qs[16];`, 18 bytes. Byte j holds
/// value j in its low nibble and value j + 16 in its high nibble.
@frozen
public struct BlockQ4_0 {
    /// fp16 bit pattern of the scale.
    public var d: UInt16
    public var qs:
        (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

    public static let values = 32
    public static let byteCount = 18
}

/// ggml's `block_q4_1` (ggml-common.h): `ggml_half d; ggml_half m; uint8_t qs[16];`, 20 bytes. A value
/// is d · nibble + m; byte j holds value j in its low nibble and value j + 16 in its high nibble.
@frozen
public struct BlockQ4_1 {
    /// fp16 bit patterns of the scale and of the block's minimum.
    public var d: UInt16
    public var m: UInt16
    public var qs:
        (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

    public static let values = 32
    public static let byteCount = 20
}

/// ggml's `block_q8_1` (ggml-common.h): `ggml_half d; ggml_half s; int8_t qs[32];`, 36 bytes. The
/// activation format q4_1 weights meet: value = d · q, and s = d · Σq (fp16), so a q4_1 block's minimum
/// m enters a dot product as one product m · s.
@frozen
public struct BlockQ8_1 {
    /// fp16 bit patterns of the scale and of d · Σq.
    public var d: UInt16
    public var s: UInt16
    public var qs:
        (
            Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8,
            Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8
        )

    public static let values = 32
    public static let byteCount = 36
}
