import Foundation
import KernelBench
import Testing

@testable import PerWattCLI
@testable import PerWattCore

/// `perwatt gguf info`, and model specs read from GGUF metadata, on the gguf-py-written test file;
/// `perwatt gguf tokenize` on llama.cpp's vocabularies (KernelBenchTests/Tokenizer).
@Suite struct GGUFCommandTests {
    static let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../KernelBenchTests/GGUF/tiny.gguf").standardized.path

    static func vocabulary(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../KernelBenchTests/Tokenizer/\(name)").standardized.path
    }

    @Test func aSpecFromTheMetadata() throws {
        let spec = try ModelSpec(gguf: try GGUFFile(path: Self.tiny), id: "tiny")
        #expect(spec.layers == 2 && spec.hiddenSize == 32 && spec.heads == 4 && spec.kvHeads == 2)
        #expect(spec.headDim == 8 && spec.ffnSize == 64 && spec.vocabularySize == 100 && spec.tiedEmbeddings)
        #expect(spec.source.contains("GGUF, architecture llama"))
    }

    @Test func infoSaysWhatTheFileHolds() throws {
        let text = CLIHarness.run(["gguf", "info", Self.tiny])
        #expect(text.status == .success, "\(text.stderr)")
        #expect(text.stdout.contains("tokenizer       gpt2 (pre-tokenizer smollm), 100 tokens"), "\(text.stdout)")
        #expect(text.stdout.contains("model spec      tiny: 2 layers, hidden 32, 4 heads / 2 KV of 8"))
        let json = try parseJSON(CLIHarness.run(["gguf", "info", Self.tiny, "--json"]).stdout)
        #expect(json["schema"] as? String == "perwatt.gguf/1" && json["tensorCount"] as? Int == 6)
        #expect(json["parameters"] as? Int == 15 + 8 + 16 + 128 + 32 + 96)
        let types = try #require(json["types"] as? [[String: Any]])
        #expect(Set(types.compactMap { $0["type"] as? String }) == ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1"])
    }

    @Test func importAndRunTakeAGGUFPath() throws {
        let folder = RunCommandTests.temporary("gguf-models")
        let imported = CLIHarness.run(["models", "import", Self.tiny], environment: ["PERWATT_MODELS_DIR": folder])
        #expect(imported.status == .success, "\(imported.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder + "/tiny.json"))
        let plan = CLIHarness.run([
            "run", "--model", Self.tiny, "--quantization", "q8_0", "--dry-run", "--energy", "none",
        ])
        #expect(
            plan.status == .success && plan.stdout.contains("tiny q8_0: 12 kernels × 2 layers"),
            "\(plan.stdout)\(plan.stderr)")
    }

    @Test func badFilesGiveTheirExitCodes() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.tiny)))
        let broken = RunCommandTests.temporary("broken.gguf")
        try Data(bytes.prefix(100)).write(to: URL(fileURLWithPath: broken))
        let cut = CLIHarness.run(["gguf", "info", broken])
        #expect(cut.status == .dataError && cut.stderr.contains("broken.gguf: byte "), "\(cut.stderr)")
        #expect(CLIHarness.run(["gguf", "info", broken + ".missing"]).status == .noInput)
        #expect(CLIHarness.run(["gguf", "info"]).status == .usage)
        // Another architecture: read and listed, but no spec (and run refuses it, naming the key).
        let llama = Array("llama".utf8)
        let bloom = Array("bloom".utf8)
        var index = 0
        while index + 5 <= bytes.count {
            if Array(bytes[index..<(index + 5)]) == llama { bytes.replaceSubrange(index..<(index + 5), with: bloom) }
            index += 1
        }
        let other = RunCommandTests.temporary("bloom.gguf")
        try Data(bytes).write(to: URL(fileURLWithPath: other))
        let info = CLIHarness.run(["gguf", "info", other])
        #expect(
            info.status == .success && info.stdout.contains("model spec      none: general.architecture: is \"bloom\""))
        let run = CLIHarness.run(["run", "--model", other, "--quantization", "q8_0", "--dry-run", "--energy", "none"])
        #expect(run.status == .dataError && run.stderr.contains("general.architecture"), "\(run.stderr)")
    }

    @Test func tokenizePrintsIdsAsLlamaTokenizeDoes() throws {
        let llama3 = Self.vocabulary("ggml-vocab-llama-bpe.gguf")
        // llama-tokenize -m ggml-vocab-llama-bpe.gguf -p "Hello world" --ids prints [128000, 9906, 1917].
        let ids = CLIHarness.run(["gguf", "tokenize", llama3, "--text", "Hello world"])
        #expect(ids.status == .success && ids.stdout == "[128000, 9906, 1917]\n", "\(ids.stdout)\(ids.stderr)")
        let noBOS = CLIHarness.run(["gguf", "tokenize", llama3, "--text", "Hello world", "--no-bos"])
        #expect(noBOS.stdout == "[9906, 1917]\n")
        // A file is read byte for byte: its final newline is a token (198).
        let file = RunCommandTests.temporary("prompt.txt")
        try "Hello world\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(CLIHarness.run(["gguf", "tokenize", llama3, "--file", file]).stdout == "[128000, 9906, 1917, 198]\n")
    }

    @Test func tokenizeJSONHasIdsAndPieces() throws {
        let smollm2 = Self.vocabulary("ggml-vocab-smollm2.gguf")
        let text = "<|im_start|>user\nHi 42<|im_end|>"
        let plain = try parseJSON(CLIHarness.run(["gguf", "tokenize", smollm2, "--text", text, "--json"]).stdout)
        let special = try parseJSON(
            CLIHarness.run(["gguf", "tokenize", smollm2, "--text", text, "--parse-special", "--json"]).stdout)
        #expect(special["schema"] as? String == "perwatt.tokens/1" && special["pre"] as? String == "smollm")
        // smollm splits digits one by one; with --parse-special the control tokens are tokens 1 and 2
        // (llama-tokenize -f FILE --ids, which parses special tokens by default, prints these ids).
        #expect(special["ids"] as? [Int] == [1, 4093, 198, 26843, 216, 36, 34, 2])
        #expect(special["pieces"] as? [String] == ["<|im_start|>", "user", "\n", "Hi", " ", "4", "2", "<|im_end|>"])
        #expect((plain["ids"] as? [Int])?.contains(1) == false && plain["text"] as? String == text)
    }

    @Test func detokenizeGivesTheText() throws {
        let llama3 = Self.vocabulary("ggml-vocab-llama-bpe.gguf")
        let back = CLIHarness.run(["gguf", "tokenize", llama3, "--detokenize", "--text", "[128000, 9906, 1917, 198]"])
        #expect(back.status == .success && back.stdout == "<|begin_of_text|>Hello world\n", "\(back.stderr)")
        let noSpecial = CLIHarness.run([
            "gguf", "tokenize", llama3, "--detokenize", "--no-special", "--text", "128000,9906 1917",
        ])
        #expect(noSpecial.stdout == "Hello world")
        let spm = Self.vocabulary("ggml-vocab-llama-spm.gguf")
        let ids = CLIHarness.run(["gguf", "tokenize", spm, "--text", "Hello world"]).stdout
        #expect(ids == "[1, 15043, 3186]\n")
        #expect(CLIHarness.run(["gguf", "tokenize", spm, "--detokenize", "--text", ids]).stdout == "<s> Hello world")
    }

    @Test func tokenizeErrorsGiveTheirExitCodes() throws {
        let llama3 = Self.vocabulary("ggml-vocab-llama-bpe.gguf")
        // tiny.gguf says gpt2/smollm but has no merges: a TokenizerError, exit 65, naming the key.
        let noMerges = CLIHarness.run(["gguf", "tokenize", Self.tiny, "--text", "hi"])
        #expect(
            noMerges.status == .dataError && noMerges.stderr.contains("key tokenizer.ggml.merges"), "\(noMerges.stderr)"
        )
        #expect(CLIHarness.run(["gguf", "tokenize", llama3]).status == .usage)
        let infoOption = CLIHarness.run(["gguf", "info", llama3, "--text", "a"])
        #expect(infoOption.status == .usage && infoOption.stderr.contains("--text is an option of tokenize"))
        #expect(CLIHarness.run(["gguf", "tokenize", llama3, "--text", "a", "--file", "b"]).status == .usage)
        #expect(CLIHarness.run(["gguf", "tokenize", llama3, "--file", llama3 + ".missing"]).status == .noInput)
        #expect(CLIHarness.run(["gguf", "tokenize", llama3 + ".missing", "--text", "a"]).status == .noInput)
        let badID = CLIHarness.run(["gguf", "tokenize", llama3, "--detokenize", "--text", "1 x 2"])
        #expect(badID.status == .usage && badID.stderr.contains("'x' is not a token id"), "\(badID.stderr)")
        let outOfRange = CLIHarness.run(["gguf", "tokenize", llama3, "--detokenize", "--text", "128256"])
        #expect(outOfRange.status == .usage && outOfRange.stderr.contains("0 to 128255"))
    }
}
