// Linux with glibc only (the sysfs and /proc paths read here are Linux's; Musl is not a target).
import Glibc

/// An error number from a failed system call.
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let permissionDenied = Errno(EACCES)
    public static let notPermitted = Errno(EPERM)
    public static let noEntry = Errno(ENOENT)
    public static let ioError = Errno(EIO)
    public static let invalidArgument = Errno(EINVAL)
    public static let noData = Errno(ENODATA)

    /// The symbolic name, e.g. `EACCES`, for the errors this module explains.
    public var name: String {
        switch rawValue {
        case EACCES: "EACCES"
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case EIO: "EIO"
        case EINVAL: "EINVAL"
        case ENODATA: "ENODATA"
        case ENOTDIR: "ENOTDIR"
        case EISDIR: "EISDIR"
        default: "errno \(rawValue)"
        }
    }

    /// `strerror` text. The corresponding C function is `strerror_r`.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: 256)
        let text = buffer.withUnsafeMutableBufferPointer { pointer -> String in
            // Swift imports the XSI strerror_r, which fills the buffer and returns 0.
            guard strerror_r(rawValue, pointer.baseAddress!, pointer.count) == 0 else { return name }
            return String(cString: pointer.baseAddress!)
        }
        return "\(name) (\(text))"
    }
}

/// Every libc call PowerProbe makes goes through here; EINTR is retried in one place.
enum Syscalls {
    static func retryingEINTR<T>(_ body: () -> T, failed: (T) -> Bool) -> Result<T, Errno> {
        while true {
            let value = body()
            if !failed(value) { return .success(value) }
            let code = errno
            if code == EINTR { continue }
            return .failure(Errno(code))
        }
    }

    /// What kind of file a path is, for files that must be regular (sysfs attributes are).
    enum FileKind: String, Sendable {
        case regular = "a regular file"
        case directory = "a directory"
        case fifo = "a FIFO"
        case characterDevice = "a character device"
        case blockDevice = "a block device"
        case socket = "a socket"
        case other = "not a regular file"

        init(mode: mode_t) {
            switch mode & S_IFMT {
            case S_IFREG: self = .regular
            case S_IFDIR: self = .directory
            case S_IFIFO: self = .fifo
            case S_IFCHR: self = .characterDevice
            case S_IFBLK: self = .blockDevice
            case S_IFSOCK: self = .socket
            default: self = .other
            }
        }
    }

    /// Why a file could not be opened as a regular file.
    enum OpenFailure: Error, Equatable {
        case errno(Errno)
        case notRegular(FileKind)
    }

    /// Opens `path` read-only and without blocking (a FIFO put where a counter should be must never
    /// hang a read), and checks it is a regular file, as every sysfs attribute is. The corresponding
    /// C functions are `open` and `fstat`.
    static func openRegularFile(_ path: String) -> Result<Int32, OpenFailure> {
        let opened = retryingEINTR({ open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }, failed: { $0 < 0 })
        guard case .success(let fd) = opened else {
            if case .failure(let error) = opened { return .failure(.errno(error)) }
            return .failure(.errno(Errno(EIO)))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            _ = Glibc.close(fd)
            return .failure(.errno(Errno(code)))
        }
        let kind = FileKind(mode: info.st_mode)
        guard kind == .regular else {
            _ = Glibc.close(fd)
            return .failure(.notRegular(kind))
        }
        return .success(fd)
    }

    /// Reads up to `capacity` bytes at offset 0 (sysfs attributes here are a line: a counter is at most
    /// 21 bytes). The corresponding C function is `pread`.
    static func preadAll(_ fd: Int32, capacity: Int = 512) -> Result<[UInt8], Errno> {
        var buffer = [UInt8](repeating: 0, count: capacity)
        let result = buffer.withUnsafeMutableBytes { raw in
            retryingEINTR({ pread(fd, raw.baseAddress, raw.count, 0) }, failed: { $0 < 0 })
        }
        return result.map { count in Array(buffer[0..<count]) }
    }

    /// The corresponding C function is `close`.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Mode bits, owner and group of `path`. The corresponding C function is `stat`.
    static func ownership(_ path: String) -> FileOwnership? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileOwnership(
            mode: UInt32(info.st_mode) & 0o7777,
            userID: info.st_uid, groupID: info.st_gid,
            userName: userName(info.st_uid), groupName: groupName(info.st_gid))
    }

    static func userName(_ uid: uid_t) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 1024)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil,
            let name = entry.pw_name
        else { return nil }
        return String(cString: name)
    }

    static func groupName(_ gid: gid_t) -> String? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 1024)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil,
            let name = entry.gr_name
        else { return nil }
        return String(cString: name)
    }

    /// Entry names of a directory, without `.` and `..`; `.failure(ENOENT)` if absent.
    /// The corresponding C functions are `opendir`, `readdir` and `closedir`.
    static func directoryEntries(_ path: String) -> Result<[String], Errno> {
        guard let dir = opendir(path) else { return .failure(Errno(errno)) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return .success(names.sorted())
    }

    /// Whether `path` exists (following links). The corresponding C function is `access`.
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Nanoseconds of `CLOCK_MONOTONIC`. The corresponding C function is `clock_gettime`.
    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// CPU time consumed by the calling thread. The corresponding C function is `clock_gettime`.
    static func threadCPUNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Sleeps the calling thread. The corresponding C function is `nanosleep`.
    static func sleep(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

extension Syscalls {
    /// Opens a shared library. The corresponding C function is `dlopen`.
    static func openLibrary(_ name: String) -> Result<UnsafeMutableRawPointer, LibraryError> {
        if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) { return .success(handle) }
        return .failure(LibraryError(message: dlerror().map { String(cString: $0) } ?? "dlopen(\(name)) failed"))
    }

    struct LibraryError: Error {
        var message: String
    }

    /// Looks a symbol up. The corresponding C function is `dlsym`.
    static func symbol(_ handle: UnsafeMutableRawPointer, _ name: String) -> UnsafeMutableRawPointer? {
        dlsym(handle, name)
    }
}
