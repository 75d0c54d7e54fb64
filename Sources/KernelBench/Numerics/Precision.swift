/// The weight precisions perwatt measures.
///
/// Block formats are ggml's, byte for byte (ggml/src/ggml-common.h):
/// - `q8_0`: blocks of 32 values: an fp16 scale `d`, then 32 × int8 `q`; value = d·q. 34 bytes.
/// - `q4_0`: blocks of 32 values: an fp16 scale `d`, then 16 bytes; byte j holds value j in its low
///   nibble and value j + 16 in its high nibble; value = d·(nibble − 8). 18 bytes.
/// - `q4_1`: blocks of 32 values: fp16 scale `d` and minimum `m`, then q4_0's 16 nibble bytes;
///   value = d·nibble + m. 20 bytes. Its activations are quantized to q8_1 (`BlockQ8_1`), as ggml does.
public enum Precision: String, Sendable, Hashable, CaseIterable, Codable {
    case f32
    case f16
    case bf16
    case q8_0
    case q4_0
    case q4_1

    /// Values per block (1 for the plain floating-point formats).
    public var blockValues: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q8_0, .q4_0, .q4_1: 32
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q8_0: BlockQ8_0.byteCount
        case .q4_0: BlockQ4_0.byteCount
        case .q4_1: BlockQ4_1.byteCount
        }
    }

    /// Bytes of one row of `columns` values. Throws if `columns` is not a whole number of blocks.
    public func rowBytes(columns: Int) throws -> Int {
        guard columns % blockValues == 0 else {
            throw KernelError.notBlockAligned(
                what: "the row length K", value: columns, block: blockValues, precision: self)
        }
        return columns / blockValues * blockBytes
    }

    /// Bits per weight, scales included (q4_0: 4.5, q4_1: 5, q8_0: 8.5).
    /// Whether weights are ggml blocks whose dot products run on quantized activations.
    public var isBlockQuantized: Bool { blockValues > 1 }

    public var bitsPerWeight: Double { Double(blockBytes * 8) / Double(blockValues) }
}
