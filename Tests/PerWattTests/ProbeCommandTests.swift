import Foundation
import PowerProbe
import ProbeTestSupport
import Testing

@testable import PerWattCLI
@testable import PerWattCore

@Suite(.serialized) struct ProbeCommandTests {
    @Test(arguments: ["intel-laptop", "intel-2socket", "amd-zen", "garbage"])
    func probeTextMatchesSnapshot(tree: String) {
        let result = CLIHarness.run(["probe", "--energy", "rapl", "--powercap-root", Fixtures.path("powercap/" + tree)])
        Snapshot.assert(result.stdout, named: "probe-\(tree)")
        #expect(result.status == (tree == "garbage" ? .energyUnavailable : .success), "\(result.stderr)")
    }

    @Test func probeWithNoSourceSaysSoPlainlyAndSucceeds() {
        let result = CLIHarness.run(["probe"])
        Snapshot.assert(result.stdout, named: "probe-no-source")
        #expect(result.status == .success)
        #expect(result.stdout.contains("Basis: none. No energy source was found"))
    }

    @Test func probeShowsHwmonAndGPUs() {
        let nvml = FakeNVML([
            .init(name: "Fake H100", uuid: "GPU-aaaa", watts: 300, hasEnergyCounter: true),
            .init(name: "Fake T4", uuid: "GPU-bbbb", watts: 70, hasEnergyCounter: false),
        ])
        let result = CLIHarness.run(["probe", "--hwmon-root", Fixtures.path("hwmon/amd-energy")], nvml: nvml)
        Snapshot.assert(result.stdout, named: "probe-hwmon-nvml")
        #expect(result.status == .success)
    }

    @Test func probeJSONCarriesZonesRolesAndBasis() throws {
        let result = CLIHarness.run(["probe", "--json", "--powercap-root", Fixtures.path("powercap/intel-laptop")])
        #expect(result.status == .success)
        let json = try parseJSON(result.stdout)
        #expect(json["schema"] as? String == "perwatt.probe/1")
        #expect(json["basis"] as? String == "rapl:psys")
        let rapl = try #require(json["rapl"] as? [String: Any])
        let zones = try #require(rapl["zones"] as? [[String: Any]])
        #expect(zones.count == 6)
        let psys = try #require(zones.first { $0["name"] as? String == "psys" })
        #expect(psys["inBasis"] as? Bool == true)
        #expect(psys["rangeMicrojoules"] as? Int == 262_143_328_850)
        #expect(abs((psys["wrapSecondsAtCeiling"] as? Double ?? 0) - 262.143_328_85) < 1e-6)
        let mmio = try #require(zones.first { $0["id"] as? String == "intel-rapl-mmio:0" })
        #expect(mmio["role"] as? String == "duplicate of intel-rapl:0")
        #expect(json["energyUnavailableReason"] == nil)
    }

    @Test func unreadableCountersExitWithThePermissionCodeAndTheFix() {
        let root = Fixtures.path("powercap/amd-zen")
        let sysfs = FakeSysfs(loading: root)
        let ownership = FileOwnership(mode: 0o400, userID: 0, groupID: 0, userName: "root", groupName: "root")
        sysfs.set(root + "/intel-rapl:0/energy_uj", .denied(ownership))
        sysfs.set(root + "/intel-rapl:0:0/energy_uj", .denied(ownership))
        let result = CLIHarness.run(["probe", "--powercap-root", root], sysfs: sysfs)
        #expect(result.status == .permissionDenied)
        #expect(result.stdout.contains("denied"))
        #expect(
            result.stderr.contains(
                "cannot read \(root)/intel-rapl:0/energy_uj (mode 0400 root:root): permission denied"))
        #expect(result.stderr.contains("--energy none"))
    }

    @Test func askingForAnAbsentSourceIsUnavailable() {
        let result = CLIHarness.run(["probe", "--energy", "rapl"])
        #expect(result.status == .energyUnavailable)
        #expect(result.stderr.contains("energy source rapl was asked for but is not available"))
    }

    @Test func watchPrintsLivePowerAtTheKnownRate() throws {
        let sysfs = FakeSysfs()
        sysfs.set("/pc/intel-rapl:0/name", text: "package-0\n")
        sysfs.set("/pc/intel-rapl:0/max_energy_range_uj", text: "262143328850\n")
        sysfs.set("/pc/intel-rapl:0/energy_uj", .counter(ClockCounter(watts: 42, rangeMicrojoules: 262_143_328_850)))
        let result = CLIHarness.run(
            ["probe", "--json", "--watch", "--count", "2", "--powercap-root", "/pc"], sysfs: sysfs)
        #expect(result.status == .success)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "inventory line + 2 samples")
        for line in lines.dropFirst() {
            let sample = try parseJSON(line)
            let watts = try #require(sample["basisWatts"] as? Double)
            #expect(abs(watts - 42) / 42 < 0.02)
        }
    }

    @Test(arguments: [
        (["probe", "--energy", "solar"], "--energy takes auto, none"),
        (["probe", "--interval", "0"], "--interval takes a number of milliseconds from 1 to 60000, not '0'"),
        (["probe", "--count", "2"], "--count goes with --watch"),
        (["probe", "--jsn"], "unknown option '--jsn' (did you mean --json?)"),
        (["probe", "extra"], "unexpected argument 'extra'"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["probe", "--powercap-root"], "--powercap-root needs a value"),
    ])
    func usageErrorsSayWhatAndExit64(arguments: [String], message: String) {
        let result = CLIHarness.run(arguments)
        #expect(result.status == .usage)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.contains("--help"))
    }

    @Test func helpAndVersion() {
        let help = CLIHarness.run(["--help"])
        #expect(help.status == .success)
        Snapshot.assert(help.stdout.replacingOccurrences(of: PerWattCLI.version, with: "<version>"), named: "help")
        #expect(CLIHarness.run(["help", "exec"]).stdout.contains("Usage: perwatt exec"))
        #expect(CLIHarness.run(["probe", "--help"]).stdout.contains("Usage: perwatt probe"))
        #expect(CLIHarness.run(["--version"]).stdout.hasPrefix("perwatt \(PerWattCLI.version)"))
        #expect(CLIHarness.run([]).status == .usage)
    }
}
