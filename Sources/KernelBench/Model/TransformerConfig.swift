import Foundation

/// A model-runtime error: what is wrong with the model file (or the request), where, and what to do.
public struct ModelError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The model file.
    public var file: String
    /// The metadata key or tensor at fault, if one is.
    public var context: String?
    public var message: String

    public init(file: String, context: String? = nil, message: String) {
        self.file = file
        self.context = context
        self.message = message
    }

    public var description: String {
        "\(file)" + (context.map { ": \($0)" } ?? "") + ": \(message)"
    }
}

/// The architecture of a llama-family transformer, read from GGUF metadata (llama.cpp's
/// `llm_load_hparams` keys under `{general.architecture}.`).
public struct TransformerConfig: Sendable, Equatable {
    /// The llama.cpp architectures the runtime runs (`general.architecture`).
    public enum Architecture: String, Sendable, CaseIterable {
        /// Llama 2/3, Mistral, SmolLM2 and other `llama` files: RoPE on adjacent pairs.
        case llama
        /// Qwen2 / Qwen2.5: QKV biases, NeoX RoPE (pairs i and i + d/2).
        case qwen2
        /// Qwen3: per-head RMSNorm of q and k before RoPE, NeoX RoPE, no biases.
        case qwen3
    }

    /// The model file the configuration was read from (errors of the runtime name it).
    public var file: String
    public var architecture: Architecture
    public var layers: Int
    /// Embedding length (model width).
    public var hidden: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var ffn: Int
    public var vocabulary: Int
    /// The context length the model was trained for (`{arch}.context_length`).
    public var contextLength: Int
    public var rmsEpsilon: Float
    public var ropeBase: Float
    /// Dimensions of each head that RoPE rotates (`{arch}.rope.dimension_count`, default the head size).
    public var ropeDimensions: Int
    /// NeoX ordering (pairs i, i + n/2) rather than adjacent pairs: llama.cpp's `LLAMA_ROPE_TYPE_NEOX`.
    public var ropeNeoX: Bool
    /// The output head is the token embedding (no `output.weight`).
    public var tiedEmbeddings: Bool

    /// Reads and checks the architecture of `file`.
    public init(gguf file: GGUFFile) throws(ModelError) {
        func fail(_ key: String?, _ message: String) -> ModelError {
            ModelError(file: file.path, context: key, message: message)
        }
        let supported = Architecture.allCases.map(\.rawValue).joined(separator: ", ")
        guard let name = file["general.architecture"]?.stringValue else {
            throw fail("general.architecture", "is missing: not a model file (the runtime runs \(supported))")
        }
        // Mistral files are written as `llama`; llama.cpp's separate `mistral` names carry the same graph.
        guard let architecture = Architecture(rawValue: name == "mistral" ? "llama" : name) else {
            throw fail(
                "general.architecture",
                "is \"\(name)\"; perwatt's runtime runs \(supported) (and mistral, as llama). Use a model of one of "
                    + "those architectures, or measure this one through a server with `perwatt eval`")
        }
        func int(_ suffix: String, default value: Int? = nil, in range: ClosedRange<Int>) throws(ModelError) -> Int {
            let key = "\(name).\(suffix)"
            guard let found = file[key] else {
                guard let value else { throw fail(key, "is missing") }
                return value
            }
            let number: Int?
            if let elements = found.arrayValue {
                // Per-layer arrays are accepted when every layer agrees (the runtime has one shape).
                let numbers = elements.compactMap(\.intValue)
                number = Set(numbers).count == 1 && numbers.count == elements.count ? numbers[0] : nil
            } else {
                number = found.intValue
            }
            guard let number, range.contains(number) else {
                throw fail(key, "must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(found)")
            }
            return number
        }
        func float(_ suffix: String, default value: Float) throws(ModelError) -> Float {
            let key = "\(name).\(suffix)"
            guard let found = file[key] else { return value }
            guard let number = found.doubleValue, number.isFinite, number > 0 else {
                throw fail(key, "must be a positive number, not \(found)")
            }
            return Float(number)
        }
        self.file = file.path
        self.architecture = architecture
        layers = try int("block_count", in: 1...1024)
        hidden = try int("embedding_length", in: 1...65536)
        heads = try int("attention.head_count", in: 1...1024)
        kvHeads = try int("attention.head_count_kv", default: heads, in: 1...1024)
        guard heads % kvHeads == 0 else {
            throw fail("\(name).attention.head_count_kv", "(\(kvHeads)) must divide the head count (\(heads))")
        }
        guard hidden % heads == 0 || file["\(name).attention.key_length"] != nil else {
            throw fail("\(name).attention.head_count", "(\(heads)) does not divide the embedding length (\(hidden))")
        }
        headDim = try int("attention.key_length", default: hidden / heads, in: 2...1024)
        let valueLength = try int("attention.value_length", default: headDim, in: 2...1024)
        guard valueLength == headDim else {
            throw fail("\(name).attention.value_length", "(\(valueLength)) differs from key_length (\(headDim))")
        }
        ffn = try int("feed_forward_length", in: 1...1 << 20)
        guard file["\(name).expert_count"].flatMap(\.intValue) ?? 0 == 0 else {
            throw fail("\(name).expert_count", "is set: mixture-of-experts models are not run by perwatt's runtime")
        }
        contextLength = try int("context_length", default: 4096, in: 1...1 << 24)
        rmsEpsilon = try float("attention.layer_norm_rms_epsilon", default: 1e-5)
        ropeBase = try float("rope.freq_base", default: 10000)
        ropeDimensions = try int("rope.dimension_count", default: headDim, in: 2...headDim)
        guard ropeDimensions % 2 == 0 else {
            throw fail("\(name).rope.dimension_count", "(\(ropeDimensions)) must be even")
        }
        if let scaling = file["\(name).rope.scaling.type"]?.stringValue, scaling != "none" {
            let factor = file["\(name).rope.scaling.factor"]?.doubleValue ?? 1
            guard factor == 1 else {
                throw fail(
                    "\(name).rope.scaling.type",
                    "is \"\(scaling)\" (factor \(factor)); perwatt's runtime has no RoPE scaling yet")
            }
        }
        ropeNeoX = architecture != .llama
        guard let embedding = file.tensor(named: "token_embd.weight"), embedding.dimensions.count == 2 else {
            throw fail("token_embd.weight", "is missing or not 2-D")
        }
        vocabulary = embedding.dimensions[1]
        guard embedding.dimensions[0] == hidden else {
            throw fail("token_embd.weight", "has rows of \(embedding.dimensions[0]) values, not the width \(hidden)")
        }
        tiedEmbeddings = file.tensor(named: "output.weight") == nil
    }

    /// Parameters counted from the shapes (embedding once when tied).
    public var parameters: Int {
        let attention = hidden * heads * headDim * 2 + hidden * kvHeads * headDim * 2
        let layer = attention + 3 * hidden * ffn + 2 * hidden
        return layers * layer + vocabulary * hidden * (tiedEmbeddings ? 1 : 2) + hidden
    }
}
