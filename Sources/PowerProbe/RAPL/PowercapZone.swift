/// What a RAPL zone measures, from its `name` file (never from its index).
public enum RAPLDomain: Sendable, Hashable, CustomStringConvertible {
    case package(Int)
    case die(package: Int, die: Int)
    case core
    case uncore
    case dram
    case psys
    case other(String)

    /// Classifies a zone by the content of its `name` file.
    public init(name: String) {
        let parts = name.split(separator: "-")
        if parts.count == 2, parts[0] == "package", let socket = Int(parts[1]) {
            self = .package(socket)
        } else if parts.count == 4, parts[0] == "package", parts[2] == "die",
            let socket = Int(parts[1]), let die = Int(parts[3])
        {
            self = .die(package: socket, die: die)
        } else {
            switch name {
            case "core": self = .core
            case "uncore": self = .uncore
            case "dram": self = .dram
            case "psys": self = .psys
            default: self = .other(name)
            }
        }
    }

    public var description: String {
        switch self {
        case .package: "package"
        case .die: "die"
        case .core: "core"
        case .uncore: "uncore"
        case .dram: "dram"
        case .psys: "psys"
        case .other: "other"
        }
    }
}

/// The kernel interface a zone comes through. MMIO and TPMI zones are second views
/// of the same package as the MSR zones, so they are deduplicated by name.
public enum PowercapInterface: String, Sendable, Hashable {
    case msr = "intel-rapl"
    case mmio = "intel-rapl-mmio"
    case tpmi = "intel-rapl-tpmi"
}

/// What a zone contributes to the total.
public enum ZoneRole: Sendable, Hashable, CustomStringConvertible {
    /// Summed into the basis.
    case basis
    /// Measured and shown, but contained in (or outside) the basis; never summed.
    case informational(String)
    /// A second view of another zone; not read.
    case duplicate(of: String)

    public var description: String {
        switch self {
        case .basis: "basis"
        case .informational(let why): why
        case .duplicate(let other): "duplicate of \(other)"
        }
    }
}

/// One powercap zone directory, e.g. `/sys/class/powercap/intel-rapl:0:2`.
public struct PowercapZone: Sendable, Hashable {
    /// Directory name, e.g. `intel-rapl:0:2` (indices are hexadecimal).
    public var id: String
    public var interface: PowercapInterface
    /// Zone indices parsed from the id as hexadecimal, e.g. `[0, 2]`; one index for a top-level zone.
    public var indices: [Int]
    public var directory: String
    public var name: String
    public var domain: RAPLDomain
    /// Id of the enclosing zone for subzones.
    public var parentID: String?
    /// `max_energy_range_uj`: the counter wraps to zero after this many µJ.
    public var rangeMicrojoules: UInt64?
    /// `energy_uj` at discovery, if it could be read.
    public var energyMicrojoules: UInt64?
    /// Why the zone cannot be measured, if it cannot.
    public var problem: ProbeError?
    public var role: ZoneRole

    public var energyFile: String { directory + "/energy_uj" }
    public var rangeFile: String { directory + "/max_energy_range_uj" }
    public var isTopLevel: Bool { indices.count == 1 }
    public var isReadable: Bool { problem == nil }

    /// Parses `intel-rapl:a:1` into its interface and hexadecimal indices.
    public static func parseID(_ id: String) -> (PowercapInterface, [Int])? {
        let parts = id.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, let interface = PowercapInterface(rawValue: String(parts[0])) else { return nil }
        var indices: [Int] = []
        for part in parts.dropFirst() {
            guard !part.isEmpty, part.count <= 8, let index = Int(part, radix: 16) else { return nil }
            indices.append(index)
        }
        return (interface, indices)
    }
}
