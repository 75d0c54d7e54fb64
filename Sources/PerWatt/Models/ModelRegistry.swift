import Foundation

/// Where model specs come from: the built-in presets, files imported into the user's model folder,
/// and spec or Hugging Face `config.json` files named by path.
enum ModelRegistry {
    /// `$PERWATT_MODELS_DIR`, else `$XDG_CONFIG_HOME/perwatt/models`, else `~/.config/perwatt/models`.
    static func userDirectory(_ environment: [String: String]) -> String {
        if let dir = environment["PERWATT_MODELS_DIR"], !dir.isEmpty { return dir }
        if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty { return config + "/perwatt/models" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.config/perwatt/models"
    }

    /// Presets, then imported models (an imported id may not shadow a preset).
    static func all(_ environment: [String: String]) throws -> [ModelSpec] {
        var models = ModelSpec.presets
        let directory = userDirectory(environment)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        for name in names {
            let spec = try load(directory + "/" + name)
            if let existing = models.first(where: { $0.id == spec.id }) {
                throw InputError(file: directory + "/" + name, field: "id",
                                 message: "'\(spec.id)' is already the id of \(existing.name); rename it")
            }
            models.append(spec)
        }
        return models
    }

    /// A model by id, or by the path of a spec / config.json file.
    static func resolve(_ idOrPath: String, environment: [String: String]) throws -> ModelSpec? {
        if idOrPath.hasSuffix(".json") || idOrPath.contains("/") { return try load(idOrPath) }
        return try all(environment).first { $0.id == idOrPath }
    }

    /// Loads a `perwatt.model/1` file, or a Hugging Face `config.json` (id from the file's folder).
    static func load(_ path: String, id: String? = nil) throws -> ModelSpec {
        let json = try InputFile.json(try InputFile.read(path), file: path)
        let reader = try ObjectReader(json, file: path)
        if reader.has("schema") {
            return try spec(reader, file: path)
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent
        return try huggingFace(reader, file: path, id: id ?? (folder.isEmpty || folder == "." ? "imported" : folder.lowercased()))
    }

    /// A `perwatt.model/1` object.
    static func spec(_ r: ObjectReader, file: String) throws -> ModelSpec {
        try r.rejectUnknown(["schema", "id", "name", "layers", "hiddenSize", "heads", "kvHeads", "headDim", "ffnSize", "vocabularySize",
                             "tiedEmbeddings", "ffnKind", "experts", "activeExperts", "source"])
        let schema = try r.string("schema")!
        guard schema == "perwatt.model/1" else { throw r.error("schema", "must be \"perwatt.model/1\", not \"\(schema)\"") }
        let kindText = try r.string("ffnKind", required: false) ?? "gated"
        guard let kind = ModelSpec.FFNKind(rawValue: kindText) else { throw r.error("ffnKind", "must be \"gated\" or \"plain\", not \"\(kindText)\"") }
        let spec = ModelSpec(id: try r.string("id")!, name: try r.string("name", required: false) ?? r.string("id")!,
                             layers: try r.int("layers")!, hiddenSize: try r.int("hiddenSize")!, heads: try r.int("heads")!,
                             kvHeads: try r.int("kvHeads")!, headDim: try r.int("headDim")!, ffnSize: try r.int("ffnSize")!,
                             vocabularySize: try r.int("vocabularySize")!, tiedEmbeddings: try r.bool("tiedEmbeddings")!, ffnKind: kind,
                             experts: try r.int("experts", required: false), activeExperts: try r.int("activeExperts", required: false),
                             source: try r.string("source")!)
        if let problem = spec.validate() { throw InputError(file: file, line: r.value.line, message: problem) }
        return spec
    }

    /// A Hugging Face transformers `config.json` (Llama, Qwen2, Mistral, Mixtral, Gemma 2, gpt-oss,
    /// GPT-NeoX and others with the same field names).
    static func huggingFace(_ r: ObjectReader, file: String, id: String) throws -> ModelSpec {
        let layers = try r.int("num_hidden_layers")!
        let hidden = try r.int("hidden_size")!
        let heads = try r.int("num_attention_heads")!
        let kvHeads = try r.int("num_key_value_heads", required: false) ?? heads
        let headDim = try r.int("head_dim", required: false) ?? hidden / heads
        let experts = try r.int("num_local_experts", required: false) ?? r.int("num_experts", required: false)
        let active = try r.int("num_experts_per_tok", required: false) ?? r.int("experts_per_token", required: false)
        let ffn = try (experts != nil ? r.int("moe_intermediate_size", required: false) : nil) ?? r.int("intermediate_size")!
        let modelType = try r.string("model_type", required: false) ?? "unknown"
        let plain = ["gpt_neox", "gpt2", "gptj", "opt", "falcon", "phi"].contains(modelType)
        let spec = ModelSpec(id: id, name: id, layers: layers, hiddenSize: hidden, heads: heads, kvHeads: kvHeads, headDim: headDim,
                             ffnSize: ffn, vocabularySize: try r.int("vocab_size")!,
                             tiedEmbeddings: try r.bool("tie_word_embeddings", required: false) ?? false,
                             ffnKind: plain ? .plain : .gated, experts: experts, activeExperts: experts == nil ? nil : (active ?? 1),
                             source: "imported from \(URL(fileURLWithPath: file).lastPathComponent) (model_type \(modelType))")
        if let problem = spec.validate() { throw InputError(file: file, line: r.value.line, message: problem) }
        return spec
    }
}
