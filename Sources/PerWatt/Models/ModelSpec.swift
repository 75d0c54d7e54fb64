import KernelBench

/// A model's public architecture: what perwatt needs to build the kernel sequence of one token.
///
/// Dense decoder-only transformers with grouped-query attention, a gated (SwiGLU/GeGLU) or plain
/// MLP, and optionally a mixture of experts in place of the MLP. Elementwise work (norms, RoPE,
/// activations, softmax of the router) is not counted: it is O(hidden) per token against the
/// O(hidden²) of the matrices.
struct ModelSpec: Codable, Sendable, Hashable {
    enum FFNKind: String, Codable, Sendable { case gated, plain }

    var schema: String? = "perwatt.model/1"
    /// Identifier used on the command line, e.g. `llama-3.1-8b`.
    var id: String
    /// Display name.
    var name: String
    var layers: Int
    var hiddenSize: Int
    var heads: Int
    var kvHeads: Int
    var headDim: Int
    /// Width of the MLP (per expert for MoE: `expertFFNSize`).
    var ffnSize: Int
    var vocabularySize: Int
    var tiedEmbeddings: Bool
    var ffnKind: FFNKind
    /// Mixture of experts: experts per layer and experts active per token (nil for dense models).
    var experts: Int?
    var activeExperts: Int?
    /// Where the numbers come from.
    var source: String

    var isMoE: Bool { (experts ?? 0) > 1 }
    var qDim: Int { heads * headDim }
    var kvDim: Int { kvHeads * headDim }

    /// Weights of one layer's attention projections (Q, K, V, O).
    var attentionParameters: Int { hiddenSize * qDim + 2 * hiddenSize * kvDim + qDim * hiddenSize }
    /// Weights of one expert's (or the dense) MLP.
    var mlpParameters: Int { (ffnKind == .gated ? 3 : 2) * hiddenSize * ffnSize }
    /// Weights of one layer: attention, MLP or router plus every expert, two norms.
    var layerParameters: Int {
        attentionParameters + (isMoE ? hiddenSize * experts! + experts! * mlpParameters : mlpParameters) + 2 * hiddenSize
    }
    var embeddingParameters: Int { vocabularySize * hiddenSize }

    /// All weights: layers, token embeddings, the LM head when it is not tied, the final norm.
    var parameters: Int {
        layers * layerParameters + embeddingParameters * (tiedEmbeddings ? 1 : 2) + hiddenSize
    }

    /// Weights a token computes with: all but the inactive experts and the token-embedding table
    /// (a lookup of one row); the convention of OpenAI's gpt-oss card (20B: 3.6B active).
    var activeParameters: Int {
        let inactive = isMoE ? layers * (experts! - activeExperts!) * mlpParameters : 0
        return parameters - inactive - embeddingParameters
    }

    /// Bytes of the weights with every matrix stored at `precision` (K rounded up to whole blocks)
    /// and norms in f32. The token embeddings count as a matrix (llama.cpp quantizes them too).
    func weightBytes(_ precision: Precision) -> Double {
        func matrix(_ rows: Int, _ columns: Int) -> Double {
            let k = precision.blockValues > 1 ? (columns + 31) / 32 * 32 : columns
            return Double(rows) * Double((try? precision.rowBytes(columns: k)) ?? 4 * k)
        }
        let attention = matrix(qDim, hiddenSize) + 2 * matrix(kvDim, hiddenSize) + matrix(hiddenSize, qDim)
        let mlp = (ffnKind == .gated ? 2 : 1) * matrix(ffnSize, hiddenSize) + matrix(hiddenSize, ffnSize)
        let ffn = isMoE ? Double(experts!) * mlp + matrix(experts!, hiddenSize) : mlp
        let layer = attention + ffn + Double(2 * hiddenSize * 4)
        return Double(layers) * layer + matrix(vocabularySize, hiddenSize) * (tiedEmbeddings ? 1 : 2) + Double(hiddenSize * 4)
    }

    /// Bytes of an f16 KV cache holding `tokens` positions.
    func kvCacheBytes(tokens: Int) -> Double { Double(2 * layers * kvDim * tokens * 2) }

    /// Checks the numbers make a model; the message names the field.
    func validate() -> String? {
        for (field, value) in [("layers", layers), ("hiddenSize", hiddenSize), ("heads", heads), ("kvHeads", kvHeads),
                               ("headDim", headDim), ("ffnSize", ffnSize), ("vocabularySize", vocabularySize)] where value < 1 {
            return "\(field) must be a positive whole number, not \(value)"
        }
        if heads % kvHeads != 0 { return "heads (\(heads)) must be a multiple of kvHeads (\(kvHeads))" }
        if (experts == nil) != (activeExperts == nil) { return "experts and activeExperts go together: give both or neither" }
        if let experts, let activeExperts, !(1...experts).contains(activeExperts) {
            return "activeExperts (\(activeExperts)) must be from 1 to experts (\(experts))"
        }
        if id.isEmpty || id.contains(where: { $0 == " " || $0 == "/" }) { return "id must be a non-empty name without spaces or '/', not '\(id)'" }
        return nil
    }
}
