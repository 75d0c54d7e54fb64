import Foundation
import KernelBench
import Testing

@testable import PerWattCLI
@testable import PerWattCore

/// `perwatt generate` in-process on the random-weight test models (KernelBenchTests/Model), whose
/// greedy tokens KernelBenchTests checks against llama.cpp; here the command around them.
@Suite struct GenerateCommandTests {
    static func model(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../KernelBenchTests/Model/\(name)").standardized.path
    }

    @Test func generatesAndReportsBothPhases() throws {
        let result = CLIHarness.run([
            "generate", Self.model("tiny-llama.gguf"), "--prompt", "the word of", "--max-tokens", "5", "--json",
            "--energy", "none", "--threads", "2",
        ])
        #expect(result.status == .success, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        #expect(object["schema"] as? String == "perwatt.generate/1")
        let tokens = object["tokens"] as! [Int]
        #expect(!tokens.isEmpty && tokens.count <= 5)
        // BOS (the model adds it), then byte fallback: the vocabulary has "▁the" but not "▁t" or "▁th", so
        // SentencePiece's merges never reach it; "▁the▁word▁of" is 3 + 3 + 3 + 4 + 3 + 2 UTF-8 bytes.
        let prompt = object["promptTokens"] as! [Int]
        #expect(prompt.first == 1 && prompt.count == 19, "\(prompt)")
        let generation = object["generation"] as! [String: Any]
        #expect(generation["tokens"] as? Int == tokens.count && generation["energy"] == nil)
        #expect(object["energyUnavailableReason"] as? String == "--energy none")
        #expect((object["weightTypes"] as! [String: Int]) == ["q4_0": 8, "q4_1": 6, "q8_0": 2])
        // The same run as text: the continuation first, then the phases.
        let text = CLIHarness.run([
            "generate", Self.model("tiny-llama.gguf"), "--prompt", "the word of", "--max-tokens", "5", "--energy",
            "none",
        ])
        #expect(text.status == .success && text.stdout.contains("generation") && text.stdout.contains("tok/s"))
    }

    @Test func requantizesOnRequest() throws {
        let result = CLIHarness.run([
            "generate", Self.model("tiny-qwen3.gguf"), "--prompt", "a", "--max-tokens", "2", "--json", "--energy",
            "none", "--quantization", "q8_0",
        ])
        #expect(result.status == .success, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        #expect(
            (object["weightTypes"] as! [String: Int]) == ["q8_0": 15] && object["requantizedTo"] as? String == "q8_0")
    }

    @Test func badInputIsAClearError() {
        let tiny = Self.model("tiny-llama.gguf")
        let missingPrompt = CLIHarness.run(["generate", tiny])
        #expect(missingPrompt.status == .usage && missingPrompt.stderr.contains("--prompt TEXT is required"))
        let template = CLIHarness.run(["generate", tiny, "--prompt", "x", "--chat-template", "nonsense"])
        #expect(template.status == .usage && template.stderr.contains("chatml"))
        // The test models have no chat template: --chat says so and names the ways out.
        let noTemplate = CLIHarness.run(["generate", tiny, "--prompt", "x", "--chat", "--energy", "none"])
        #expect(noTemplate.status == .dataError, "\(noTemplate.stderr)")
        #expect(noTemplate.stderr.contains("--chat-template"), "\(noTemplate.stderr)")
        let vocabularyOnly = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../KernelBenchTests/Tokenizer/ggml-vocab-gpt-2.gguf").standardized.path
        let noWeights = CLIHarness.run(["generate", vocabularyOnly, "--prompt", "x", "--energy", "none"])
        #expect(
            noWeights.status == .dataError && noWeights.stderr.contains("general.architecture: is \"gpt2\""),
            "\(noWeights.stderr)")
        let missing = CLIHarness.run(["generate", "/nonexistent/model.gguf", "--prompt", "x", "--energy", "none"])
        #expect(missing.status == .noInput, "\(missing.stderr)")
        let tooSmall = CLIHarness.run(["generate", tiny, "--prompt", "x", "--energy", "none"], availableMemory: 1000)
        #expect(tooSmall.status == .insufficientMemory, "\(tooSmall.stderr)")
    }
}
