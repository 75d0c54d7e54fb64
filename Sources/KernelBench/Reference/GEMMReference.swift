/// The result of a reference kernel: values in Double, and for each value the magnitude
/// Σ|term| of what was summed, which scales the tolerance a fast kernel is allowed.
public struct ReferenceResult: Sendable {
    public var values: [Double]
    public var magnitudes: [Double]
}

/// Naive GEMM with ggml's CPU semantics for each weight precision; the fast variants must match it.
///
/// `C[M, N] = A[M, K] · W[N, K]ᵀ`: A is f32 activations, row-major; W is `weights`, row-major as in
/// GGUF. Activations are first converted to the weight type's dot-product type, as ggml does
/// (`vec_dot_type`): f16 → f16, bf16 → bf16, q8_0 and q4_0 → q8_0, q4_1 → q8_1 (reference quantizers).
/// Products of the converted values are exact in Double; block formats sum integer products per block
/// and scale by the two fp16 block scales; q4_1 adds its block minimum times the activation block's
/// fp16 sum s, as `ggml_vec_dot_q4_1_q8_1` does. Accumulation is in Double, so the reference is more precise than any
/// fast variant, which accumulates in f32.
public enum GEMMReference {
    public static func run(
        a: [Float], m: Int, weights: WeightMatrix, quantizer: ActivationQuantizer = .reference
    ) throws -> ReferenceResult {
        let k = weights.columns
        let n = weights.rows
        guard m > 0 else { throw KernelError.invalidShape("GEMM needs M > 0, got \(m)") }
        guard a.count == m * k else {
            throw KernelError.shapeMismatch(what: "the activations A", expected: m * k, actual: a.count)
        }
        var values = [Double](repeating: 0, count: m * n)
        var magnitudes = [Double](repeating: 0, count: m * n)
        switch weights.precision {
        case .f32, .f16, .bf16:
            let rows = (0..<n).map { weights.decodedRow($0) }
            let convert: (Float) -> Float =
                switch weights.precision {
                case .f16: Half.round
                case .bf16: BFloat16.round
                default: { $0 }
                }
            for i in 0..<m {
                let activation = (0..<k).map { convert(a[i * k + $0]) }
                for j in 0..<n {
                    var sum = 0.0
                    var magnitude = 0.0
                    for p in 0..<k {
                        let term = Double(activation[p]) * Double(rows[j][p])
                        sum += term
                        magnitude += abs(term)
                    }
                    values[i * n + j] = sum
                    magnitudes[i * n + j] = magnitude
                }
            }
        case .q8_0, .q4_0:
            let blocks = k / 32
            let weightRows = (0..<n).map { integerBlocks(weights, row: $0) }
            for i in 0..<m {
                let (scales, quants) = quantizeActivationQ8_0(Array(a[(i * k)..<((i + 1) * k)]), quantizer: quantizer)
                for j in 0..<n {
                    let (weightScales, weightQuants) = weightRows[j]
                    var sum = 0.0
                    var magnitude = 0.0
                    for b in 0..<blocks {
                        var dot = 0
                        var absDot = 0
                        for p in (b * 32)..<(b * 32 + 32) {
                            dot += Int(weightQuants[p]) * Int(quants[p])
                            absDot += abs(Int(weightQuants[p]) * Int(quants[p]))
                        }
                        let scale = Double(weightScales[b]) * Double(scales[b])
                        sum += Double(dot) * scale
                        magnitude += Double(absDot) * abs(scale)
                    }
                    values[i * n + j] = sum
                    magnitudes[i * n + j] = magnitude
                }
            }
        case .q4_1:
            let blocks = k / 32
            let weightRows = (0..<n).map { q4_1Blocks(weights, row: $0) }
            for i in 0..<m {
                let activation = quantizeActivationQ8_1(Array(a[(i * k)..<((i + 1) * k)]), quantizer: quantizer)
                for j in 0..<n {
                    let row = weightRows[j]
                    var sum = 0.0
                    var magnitude = 0.0
                    for b in 0..<blocks {
                        var dot = 0
                        var absDot = 0
                        for p in (b * 32)..<(b * 32 + 32) {
                            dot += Int(row.quants[p]) * Int(activation.quants[p])
                            absDot += abs(Int(row.quants[p]) * Int(activation.quants[p]))
                        }
                        let scale = Double(row.scales[b]) * Double(activation.scales[b])
                        let offset = Double(row.minimums[b]) * Double(activation.sums[b])
                        sum += Double(dot) * scale + offset
                        magnitude += Double(absDot) * abs(scale) + abs(offset)
                    }
                    values[i * n + j] = sum
                    magnitudes[i * n + j] = magnitude
                }
            }
        }
        return ReferenceResult(values: values, magnitudes: magnitudes)
    }

    /// Activations quantized to q8_0 (by default with the reference quantizer): per block the fp16-rounded
    /// scale and 32 int8.
    public static func quantizeActivationQ8_0(
        _ row: [Float], quantizer: ActivationQuantizer = .reference
    ) -> (scales: [Float], quants: [Int8]) {
        var bytes = [UInt8](repeating: 0, count: row.count / 32 * BlockQ8_0.byteCount)
        row.withUnsafeBufferPointer { x in bytes.withUnsafeMutableBytes { quantizer.q8_0(x, into: $0) } }
        return blockParts(bytes, blockBytes: BlockQ8_0.byteCount) { base, j in Int8(bitPattern: bytes[base + 2 + j]) }
    }

    /// Activations quantized to q8_1 (by default with the reference quantizer): per block the fp16-rounded
    /// scale d, the fp16-rounded d · Σq, and 32 int8.
    public static func quantizeActivationQ8_1(
        _ row: [Float], quantizer: ActivationQuantizer = .reference
    ) -> (scales: [Float], sums: [Float], quants: [Int8]) {
        var bytes = [UInt8](repeating: 0, count: row.count / 32 * BlockQ8_1.byteCount)
        row.withUnsafeBufferPointer { x in bytes.withUnsafeMutableBytes { quantizer.q8_1(x, into: $0) } }
        var scales: [Float] = []
        var sums: [Float] = []
        var quants: [Int8] = []
        for base in stride(from: 0, to: bytes.count, by: BlockQ8_1.byteCount) {
            scales.append(Half.float(UInt16(bytes[base]) | UInt16(bytes[base + 1]) << 8))
            sums.append(Half.float(UInt16(bytes[base + 2]) | UInt16(bytes[base + 3]) << 8))
            for j in 0..<32 { quants.append(Int8(bitPattern: bytes[base + 4 + j])) }
        }
        return (scales, sums, quants)
    }

    /// A q4_1 weight row as fp16 scales, fp16 minimums and nibbles (0...15).
    static func q4_1Blocks(_ weights: WeightMatrix, row: Int) -> (scales: [Float], minimums: [Float], quants: [Int8]) {
        let bytes = Array(weights.storage[(row * weights.rowBytes)..<((row + 1) * weights.rowBytes)])
        var scales: [Float] = []
        var minimums: [Float] = []
        var quants: [Int8] = []
        for base in stride(from: 0, to: bytes.count, by: BlockQ4_1.byteCount) {
            scales.append(Half.float(UInt16(bytes[base]) | UInt16(bytes[base + 1]) << 8))
            minimums.append(Half.float(UInt16(bytes[base + 2]) | UInt16(bytes[base + 3]) << 8))
            for j in 0..<32 {
                let byte = bytes[base + 4 + j % 16]
                quants.append(Int8(j < 16 ? byte & 0x0f : byte >> 4))
            }
        }
        return (scales, minimums, quants)
    }

    /// A q8_0 or q4_0 weight row as fp16 scales and integer values (q4_0: nibble − 8).
    static func integerBlocks(_ weights: WeightMatrix, row: Int) -> (scales: [Float], quants: [Int8]) {
        let bytes = Array(weights.storage[(row * weights.rowBytes)..<((row + 1) * weights.rowBytes)])
        if weights.precision == .q8_0 {
            return blockParts(bytes, blockBytes: BlockQ8_0.byteCount) { base, j in Int8(bitPattern: bytes[base + 2 + j])
            }
        }
        return blockParts(bytes, blockBytes: BlockQ4_0.byteCount) { base, j in
            let byte = bytes[base + 2 + j % 16]
            return Int8(j < 16 ? Int(byte & 0x0f) - 8 : Int(byte >> 4) - 8)
        }
    }

    /// Splits ggml blocks into their fp16 scales and 32 integer values each; `value(base, j)` reads value
    /// j of the block starting at byte `base`.
    private static func blockParts(
        _ bytes: [UInt8], blockBytes: Int,
        value: (_ base: Int, _ j: Int) -> Int8
    ) -> (scales: [Float], quants: [Int8]) {
        var scales: [Float] = []
        var quants: [Int8] = []
        for base in stride(from: 0, to: bytes.count, by: blockBytes) {
            scales.append(Half.float(UInt16(bytes[base]) | UInt16(bytes[base + 1]) << 8))
            for j in 0..<32 { quants.append(value(base, j)) }
        }
        return (scales, quants)
    }
}
