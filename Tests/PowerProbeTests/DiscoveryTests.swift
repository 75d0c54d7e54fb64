import ProbeTestSupport
import Testing

@testable import PowerProbe

/// Discovery on the committed fake trees, read with the real LinuxSysfs (open + pread).
@Suite struct DiscoveryTests {
    func discover(_ tree: String) throws -> PowercapInventory {
        try PowercapInventory.discover(root: Fixtures.path("powercap/" + tree), sysfs: LinuxSysfs())
    }

    func role(_ inventory: PowercapInventory, _ id: String) -> ZoneRole? {
        inventory.zones.first { $0.id == id }?.role
    }

    @Test func laptopUsesPsysAloneAndDropsTheMMIODuplicate() throws {
        let inventory = try discover("intel-laptop")
        #expect(inventory.basis == "rapl:psys")
        #expect(inventory.basisZones.map(\.id) == ["intel-rapl:1"])
        #expect(role(inventory, "intel-rapl-mmio:0") == .duplicate(of: "intel-rapl:0"))
        #expect(role(inventory, "intel-rapl:0") == .informational("inside psys"))
        #expect(role(inventory, "intel-rapl:0:2") == .informational("inside psys"))
        // The control-type folders `intel-rapl` and `intel-rapl-mmio` are not zones.
        #expect(inventory.zones.count == 6)
        #expect(inventory.zones.first { $0.id == "intel-rapl:0:1" }?.domain == .uncore)
        #expect(inventory.zones.first { $0.id == "intel-rapl:0:0" }?.parentID == "intel-rapl:0")
        #expect(inventory.isUsable)
    }

    @Test func twoSocketServerSumsPackagesAndDRAMFoundInNestedFolders() throws {
        let inventory = try discover("intel-2socket")
        #expect(inventory.basis == "rapl:package+dram")
        #expect(inventory.basisZones.map(\.id) == ["intel-rapl:0", "intel-rapl:0:0", "intel-rapl:1", "intel-rapl:1:0"])
        // Subzone 0 is DRAM here: classified by its name file, not its index.
        #expect(inventory.zones.first { $0.id == "intel-rapl:1:0" }?.domain == .dram)
        #expect(
            inventory.zones.first { $0.id == "intel-rapl:1:0" }?.directory.hasSuffix("intel-rapl:1/intel-rapl:1:0")
                == true)
        #expect(inventory.zones.first { $0.id == "intel-rapl:0:0" }?.rangeMicrojoules == 65_712_999_613)
    }

    @Test func amdZenIsPackageOnlyWithItsOwnRange() throws {
        let inventory = try discover("amd-zen")
        #expect(inventory.basis == "rapl:package")
        #expect(inventory.basisZones.map(\.name) == ["package-0"])
        #expect(role(inventory, "intel-rapl:0:0") == .informational("inside package-0"))
        let package = try #require(inventory.zones.first)
        #expect(package.rangeMicrojoules == 65_532_610_987)
        let channel = Channel(
            id: "x", source: .rapl, name: "package-0", path: "",
            measurement: .energyCounter(rangeMicrojoules: package.rangeMicrojoules), inBasis: true)
        // 65 532.610987 J at 280 W wraps in 234.0 s (DESIGN: "about 4 minutes at 280 W").
        #expect(abs(channel.wrapSeconds(atWatts: 280)! - 234.045) < 0.001)
    }

    @Test func multiDiePackageSumsItsDies() throws {
        let inventory = try discover("multi-die")
        #expect(inventory.basis == "rapl:package+dram")
        #expect(inventory.basisZones.map(\.name) == ["package-0-die-0", "dram", "package-0-die-1", "dram"])
        #expect(inventory.zones.first?.domain == .die(package: 0, die: 0))
    }

    @Test func packageZonePresentMeansItsDiesAreNotSummedAgain() throws {
        let sysfs = FakeSysfs()
        for (id, name) in [
            ("intel-rapl:0", "package-0"), ("intel-rapl:1", "package-0-die-1"), ("intel-rapl:2", "package-1-die-0"),
        ] {
            sysfs.set("/p/\(id)/name", text: name + "\n")
            sysfs.set("/p/\(id)/energy_uj", text: "10\n")
            sysfs.set("/p/\(id)/max_energy_range_uj", text: "1000\n")
        }
        let inventory = try PowercapInventory.discover(root: "/p", sysfs: sysfs)
        #expect(inventory.basisZones.map(\.name) == ["package-0", "package-1-die-0"])
        #expect(inventory.zones[1].role == .informational("inside package-0"))
    }

    @Test func twelveSocketsHaveHexadecimalIDsInNumericOrder() throws {
        let inventory = try discover("twelve-sockets")
        #expect(inventory.basis == "rapl:package")
        #expect(inventory.basisZones.count == 12)
        #expect(inventory.zones.map(\.indices) == (0..<12).map { [$0] })
        #expect(inventory.zones[10].id == "intel-rapl:a" && inventory.zones[10].name == "package-10")
        #expect(inventory.zones[11].energyMicrojoules == 12_000)
    }

    @Test func emptyAndMissingRootsHaveNoBasisAndSayWhy() throws {
        let empty = try discover("empty")
        #expect(empty.rootExists && empty.zones.isEmpty && empty.basis == nil)
        #expect(empty.noBasisReason?.contains("no intel-rapl zones") == true)
        let missing = try PowercapInventory.discover(
            root: Fixtures.path("powercap/does-not-exist"), sysfs: LinuxSysfs())
        #expect(!missing.rootExists && missing.basis == nil)
        #expect(missing.noBasisReason?.contains("does not exist") == true)
        #expect(throws: ProbeError.self) { try missing.plan(sysfs: LinuxSysfs()) }
    }

    @Test func garbageFilesAreReportedPerZoneNeverReadAsZero() throws {
        let inventory = try discover("garbage")
        func problem(_ id: String) -> ProbeError? { inventory.zones.first { $0.id == id }?.problem }
        #expect(problem("intel-rapl:0") == nil)
        guard case .missingFile(let path)? = problem("intel-rapl:1") else {
            Issue.record("no name file not reported")
            return
        }
        #expect(path.hasSuffix("intel-rapl:1/name"))
        guard case .malformed(_, let content, _)? = problem("intel-rapl:0:0") else {
            Issue.record("garbage counter not reported")
            return
        }
        #expect(content == "not-a-number")
        guard case .malformed(let rangePath, "", _)? = problem("intel-rapl:0:1") else {
            Issue.record("empty range not reported")
            return
        }
        #expect(rangePath.hasSuffix("max_energy_range_uj"))
        #expect(
            problem("intel-rapl:0:2")
                == .counterAboveRange(
                    path: Fixtures.path("powercap/garbage/intel-rapl:0:2/energy_uj"),
                    value: 999_999, rangeMicrojoules: 1000))
        #expect(inventory.zones.first { $0.id == "intel-rapl:0:0" }?.energyMicrojoules == nil)
        // The broken dram zone is in the basis by name, so the basis cannot be measured: an error, not a smaller sum.
        #expect(inventory.basis == "rapl:package+dram")
        #expect(!inventory.isUsable)
        #expect(throws: ProbeError.self) { try inventory.plan(sysfs: LinuxSysfs()) }
    }

    @Test(arguments: [
        ("intel-rapl:0", PowercapInterface.msr, [0]),
        ("intel-rapl:a:1", .msr, [10, 1]),
        ("intel-rapl:1f", .msr, [31]),
        ("intel-rapl-mmio:0", .mmio, [0]),
        ("intel-rapl-tpmi:2:0", .tpmi, [2, 0]),
    ])
    func parsesZoneIDsAsHex(id: String, interface: PowercapInterface, indices: [Int]) {
        let parsed = PowercapZone.parseID(id)
        #expect(parsed?.0 == interface)
        #expect(parsed?.1 == indices)
    }

    @Test(arguments: ["intel-rapl", "intel-rapl:", "intel-rapl:zz", "intel-rapl:0::1", "amd-rapl:0", "intel-rapl:0:"])
    func rejectsWhatIsNotAZoneID(id: String) {
        #expect(PowercapZone.parseID(id) == nil)
    }

    @Test func classifiesDomainsByName() {
        #expect(RAPLDomain(name: "package-3") == .package(3))
        #expect(RAPLDomain(name: "package-1-die-2") == .die(package: 1, die: 2))
        #expect(RAPLDomain(name: "psys") == .psys)
        #expect(RAPLDomain(name: "dram") == .dram)
        #expect(RAPLDomain(name: "uncore") == .uncore)
        #expect(RAPLDomain(name: "package-x") == .other("package-x"))
    }

    @Test func counterFilesAreReReadFromTheStartOnEveryRead() throws {
        let directory = "/tmp/perwatt-test-\(UInt32.random(in: 0...UInt32.max))"
        let path = directory + "/energy_uj"
        try? FileManagerShim.makeDirectory(directory)
        defer { FileManagerShim.remove(directory) }
        try FileManagerShim.write("1000\n", to: path)
        let file = try LinuxSysfs().openCounter(path)
        #expect(try file.readUInt64() == 1000)
        try FileManagerShim.overwriteInPlace("123456789\n", at: path)
        #expect(try file.readUInt64() == 123_456_789)
        file.close()
    }
}
