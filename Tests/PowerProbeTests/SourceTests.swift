import Foundation
import ProbeTestSupport
import Testing

@testable import PowerProbe

/// hwmon, NVML, and how `--energy` resolves, including the errors that must never become zeros.
@Suite(.serialized) struct SourceTests {
    @Test func amdEnergyBasisIsTheSocketCounterNotTheCores() throws {
        let inventory = try HwmonInventory.discover(root: Fixtures.path("hwmon/amd-energy"), sysfs: LinuxSysfs())
        #expect(inventory.basis == "hwmon:energy")
        #expect(inventory.basisSensors.map(\.label) == ["Esocket0"])
        #expect(inventory.sensors.count == 3)
        #expect(inventory.basisSensors.first?.value == 9_123_456_789)
        let plan = try inventory.plan(sysfs: LinuxSysfs())
        #expect(plan.measurement == "energy-counter")
        #expect(plan.channels.filter(\.channel.inBasis).map(\.channel.name) == ["amd_energy/Esocket0"])
    }

    @Test func powerOnlySensorsAreIntegratedAndTheGPUStaysOut() throws {
        let inventory = try HwmonInventory.discover(root: Fixtures.path("hwmon/power-only"), sysfs: LinuxSysfs())
        #expect(inventory.basis == "hwmon:power-integrated")
        #expect(inventory.basisSensors.map(\.displayName) == ["zenpower/SVI2_P_Core", "zenpower/SVI2_P_SoC"])
        let gpu = try #require(inventory.sensors.first { $0.chip == "amdgpu" })
        #expect(!gpu.inBasis && gpu.file.hasSuffix("power1_average"))
        let plan = try inventory.plan(sysfs: LinuxSysfs())
        #expect(plan.measurement == "integrated-power")
        // Constant power integrates exactly: 21.5 W + 8.25 W = 29.75 W.
        let meter = try EnergyMeter(plan: plan, configuration: MeterConfiguration(intervalSeconds: 0.05))
        let (window, _) = sampledWindow(meter, seconds: 0.3)
        #expect(relativeError(try #require(window.averageWatts), 29.75) < 1e-6)
    }

    @Test func autoTakesRAPLFirstThenHwmonThenNVMLThenNone() throws {
        let nvml = FakeNVML([.init(name: "Fake H100", uuid: "GPU-1111", watts: 100, hasEnergyCounter: true)])
        let rapl = Fixtures.path("powercap/amd-zen")
        let hwmon = Fixtures.path("hwmon/amd-energy")
        let missing = Fixtures.path("powercap/none-here")
        func basis(_ powercap: String, _ hw: String, _ gpu: FakeNVML?) throws -> String? {
            try EnergyInventory.discover(.fake(powercapRoot: powercap, hwmonRoot: hw, nvml: gpu)).plan(for: .auto)?
                .basis
        }
        #expect(try basis(rapl, hwmon, nvml) == "rapl:package")
        #expect(try basis(missing, hwmon, nvml) == "hwmon:energy")
        #expect(try basis(missing, missing, nvml) == "nvml:gpu0")
        #expect(try basis(missing, missing, nil) == nil)
        let inventory = try EnergyInventory.discover(.fake(powercapRoot: missing, hwmonRoot: missing))
        #expect(inventory.absenceReasons.map(\.0) == [.rapl, .hwmon, .nvml])
        #expect(try inventory.plan(for: .none) == nil)
    }

    @Test func namedSourcesAreAddedAndLabelledOrRefused() throws {
        let nvml = FakeNVML([.init(name: "Fake H100", uuid: "GPU-1111", watts: 100, hasEnergyCounter: true)])
        let inventory = try EnergyInventory.discover(
            .fake(powercapRoot: Fixtures.path("powercap/intel-2socket"), nvml: nvml))
        let both = try #require(try inventory.plan(for: .sources([.rapl, .nvml])))
        #expect(both.basis == "rapl:package+dram+nvml:gpu0")
        #expect(both.source == "rapl+nvml")
        #expect(throws: ProbeError.sourceUnavailable(source: .hwmon, reason: "/nonexistent/hwmon does not exist")) {
            try inventory.plan(for: .sources([.hwmon]))
        }
    }

    @Test func unreadableBasisCounterIsAPermissionErrorNotAFallback() throws {
        let root = Fixtures.path("powercap/intel-laptop")
        let sysfs = FakeSysfs(loading: root)
        let ownership = FileOwnership(mode: 0o400, userID: 0, groupID: 0, userName: "root", groupName: "root")
        for zone in [
            "intel-rapl:0", "intel-rapl:0:0", "intel-rapl:0:1", "intel-rapl:0:2", "intel-rapl:1", "intel-rapl-mmio:0",
        ] {
            sysfs.set("\(root)/\(zone)/energy_uj", .denied(ownership))
        }
        // hwmon has a usable source, but auto must not silently fall back to it.
        let inventory = try EnergyInventory.discover(
            .fake(powercapRoot: root, hwmonRoot: Fixtures.path("hwmon/amd-energy"), sysfs: sysfs))
        #expect(inventory.powercap.zones.allSatisfy { !$0.isReadable })
        #expect(throws: ProbeError.self) { try inventory.plan(for: .auto) }
        do {
            _ = try inventory.plan(for: .auto)
        } catch let error as ProbeError {
            #expect(error.isPermissionError)
            let message = "\(error)"
            #expect(message.contains("\(root)/intel-rapl:1/energy_uj"), "names the file: \(message)")
            #expect(message.contains("0400 root:root"), "names mode and owner: \(message)")
            for fix in ["sudo", "chmod", "chgrp", "udev"] {
                #expect(message.contains(fix), "suggests \(fix)")
            }
            // PowerProbe speaks energy, not flags: perwatt's own options are added by the command line.
            #expect(!message.contains("--"), "names no command-line option: \(message)")
        }
    }

    @Test(arguments: [(Errno.ioError, "EIO"), (Errno.noData, "ENODATA"), (Errno.invalidArgument, "EINVAL")])
    func readErrorsAreDistinguished(errno: Errno, name: String) throws {
        let root = Fixtures.path("powercap/amd-zen")
        let sysfs = FakeSysfs(loading: root)
        sysfs.set("\(root)/intel-rapl:0/energy_uj", .failing(errno))
        let inventory = try PowercapInventory.discover(root: root, sysfs: sysfs)
        let problem = try #require(inventory.basisProblem)
        #expect(problem == .readFailed(path: "\(root)/intel-rapl:0/energy_uj", errno: errno))
        #expect("\(problem)".contains("(\(name))"))
        #expect(!problem.isPermissionError)
    }

    @Test func realPermissionErrorsNameTheFile() throws {
        // LinuxSysfs maps EACCES to permissionDenied with stat's mode and owner.
        let error = LinuxSysfs.error(.permissionDenied, path: Fixtures.path("powercap/amd-zen/intel-rapl:0/energy_uj"))
        guard case .permissionDenied(let path, let ownership) = error else {
            Issue.record("not a permission error")
            return
        }
        #expect(path.hasSuffix("energy_uj"))
        #expect(ownership != nil)
        #expect(LinuxSysfs.error(.noEntry, path: "/x") == .missingFile(path: "/x"))
    }

    @Test func nvmlEnergyCounterAndIntegratedPowerAreBothMeasured() throws {
        let nvml = FakeNVML([
            .init(name: "Fake H100", uuid: "GPU-aaaa-1", watts: 100, hasEnergyCounter: true),
            .init(name: "Fake T4", uuid: "GPU-bbbb-2", watts: 50, hasEnergyCounter: false),
        ])
        let inventory = try EnergyInventory.discover(.fake(powercapRoot: "/none", nvml: nvml))
        let plan = try #require(try inventory.plan(for: .sources([.nvml])))
        #expect(plan.basis == "nvml:gpu0+gpu1")
        #expect(plan.measurement == "mixed")
        #expect(plan.channels.map(\.channel.measurement.label) == ["energy-counter", "integrated-power"])
        let meter = try EnergyMeter(plan: plan, configuration: MeterConfiguration(intervalSeconds: 0.02))
        let (window, _) = sampledWindow(meter, seconds: 0.5)
        #expect(relativeError(try #require(window.channels[0].averageWatts), 100) < 0.02)
        #expect(relativeError(try #require(window.channels[1].averageWatts), 50) < 1e-6)
    }

    @Test func cudaVisibleDevicesFollowsCUDAsRules() {
        let gpus = (0..<3).map {
            NVMLGPU(index: $0, name: "G\($0)", uuid: "GPU-\($0)\($0)\($0)-x", hasEnergyCounter: true)
        }
        func visible(_ value: String?) -> [Int] {
            NVMLInventory.visibleGPUs(gpus, cudaVisibleDevices: value).0.map(\.index)
        }
        #expect(visible(nil) == [0, 1, 2])
        #expect(visible("2,0") == [2, 0])
        #expect(visible("GPU-111") == [1])
        #expect(visible("0,7,1") == [0], "CUDA stops at the first invalid entry")
        #expect(visible("") == [])
        #expect(visible("-1") == [])
        #expect(visible("MIG-abc") == [])
        #expect(NVMLInventory.visibleGPUs(gpus, cudaVisibleDevices: "1").1?.contains("PCI_BUS_ID") == true)
        #expect(
            NVMLInventory.visibleGPUs(gpus, cudaVisibleDevices: "GPU-").0.isEmpty,
            "an ambiguous UUID prefix matches nothing")
    }

    @Test func missingNVMLLibrarySaysWhy() {
        guard case .failure(let error) = DynamicNVML.load(libraryName: "libperwatt-no-such-nvml.so.1") else {
            Issue.record("a library that does not exist loaded")
            return
        }
        #expect("\(error)".contains("libperwatt-no-such-nvml.so.1 could not be loaded"))
    }

    @Test func energySelectionParsing() {
        #expect(EnergySelection(parsing: "auto") == .auto)
        #expect(EnergySelection(parsing: "none") == EnergySelection.none)
        #expect(EnergySelection(parsing: "rapl,nvml") == .sources([.rapl, .nvml]))
        for bad in ["", "rapl,", "rapl,rapl", "gpu", "RAPL", "auto,rapl"] {
            #expect(EnergySelection(parsing: bad) == nil, "\(bad)")
        }
    }
}
