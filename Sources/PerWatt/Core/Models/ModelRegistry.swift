import Foundation
import KernelBench

/// Where model specs come from: the built-in presets, files imported into the user's model folder,
/// and spec or Hugging Face `config.json` files named by path.
package enum ModelRegistry {
    /// `$PERWATT_MODELS_DIR`, else `$XDG_CONFIG_HOME/perwatt/models`, else `~/.config/perwatt/models`.
    package static func userDirectory(_ environment: [String: String]) -> String {
        if let dir = environment["PERWATT_MODELS_DIR"], !dir.isEmpty { return dir }
        if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty { return config + "/perwatt/models" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.config/perwatt/models"
    }

    /// A saved spec that cannot be used: its path and why. Listed, never fatal.
    package struct InvalidSpec: Sendable {
        package var path: String
        package var reason: String
    }

    /// Presets, then imported models (an imported id may not shadow a preset), and the saved files
    /// that are not valid specs, each with its reason: one bad file never hides the others.
    package static func catalog(_ environment: [String: String]) -> (models: [ModelSpec], invalid: [InvalidSpec]) {
        var models = ModelSpec.presets
        var invalid: [InvalidSpec] = []
        let directory = userDirectory(environment)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
            $0.hasSuffix(".json")
        }.sorted()
        for name in names {
            let path = directory + "/" + name
            do {
                let spec = try load(path)
                if let existing = models.first(where: { $0.id == spec.id }) {
                    invalid.append(
                        InvalidSpec(
                            path: path, reason: "its id '\(spec.id)' is already the id of \(existing.name); rename it"))
                    continue
                }
                models.append(spec)
            } catch {
                invalid.append(InvalidSpec(path: path, reason: (error as? InputError)?.detail ?? "\(error)"))
            }
        }
        return (models, invalid)
    }

    /// The usable models (`catalog` without the invalid files).
    package static func all(_ environment: [String: String]) -> [ModelSpec] { catalog(environment).models }

    /// A model by id, or by the path of a spec / config.json file. An id whose saved file is invalid
    /// is that file's error.
    package static func resolve(_ idOrPath: String, environment: [String: String]) throws -> ModelSpec? {
        if idOrPath.hasSuffix(".json") || idOrPath.hasSuffix(".gguf") || idOrPath.contains("/") {
            return try load(idOrPath)
        }
        let (models, invalid) = catalog(environment)
        if let spec = models.first(where: { $0.id == idOrPath }) { return spec }
        if ModelSpec.isValidID(idOrPath), invalid.contains(where: { $0.path.hasSuffix("/" + idOrPath + ".json") }) {
            return try load(userDirectory(environment) + "/" + idOrPath + ".json")
        }
        return nil
    }

    /// Loads a `perwatt.model/1` file, or a Hugging Face `config.json` (id from the file's folder).
    package static func load(_ path: String, id: String? = nil) throws -> ModelSpec {
        if path.hasSuffix(".gguf") {
            if let id, !ModelSpec.isValidID(id) {
                throw SettingError(
                    setting: "--id",
                    message:
                        "--id must be 1 to \(ModelSpec.Limits.idLength) letters, digits, '.', '_' or '-' (not starting with '.'), not '\(shown(id))'"
                )
            }
            let base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            return try ModelSpec(gguf: try GGUFFile(path: path), id: id ?? ModelSpec.sanitizedID(base.lowercased()))
        }
        let json = try InputFile.json(try InputFile.read(path), file: path)
        let reader = try ObjectReader(json, file: path)
        if reader.has("schema") {
            var loaded = try JSONValueDecoder(file: path).decode(ModelSpec.self, from: json)
            if let id {
                guard ModelSpec.isValidID(id) else {
                    throw SettingError(
                        setting: "--id",
                        message:
                            "--id must be 1 to \(ModelSpec.Limits.idLength) letters, digits, '.', '_' or '-' (not starting with '.'), not '\(shown(id))'"
                    )
                }
                loaded.id = id
            }
            return loaded
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent
        if let id, !ModelSpec.isValidID(id) {
            throw SettingError(
                setting: "--id",
                message:
                    "--id must be 1 to \(ModelSpec.Limits.idLength) letters, digits, '.', '_' or '-' (not starting with '.'), not '\(shown(id))'"
            )
        }
        return try huggingFace(
            reader, file: path, id: id ?? (folder.isEmpty || folder == "." ? "imported" : ModelSpec.sanitizedID(folder))
        )
    }

    /// A Hugging Face transformers `config.json` (Llama, Qwen2, Mistral, Mixtral, Gemma 2, gpt-oss,
    /// GPT-NeoX and others with the same field names). Every dimension is checked against
    /// `ModelSpec.Limits`; the attention heads must divide the hidden size unless `head_dim` is given.
    package static func huggingFace(_ r: ObjectReader, file: String, id: String) throws -> ModelSpec {
        typealias L = ModelSpec.Limits
        let layers = try r.int("num_hidden_layers", in: L.layers)!
        let hidden = try r.int("hidden_size", in: L.hiddenSize)!
        let heads = try r.int("num_attention_heads", in: L.heads)!
        let kvHeads = try r.int("num_key_value_heads", required: false, in: L.heads) ?? heads
        guard heads % kvHeads == 0 else {
            throw r.error(
                "num_key_value_heads",
                "(\(kvHeads)) must divide num_attention_heads (\(heads)): each KV head serves a whole group of query heads"
            )
        }
        let headDim: Int
        if let given = try r.int("head_dim", required: false, in: L.headDim) {
            headDim = given
        } else {
            guard hidden % heads == 0 else {
                throw r.error(
                    "num_attention_heads",
                    "(\(heads)) does not divide hidden_size (\(hidden)) and there is no head_dim; give head_dim or fix the head count"
                )
            }
            headDim = hidden / heads
            guard L.headDim.contains(headDim) else {
                throw r.error(
                    "num_attention_heads",
                    "gives a head size of \(headDim) (hidden_size / heads), beyond \(L.headDim.upperBound)")
            }
        }
        let experts =
            try r.int("num_local_experts", required: false, in: L.experts)
            ?? r.int("num_experts", required: false, in: L.experts)
        let active =
            try r.int("num_experts_per_tok", required: false, in: L.experts)
            ?? r.int("experts_per_token", required: false, in: L.experts)
        let ffn =
            try (experts != nil ? r.int("moe_intermediate_size", required: false, in: L.ffnSize) : nil)
            ?? r.int("intermediate_size", in: L.ffnSize)!
        let modelType = try r.string("model_type", required: false) ?? "unknown"
        let plain = ["gpt_neox", "gpt2", "gptj", "opt", "falcon", "phi"].contains(modelType)
        let spec = ModelSpec(
            id: id, name: id, layers: layers, hiddenSize: hidden, heads: heads, kvHeads: kvHeads, headDim: headDim,
            ffnSize: ffn, vocabularySize: try r.int("vocab_size", in: L.vocabularySize)!,
            tiedEmbeddings: try r.bool("tie_word_embeddings", required: false) ?? false,
            ffnKind: plain ? .plain : .gated, experts: experts, activeExperts: experts == nil ? nil : (active ?? 1),
            source: "imported from \(URL(fileURLWithPath: file).lastPathComponent) (model_type \(shown(modelType)))")
        if let problem = spec.validate() { throw InputError(file: file, line: r.value.line, message: problem) }
        return spec
    }
}
