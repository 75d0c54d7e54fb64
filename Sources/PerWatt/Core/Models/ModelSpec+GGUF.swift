import Foundation
import KernelBench

extension ModelSpec {
    /// The architectures whose GGUF metadata perwatt reads into a spec (llama.cpp's `LLM_ARCH_*` names).
    package static let ggufArchitectures = ["llama", "qwen2", "qwen3", "mistral", "smollm", "granite"]

    /// A spec from a GGUF file's metadata (`{arch}.block_count`, `.embedding_length`,
    /// `.attention.head_count[_kv]`, `.attention.key_length`, `.feed_forward_length`, `.expert_count`,
    /// `.expert_used_count`; the vocabulary from `tokenizer.ggml.tokens`; tied embeddings when there is
    /// no `output.weight` tensor), checked against `Limits` like every other spec.
    package init(gguf file: GGUFFile, id: String) throws {
        func fail(_ key: String?, _ message: String) -> InputError {
            InputError(file: file.path, field: key, message: message)
        }
        guard let arch = file["general.architecture"]?.stringValue else {
            throw fail("general.architecture", "is missing: not a model GGUF file")
        }
        guard Self.ggufArchitectures.contains(arch) else {
            throw fail(
                "general.architecture",
                "is \"\(shown(arch))\"; perwatt reads \(Self.ggufArchitectures.joined(separator: ", ")) models")
        }
        func int(_ suffix: String, required: Bool = true, in range: ClosedRange<Int>) throws -> Int? {
            let key = "\(arch).\(suffix)"
            guard let value = file[key] else {
                if required { throw fail(key, "is missing") }
                return nil
            }
            // A per-layer array (some models vary heads by layer) is read as its first value when all agree.
            let number: Int?
            if let elements = value.arrayValue {
                let numbers = elements.compactMap(\.intValue)
                number = Set(numbers).count == 1 && numbers.count == elements.count ? numbers[0] : nil
            } else {
                number = value.intValue
            }
            guard let number, range.contains(number) else {
                throw fail(key, "must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(value)")
            }
            return number
        }
        let layers = try int("block_count", in: Limits.layers)!
        let hidden = try int("embedding_length", in: Limits.hiddenSize)!
        let heads = try int("attention.head_count", in: Limits.heads)!
        let kvHeads = try int("attention.head_count_kv", required: false, in: Limits.heads) ?? heads
        guard heads % kvHeads == 0 else {
            throw fail("\(arch).attention.head_count_kv", "(\(kvHeads)) must divide the head count (\(heads))")
        }
        let headDim: Int
        if let given = try int("attention.key_length", required: false, in: Limits.headDim) {
            headDim = given
        } else {
            guard hidden % heads == 0 else {
                throw fail(
                    "\(arch).attention.head_count",
                    "(\(heads)) does not divide the embedding length (\(hidden)) and there is no attention.key_length")
            }
            headDim = hidden / heads
        }
        let experts = try int("expert_count", required: false, in: Limits.experts)
        let active = try int("expert_used_count", required: false, in: Limits.experts)
        let ffn =
            try (experts != nil ? int("expert_feed_forward_length", required: false, in: Limits.ffnSize) : nil)
            ?? int("feed_forward_length", in: Limits.ffnSize)!
        let declared = try int("vocab_size", required: false, in: Limits.vocabularySize)
        let vocabulary =
            file["tokenizer.ggml.tokens"]?.arrayValue?.count ?? declared
            ?? file.tensor(named: "token_embd.weight")?.dimensions.last
        guard let vocabulary, Limits.vocabularySize.contains(vocabulary) else {
            throw fail("tokenizer.ggml.tokens", "gives no vocabulary size (and there is no token_embd.weight)")
        }
        let name = file["general.name"]?.stringValue ?? id
        self.init(
            id: id, name: name, layers: layers, hiddenSize: hidden, heads: heads, kvHeads: kvHeads, headDim: headDim,
            ffnSize: ffn, vocabularySize: vocabulary, tiedEmbeddings: file.tensor(named: "output.weight") == nil,
            ffnKind: .gated, experts: experts, activeExperts: experts == nil ? nil : (active ?? 1),
            source: "imported from \(URL(fileURLWithPath: file.path).lastPathComponent) (GGUF, architecture \(arch))")
        if let problem = validate() { throw fail(nil, problem) }
    }
}
