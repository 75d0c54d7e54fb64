/// The RAPL zones found under a powercap root, and the basis their totals stand for.
///
/// Source of truth: Documentation/power/powercap/powercap.rst in the Linux tree, and
/// drivers/powercap/intel_rapl_common.c for the zone names.
public struct PowercapInventory: Sendable {
    /// The root searched, e.g. `/sys/class/powercap`.
    public var root: String
    /// Whether the root exists at all (it does not in most VMs and containers).
    public var rootExists: Bool
    /// Every zone found, MMIO/TPMI duplicates included (with role `.duplicate`).
    public var zones: [PowercapZone]
    /// `rapl:psys`, `rapl:package+dram` or `rapl:package`; nil when no zone can form one.
    public var basis: String?
    /// Why there is no basis, when there is none.
    public var noBasisReason: String?

    /// Zones in the basis.
    public var basisZones: [PowercapZone] { zones.filter { $0.role == .basis } }

    /// The first problem that stops the basis from being measured (e.g. permission denied).
    public var basisProblem: ProbeError? { basisZones.lazy.compactMap(\.problem).first }

    /// The first zone that could not be identified: its `name` file is missing, unreadable or empty,
    /// or a top-level zone has a name that is not a RAPL domain. Such a tree may hide a package or a
    /// DRAM zone, so no total is summed from it: the problem is an error, never a smaller basis.
    public var structuralProblem: ProbeError? {
        zones.lazy.filter { zone in
            guard zone.problem != nil, case .other = zone.domain else { return false }
            return zone.isTopLevel || zone.name == "?" || zone.name.isEmpty
        }.compactMap(\.problem).first
    }

    /// Whether RAPL can be measured: a basis exists, every zone could be identified, and the basis zones read.
    public var isUsable: Bool { basis != nil && structuralProblem == nil && basisProblem == nil }

    /// Whether the tree has RAPL zones at all. Zones that exist but cannot be used are an error, not an absence.
    public var isPresent: Bool { rootExists && !zones.isEmpty }

    /// Discovers zones under `root`: classifies each by its `name` file, parses hexadecimal ids,
    /// removes MMIO/TPMI duplicates, reads each zone's range and counter once, and chooses the basis
    /// psys › package+dram › package.
    public static func discover(root: String, sysfs: any SysfsAccess) throws -> PowercapInventory {
        guard let names = try sysfs.entries(of: root) else {
            return PowercapInventory(
                root: root, rootExists: false, zones: [], basis: nil,
                noBasisReason:
                    "\(root) does not exist (no powercap driver: common in VMs and containers, or intel_rapl_msr/rapl module not loaded)"
            )
        }
        var found: [String: (directory: String, parent: String?)] = [:]
        for name in names where PowercapZone.parseID(name) != nil {
            found[name] = (root + "/" + name, nil)
            // Real sysfs also nests subzones inside their parent's directory.
            if let nested = try? sysfs.entries(of: root + "/" + name) {
                for child in nested where PowercapZone.parseID(child) != nil && found[child] == nil {
                    found[child] = (root + "/" + name + "/" + child, name)
                }
            }
        }
        var zones: [PowercapZone] = []
        for (id, place) in found {
            guard let (interface, indices) = PowercapZone.parseID(id) else { continue }
            zones.append(
                readZone(id: id, interface: interface, indices: indices, directory: place.directory, sysfs: sysfs))
        }
        zones.sort { lhs, rhs in
            if lhs.interface != rhs.interface {
                return lhs.interface == .msr || (lhs.interface == .mmio && rhs.interface == .tpmi)
            }
            return lhs.indices.lexicographicallyPrecedes(rhs.indices)
        }
        var inventory = PowercapInventory(root: root, rootExists: true, zones: zones, basis: nil, noBasisReason: nil)
        inventory.assignRoles()
        return inventory
    }

    static func readZone(
        id: String, interface: PowercapInterface, indices: [Int], directory: String,
        sysfs: any SysfsAccess
    ) -> PowercapZone {
        let parentID =
            indices.count > 1
            ? ([interface.rawValue] + indices.dropLast().map { String($0, radix: 16) }).joined(separator: ":") : nil
        var zone = PowercapZone(
            id: id, interface: interface, indices: indices, directory: directory,
            name: "?", domain: .other("?"), parentID: parentID, rangeMicrojoules: nil,
            energyMicrojoules: nil, problem: nil, role: .informational("unclassified"))
        do {
            zone.name = try sysfs.readText(directory + "/name").trimmingWhitespace
            if zone.name.isEmpty {
                throw ProbeError.malformed(
                    path: directory + "/name", content: "", expected: "a zone name such as package-0")
            }
            zone.domain = RAPLDomain(name: zone.name)
            if zone.isTopLevel, case .other = zone.domain {
                throw ProbeError.malformed(
                    path: directory + "/name", content: zone.name,
                    expected: "a top-level RAPL zone name: package-N, package-N-die-M, psys or dram")
            }
            let range = try sysfs.readUInt64(zone.rangeFile)
            guard range > 0 else {
                throw ProbeError.malformed(path: zone.rangeFile, content: "0", expected: "a positive range in µJ")
            }
            zone.rangeMicrojoules = range
            let energy = try sysfs.readUInt64(zone.energyFile)
            guard energy <= range else {
                throw ProbeError.counterAboveRange(path: zone.energyFile, value: energy, rangeMicrojoules: range)
            }
            zone.energyMicrojoules = energy
        } catch let error as ProbeError {
            zone.problem = error
        } catch {
            zone.problem = .malformed(path: directory, content: "\(error)", expected: "a readable zone")
        }
        return zone
    }

    /// Chooses the basis and gives every zone its role. Never sums overlapping zones:
    /// psys contains the packages; a package contains its core, uncore and dies; DRAM is
    /// a child folder of a package but not inside its energy.
    mutating func assignRoles() {
        // Second views (MMIO, TPMI) of a zone that the MSR interface also shows.
        var primaryByName: [String: String] = [:]
        for zone in zones where zone.interface == .msr {
            primaryByName[zone.name] = primaryByName[zone.name] ?? zone.id
        }
        for index in zones.indices where zones[index].interface != .msr {
            if let primary = primaryByName[zones[index].name] {
                zones[index].role = .duplicate(of: primary)
            } else {
                primaryByName[zones[index].name] = zones[index].id
            }
        }
        let live = zones.indices.filter { if case .duplicate = zones[$0].role { return false } else { return true } }
        let nameOf = Dictionary(zones.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        func inside(_ index: Int) -> String {
            if let parent = zones[index].parentID, let name = nameOf[parent] { return "inside \(name)" }
            return "not in basis"
        }

        let psys = live.filter { zones[$0].domain == .psys }
        if let chosen = psys.first {
            basis = "rapl:psys"
            for index in live {
                if index == chosen {
                    zones[index].role = .basis
                } else if zones[index].domain == .psys {
                    zones[index].role = .informational("second psys zone, not summed")
                } else {
                    zones[index].role = .informational("inside psys")
                }
            }
            return
        }
        let packageSockets = Set(
            live.compactMap { index -> Int? in
                if case .package(let socket) = zones[index].domain { return socket } else { return nil }
            })
        var hasPackage = false
        var hasDram = false
        for index in live {
            switch zones[index].domain {
            case .package:
                zones[index].role = .basis
                hasPackage = true
            case .die(let socket, _):
                if packageSockets.contains(socket) {
                    zones[index].role = .informational("inside package-\(socket)")
                } else {
                    zones[index].role = .basis
                    hasPackage = true
                }
            case .dram:
                zones[index].role = .basis
                hasDram = true
            case .core, .uncore:
                zones[index].role = .informational(inside(index))
            case .psys:
                break
            case .other:
                zones[index].role = .informational("unknown domain, not in basis")
            }
        }
        if hasPackage {
            basis = hasDram ? "rapl:package+dram" : "rapl:package"
        } else {
            for index in live where zones[index].role == .basis {
                zones[index].role = .informational("no package zone to pair with")
            }
            noBasisReason =
                zones.isEmpty
                ? "\(root) has no intel-rapl zones"
                : "\(root) has no psys, package or die zone (only \(Set(zones.map(\.name)).sorted().joined(separator: ", ")))"
        }
    }

    /// The channels to sample: the basis zones and the readable informational ones.
    /// Throws the basis zones' first problem (e.g. permission denied) instead of measuring less.
    public func plan(sysfs: any SysfsAccess) throws -> EnergyPlan {
        if let structuralProblem { throw structuralProblem }
        guard let basis else {
            throw ProbeError.sourceUnavailable(source: .rapl, reason: noBasisReason ?? "no basis")
        }
        if let problem = basisProblem { throw problem }
        var channels: [PlannedChannel] = []
        for zone in zones {
            if case .duplicate = zone.role { continue }
            guard zone.isReadable, let range = zone.rangeMicrojoules else { continue }
            let channel = Channel(
                id: "rapl:" + zone.id, source: .rapl, name: zone.name, path: zone.energyFile,
                measurement: .energyCounter(rangeMicrojoules: range), inBasis: zone.role == .basis,
                note: zone.role == .basis ? nil : zone.role.description)
            let file = zone.energyFile
            channels.append(
                PlannedChannel(channel: channel) {
                    SysfsChannelReader(file: try sysfs.openCounter(file), rangeMicrojoules: range)
                })
        }
        return EnergyPlan(source: "rapl", basis: basis, channels: channels)
    }
}
