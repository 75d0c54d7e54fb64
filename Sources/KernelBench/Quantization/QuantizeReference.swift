/// ggml's reference quantizers, "for deterministic creation of model files": the fast kernels
/// are checked against these, and these against vectors made by ggml's own code (Tests/KernelBenchTests/Vectors).
public enum QuantizeReference {
    /// `quantize_row_q8_0_ref` (ggml-quants.c): per block d = max|x| / 127, q = roundf(x / d)
    /// computed as x · (1/d), rounding half away from zero.
    ///
    /// - Parameters:
    ///   - x: values, a multiple of 32 of them, all finite.
    ///   - out: `x.count / 32 × 34` bytes.
    public static func q8_0(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        int8Blocks(
            x, into: out, withSum: false, inverse: { d, _ in d != 0 ? 1 / d : 0 }, rounding: .toNearestOrAwayFromZero)
    }

    /// `quantize_row_q8_1_ref` (ggml-quants.c): q8_0's d and q (q = roundf(x · (1/d))), plus
    /// s = d · Σq, the block's sum, stored as fp16.
    ///
    /// - Parameters:
    ///   - x: values, a multiple of 32 of them, all finite.
    ///   - out: `x.count / 32 × 36` bytes.
    public static func q8_1(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        int8Blocks(
            x, into: out, withSum: true, inverse: { d, _ in d != 0 ? 1 / d : 0 }, rounding: .toNearestOrAwayFromZero)
    }

    /// The q8_0 / q8_1 block layout shared by ggml's int8 quantizers: per block d = max|x| / 127 (fp16),
    /// q = round(x · id) with `inverse(d, max|x|)` as id, and for q8_1 s = fp16(d · Σq) after d. Never
    /// traps: a non-finite x gives a non-finite d (and q 0 or ±127), which the caller's result shows.
    static func int8Blocks(
        _ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer, withSum: Bool,
        inverse: (_ d: Float, _ amax: Float) -> Float, rounding: FloatingPointRoundingRule
    ) {
        let (blockBytes, valuesOffset) = withSum ? (BlockQ8_1.byteCount, 4) : (BlockQ8_0.byteCount, 2)
        for b in 0..<(x.count / 32) {
            let base = b * 32
            var amax: Float = 0
            for j in 0..<32 { amax = max(amax, abs(x[base + j])) }
            let d = amax / 127
            let id = inverse(d, amax)
            let offset = b * blockBytes
            var sum = 0
            for j in 0..<32 {
                // Activations can be non-finite (a corrupt model): C's float-to-int8 conversion is undefined
                // there, so NaN gives 0 and ±inf saturates instead of trapping. Finite values are unaffected.
                let scaled = (x[base + j] * id).rounded(rounding)
                let q = scaled.isNaN ? 0 : Int(max(-128, min(127, scaled)))
                sum += q
                out.storeBytes(of: Int8(clamping: q), toByteOffset: offset + valuesOffset + j, as: Int8.self)
            }
            out.storeBytes(of: Half.bits(d).littleEndian, toByteOffset: offset, as: UInt16.self)
            if withSum {
                out.storeBytes(of: Half.bits(Float(sum) * d).littleEndian, toByteOffset: offset + 2, as: UInt16.self)
            }
        }
    }

    /// `quantize_row_q4_0_ref` (ggml-quants.c): per block the value of largest magnitude (the first
    /// one on a tie) gives d = max / −8; q = min(15, trunc(x / d + 8.5)), x / d computed as x · (1/d).
    ///
    /// - Parameters:
    ///   - x: values, a multiple of 32 of them, all finite.
    ///   - out: `x.count / 32 × 18` bytes.
    public static func q4_0(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        let blocks = x.count / 32
        for b in 0..<blocks {
            let base = b * 32
            var amax: Float = 0
            var maxValue: Float = 0
            for j in 0..<32 where amax < abs(x[base + j]) {
                amax = abs(x[base + j])
                maxValue = x[base + j]
            }
            let d = maxValue / -8
            let id: Float = d != 0 ? 1 / d : 0
            let offset = b * BlockQ4_0.byteCount
            out.storeBytes(of: Half.bits(d).littleEndian, toByteOffset: offset, as: UInt16.self)
            for j in 0..<16 {
                // C's (int8_t) conversion truncates toward zero; the values are in [0.5, 16.5].
                let low = UInt8(clamping: min(15, Int(x[base + j] * id + 8.5)))
                let high = UInt8(clamping: min(15, Int(x[base + 16 + j] * id + 8.5)))
                out.storeBytes(of: low | (high << 4), toByteOffset: offset + 2 + j, as: UInt8.self)
            }
        }
    }

    /// `quantize_row_q4_1_ref` (ggml-quants.c): per block d = (max − min) / 15 and m = min;
    /// q = min(15, trunc((x − min) · (1/d) + 0.5)).
    ///
    /// - Parameters:
    ///   - x: values, a multiple of 32 of them, all finite.
    ///   - out: `x.count / 32 × 20` bytes.
    public static func q4_1(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        let blocks = x.count / 32
        for b in 0..<blocks {
            let base = b * 32
            var low = Float.greatestFiniteMagnitude
            var high = -Float.greatestFiniteMagnitude
            for j in 0..<32 {
                low = min(low, x[base + j])
                high = max(high, x[base + j])
            }
            let d = (high - low) / 15
            let id: Float = d != 0 ? 1 / d : 0
            let offset = b * BlockQ4_1.byteCount
            out.storeBytes(of: Half.bits(d).littleEndian, toByteOffset: offset, as: UInt16.self)
            out.storeBytes(of: Half.bits(low).littleEndian, toByteOffset: offset + 2, as: UInt16.self)
            for j in 0..<16 {
                // C's (int8_t) conversion truncates toward zero; the values are in [0.5, 15.5].
                let q0 = UInt8(clamping: min(15, Int((x[base + j] - low) * id + 0.5)))
                let q1 = UInt8(clamping: min(15, Int((x[base + 16 + j] - low) * id + 0.5)))
                out.storeBytes(of: q0 | (q1 << 4), toByteOffset: offset + 4 + j, as: UInt8.self)
            }
        }
    }

    /// `dequantize_row_q4_1`: value = d · nibble + m.
    public static func dequantizeQ4_1(_ blocks: UnsafeRawBufferPointer, into y: UnsafeMutableBufferPointer<Float>) {
        for b in 0..<(y.count / 32) {
            let offset = b * BlockQ4_1.byteCount
            let d = Half.float(UInt16(littleEndian: blocks.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
            let m = Half.float(UInt16(littleEndian: blocks.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self)))
            for j in 0..<16 {
                let byte = blocks[offset + 4 + j]
                y[b * 32 + j] = d * Float(byte & 0x0f) + m
                y[b * 32 + 16 + j] = d * Float(byte >> 4) + m
            }
        }
    }

    /// `dequantize_row_q8_0`: value = d · q.
    public static func dequantizeQ8_0(_ blocks: UnsafeRawBufferPointer, into y: UnsafeMutableBufferPointer<Float>) {
        for b in 0..<(y.count / 32) {
            let offset = b * BlockQ8_0.byteCount
            let d = Half.float(UInt16(littleEndian: blocks.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
            for j in 0..<32 {
                y[b * 32 + j] = d * Float(blocks.load(fromByteOffset: offset + 2 + j, as: Int8.self))
            }
        }
    }

    /// `dequantize_row_q4_0`: value = d · (nibble − 8).
    public static func dequantizeQ4_0(_ blocks: UnsafeRawBufferPointer, into y: UnsafeMutableBufferPointer<Float>) {
        for b in 0..<(y.count / 32) {
            let offset = b * BlockQ4_0.byteCount
            let d = Half.float(UInt16(littleEndian: blocks.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
            for j in 0..<16 {
                let byte = blocks[offset + 2 + j]
                y[b * 32 + j] = d * Float(Int(byte & 0x0f) - 8)
                y[b * 32 + 16 + j] = d * Float(Int(byte >> 4) - 8)
            }
        }
    }
}
