import Foundation
import ProbeTestSupport
import Testing

@testable import PerWattCore

/// A few runs of the built `perwatt` binary, checking exit codes and stream separation.
@Suite(.serialized) struct BinaryTests {
    static let binary: String = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "perwatt"
        ).path
        return beside
    }()

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PERWATT_HWMON_ROOT"] = Fixtures.path("hwmon/missing")
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)
        )
    }

    /// Waits for `process` to end after an interrupt; kills it (and records an issue) if it has not
    /// within `seconds`, so that a hang never stalls the test suite.
    static func waitForExit(_ process: Process, seconds: Double, what: String) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("\(what) did not stop within \(Int(seconds)) s of SIGINT")
        }
        process.waitUntilExit()
    }

    @Test func theBuiltBinaryRunsAndNamesItsVersionAndTarget() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "perwatt not built at \(Self.binary)")
        let result = try run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("perwatt \(PerWattRelease.version) (kernels built for "), "\(result.stdout)")
        #expect(try run(["no-such-command"]).status == 64)
    }

    @Test func probeOnAFakeTree() throws {
        let result = try run(["probe", "--energy", "rapl", "--powercap-root", Fixtures.path("powercap/intel-laptop")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Basis (--energy rapl): rapl:psys"))
    }

    @Test func execPassesTheCommandsStatusThrough() throws {
        #expect(try run(["exec", "--energy", "none", "--", "sh", "-c", "exit 5"]).status == 5)
        #expect(try run(["exec", "--energy", "none", "--", "true"]).status == 0)
    }

    @Test func execJSONKeepsStdoutForJSONAndSendsTheCommandsOutputToStderr() throws {
        let result = try run(["exec", "--json", "--energy", "none", "--", "echo", "hello from the child"])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(object?["energy"] is NSNull)
        // stdout parsed as one JSON object above, so the child's line cannot be on it.
        #expect(result.stderr.contains("hello from the child\n"))
    }

    @Test func documentedExitCodes() throws {
        #expect(try run(["frobnicate"]).status == 64)
        #expect(try run(["exec", "--energy", "rapl", "--powercap-root", "/nonexistent", "--", "true"]).status == 69)
        #expect(try run(["exec", "--energy", "none", "--", "perwatt-no-such-command"]).status == 127)
        #expect(try run(["--version"]).status == 0)
    }

    /// Ctrl-C during `perwatt run`: exit 130, and the result file is there, marked incomplete.
    @Test func interruptedRunKeepsAnIncompleteResult() throws {
        let out = TestFiles.path("perwatt-interrupted.json").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = [
            "run", "--suite", "quick", "--energy", "none", "--out", out, "--min-time", "0.05", "--repetitions", "1000",
        ]
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        process.interrupt()
        // It must stop within a window or two; never hang the test suite if it does not.
        Self.waitForExit(process, seconds: 30, what: "perwatt run")
        #expect(process.terminationStatus == 130)
        let object =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        #expect(object?["schema"] as? String == "perwatt.result/2")
        #expect(object?["complete"] as? Bool == false)
        #expect((object?["incompleteReason"] as? String)?.contains("interrupted") == true)
    }

    /// Ctrl-C while the server is still thinking: the request is abandoned at once, the fixture keeps
    /// the answered queries and lists the interrupted one, and the exit status is 130.
    @Test func interruptedEvalStopsMidRequestAndKeepsWhatFinished() throws {
        let server = try StubOpenAIServer { _, index in
            index < 2 ? .answer("42") : .delay(20, then: .init(.answer("42")))
        }
        let out = TestFiles.path("perwatt-eval-interrupted.json").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = [
            "eval", "--endpoint", server.endpoint, "--model", "m", "--queries", "builtin:arithmetic", "--limit", "5",
            "--energy", "none", "--out", out, "--timeout", "60",
        ]
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        // Wait until the third request is in flight.
        let started = Date()
        while server.received.count < 3 && Date().timeIntervalSince(started) < 20 {
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.interrupt()
        Self.waitForExit(process, seconds: 5, what: "perwatt eval")
        #expect(process.terminationStatus == 130)
        let object =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        #expect((object?["queries"] as? [Any])?.count == 2)
        let eval = object?["eval"] as? [String: Any]
        #expect((eval?["incompleteReason"] as? String)?.hasSuffix("interrupted (Ctrl-C)") == true)
        #expect(((eval?["failed"] as? [[String: Any]])?.first?["error"] as? String)?.hasPrefix("interrupted") == true)
    }

    @Test func fixtureValidateExitCodes() throws {
        let good = TestFiles.path("perwatt-good.json").path
        try """
        {"schema": "perwatt.fixture/1", "benchmark": "b", "model": "m", "quantization": "f16", "source": "s",
         "aggregate": {"accuracy": 0.5, "n": 10}}
        """.write(toFile: good, atomically: true, encoding: .utf8)
        #expect(try run(["fixture", "validate", good]).status == 0)
        let bad = good + ".bad.json"
        try "{\"schema\": \"perwatt.fixture/1\"}".write(toFile: bad, atomically: true, encoding: .utf8)
        let result = try run(["fixture", "validate", good, bad])
        #expect(result.status == 65 && result.stderr.contains(":1: quantization: is missing"), "\(result.stderr)")
        #expect(try run(["fixture", "validate", "/nonexistent.json"]).status == 66)
    }
}
