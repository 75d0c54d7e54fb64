import Foundation
import Testing
import ProbeTestSupport

/// A few runs of the built `perwatt` binary, checking exit codes and stream separation.
@Suite(.serialized) struct BinaryTests {
    static let binary: String = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("perwatt").path
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
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "perwatt not built at \(Self.binary)")
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
}
