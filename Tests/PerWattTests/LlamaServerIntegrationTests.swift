import Foundation
import Testing

@testable import PerWattCLI
@testable import PerWattCore

/// Opt-in: `perwatt eval` against a real llama-server running SmolLM2-135M-Instruct (docs/eval.md says
/// how to build the server and extract the model). Set PERWATT_LLAMA_SERVER to the llama-server binary
/// and PERWATT_SMOLLM2_GGUF to the model file; otherwise the test is skipped, saying so.
@Suite struct LlamaServerIntegrationTests {
    static let server = ProcessInfo.processInfo.environment["PERWATT_LLAMA_SERVER"]
    static let model = ProcessInfo.processInfo.environment["PERWATT_SMOLLM2_GGUF"]
    static var available: Bool {
        guard let server, let model else { return false }
        return FileManager.default.isExecutableFile(atPath: server) && FileManager.default.fileExists(atPath: model)
    }

    @Test(
        .enabled(
            if: available,
            "needs PERWATT_LLAMA_SERVER (a llama-server binary) and PERWATT_SMOLLM2_GGUF (SmolLM2-135M-Instruct GGUF); see docs/eval.md"
        ))
    func realServerAnswersAndEveryAnswerIsGraded() throws {
        let port = 18_000 + Int(getpid() % 1000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.server!)
        process.arguments = [
            "-m", Self.model!, "--host", "127.0.0.1", "--port", "\(port)", "-t", "2", "-c", "2048", "-np", "1",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // SIGKILL: the test runner may start processes with SIGTERM blocked, which llama-server inherits.
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        // Wait for the model to load: /health answers 200 when ready.
        let target = try HTTPClient.target("http://127.0.0.1:\(port)")
        var ready = false
        for _ in 0..<120 where !ready {
            Thread.sleep(forTimeInterval: 0.25)
            var status = 0
            try? HTTPClient.request(
                target, method: "GET", path: "/health", headers: [], body: [], deadline: POSIX.monotonicSeconds() + 1,
                onHead: { code, _ in status = code }, onBody: { _ in })
            ready = status == 200
        }
        try #require(ready, "llama-server did not become ready in 30 s")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent(
            "perwatt-llama-\(UUID().uuidString).json"
        ).path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = CLIHarness.run([
            "eval", "--endpoint", "http://127.0.0.1:\(port)/v1", "--model", "smollm2", "--queries", "builtin:knowledge",
            "--limit", "10", "--out", out, "--energy", "none",
        ])
        #expect(result.status == .success, "\(result.stderr)")
        let fixture = try Fixture.parse(String(contentsOfFile: out, encoding: .utf8), file: out)
        let queries = try #require(fixture.queries)
        #expect(queries.count == 10 && fixture.eval?.complete == true)
        // Real answers with real usage and a first token before the end.
        for query in queries {
            #expect(query.answer?.isEmpty == false && (query.promptTokens ?? 0) > 20 && (query.outputTokens ?? 0) >= 1)
            #expect((query.timeToFirstTokenSeconds ?? 9) < (query.latencySeconds ?? 0))
            #expect(query.cachedPromptTokens ?? 0 == 0, "cache_prompt false must make every prefill real")
        }
        // Temperature 0 and a fixed seed: asking again gives the same answers.
        let again = CLIHarness.run([
            "eval", "--endpoint", "http://127.0.0.1:\(port)/v1", "--model", "smollm2", "--queries", "builtin:knowledge",
            "--limit", "10", "--out", out + ".2", "--energy", "none",
        ])
        defer { try? FileManager.default.removeItem(atPath: out + ".2") }
        #expect(again.status == .success)
        let second = try Fixture.parse(String(contentsOfFile: out + ".2", encoding: .utf8), file: out)
        #expect(second.queries?.map(\.answer) == queries.map(\.answer))
    }
}
