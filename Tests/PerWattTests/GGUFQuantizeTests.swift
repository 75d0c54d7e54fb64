import Foundation
import KernelBench
import Testing

@testable import PerWattCLI
@testable import PerWattCore

/// `perwatt gguf quantize` against `llama-quantize --pure --allow-requantize`: the SHA-256 of every
/// tensor of llama-quantize's output (KernelBenchTests/Model/make_quantize_data.sh) equals that of
/// perwatt's, for the three random-weight models at every type, and with PERWATT_SMOLLM2_GGUF set for
/// SmolLM2-135M-Instruct Q4_1 at f16, q8_0, q4_0 and q4_1.
@Suite struct GGUFQuantizeTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../KernelBenchTests/Model").standardized

    /// file name → tensor name → (type, sha256).
    static func reference(_ name: String) throws -> [String: [String: [String]]] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(name)))
            as! [String: [String: [String]]]
    }

    /// Quantizes `input` to `type` with the command and compares every tensor with llama-quantize's.
    static func check(_ input: String, type: String, expected: [String: [String]]) throws {
        let out = RunCommandTests.temporary("\(URL(fileURLWithPath: input).lastPathComponent).\(type).gguf")
        let result = CLIHarness.run(["gguf", "quantize", input, out, "--type", type.lowercased()])
        #expect(result.status == .success, "\(result.stderr)")
        let file = try GGUFFile(path: out)
        #expect(
            file["general.file_type"]?.intValue
                == Int(GGUFRequantizer.fileType(Precision(rawValue: type.lowercased())!)))
        #expect(file.tensors.count == expected.count)
        var differing: [String] = []
        for tensor in file.tensors {
            let hash = SHA256.hex(Array(file.bytes(of: tensor)))
            if expected[tensor.name] != [tensor.type.name.lowercased(), hash] { differing.append(tensor.name) }
        }
        #expect(differing.isEmpty, "\(input) at \(type): tensors differing from llama-quantize: \(differing)")
    }

    @Test(arguments: ["llama", "qwen2", "qwen3"])
    func tensorsEqualLlamaQuantize(architecture: String) throws {
        let reference = try Self.reference("quantize.llama.json")
        for type in ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1"] {
            try Self.check(
                Self.directory.appendingPathComponent("tiny-\(architecture).gguf").path, type: type,
                expected: reference["tiny-\(architecture).\(type).gguf"]!)
        }
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["PERWATT_SMOLLM2_GGUF"] != nil))
    func smolLM2TensorsEqualLlamaQuantize() throws {
        let reference = try Self.reference("smollm2-quantize.llama.json")
        for type in ["F16", "Q8_0", "Q4_0", "Q4_1"] {
            try Self.check(
                ProcessInfo.processInfo.environment["PERWATT_SMOLLM2_GGUF"]!, type: type,
                expected: reference["smollm2.\(type).gguf"]!)
        }
    }

    @Test func badRequestsAreClearErrors() {
        let tiny = Self.directory.appendingPathComponent("tiny-llama.gguf").path
        let noType = CLIHarness.run(["gguf", "quantize", tiny, RunCommandTests.temporary("x.gguf")])
        #expect(noType.status == .usage && noType.stderr.contains("--type"))
        let badType = CLIHarness.run(["gguf", "quantize", tiny, RunCommandTests.temporary("x.gguf"), "--type", "q5_0"])
        #expect(badType.status == .usage, "\(badType.stderr)")
        let missing = CLIHarness.run([
            "gguf", "quantize", "/nonexistent.gguf", RunCommandTests.temporary("x.gguf"), "--type", "q8_0",
        ])
        #expect(missing.status == .noInput)
    }
}
