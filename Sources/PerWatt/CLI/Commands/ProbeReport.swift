import PerWattCore
import PowerProbe

/// `perwatt probe --json`: schema `perwatt.probe/1`.
struct ProbeReport: Encodable {
    var schema = "perwatt.probe/1"
    var selection: String
    /// The basis `--energy` resolves to; absent when energy would be `none` or the probe failed.
    var basis: String?
    var source: String?
    /// Why energy would be `none` or fail.
    var energyUnavailableReason: String?
    var ceilingWatts: Double
    var rapl: RAPLReport
    var hwmon: HwmonReport
    var nvml: NVMLReport
    var fingerprint: Fingerprint

    struct Zone: Encodable {
        var id: String
        var interface: String
        var name: String
        var domain: String
        var parent: String?
        var path: String
        var rangeMicrojoules: UInt64?
        var energyMicrojoules: UInt64?
        var wrapSecondsAtCeiling: Double?
        var readable: Bool
        var error: String?
        var role: String
        var inBasis: Bool
    }

    struct RAPLReport: Encodable {
        var root: String
        var rootExists: Bool
        var basis: String?
        var noBasisReason: String?
        var zones: [Zone]
    }

    struct Sensor: Encodable {
        var id: String
        var chip: String
        var kind: String
        var label: String?
        var path: String
        var value: UInt64?
        var unit: String
        var readable: Bool
        var error: String?
        var inBasis: Bool
    }

    struct HwmonReport: Encodable {
        var root: String
        var rootExists: Bool
        var basis: String?
        var noBasisReason: String?
        var sensors: [Sensor]
    }

    struct GPU: Encodable {
        var index: Int
        var name: String
        var uuid: String
        var measurement: String
        var error: String?
    }

    struct NVMLReport: Encodable {
        var available: Bool
        var unavailableReason: String?
        var visibilityNote: String?
        var basis: String?
        var gpus: [GPU]
    }

    init(
        inventory: EnergyInventory, selection: EnergySelection, plan: EnergyPlan?, failure: ProbeError?,
        ceilingWatts: Double, fingerprint: Fingerprint
    ) {
        self.selection = selection.description
        basis = plan?.basis
        source = plan?.source
        if let failure {
            energyUnavailableReason = failure.explained
        } else if plan == nil {
            energyUnavailableReason = selection == .none ? "--energy none" : ProbeCommand.noneReason(inventory)
        }
        self.ceilingWatts = ceilingWatts
        self.fingerprint = fingerprint
        let powercap = inventory.powercap
        rapl = RAPLReport(
            root: powercap.root, rootExists: powercap.rootExists, basis: powercap.basis,
            noBasisReason: powercap.noBasisReason,
            zones: powercap.zones.map { zone in
                Zone(
                    id: zone.id, interface: zone.interface.rawValue, name: zone.name, domain: zone.domain.description,
                    parent: zone.parentID, path: zone.directory, rangeMicrojoules: zone.rangeMicrojoules,
                    energyMicrojoules: zone.energyMicrojoules,
                    wrapSecondsAtCeiling: zone.rangeMicrojoules.map { Double($0) / 1e6 / ceilingWatts },
                    readable: zone.isReadable, error: zone.problem.map(\.explained), role: zone.role.description,
                    inBasis: zone.role == .basis)
            })
        hwmon = HwmonReport(
            root: inventory.hwmon.root, rootExists: inventory.hwmon.rootExists, basis: inventory.hwmon.basis,
            noBasisReason: inventory.hwmon.noBasisReason,
            sensors: inventory.hwmon.sensors.map { sensor in
                Sensor(
                    id: sensor.id, chip: sensor.chip, kind: sensor.kind.rawValue, label: sensor.label,
                    path: sensor.file,
                    value: sensor.value, unit: sensor.kind == .energy ? "µJ" : "µW", readable: sensor.problem == nil,
                    error: sensor.problem.map(\.explained), inBasis: sensor.inBasis)
            })
        nvml = NVMLReport(
            available: inventory.nvml.unavailableReason == nil,
            unavailableReason: inventory.nvml.unavailableReason,
            visibilityNote: inventory.nvml.visibilityNote, basis: inventory.nvml.basis,
            gpus: inventory.nvml.gpus.map { gpu in
                GPU(
                    index: gpu.index, name: gpu.name, uuid: gpu.uuid,
                    measurement: gpu.hasEnergyCounter ? "energy-counter" : "integrated-power",
                    error: gpu.problem.map(\.explained))
            })
    }
}
