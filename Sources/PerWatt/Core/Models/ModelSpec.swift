import KernelBench

/// A model's public architecture: what perwatt needs to build the kernel sequence of one token.
///
/// Dense decoder-only transformers with grouped-query attention, a gated (SwiGLU/GeGLU) or plain
/// MLP, and optionally a mixture of experts in place of the MLP. Elementwise work (norms, RoPE,
/// activations, softmax of the router) is not counted: it is O(hidden) per token against the
/// O(hidden²) of the matrices.
package struct ModelSpec: Codable, Sendable, Hashable {
    package enum FFNKind: String, Codable, Sendable { case gated, plain }

    package var schema: String? = "perwatt.model/1"
    /// Identifier used on the command line, e.g. `llama-3.1-8b`.
    package var id: String
    /// Display name.
    package var name: String
    package var layers: Int
    package var hiddenSize: Int
    package var heads: Int
    package var kvHeads: Int
    package var headDim: Int
    /// Width of the MLP (per expert for MoE: `expertFFNSize`).
    package var ffnSize: Int
    package var vocabularySize: Int
    package var tiedEmbeddings: Bool
    package var ffnKind: FFNKind
    /// Mixture of experts: experts per layer and experts active per token (nil for dense models).
    package var experts: Int?
    package var activeExperts: Int?
    /// Where the numbers come from.
    package var source: String

    package enum CodingKeys: String, CodingKey, CaseIterable {
        case schema, id, name, layers, hiddenSize, heads, kvHeads, headDim, ffnSize, vocabularySize, tiedEmbeddings,
            ffnKind, experts, activeExperts, source
    }

    /// A `perwatt.model/1` object: every dimension within `Limits`, unknown fields refused, and the
    /// shape consistent (`validate()`).
    package init(from decoder: any Decoder) throws {
        let r = try KeyedReader(decoder, keys: CodingKeys.self)
        let schema = try r.string(.schema)!
        guard schema == "perwatt.model/1" else {
            throw r.error(.schema, "must be \"perwatt.model/1\", not \"\(shown(schema))\"")
        }
        let kindText = try r.string(.ffnKind, required: false) ?? "gated"
        guard let kind = FFNKind(rawValue: kindText) else {
            throw r.error(.ffnKind, "must be \"gated\" or \"plain\", not \"\(shown(kindText))\"")
        }
        let id = try r.string(.id)!
        guard Self.isValidID(id) else {
            throw r.error(
                .id,
                "must be 1 to \(Limits.idLength) letters, digits, '.', '_' or '-' (not starting with '.'), not '\(shown(id))'"
            )
        }
        self.init(
            id: id, name: try r.string(.name, required: false) ?? id,
            layers: try r.int(.layers, in: Limits.layers)!, hiddenSize: try r.int(.hiddenSize, in: Limits.hiddenSize)!,
            heads: try r.int(.heads, in: Limits.heads)!, kvHeads: try r.int(.kvHeads, in: Limits.heads)!,
            headDim: try r.int(.headDim, in: Limits.headDim)!, ffnSize: try r.int(.ffnSize, in: Limits.ffnSize)!,
            vocabularySize: try r.int(.vocabularySize, in: Limits.vocabularySize)!,
            tiedEmbeddings: try r.bool(.tiedEmbeddings)!, ffnKind: kind,
            experts: try r.int(.experts, required: false, in: Limits.experts),
            activeExperts: try r.int(.activeExperts, required: false, in: Limits.experts),
            source: try r.string(.source)!)
        if let problem = validate() { throw InputError(file: r.reader.file, line: r.value.line, message: problem) }
    }

    package var isMoE: Bool { (experts ?? 0) > 1 }
    package var qDim: Int { heads * headDim }
    package var kvDim: Int { kvHeads * headDim }

    /// Weights of one layer's attention projections (Q, K, V, O).
    package var attentionParameters: Int { hiddenSize * qDim + 2 * hiddenSize * kvDim + qDim * hiddenSize }
    /// Weights of one expert's (or the dense) MLP.
    package var mlpParameters: Int { (ffnKind == .gated ? 3 : 2) * hiddenSize * ffnSize }
    /// Weights of one layer: attention, MLP or router plus every expert, two norms.
    package var layerParameters: Int {
        attentionParameters + (isMoE ? hiddenSize * experts! + experts! * mlpParameters : mlpParameters) + 2
            * hiddenSize
    }
    package var embeddingParameters: Int { vocabularySize * hiddenSize }

    /// All weights: layers, token embeddings, the LM head when it is not tied, the final norm.
    package var parameters: Int {
        layers * layerParameters + embeddingParameters * (tiedEmbeddings ? 1 : 2) + hiddenSize
    }

    /// Weights a token computes with: all but the inactive experts and the token-embedding table
    /// (a lookup of one row); the convention of OpenAI's gpt-oss card (20B: 3.6B active).
    package var activeParameters: Int {
        let inactive = isMoE ? layers * (experts! - activeExperts!) * mlpParameters : 0
        return parameters - inactive - embeddingParameters
    }

    /// Bytes of the weights with every matrix stored at `precision` (K rounded up to whole blocks)
    /// and norms in f32. The token embeddings count as a matrix (llama.cpp quantizes them too).
    package func weightBytes(_ precision: Precision) -> Double {
        func matrix(_ rows: Int, _ columns: Int) -> Double {
            let k = precision.blockValues > 1 ? (columns + 31) / 32 * 32 : columns
            return Double(rows) * Double((try? precision.rowBytes(columns: k)) ?? 4 * k)
        }
        let attention = matrix(qDim, hiddenSize) + 2 * matrix(kvDim, hiddenSize) + matrix(hiddenSize, qDim)
        let mlp = (ffnKind == .gated ? 2 : 1) * matrix(ffnSize, hiddenSize) + matrix(hiddenSize, ffnSize)
        let ffn = isMoE ? Double(experts!) * mlp + matrix(experts!, hiddenSize) : mlp
        let layer = attention + ffn + Double(2 * hiddenSize * 4)
        return Double(layers) * layer + matrix(vocabularySize, hiddenSize) * (tiedEmbeddings ? 1 : 2)
            + Double(hiddenSize * 4)
    }

    /// Bytes of an f16 KV cache holding `tokens` positions.
    package func kvCacheBytes(tokens: Int) -> Double { Double(2 * layers * kvDim * tokens * 2) }

    /// The range each dimension must fall in (docs/cli.md states them). Wide enough for every
    /// published model and small enough that no size arithmetic can overflow.
    package enum Limits {
        package static let layers = 1...1024
        package static let hiddenSize = 1...262_144
        package static let heads = 1...4096
        package static let headDim = 1...4096
        package static let ffnSize = 1...1_048_576
        package static let vocabularySize = 1...4_194_304
        package static let experts = 1...4096
        /// The most parameters a spec may describe (100 trillion).
        package static let parameters = 1e14
        /// Ids become file names: letters, digits, '.', '_' and '-', not starting with '.', at most 64.
        package static let idLength = 64
    }

    /// Whether `id` may be used as an id (and so as a file name).
    package static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= Limits.idLength && !id.hasPrefix(".")
            && id.unicodeScalars.allSatisfy {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
            }
    }

    /// `text` made into a valid id: other characters become '-', leading dots are dropped.
    package static func sanitizedID(_ text: String) -> String {
        let mapped = String(
            text.lowercased().unicodeScalars.map { scalar -> Character in
                scalar.isASCII
                    && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                        || "._-".unicodeScalars.contains(scalar))
                    ? Character(scalar) : "-"
            })
        let trimmed = String(mapped.drop { $0 == "." }.prefix(Limits.idLength))
        return trimmed.isEmpty ? "imported" : trimmed
    }

    /// Checks the numbers make a model; the message names the field.
    package func validate() -> String? {
        let dimensions: [(String, Int, ClosedRange<Int>)] =
            [
                ("layers", layers, Limits.layers), ("hiddenSize", hiddenSize, Limits.hiddenSize),
                ("heads", heads, Limits.heads),
                ("kvHeads", kvHeads, Limits.heads), ("headDim", headDim, Limits.headDim),
                ("ffnSize", ffnSize, Limits.ffnSize),
                ("vocabularySize", vocabularySize, Limits.vocabularySize),
            ] + (experts.map { [("experts", $0, Limits.experts)] } ?? [])
        for (field, value, range) in dimensions where !range.contains(value) {
            return "\(field) must be from \(range.lowerBound) to \(range.upperBound), not \(value)"
        }
        if heads % kvHeads != 0 { return "heads (\(heads)) must be a multiple of kvHeads (\(kvHeads))" }
        if (experts == nil) != (activeExperts == nil) {
            return "experts and activeExperts go together: give both or neither"
        }
        if let experts, let activeExperts, !(1...experts).contains(activeExperts) {
            return "activeExperts (\(activeExperts)) must be from 1 to experts (\(experts))"
        }
        let total = approximateParameters
        if total > Limits.parameters {
            return
                "these dimensions describe \(formatNumber(total)) parameters; perwatt accepts at most \(formatNumber(Limits.parameters))"
        }
        if !Self.isValidID(id) {
            return
                "id must be 1 to \(Limits.idLength) letters, digits, '.', '_' or '-' (not starting with '.'), not '\(shown(id))'"
        }
        return nil
    }

    /// `parameters` in floating point, which cannot overflow: `validate` bounds it before any Int
    /// arithmetic on the dimensions runs.
    package var approximateParameters: Double {
        let d = Double(hiddenSize)
        let q = Double(heads) * Double(headDim)
        let kv = Double(kvHeads) * Double(headDim)
        let mlp = Double(ffnKind == .gated ? 3 : 2) * d * Double(ffnSize)
        let e = Double(experts ?? 1)
        let layer = 2 * d * q + 2 * d * kv + (isMoE ? d * e + e * mlp : mlp) + 2 * d
        return Double(layers) * layer + Double(vocabularySize) * d * (tiedEmbeddings ? 1 : 2) + d
    }

    package init(
        schema: String? = "perwatt.model/1", id: String, name: String, layers: Int, hiddenSize: Int, heads: Int,
        kvHeads: Int, headDim: Int, ffnSize: Int, vocabularySize: Int, tiedEmbeddings: Bool, ffnKind: FFNKind,
        experts: Int? = nil, activeExperts: Int? = nil, source: String
    ) {
        self.schema = schema
        self.id = id
        self.name = name
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.ffnSize = ffnSize
        self.vocabularySize = vocabularySize
        self.tiedEmbeddings = tiedEmbeddings
        self.ffnKind = ffnKind
        self.experts = experts
        self.activeExperts = activeExperts
        self.source = source
    }
}
