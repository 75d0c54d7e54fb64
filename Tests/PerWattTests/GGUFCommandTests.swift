import Foundation
import KernelBench
import Testing

@testable import PerWattCLI
@testable import PerWattCore

/// `perwatt gguf info`, and model specs read from GGUF metadata, on the gguf-py-written test file.
@Suite struct GGUFCommandTests {
    static let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../KernelBenchTests/GGUF/tiny.gguf").standardized.path

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
}
