import Foundation

extension Precision {
    /// The precision of a ggml tensor type, for the types perwatt has kernels for.
    public init?(ggml type: GGMLType) {
        switch type {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        case .q8_0: self = .q8_0
        case .q4_0: self = .q4_0
        case .q4_1: self = .q4_1
        default: return nil
        }
    }

    /// The ggml tensor type of this precision.
    public var ggmlType: GGMLType {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .bf16: .bf16
        case .q8_0: .q8_0
        case .q4_0: .q4_0
        case .q4_1: .q4_1
        }
    }
}

/// One transformer block's tensors (llama.cpp names `blk.N.*`).
public struct LayerWeights: Sendable {
    public var attentionNorm: [Float]
    public var query: WeightMatrix
    public var key: WeightMatrix
    public var value: WeightMatrix
    public var output: WeightMatrix
    /// Qwen2's QKV biases.
    public var queryBias: [Float]?
    public var keyBias: [Float]?
    public var valueBias: [Float]?
    /// Qwen3's per-head RMSNorm weights of q and k (head size values each).
    public var queryNorm: [Float]?
    public var keyNorm: [Float]?
    public var ffnNorm: [Float]
    public var gate: WeightMatrix
    public var up: WeightMatrix
    public var down: WeightMatrix
}

/// Every tensor of a model, loaded from a GGUF file; each weight matrix at its own type, or all of
/// them requantized to one type.
public struct TransformerWeights: Sendable {
    public var embedding: WeightMatrix
    public var layers: [LayerWeights]
    public var outputNorm: [Float]
    /// The output head: `output.weight`, or the embedding when tied.
    public var output: WeightMatrix
    /// Llama 3.1's `rope_freqs.weight`: per frequency, a divisor of θ (ggml's `freq_factors`).
    public var ropeFrequencyFactors: [Float]?

    /// Loads `file`'s tensors for `config`.
    ///
    /// - Parameter requantize: when given, every 2-D weight (embedding and output head included, as
    ///   `llama-quantize --pure` does) is dequantized and quantized to this precision with the reference
    ///   quantizers; norms and biases stay f32.
    public init(gguf file: GGUFFile, config: TransformerConfig, requantize: Precision? = nil) throws(ModelError) {
        func fail(_ tensor: String, _ message: String) -> ModelError {
            ModelError(file: file.path, context: tensor, message: message)
        }
        func info(_ name: String) throws(ModelError) -> GGUFTensorInfo {
            guard let tensor = file.tensor(named: name) else { throw fail(name, "is missing") }
            return tensor
        }
        func matrix(_ name: String, rows: Int, columns: Int) throws(ModelError) -> WeightMatrix {
            let tensor = try info(name)
            guard tensor.dimensions == [columns, rows] else {
                throw fail(name, "has shape \(tensor.dimensions), expected [\(columns), \(rows)]")
            }
            guard let precision = Precision(ggml: tensor.type) else {
                throw fail(
                    name,
                    "is \(tensor.type.name); the runtime has kernels for "
                        + Precision.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let bytes = [UInt8](file.bytes(of: tensor))
            let rowBytes = tensor.byteCount / rows
            let stored = WeightMatrix(
                precision: precision, rows: rows, columns: columns, rowBytes: rowBytes, storage: bytes)
            guard let target = requantize, target != precision else { return stored }
            return try Self.requantized(stored, to: target, name: name, file: file.path)
        }
        func vector(_ name: String, count: Int) throws(ModelError) -> [Float] {
            let tensor = try info(name)
            guard tensor.dimensions == [count] else {
                throw fail(name, "has shape \(tensor.dimensions), expected [\(count)]")
            }
            guard let precision = Precision(ggml: tensor.type), !precision.isBlockQuantized else {
                throw fail(name, "is \(tensor.type.name); 1-D tensors must be f32, f16 or bf16")
            }
            let bytes = [UInt8](file.bytes(of: tensor))
            return WeightMatrix(
                precision: precision, rows: 1, columns: count, rowBytes: bytes.count, storage: bytes
            ).decodedRow(0)
        }
        func optionalVector(_ name: String, count: Int) throws(ModelError) -> [Float]? {
            file.tensor(named: name) == nil ? nil : try vector(name, count: count)
        }
        let (d, hd) = (config.hidden, config.headDim)
        embedding = try matrix("token_embd.weight", rows: config.vocabulary, columns: d)
        var layers: [LayerWeights] = []
        for l in 0..<config.layers {
            let p = "blk.\(l)."
            let qwen2 = config.architecture == .qwen2
            let qwen3 = config.architecture == .qwen3
            layers.append(
                LayerWeights(
                    attentionNorm: try vector(p + "attn_norm.weight", count: d),
                    query: try matrix(p + "attn_q.weight", rows: config.heads * hd, columns: d),
                    key: try matrix(p + "attn_k.weight", rows: config.kvHeads * hd, columns: d),
                    value: try matrix(p + "attn_v.weight", rows: config.kvHeads * hd, columns: d),
                    output: try matrix(p + "attn_output.weight", rows: d, columns: config.heads * hd),
                    queryBias: qwen2
                        ? try vector(p + "attn_q.bias", count: config.heads * hd)
                        : try optionalVector(p + "attn_q.bias", count: config.heads * hd),
                    keyBias: qwen2
                        ? try vector(p + "attn_k.bias", count: config.kvHeads * hd)
                        : try optionalVector(p + "attn_k.bias", count: config.kvHeads * hd),
                    valueBias: qwen2
                        ? try vector(p + "attn_v.bias", count: config.kvHeads * hd)
                        : try optionalVector(p + "attn_v.bias", count: config.kvHeads * hd),
                    queryNorm: qwen3 ? try vector(p + "attn_q_norm.weight", count: hd) : nil,
                    keyNorm: qwen3 ? try vector(p + "attn_k_norm.weight", count: hd) : nil,
                    ffnNorm: try vector(p + "ffn_norm.weight", count: d),
                    gate: try matrix(p + "ffn_gate.weight", rows: config.ffn, columns: d),
                    up: try matrix(p + "ffn_up.weight", rows: config.ffn, columns: d),
                    down: try matrix(p + "ffn_down.weight", rows: d, columns: config.ffn)))
        }
        self.layers = layers
        outputNorm = try vector("output_norm.weight", count: d)
        output =
            config.tiedEmbeddings ? embedding : try matrix("output.weight", rows: config.vocabulary, columns: d)
        ropeFrequencyFactors = try optionalVector("rope_freqs.weight", count: config.ropeDimensions / 2)
    }

    /// `weights` dequantized (ggml's dequantizers) and quantized to `target` with the reference
    /// quantizers, row by row: what `llama-quantize --allow-requantize` writes for the tensor.
    static func requantized(
        _ weights: WeightMatrix, to target: Precision, name: String, file: String
    ) throws(ModelError) -> WeightMatrix {
        guard weights.columns % target.blockValues == 0 else {
            throw ModelError(
                file: file, context: name,
                message: "has rows of \(weights.columns) values, not a whole number of \(target.rawValue) blocks")
        }
        let rowBytes = weights.columns / target.blockValues * target.blockBytes
        var storage = [UInt8](repeating: 0, count: weights.rows * rowBytes)
        var row = [Float](repeating: 0, count: weights.columns)
        var badRow: Int?
        storage.withUnsafeMutableBytes { out in
            for n in 0..<weights.rows where badRow == nil {
                weights.decode(row: n, into: &row)
                guard row.allSatisfy(\.isFinite) else {
                    badRow = n
                    break
                }
                row.withUnsafeBufferPointer { values in
                    WeightMatrix.encode(
                        values, precision: target,
                        into: UnsafeMutableRawBufferPointer(rebasing: out[(n * rowBytes)..<((n + 1) * rowBytes)]))
                }
            }
        }
        if let badRow {
            throw ModelError(
                file: file, context: name,
                message: "row \(badRow) dequantizes to a non-finite value (an infinite or NaN scale): the tensor "
                    + "cannot be requantized; run the model at its own types (no --quantization)")
        }
        return WeightMatrix(
            precision: target, rows: weights.rows, columns: weights.columns, rowBytes: rowBytes, storage: storage)
    }
}
