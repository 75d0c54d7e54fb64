/// How PowerProbe reaches sysfs. `LinuxSysfs` is the real one; tests provide fakes
/// that deny permissions, fail reads or run counters at a known power.
public protocol SysfsAccess: Sendable {
    /// Names of the entries of a directory, sorted; `nil` if the directory does not exist.
    func entries(of directory: String) throws -> [String]?
    /// Whether a file or directory exists.
    func exists(_ path: String) -> Bool
    /// The whole content of a small file, as read once.
    func readText(_ path: String) throws -> String
    /// Opens a counter file to be read many times (kept open, read with `pread`).
    func openCounter(_ path: String) throws -> any CounterFile
    /// Mode and owner of a file, for permission messages.
    func ownership(_ path: String) -> FileOwnership?
}

/// A file kept open and read from offset 0 on every call.
public protocol CounterFile: AnyObject, Sendable {
    var path: String { get }
    func readText() throws -> String
    func close()
}

extension SysfsAccess {
    /// Reads a file and parses it as an unsigned decimal integer (`energy_uj`, `max_energy_range_uj`).
    public func readUInt64(_ path: String) throws -> UInt64 {
        try parseUInt64(try readText(path), path: path)
    }
}

extension CounterFile {
    public func readUInt64() throws -> UInt64 { try parseUInt64(try readText(), path: path) }
}

/// Parses sysfs integer content ("123456\n"); anything else is `ProbeError.malformed`.
func parseUInt64(_ text: String, path: String) throws -> UInt64 {
    let trimmed = text.trimmingWhitespace
    guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = UInt64(trimmed) else {
        throw ProbeError.malformed(path: path, content: trimmed, expected: "an unsigned decimal integer")
    }
    return value
}

extension StringProtocol {
    var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}

/// The real sysfs, through `Syscalls`.
public struct LinuxSysfs: SysfsAccess {
    public init() {}

    public func entries(of directory: String) throws -> [String]? {
        switch Syscalls.directoryEntries(directory) {
        case .success(let names): return names
        case .failure(let error) where error == .noEntry: return nil
        case .failure(let error) where error == .permissionDenied:
            throw ProbeError.permissionDenied(path: directory, ownership: Syscalls.ownership(directory))
        case .failure(let error): throw ProbeError.readFailed(path: directory, errno: error)
        }
    }

    public func exists(_ path: String) -> Bool { Syscalls.exists(path) }

    public func readText(_ path: String) throws -> String {
        let file = try openCounter(path)
        defer { file.close() }
        return try file.readText()
    }

    public func openCounter(_ path: String) throws -> any CounterFile {
        switch Syscalls.openRegularFile(path) {
        case .success(let fd): return LinuxCounterFile(path: path, fd: fd)
        case .failure(.errno(let error)): throw Self.error(error, path: path)
        case .failure(.notRegular(let kind)): throw ProbeError.notRegularFile(path: path, kind: kind.rawValue)
        }
    }

    public func ownership(_ path: String) -> FileOwnership? { Syscalls.ownership(path) }

    static func error(_ error: Errno, path: String) -> ProbeError {
        switch error {
        case .permissionDenied, .notPermitted: .permissionDenied(path: path, ownership: Syscalls.ownership(path))
        case .noEntry: .missingFile(path: path)
        default: .readFailed(path: path, errno: error)
        }
    }
}

/// A file descriptor read with `pread` at offset 0.
final class LinuxCounterFile: CounterFile, @unchecked Sendable {
    let path: String
    // Only mutated by `close`, which callers never race with reads (EnergyMeter serialises both).
    private var fd: Int32

    init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    func readText() throws -> String {
        // EBADF: the file was closed.
        guard fd >= 0 else { throw ProbeError.readFailed(path: path, errno: Errno(9)) }
        switch Syscalls.preadAll(fd) {
        case .success(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .failure(let error): throw LinuxSysfs.error(error, path: path)
        }
    }

    func close() {
        if fd >= 0 { Syscalls.close(fd) }
        fd = -1
    }

    deinit { close() }
}
