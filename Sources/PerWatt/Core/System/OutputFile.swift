import Foundation
// Linux with glibc only (the sysfs and /proc paths read here are Linux's; Musl is not a target).
import Glibc

/// A result that could not be written: the path and a plain sentence saying why (exit 74).
package struct OutputError: Error, Sendable, CustomStringConvertible {
    package var path: String
    package var reason: String

    package var description: String { "cannot write \(path): \(reason)" }
}

/// The one way perwatt writes an output file (`--out`, saved results, fixtures, imported models).
///
/// - An absent path or a regular file is replaced atomically: a temporary file in the same folder,
///   written, fsynced and renamed over the target, then the folder fsynced. A reader sees the old file
///   or the new one, never a torn one; a replaced file keeps its permission bits. Missing parent
///   folders are created (every command follows this one rule).
/// - `/dev/stdout`, `/dev/stderr` and `/dev/fd/1`–`2` (and `/proc/self/fd/…`) are written to the
///   descriptor itself; any other character device or FIFO is opened and written straight through,
///   never replaced (so `--out /dev/full` reports ENOSPC instead of replacing the device).
/// - A folder, a block device, a socket, a dangling symbolic link or a path under a file is refused.
/// - Every failed or short write, ENOSPC and EIO included, is an `OutputError` naming the path.
package enum OutputFile {
    package static func write(_ text: String, to path: String) throws(OutputError) {
        try write(Array(text.utf8), to: path)
    }

    package static func write(_ bytes: [UInt8], to path: String) throws(OutputError) {
        guard !path.isEmpty else { throw OutputError(path: "\"\"", reason: "the path is empty; give a file name") }
        if let fd = standardDescriptor(path) {
            try writeAll(fd, bytes, path: path)
            return
        }
        var info = stat()
        if lstat(path, &info) != 0 {
            let code = errno
            switch code {
            case ENOENT:
                try createParents(of: path)
                try replace(path, with: bytes, mode: nil)
                return
            case ENOTDIR:
                try createParents(of: path)  // finds and names the part that is a file
                throw OutputError(path: path, reason: "a part of the path before the file name is a file, not a folder")
            default:
                throw OutputError(path: path, reason: sentence(code))
            }
        }
        var kind = FileKind(mode: info.st_mode)
        var target = path
        if kind == .symlink {
            // Follow it: a link to a regular file replaces the file it points to (the link stays).
            guard stat(path, &info) == 0 else {
                throw OutputError(
                    path: path, reason: "is a symbolic link to a missing file; remove the link or write elsewhere")
            }
            kind = FileKind(mode: info.st_mode)
            guard let resolved = realpath(path, nil) else { throw OutputError(path: path, reason: sentence(errno)) }
            target = String(cString: resolved)
            free(resolved)
        }
        switch kind {
        case .regular:
            try replace(target, with: bytes, mode: info.st_mode & 0o7777)
        case .characterDevice:
            try writeStraight(path, bytes, fifo: false)
        case .fifo:
            try writeStraight(path, bytes, fifo: true)
        case .directory:
            throw OutputError(path: path, reason: "is a folder; give a file name inside it")
        case .blockDevice:
            throw OutputError(path: path, reason: "is a block device; perwatt does not write over disks")
        case .socket:
            throw OutputError(path: path, reason: "is a socket; give a file name")
        case .symlink, .other:
            throw OutputError(path: path, reason: "is not a regular file, a character device or a FIFO")
        }
    }

    /// `name` (from an input file: a suite's name, a model id) made safe as one file name: no
    /// separators, no `..`, no control characters, no leading dot, at most 100 characters.
    package static func safeName(_ name: String) -> String {
        let mapped = String(
            name.unicodeScalars.prefix(100).map { scalar -> Character in
                scalar.value < 0x20 || scalar.value == 0x7F || "/\\:*?\"<>|".unicodeScalars.contains(scalar)
                    || scalar.properties.isWhitespace
                    ? "_" : Character(scalar)
            })
        var safe = mapped.replacingOccurrences(of: "..", with: "_")
        while safe.hasPrefix(".") { safe.removeFirst() }
        return safe.isEmpty ? "unnamed" : safe
    }

    /// The descriptor that a path names, when it is one of perwatt's own standard output streams.
    package static func standardDescriptor(_ path: String) -> Int32? {
        switch path {
        case "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1": 1
        case "/dev/stderr", "/dev/fd/2", "/proc/self/fd/2": 2
        default: nil
        }
    }

    private enum FileKind {
        case regular, directory, characterDevice, blockDevice, fifo, socket, symlink, other

        init(mode: mode_t) {
            switch mode & S_IFMT {
            case S_IFREG: self = .regular
            case S_IFDIR: self = .directory
            case S_IFCHR: self = .characterDevice
            case S_IFBLK: self = .blockDevice
            case S_IFIFO: self = .fifo
            case S_IFSOCK: self = .socket
            case S_IFLNK: self = .symlink
            default: self = .other
            }
        }
    }

    /// `mkdir -p` of the path's folder.
    private static func createParents(of path: String) throws(OutputError) {
        var components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        components.removeLast()
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in components where !component.isEmpty {
            prefix += "/" + component
            var info = stat()
            if stat(prefix, &info) == 0 {
                if info.st_mode & S_IFMT != S_IFDIR {
                    throw OutputError(path: path, reason: "\(prefix) is a file, not a folder")
                }
                continue
            }
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw OutputError(path: path, reason: "cannot create the folder \(prefix): \(sentence(errno))")
            }
        }
    }

    /// Atomic replace of a regular (or absent) file.
    private static func replace(_ path: String, with bytes: [UInt8], mode: mode_t?) throws(OutputError) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var fd: Int32 = -1
        var temporary = ""
        for attempt in 0..<100 {
            temporary = (directory == "/" ? "" : directory) + "/.\(name).tmp-\(getpid())-\(attempt)"
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw OutputError(path: path, reason: "cannot create a temporary file in \(directory): \(sentence(errno))")
        }
        func fail(_ reason: String) -> OutputError {
            Glibc.close(fd)
            unlink(temporary)
            return OutputError(path: path, reason: reason)
        }
        if let mode, fchmod(fd, mode) != 0 { throw fail("cannot keep the file's permissions: \(sentence(errno))") }
        do { try writeAll(fd, bytes, path: path) } catch { throw fail(error.reason) }
        if fsync(fd) != 0 { throw fail("cannot flush it to disk: \(sentence(errno))") }
        let closed = Glibc.close(fd)
        if closed != 0 {
            let code = errno
            unlink(temporary)
            throw OutputError(path: path, reason: "cannot close it: \(sentence(code))")
        }
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw OutputError(path: path, reason: "cannot move it into place: \(sentence(code))")
        }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            Glibc.close(dirFD)
        }
    }

    /// How long a write to a FIFO waits for a process to open it for reading.
    package static let fifoReaderWaitSeconds = 30.0

    /// Opens a character device or FIFO and writes through it.
    ///
    /// A FIFO is opened non-blocking first: with no reader, `open` fails with ENXIO instead of waiting
    /// forever, so perwatt polls for a reader for ``fifoReaderWaitSeconds`` and then gives up with a message.
    /// A reader that goes away mid-write is EPIPE (SIGPIPE is ignored here), not a killed process.
    private static func writeStraight(_ path: String, _ bytes: [UInt8], fifo: Bool) throws(OutputError) {
        var fd: Int32
        if fifo {
            signal(SIGPIPE, SIG_IGN)
            let deadline = Date().addingTimeInterval(fifoReaderWaitSeconds)
            while true {
                fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
                if fd >= 0 || errno != ENXIO || Date() >= deadline { break }
                usleep(20_000)
            }
            if fd < 0 && errno == ENXIO {
                throw OutputError(
                    path: path,
                    reason: "is a FIFO that no process opened for reading within \(Int(fifoReaderWaitSeconds)) s; "
                        + "start the reader first (e.g. `cat \(path)`) or write to a file")
            }
            if fd >= 0 {
                let flags = fcntl(fd, F_GETFL)
                _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
            }
        } else {
            fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)
        }
        guard fd >= 0 else { throw OutputError(path: path, reason: sentence(errno)) }
        do { try writeAll(fd, bytes, path: path) } catch {
            Glibc.close(fd)
            throw error
        }
        if Glibc.close(fd) != 0 { throw OutputError(path: path, reason: "cannot close it: \(sentence(errno))") }
    }

    /// Writes every byte, retrying EINTR and short writes; a write that makes no progress is an error.
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(OutputError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw OutputError(
                    path: path, reason: "writing failed after \(offset) of \(bytes.count) bytes: \(sentence(errno))")
            }
            if written == 0 {
                throw OutputError(path: path, reason: "writing stopped after \(offset) of \(bytes.count) bytes")
            }
            offset += written
        }
    }

    /// An errno as a plain phrase with advice where there is an obvious one.
    package static func sentence(_ code: Int32) -> String {
        let text = POSIX.describe(code).lowercased()
        switch code {
        case ENOSPC: return "\(text) (ENOSPC); free some space or write elsewhere"
        case EDQUOT: return "\(text) (EDQUOT); free some space or write elsewhere"
        case EACCES, EPERM: return "\(text); this user may not write there, choose another path"
        case EROFS: return "\(text); choose a writable path"
        case EIO: return "\(text) (EIO); the device reported an error"
        case EPIPE: return "\(text) (EPIPE); the reader closed it before all was written"
        case ENAMETOOLONG: return "\(text); use a shorter path"
        default: return text
        }
    }
}
