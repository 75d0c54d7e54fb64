/// One hwmon energy or power sensor, e.g. `/sys/class/hwmon/hwmon3/energy17_input`.
///
/// Source of truth: Documentation/hwmon/sysfs-interface.rst: `energyN_input` is cumulative
/// energy in µJ; `powerN_input` (or `powerN_average`) is power in µW.
public struct HwmonSensor: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case energy, power }

    /// `hwmon3/energy17`
    public var id: String
    public var chip: String
    public var kind: Kind
    public var index: Int
    public var label: String?
    public var file: String
    public var value: UInt64?
    public var problem: ProbeError?
    public var inBasis: Bool
    public var note: String?

    public var displayName: String { "\(chip)/\(label ?? "\(kind.rawValue)\(index)")" }
}

/// hwmon sensors found under a root, and the basis chosen from them.
public struct HwmonInventory: Sendable {
    public var root: String
    public var rootExists: Bool
    public var sensors: [HwmonSensor]
    /// `hwmon:energy` (energy counters) or `hwmon:power-integrated`; nil when none qualifies.
    public var basis: String?
    public var noBasisReason: String?

    public var basisSensors: [HwmonSensor] { sensors.filter(\.inBasis) }
    public var basisProblem: ProbeError? { basisSensors.lazy.compactMap(\.problem).first }
    public var isUsable: Bool { basis != nil && basisProblem == nil }

    /// Chips whose single power sensor is known to be the CPU's.
    static let cpuPowerChips: Set<String> = ["fam15h_power", "zenpower", "k10temp", "amd_energy", "zenergy"]

    static func isSocketLabel(_ label: String?) -> Bool {
        guard let label = label?.lowercased() else { return false }
        return label.contains("socket") || label.contains("package") || label.contains("pkg")
    }

    static func isCPUPowerLabel(_ label: String?) -> Bool {
        guard let label = label?.lowercased() else { return false }
        return isSocketLabel(label) || label.contains("cpu") || label.contains("ppt") || label.hasPrefix("svi2_p")
    }

    /// Discovers energy and power sensors under `root` (default `/sys/class/hwmon`).
    ///
    /// Basis: socket/package energy sensors (e.g. `amd_energy`'s `Esocket0`, summed across sockets,
    /// per-core sensors informational); else each chip's only energy sensor; else CPU power sensors,
    /// integrated over time and labelled `hwmon:power-integrated`.
    public static func discover(root: String, sysfs: any SysfsAccess) throws -> HwmonInventory {
        guard let chips = try sysfs.entries(of: root) else {
            return HwmonInventory(
                root: root, rootExists: false, sensors: [], basis: nil,
                noBasisReason: "\(root) does not exist")
        }
        var sensors: [HwmonSensor] = []
        for chipDir in chips {
            let directory = root + "/" + chipDir
            let chipName = (try? sysfs.readText(directory + "/name"))?.trimmingWhitespace ?? chipDir
            // Older drivers keep the attributes in the device folder.
            for folder in [directory, directory + "/device"] {
                guard let files = try? sysfs.entries(of: folder) else { continue }
                sensors += sensorsIn(folder: folder, files: files, chipDir: chipDir, chip: chipName, sysfs: sysfs)
            }
        }
        var inventory = HwmonInventory(root: root, rootExists: true, sensors: sensors, basis: nil, noBasisReason: nil)
        inventory.chooseBasis()
        return inventory
    }

    static func sensorsIn(
        folder: String, files: [String], chipDir: String, chip: String,
        sysfs: any SysfsAccess
    ) -> [HwmonSensor] {
        var result: [HwmonSensor] = []
        let fileSet = Set(files)
        for kind in [HwmonSensor.Kind.energy, .power] {
            var indices: [Int: String] = [:]
            for file in files where file.hasPrefix(kind.rawValue) {
                let rest = file.dropFirst(kind.rawValue.count)
                for suffix in ["_input", "_average"] where rest.hasSuffix(suffix) {
                    guard let index = Int(rest.dropLast(suffix.count)), indices[index] == nil || suffix == "_input"
                    else { continue }
                    if kind == .energy && suffix == "_average" { continue }
                    indices[index] = file
                }
            }
            for (index, file) in indices.sorted(by: { $0.key < $1.key }) {
                let labelFile = "\(kind.rawValue)\(index)_label"
                let label =
                    fileSet.contains(labelFile)
                    ? (try? sysfs.readText(folder + "/" + labelFile))?.trimmingWhitespace : nil
                var sensor = HwmonSensor(
                    id: "\(chipDir)/\(kind.rawValue)\(index)", chip: chip, kind: kind, index: index,
                    label: label, file: folder + "/" + file, value: nil, problem: nil,
                    inBasis: false, note: nil)
                do { sensor.value = try sysfs.readUInt64(sensor.file) } catch let error as ProbeError {
                    sensor.problem = error
                } catch {
                    sensor.problem = .malformed(path: sensor.file, content: "\(error)", expected: "an integer")
                }
                result.append(sensor)
            }
        }
        return result
    }

    mutating func chooseBasis() {
        let energy = sensors.indices.filter { sensors[$0].kind == .energy }
        let power = sensors.indices.filter { sensors[$0].kind == .power }
        var chosen: [Int] = energy.filter { Self.isSocketLabel(sensors[$0].label) }
        if chosen.isEmpty {
            let perChip = Dictionary(grouping: energy, by: { sensors[$0].chip })
            chosen = perChip.values.filter { $0.count == 1 }.flatMap { $0 }.sorted()
        }
        if !chosen.isEmpty {
            basis = "hwmon:energy"
        } else {
            chosen = power.filter { Self.isCPUPowerLabel(sensors[$0].label) }
            if chosen.isEmpty {
                let perChip = Dictionary(grouping: power, by: { sensors[$0].chip })
                chosen = perChip.filter { Self.cpuPowerChips.contains($0.key) && $0.value.count == 1 }
                    .values.flatMap { $0 }.sorted()
            }
            if !chosen.isEmpty { basis = "hwmon:power-integrated" }
        }
        for index in chosen { sensors[index].inBasis = true }
        for index in sensors.indices where !sensors[index].inBasis {
            sensors[index].note =
                sensors[index].kind == .energy && basis == "hwmon:energy"
                ? "inside a socket sensor or not a CPU total" : "not in basis"
        }
        if basis == nil {
            noBasisReason =
                sensors.isEmpty
                ? "\(root) has no energyN_input or powerN_input sensors"
                : "\(root) has no socket/package energy sensor and no CPU power sensor"
        }
    }

    /// Channels to sample. Throws the basis sensors' first problem instead of measuring less.
    public func plan(sysfs: any SysfsAccess) throws -> EnergyPlan {
        guard let basis else {
            throw ProbeError.sourceUnavailable(source: .hwmon, reason: noBasisReason ?? "no basis")
        }
        if let problem = basisProblem { throw problem }
        var channels: [PlannedChannel] = []
        for sensor in sensors where sensor.problem == nil {
            let measurement: ChannelMeasurement =
                sensor.kind == .energy ? .energyCounter(rangeMicrojoules: nil) : .powerGauge
            let channel = Channel(
                id: "hwmon:" + sensor.id, source: .hwmon, name: sensor.displayName, path: sensor.file,
                measurement: measurement, inBasis: sensor.inBasis, note: sensor.note)
            let file = sensor.file
            channels.append(
                PlannedChannel(channel: channel) {
                    SysfsChannelReader(file: try sysfs.openCounter(file), rangeMicrojoules: nil)
                })
        }
        return EnergyPlan(source: "hwmon", basis: basis, channels: channels)
    }
}
