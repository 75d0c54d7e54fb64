import Foundation
import KernelBench
import PowerProbe
import ProbeTestSupport
import Testing

@testable import PerWattCLI
@testable import PerWattCore

extension Fingerprint {
    /// A fixed fingerprint so CLI output can be compared with snapshots.
    static let test = Fingerprint(
        perwattVersion: "test", cpuModel: "Test CPU 9000", architecture: "x86_64", logicalCPUs: 2, virtualized: false,
        cpuFlags: ["avx2", "fma"], memoryBytes: 16 << 30, kernel: "6.1.0-test", governor: "performance",
        blas: BLASInfo(config: "OpenBLAS 0.3.21 test", coreName: "Zen", threads: 2, parallel: "pthreads"),
        buildTarget: BuildTarget(name: "native", requiredFlags: ["avx2", "fma"]))
}

/// Runs the CLI in-process with captured output, a fixed fingerprint and injectable sysfs/NVML.
enum CLIHarness {
    static func context(
        sysfs: (any SysfsAccess)? = nil, nvml: FakeNVML? = nil,
        environment: [String: String] = [:]
    ) -> (CLIContext, CapturedSink, CapturedSink) {
        let stdout = CapturedSink()
        let stderr = CapturedSink()
        var context = CLIContext(
            stdout: stdout, stderr: stderr, environment: environment,
            makeProbeEnvironment: { powercap, hwmon in
                .fake(powercapRoot: powercap, hwmonRoot: hwmon, sysfs: sysfs ?? LinuxSysfs(), nvml: nvml)
            },
            fingerprint: { .test },
            hostCPUFlags: { nil })
        // Fixed limits: measuring them takes seconds in a debug build and is not what these tests check.
        context.machineLimits = { _, _, _ in (peak: 100e9, bandwidth: 20e9) }
        return (context, stdout, stderr)
    }

    /// Runs `arguments`; `--hwmon-root` defaults to a missing folder so the host's sensors never leak in.
    /// `availableMemory` replaces /proc/meminfo's MemAvailable (nil: the machine's own).
    static func run(
        _ arguments: [String], sysfs: (any SysfsAccess)? = nil, nvml: FakeNVML? = nil,
        environment: [String: String] = [:],
        availableMemory: UInt64? = nil
    )
        -> (status: ExitCode, stdout: String, stderr: String)
    {
        var (context, stdout, stderr) = context(
            sysfs: sysfs, nvml: nvml,
            environment: [
                "PERWATT_HWMON_ROOT": Fixtures.path("hwmon/missing"),
                "PERWATT_POWERCAP_ROOT": Fixtures.path("powercap/missing"),
                "PERWATT_MODELS_DIR": Fixtures.path("models/none"),
            ].merging(environment) { _, new in new })
        if let availableMemory { context.availableMemoryBytes = { availableMemory } }
        let status = PerWattCLI.run(arguments, context: context)
        return (status, stdout.text, stderr.text)
    }
}

/// Compares text with `Snapshots/NAME.txt`, with the fixture root written as `<fixtures>`.
/// Set PERWATT_RECORD_SNAPSHOTS=1 to re-record; a recorded snapshot fails once so it gets reviewed.
enum Snapshot {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Snapshots")

    static func assert(_ text: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let normalized = text.replacingOccurrences(of: Fixtures.root, with: "<fixtures>")
        let file = directory.appendingPathComponent(name + ".txt")
        let record = ProcessInfo.processInfo.environment["PERWATT_RECORD_SNAPSHOTS"] == "1"
        guard !record, let expected = try? String(contentsOf: file, encoding: .utf8) else {
            try? normalized.write(to: file, atomically: true, encoding: .utf8)
            Issue.record(
                "recorded snapshot \(name).txt; review it and run the tests again", sourceLocation: sourceLocation)
            return
        }
        #expect(normalized == expected, "output differs from Snapshots/\(name).txt", sourceLocation: sourceLocation)
    }
}

/// Decodes JSON text into nested dictionaries for assertions.
func parseJSON(_ text: String) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    return try #require(object as? [String: Any])
}

/// Where the tests write files: one folder per test process under the system's temporary directory,
/// removed when the process exits, so repeated `swift test` runs leave nothing behind.
enum TestFiles {
    static let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "perwatt-tests-\(getpid())", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: TestFiles.directory) }
        return url
    }()

    /// A fresh path in the folder, ending in `name`.
    static func path(_ name: String) -> URL { directory.appendingPathComponent("\(UUID().uuidString)-\(name)") }
}
