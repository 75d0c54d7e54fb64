/// Mode, owner and group of a file, for error messages about permissions.
public struct FileOwnership: Sendable, Hashable {
    public var mode: UInt32
    public var userID: UInt32
    public var groupID: UInt32
    public var userName: String?
    public var groupName: String?

    public init(mode: UInt32, userID: UInt32, groupID: UInt32, userName: String? = nil, groupName: String? = nil) {
        self.mode = mode
        self.userID = userID
        self.groupID = groupID
        self.userName = userName
        self.groupName = groupName
    }

    /// `0400 root:root`
    public var summary: String {
        let mode = "0" + String(self.mode, radix: 8)
        return "\(mode) \(userName ?? String(userID)):\(groupName ?? String(groupID))"
    }
}

/// Everything that can go wrong while finding or reading an energy source.
/// Each message says what failed, where, and what to do next.
public enum ProbeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A counter file exists but this process may not read it (`energy_uj` is mode 0400 since 2020).
    case permissionDenied(path: String, ownership: FileOwnership?)
    /// The file does not exist.
    case missingFile(path: String)
    /// A read failed with an errno other than a permission error.
    case readFailed(path: String, errno: Errno)
    /// The file held something other than what the kernel documents.
    case malformed(path: String, content: String, expected: String)
    /// A path that must be a regular file (every sysfs attribute is) is a FIFO, device, directory….
    case notRegularFile(path: String, kind: String)
    /// A counter read above its own `max_energy_range_uj`.
    case counterAboveRange(path: String, value: UInt64, rangeMicrojoules: UInt64)
    /// An energy source asked for by name is not present on this machine.
    case sourceUnavailable(source: EnergySourceKind, reason: String)
    /// An NVML call returned an error.
    case nvml(function: String, code: Int32, message: String)

    public var path: String? {
        switch self {
        case .permissionDenied(let path, _), .missingFile(let path), .readFailed(let path, _),
            .malformed(let path, _, _), .counterAboveRange(let path, _, _), .notRegularFile(let path, _):
            path
        case .sourceUnavailable, .nvml:
            nil
        }
    }

    public var isPermissionError: Bool {
        if case .permissionDenied = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .permissionDenied(let path, let ownership):
            let owned = ownership.map { " (mode \($0.summary))" } ?? ""
            return """
                cannot read \(path)\(owned): permission denied.
                  Since Linux 5.10 (the 2020 Platypus fix) RAPL energy counters are readable by root only. Either:
                    - run perwatt as root (sudo), or
                    - grant read access to the counters until the next boot:
                        sudo chmod o+r /sys/class/powercap/intel-rapl*/energy_uj /sys/class/powercap/intel-rapl*/*/energy_uj
                      or, for a group instead of everyone: sudo chgrp GROUP ... && sudo chmod g+r ...
                    - make that permanent with a udev rule, e.g. in /etc/udev/rules.d/70-perwatt-rapl.rules:
                        SUBSYSTEM=="powercap", ACTION=="add", RUN+="/bin/chmod o+r /sys%p/energy_uj"
                """
        case .missingFile(let path):
            return "\(path) does not exist; the zone or sensor is incomplete (is the driver loaded?)."
        case .readFailed(let path, let errno):
            let why: String
            switch errno.rawValue {
            case Errno.ioError.rawValue:
                why =
                    "the driver could not read the hardware counter (EIO); the firmware may block it, or the zone is not supported on this CPU"
            case Errno.noData.rawValue:
                why = "the driver has no data for this counter (ENODATA); the domain may be disabled or not implemented"
            case Errno.invalidArgument.rawValue:
                why = "the driver rejected the read (EINVAL); the zone may be unsupported on this CPU model"
            default:
                why = errno.description
            }
            return "cannot read \(path): \(why)."
        case .malformed(let path, let content, let expected):
            let shown = content.count > 40 ? String(content.prefix(40)) + "…" : content
            return "\(path) holds \"\(shown)\", expected \(expected). The file is not what the kernel documents."
        case .notRegularFile(let path, let kind):
            return
                "\(path) is \(kind), not a regular file: sysfs energy and power attributes are regular files, so this tree is not the kernel's."
        case .counterAboveRange(let path, let value, let range):
            return "\(path) read \(value) µJ, above its max_energy_range_uj of \(range); the counter cannot be trusted."
        case .sourceUnavailable(let source, let reason):
            return "energy source \(source.rawValue) was asked for but is not available: \(reason)."
        case .nvml(let function, let code, let message):
            return "NVML \(function) failed with code \(code) (\(message)). Check the NVIDIA driver (nvidia-smi)."
        }
    }
}
