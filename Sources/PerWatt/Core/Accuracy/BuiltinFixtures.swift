/// Accuracy fixtures compiled into perwatt, each from a primary public source cited in `source`.
/// Only published figures: a model or quantization without one has no built-in fixture.
///
/// The MMLU figures below are aggregates; neither source states n, so n is the size of the MMLU
/// test set (14,042 questions), said so in `source`. Meta's figure is a macro average over the 57
/// subjects, so its Wilson interval is approximate.
package enum BuiltinFixtures {
    /// (name, JSON text): parsed by the same code as fixture files, so they are validated alike.
    package static let texts: [(name: String, json: String)] = {
        let meta =
            "Meta, Llama 3.2 model card (github.com/meta-llama/llama-models, models/llama3_2/MODEL_CARD.md), table 'Instruction Tuned Models': MMLU, 5-shot, macro_avg/acc, instruction-tuned model, Meta's internal evaluation library. n assumed: the MMLU test set (14,042 questions); the card states none."
        let metaPTQ =
            "Meta 'Vanilla PTQ' (same model card, 'Quantization Scheme'): 4-bit groupwise weights with group size 32 and 8-bit per-token dynamic activations in every transformer-block linear layer; classification layer and embeddings 8-bit per channel. perwatt measures it as q4_0 (4-bit groups of 32 with 8-bit activations), its closest ggml format; the accuracy is that scheme's, not ggml q4_0's."
        let qwen =
            "Qwen team, 'Performance of Quantized Models' (github.com/QwenLM/Qwen2.5, docs/source/benchmark/quantization_benchmark.rst, Qwen2 series): MMLU accuracy, greedy decoding, Qwen2 instruction-tuned model. n assumed: the MMLU test set (14,042 questions); the page states none."
        func gptq(_ bits: Int, _ size: String, _ precision: String) -> String {
            "Qwen's released Qwen2-\(size)-Instruct-GPTQ-Int\(bits) checkpoint (GPTQ, \(bits)-bit weights, 16-bit activations). perwatt measures it as \(precision), the ggml format with the same bits per weight; the accuracy is GPTQ's, not ggml \(precision)'s."
        }
        func fixture(_ model: String, _ quantization: String, _ accuracy: String, source: String, scheme: String? = nil)
            -> (String, String)
        {
            let schemeLine = scheme.map { "\n  \"scheme\": \"\($0)\"," } ?? ""
            return (
                "builtin:\(model)/\(quantization)/mmlu",
                """
                {
                  "schema": "perwatt.fixture/1",
                  "benchmark": "mmlu",
                  "model": "\(model)",
                  "quantization": "\(quantization)",\(schemeLine)
                  "source": "\(source)",
                  "aggregate": {"accuracy": \(accuracy), "n": 14042}
                }
                """
            )
        }
        return [
            fixture("llama-3.2-1b", "bf16", "0.493", source: meta),
            fixture("llama-3.2-1b", "q4_0", "0.433", source: meta, scheme: metaPTQ),
            fixture("llama-3.2-3b", "bf16", "0.634", source: meta),
            fixture("llama-3.2-3b", "q4_0", "0.605", source: meta, scheme: metaPTQ),
            fixture("llama-3.1-8b", "bf16", "0.694", source: meta),
            fixture("qwen2-0.5b", "bf16", "0.379", source: qwen),
            fixture("qwen2-0.5b", "q8_0", "0.356", source: qwen, scheme: gptq(8, "0.5B", "q8_0")),
            fixture("qwen2-0.5b", "q4_0", "0.330", source: qwen, scheme: gptq(4, "0.5B", "q4_0")),
            fixture("qwen2-1.5b", "bf16", "0.524", source: qwen),
            fixture("qwen2-1.5b", "q8_0", "0.530", source: qwen, scheme: gptq(8, "1.5B", "q8_0")),
            fixture("qwen2-1.5b", "q4_0", "0.507", source: qwen, scheme: gptq(4, "1.5B", "q4_0")),
            fixture("qwen2-7b", "bf16", "0.705", source: qwen),
            fixture("qwen2-7b", "q8_0", "0.691", source: qwen, scheme: gptq(8, "7B", "q8_0")),
            fixture("qwen2-7b", "q4_0", "0.678", source: qwen, scheme: gptq(4, "7B", "q4_0")),
        ]
    }()

    /// The built-in fixtures, parsed (a failure here is a bug in this file, caught by the tests).
    package static func all() throws -> [LoadedFixture] {
        var loaded: [LoadedFixture] = []
        for (name, json) in texts {
            loaded.append(
                LoadedFixture(fixture: try Fixture.parse(json, file: name), origin: name, sha256: SHA256.hex(json)))
        }
        return loaded
    }
}

/// A fixture with where it came from and the SHA-256 of its bytes.
package struct LoadedFixture: Sendable, Hashable {
    package var fixture: Fixture
    /// File path, or `builtin:…`.
    package var origin: String
    package var sha256: String

    package static func load(_ path: String) throws -> LoadedFixture {
        let text = try InputFile.read(path)
        return LoadedFixture(fixture: try Fixture.parse(text, file: path), origin: path, sha256: SHA256.hex(text))
    }
}
