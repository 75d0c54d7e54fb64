extension ModelSpec {
    /// Built-in presets: the public architecture numbers of the local models people run, from each
    /// model's `config.json` on Hugging Face (the repository named in `source`).
    package static let presets: [ModelSpec] = [
        dense(
            "smollm2-135m", "SmolLM2 135M", layers: 30, hidden: 576, heads: 9, kv: 3, headDim: 64, ffn: 1536,
            vocab: 49152,
            tied: true, source: "HuggingFaceTB/SmolLM2-135M config.json"),
        dense(
            "qwen2-0.5b", "Qwen2 0.5B", layers: 24, hidden: 896, heads: 14, kv: 2, headDim: 64, ffn: 4864,
            vocab: 151_936,
            tied: true, source: "Qwen/Qwen2-0.5B-Instruct config.json"),
        dense(
            "qwen2-1.5b", "Qwen2 1.5B", layers: 28, hidden: 1536, heads: 12, kv: 2, headDim: 128, ffn: 8960,
            vocab: 151_936,
            tied: true, source: "Qwen/Qwen2-1.5B-Instruct config.json"),
        dense(
            "qwen2-7b", "Qwen2 7B", layers: 28, hidden: 3584, heads: 28, kv: 4, headDim: 128, ffn: 18944,
            vocab: 152_064,
            tied: false, source: "Qwen/Qwen2-7B-Instruct config.json"),
        dense(
            "qwen2.5-0.5b", "Qwen2.5 0.5B", layers: 24, hidden: 896, heads: 14, kv: 2, headDim: 64, ffn: 4864,
            vocab: 151_936,
            tied: true, source: "Qwen/Qwen2.5-0.5B config.json"),
        dense(
            "qwen2.5-1.5b", "Qwen2.5 1.5B", layers: 28, hidden: 1536, heads: 12, kv: 2, headDim: 128, ffn: 8960,
            vocab: 151_936,
            tied: true, source: "Qwen/Qwen2.5-1.5B config.json"),
        dense(
            "qwen2.5-3b", "Qwen2.5 3B", layers: 36, hidden: 2048, heads: 16, kv: 2, headDim: 128, ffn: 11008,
            vocab: 151_936,
            tied: true, source: "Qwen/Qwen2.5-3B config.json"),
        dense(
            "qwen2.5-7b", "Qwen2.5 7B", layers: 28, hidden: 3584, heads: 28, kv: 4, headDim: 128, ffn: 18944,
            vocab: 152_064,
            tied: false, source: "Qwen/Qwen2.5-7B config.json"),
        dense(
            "qwen2.5-14b", "Qwen2.5 14B", layers: 48, hidden: 5120, heads: 40, kv: 8, headDim: 128, ffn: 13824,
            vocab: 152_064,
            tied: false, source: "Qwen/Qwen2.5-14B config.json"),
        dense(
            "qwen2.5-32b", "Qwen2.5 32B", layers: 64, hidden: 5120, heads: 40, kv: 8, headDim: 128, ffn: 27648,
            vocab: 152_064,
            tied: false, source: "Qwen/Qwen2.5-32B config.json"),
        dense(
            "gemma-2-2b", "Gemma 2 2B", layers: 26, hidden: 2304, heads: 8, kv: 4, headDim: 256, ffn: 9216,
            vocab: 256_000,
            tied: true, source: "google/gemma-2-2b config.json"),
        dense(
            "llama-3.2-1b", "Llama 3.2 1B", layers: 16, hidden: 2048, heads: 32, kv: 8, headDim: 64, ffn: 8192,
            vocab: 128_256,
            tied: true, source: "meta-llama/Llama-3.2-1B config.json"),
        dense(
            "llama-3.2-3b", "Llama 3.2 3B", layers: 28, hidden: 3072, heads: 24, kv: 8, headDim: 128, ffn: 8192,
            vocab: 128_256,
            tied: true, source: "meta-llama/Llama-3.2-3B config.json"),
        dense(
            "llama-3.1-8b", "Llama 3.1 8B", layers: 32, hidden: 4096, heads: 32, kv: 8, headDim: 128, ffn: 14336,
            vocab: 128_256,
            tied: false, source: "meta-llama/Llama-3.1-8B config.json"),
        dense(
            "llama-3.1-70b", "Llama 3.1 70B", layers: 80, hidden: 8192, heads: 64, kv: 8, headDim: 128, ffn: 28672,
            vocab: 128_256,
            tied: false, source: "meta-llama/Llama-3.1-70B config.json"),
        dense(
            "llama-3.1-405b", "Llama 3.1 405B", layers: 126, hidden: 16384, heads: 128, kv: 8, headDim: 128, ffn: 53248,
            vocab: 128_256, tied: false, source: "meta-llama/Llama-3.1-405B config.json"),
        dense(
            "mistral-7b", "Mistral 7B v0.3", layers: 32, hidden: 4096, heads: 32, kv: 8, headDim: 128, ffn: 14336,
            vocab: 32768,
            tied: false, source: "mistralai/Mistral-7B-v0.3 config.json"),
        dense(
            "pythia-12b", "Pythia 12B", layers: 36, hidden: 5120, heads: 40, kv: 40, headDim: 128, ffn: 20480,
            vocab: 50688,
            tied: false, kind: .plain, source: "EleutherAI/pythia-12b config.json (GPT-NeoX: plain GELU MLP)"),
        moe(
            "mixtral-8x7b", "Mixtral 8x7B", layers: 32, hidden: 4096, heads: 32, kv: 8, headDim: 128, expertFFN: 14336,
            vocab: 32000,
            experts: 8, active: 2, source: "mistralai/Mixtral-8x7B-v0.1 config.json"),
        moe(
            "mixtral-8x22b", "Mixtral 8x22B", layers: 56, hidden: 6144, heads: 48, kv: 8, headDim: 128,
            expertFFN: 16384, vocab: 32768,
            experts: 8, active: 2, source: "mistralai/Mixtral-8x22B-v0.1 config.json"),
        moe(
            "gpt-oss-20b", "gpt-oss 20B", layers: 24, hidden: 2880, heads: 64, kv: 8, headDim: 64, expertFFN: 2880,
            vocab: 201_088,
            experts: 32, active: 4,
            source: "openai/gpt-oss-20b config.json (sliding-window layers counted as full attention)"),
        moe(
            "gpt-oss-120b", "gpt-oss 120B", layers: 36, hidden: 2880, heads: 64, kv: 8, headDim: 64, expertFFN: 2880,
            vocab: 201_088,
            experts: 128, active: 4,
            source: "openai/gpt-oss-120b config.json (sliding-window layers counted as full attention)"),
    ]

    private static func dense(
        _ id: String, _ name: String, layers: Int, hidden: Int, heads: Int, kv: Int, headDim: Int, ffn: Int,
        vocab: Int, tied: Bool, kind: FFNKind = .gated, source: String
    ) -> ModelSpec {
        ModelSpec(
            id: id, name: name, layers: layers, hiddenSize: hidden, heads: heads, kvHeads: kv, headDim: headDim,
            ffnSize: ffn,
            vocabularySize: vocab, tiedEmbeddings: tied, ffnKind: kind, experts: nil, activeExperts: nil, source: source
        )
    }

    private static func moe(
        _ id: String, _ name: String, layers: Int, hidden: Int, heads: Int, kv: Int, headDim: Int, expertFFN: Int,
        vocab: Int, experts: Int, active: Int, source: String
    ) -> ModelSpec {
        ModelSpec(
            id: id, name: name, layers: layers, hiddenSize: hidden, heads: heads, kvHeads: kv, headDim: headDim,
            ffnSize: expertFFN, vocabularySize: vocab, tiedEmbeddings: false, ffnKind: .gated, experts: experts,
            activeExperts: active, source: source)
    }
}
