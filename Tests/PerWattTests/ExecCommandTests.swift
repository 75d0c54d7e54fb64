import Foundation
import PowerProbe
import ProbeTestSupport
import Testing

@testable import PerWattCLI
@testable import PerWattCore

@Suite(.serialized) struct ExecCommandTests {
    /// package-0 at 30 W wrapping every 0.5 s (15 J range), dram at 6 W, core at 20 W (inside the package).
    /// 30 W package + 6 W DRAM (+ 20 W core, inside the package). The default 15 J range wraps every
    /// 0.5 s, so the wrap-safe gap is 15 ms: a test that needs no wraps takes a wide range, so that a
    /// loaded machine's scheduling pauses cannot make its windows untrusted.
    func knownPowerTree(packageRange: UInt64 = 15_000_000) -> FakeSysfs {
        let sysfs = FakeSysfs()
        for (id, name, watts, range) in [
            ("intel-rapl:0", "package-0", 30.0, packageRange),
            ("intel-rapl:0:0", "dram", 6.0, UInt64(65_712_999_613)),
            ("intel-rapl:0:1", "core", 20.0, packageRange),
        ] {
            sysfs.set("/pc/\(id)/name", text: name + "\n")
            sysfs.set("/pc/\(id)/max_energy_range_uj", text: "\(range)\n")
            sysfs.set(
                "/pc/\(id)/energy_uj",
                .counter(ClockCounter(watts: watts, rangeMicrojoules: range, startMicrojoules: range - 1_000_000)))
        }
        return sysfs
    }

    @Test func execReportsAKnownPowerWithin2PercentWrapsIncluded() throws {
        let result = CLIHarness.run(
            ["exec", "--json", "--powercap-root", "/pc", "--", "sleep", "1.2"], sysfs: knownPowerTree())
        #expect(result.status == .success, "\(result.stderr)")
        let json = try parseJSON(result.stdout)
        #expect(json["schema"] as? String == "perwatt.exec/2")
        #expect(json["exitStatus"] as? Int == 0)
        #expect(json["command"] as? [String] == ["sleep", "1.2"])
        let duration = try #require(json["durationSeconds"] as? Double)
        #expect(duration >= 1.2 && duration < 2.5)
        let energy = try #require(json["energy"] as? [String: Any])
        #expect(energy["source"] as? String == "rapl")
        #expect(energy["basis"] as? String == "rapl:package+dram")
        let watts = try #require(energy["averageWatts"] as? Double)
        #expect(abs(watts - 36) / 36 < 0.02, "36 W true (30 package + 6 dram), measured \(watts)")
        let joules = try #require(energy["joules"] as? Double)
        #expect(abs(joules - 36 * duration) / (36 * duration) < 0.02)
        let zones = try #require(energy["channels"] as? [[String: Any]])
        let package = try #require(zones.first { $0["name"] as? String == "package-0" })
        #expect((package["wraps"] as? Int ?? 0) >= 2, "package wraps every 0.5 s")
        #expect(package["path"] as? String == "/pc/intel-rapl:0/energy_uj")
        #expect(package["counterStart"] is Int && package["counterEnd"] is Int)
        let core = try #require(zones.first { $0["name"] as? String == "core" })
        #expect(core["inBasis"] as? Bool == false)
        let sampler = try #require(json["sampler"] as? [String: Any])
        #expect((sampler["samples"] as? Int ?? 0) > 10)
        #expect(json["fingerprint"] is [String: Any])
    }

    @Test func idleBaselineGivesNetEnergy() throws {
        let result = CLIHarness.run(
            ["exec", "--json", "--idle", "0.6", "--powercap-root", "/pc", "--", "sleep", "0.5"],
            sysfs: knownPowerTree(packageRange: 65_712_999_613))
        let energy = try #require(try parseJSON(result.stdout)["energy"] as? [String: Any])
        let idle = try #require(energy["idle"] as? [String: Any])
        #expect(abs((idle["medianWatts"] as? Double ?? 0) - 36) / 36 < 0.02)
        // Constant power: the run costs nothing above idle.
        let net = try #require(energy["netJoules"] as? Double)
        let gross = try #require(energy["joules"] as? Double)
        #expect(abs(net) < 0.02 * gross)
    }

    @Test func humanReportGoesToStderr() {
        let result = CLIHarness.run(["exec", "--powercap-root", "/pc", "--", "true"], sysfs: knownPowerTree())
        #expect(result.status == .success)
        #expect(result.stdout.isEmpty)
        for text in [
            "perwatt exec: true", "energy basis", "rapl:package+dram (source rapl)", "average power", "package-0",
            "probe:",
        ] {
            #expect(result.stderr.contains(text), "missing \(text) in \(result.stderr)")
        }
    }

    @Test func withoutAnEnergySourceEnergyIsNullNotZero() throws {
        let result = CLIHarness.run(["exec", "--json", "--", "sh", "-c", "exit 3"])
        #expect(result.status == ExitCode(3), "the command's own status")
        #expect(result.stdout.contains("\"energy\" : null"))
        let json = try parseJSON(result.stdout)
        #expect(json["exitStatus"] as? Int == 3)
        #expect((json["energyUnavailableReason"] as? String)?.contains("no energy source found") == true)
        #expect(json["sampler"] == nil)
        #expect(result.stderr.components(separatedBy: "energy: none").count == 2, "said once")
        let human = CLIHarness.run(["exec", "--", "true"])
        #expect(human.stderr.contains("none (no energy source found"))
        #expect(!human.stderr.contains(" J"))
    }

    @Test func killedBySignalIs128PlusTheSignal() throws {
        let result = CLIHarness.run(["exec", "--json", "--energy", "none", "--", "sh", "-c", "kill -TERM $$"])
        #expect(result.status == ExitCode(143))
        let json = try parseJSON(result.stdout)
        #expect(json["terminatedBySignal"] as? Int == 15)
        #expect(json["energyUnavailableReason"] as? String == "--energy none")
    }

    @Test func commandNotFoundAndNotExecutable() {
        let missing = CLIHarness.run(["exec", "--energy", "none", "--", "perwatt-no-such-command"])
        #expect(missing.status == .commandNotFound)
        #expect(missing.stderr.contains("perwatt-no-such-command: command not found"))
        let notExecutable = CLIHarness.run(["exec", "--energy", "none", "--", Fixtures.path("README.md")])
        #expect(notExecutable.status == .cannotExecute)
    }

    @Test func permissionAndAbsenceStopBeforeRunningTheCommand() {
        let root = Fixtures.path("powercap/amd-zen")
        let sysfs = FakeSysfs(loading: root)
        sysfs.set(root + "/intel-rapl:0/energy_uj", .denied(FileOwnership(mode: 0o400, userID: 0, groupID: 0)))
        let marker = TestFiles.path("perwatt-ran").path
        let denied = CLIHarness.run(["exec", "--powercap-root", root, "--", "touch", marker], sysfs: sysfs)
        #expect(denied.status == .permissionDenied)
        #expect(!FileManager.default.fileExists(atPath: marker), "the command must not run")
        let absent = CLIHarness.run(["exec", "--energy", "hwmon", "--", "touch", marker])
        #expect(absent.status == .energyUnavailable)
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func outWritesTheJSONAtomicallyAndReportsUnwritablePaths() throws {
        let directory = TestFiles.path("perwatt-out")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("run.json").path
        let result = CLIHarness.run(
            ["exec", "--out", out, "--powercap-root", "/pc", "--", "true"], sysfs: knownPowerTree())
        #expect(result.status == .success)
        let written = try parseJSON(try String(contentsOfFile: out, encoding: .utf8))
        #expect((written["energy"] as? [String: Any])?["basis"] as? String == "rapl:package+dram")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["run.json"],
            "no temporary file left")
        // Missing folders are created (the rule of every command); a path under a file is refused.
        let nested = directory.path + "/missing/run.json"
        #expect(CLIHarness.run(["exec", "--out", nested, "--energy", "none", "--", "true"]).status == .success)
        #expect(FileManager.default.fileExists(atPath: nested))
        let bad = CLIHarness.run(["exec", "--out", out + "/run.json", "--energy", "none", "--", "true"])
        #expect(bad.status == .ioError)
        #expect(
            bad.stderr.contains("perwatt exec: cannot write \(out)/run.json: \(out) is a file, not a folder"),
            "\(bad.stderr)")
    }

    @Test(arguments: [
        (["exec"], "no command to run"),
        (["exec", "--idle", "-1", "--", "true"], "--idle takes a number of seconds from 0 to 3600, not '-1'"),
        (["exec", "--idle", "soon", "--", "true"], "not 'soon'"),
        (["exec", "--energy", "rapl,,nvml", "--", "true"], "--energy takes"),
        (["exec", "--out", "", "--", "true"], "--out needs a file name"),
    ])
    func usageErrors(arguments: [String], message: String) {
        let result = CLIHarness.run(arguments)
        #expect(result.status == .usage)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func optionsAfterTheCommandBelongToTheCommand() throws {
        // No `--`: the first non-option starts the command; its own flags pass through untouched.
        let result = CLIHarness.run(["exec", "--json", "--energy", "none", "sh", "-c", "exit 0", "--json"])
        #expect(result.status == .success)
        #expect(try parseJSON(result.stdout)["command"] as? [String] == ["sh", "-c", "exit 0", "--json"])
    }
}
