import Foundation
import KernelBench
import Testing

@testable import PerWattCLI
@testable import PerWattCore

@Suite struct ModelSpecTests {
    /// Parameter counts from the architecture numbers against the totals the model cards publish
    /// (an independent reference: the cards count the real checkpoints).
    @Test(arguments: [
        ("smollm2-135m", 135e6), ("qwen2.5-0.5b", 0.49e9), ("qwen2.5-1.5b", 1.54e9), ("qwen2.5-3b", 3.09e9),
        ("qwen2.5-7b", 7.61e9),
        ("qwen2.5-14b", 14.7e9), ("qwen2.5-32b", 32.5e9), ("gemma-2-2b", 2.61e9), ("llama-3.2-1b", 1.24e9),
        ("llama-3.2-3b", 3.21e9),
        ("llama-3.1-8b", 8.03e9), ("llama-3.1-70b", 70.6e9), ("llama-3.1-405b", 405e9), ("mixtral-8x7b", 46.7e9),
        ("mixtral-8x22b", 141e9), ("gpt-oss-20b", 20.9e9), ("gpt-oss-120b", 116.8e9), ("pythia-12b", 11.85e9),
    ])
    func parameterCountsMatchThePublishedTotals(id: String, published: Double) throws {
        let spec = try #require(ModelSpec.presets.first { $0.id == id })
        #expect(spec.validate() == nil)
        let error = abs(Double(spec.parameters) - published) / published
        // Biases, attention sinks and rounding in the cards are below 1%.
        #expect(error < 0.01, "\(id): \(spec.parameters) vs \(published)")
    }

    @Test func activeParametersFollowTheGptOssConvention() throws {
        // OpenAI's card: 20B has 3.6B active, 120B 5.1B (embedding lookup excluded).
        let small = try #require(ModelSpec.presets.first { $0.id == "gpt-oss-20b" })
        let large = try #require(ModelSpec.presets.first { $0.id == "gpt-oss-120b" })
        #expect(abs(Double(small.activeParameters) - 3.61e9) / 3.61e9 < 0.01, "\(small.activeParameters)")
        #expect(abs(Double(large.activeParameters) - 5.13e9) / 5.13e9 < 0.01, "\(large.activeParameters)")
    }

    @Test func weightBytesUseEachFormatsBlockSize() throws {
        let spec = tinyModel
        // Every matrix: 64·32 (qkv) + 32·32 (out) + 128·32 (gate/up) + 32·64 (down) per layer, ×2, + 100·32 embeddings.
        let values = Double(2 * (64 * 32 + 32 * 32 + 128 * 32 + 32 * 64) + 100 * 32)
        let norms = Double(2 * 2 * 32 * 4 + 32 * 4)
        #expect(spec.weightBytes(.f32) == values * 4 + norms)
        #expect(spec.weightBytes(.bf16) == values * 2 + norms)
        #expect(spec.weightBytes(.q8_0) == values / 32 * 34 + norms)
        #expect(spec.weightBytes(.q4_0) == values / 32 * 18 + norms)
        #expect(spec.kvCacheBytes(tokens: 10) == Double(2 * 2 * 16 * 10 * 2))
    }

    @Test func importsAHuggingFaceConfig() throws {
        let directory = TestFiles.path("perwatt-models")
        let folder = directory.appendingPathComponent("Mixtral-8x7B-v0.1")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = folder.appendingPathComponent("config.json")
        try """
        {"architectures": ["MixtralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336, "model_type": "mixtral",
         "num_attention_heads": 32, "num_experts_per_tok": 2, "num_hidden_layers": 32, "num_key_value_heads": 8,
         "num_local_experts": 8, "rms_norm_eps": 1e-05, "tie_word_embeddings": false, "vocab_size": 32000}
        """.write(to: config, atomically: true, encoding: .utf8)
        let spec = try ModelRegistry.load(config.path)
        #expect(spec.id == "mixtral-8x7b-v0.1" && spec.headDim == 128 && spec.experts == 8 && spec.activeExperts == 2)
        #expect(spec.parameters == ModelSpec.presets.first { $0.id == "mixtral-8x7b" }!.parameters)

        // perwatt models import saves it where perwatt run finds it.
        let environment = ["PERWATT_MODELS_DIR": directory.appendingPathComponent("store").path]
        let imported = CLIHarness.run(
            ["models", "import", config.path, "--id", "my-mixtral"], environment: environment)
        #expect(imported.status == .success, "\(imported.stderr)")
        let listed = CLIHarness.run(["models", "--json"], environment: environment)
        #expect(listed.stdout.contains("\"id\" : \"my-mixtral\""))
        let clash = CLIHarness.run(["models", "import", config.path, "--id", "llama-3.1-8b"], environment: environment)
        #expect(clash.status == .usage && clash.stderr.contains("is the id of the built-in Llama 3.1 8B"))
    }

    @Test func configErrorsNameTheField() throws {
        let file = TestFiles.path("perwatt-bad-config.json")
        try
            "{\"hidden_size\": 64,\n \"num_attention_heads\": 6,\n \"num_key_value_heads\": 4,\n \"num_hidden_layers\": 2, \"intermediate_size\": 8, \"vocab_size\": 10}"
            .write(to: file, atomically: true, encoding: .utf8)
        let result = CLIHarness.run(["models", "import", file.path])
        #expect(result.status == .dataError)
        #expect(
            result.stderr.contains(":3: num_key_value_heads: (4) must divide num_attention_heads (6)"),
            "\(result.stderr)")
        try "{\"num_hidden_layers\": 2, \"hidden_size\": \"64\"}".write(to: file, atomically: true, encoding: .utf8)
        let typed = CLIHarness.run(["models", "import", file.path])
        #expect(
            typed.stderr.contains(":1: hidden_size: must be a whole number from 1 to 262144, not a string"),
            "\(typed.stderr)")
        #expect(CLIHarness.run(["models", "import", "/nonexistent/config.json"]).status == .noInput)
    }
}
