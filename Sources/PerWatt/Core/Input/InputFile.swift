import Foundation

#if canImport(Glibc)
    import Glibc
#endif

package enum InputFile {
    /// The largest input file perwatt reads (1 GiB): a larger one is refused before it is read.
    package static let maximumBytes = 1 << 30

    /// The file's text (UTF-8). Only a regular file is read (a folder, FIFO or device is refused
    /// without blocking), and only up to `maximumBytes`.
    package static func read(_ path: String) throws(InputError) -> String {
        let bytes = try readBytes(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw InputError(file: path, message: "is not UTF-8 text")
        }
        return text
    }

    /// The file's bytes, under the rules of `read`.
    package static func readBytes(_ path: String, limit: Int = maximumBytes) throws(InputError) -> [UInt8] {
        func unreadable(_ message: String) -> InputError { InputError(file: path, message: message, unreadable: true) }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT: throw unreadable("no such file")
            case ENOTDIR: throw unreadable("no such file (a part of the path is a file, not a folder)")
            case EACCES, EPERM: throw unreadable("this user may not read it (permission denied)")
            default: throw unreadable("cannot be opened: \(POSIX.describe(code).lowercased())")
            }
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw unreadable("cannot be examined: \(POSIX.describe(errno).lowercased())")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw unreadable("is a folder, not a file")
        case S_IFIFO: throw unreadable("is a FIFO (named pipe), not a file; save its contents to a file first")
        case S_IFCHR, S_IFBLK: throw unreadable("is a device, not a file")
        default: throw unreadable("is not a regular file")
        }
        guard info.st_size <= limit else {
            throw InputError(
                file: path,
                message:
                    "is \(bytesText(UInt64(info.st_size))); perwatt reads input files up to \(bytesText(UInt64(limit)))"
            )
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while true {
            if offset == bytes.count {
                // The file may have grown since fstat: read on in steps, still bounded by the limit.
                guard bytes.count < limit else {
                    throw InputError(
                        file: path, message: "is larger than \(bytesText(UInt64(limit))), the most perwatt reads")
                }
                bytes.append(contentsOf: repeatElement(0, count: min(1 << 16, limit - bytes.count)))
            }
            let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw unreadable("cannot be read: \(POSIX.describe(errno).lowercased())")
            }
            if count == 0 { break }
            offset += count
        }
        bytes.removeSubrange(offset...)
        return bytes
    }

    /// Parses the file's text as one JSON document.
    package static func json(_ text: String, file: String) throws(InputError) -> JSONValue {
        do {
            return try JSONParser.parse(text)
        } catch {
            throw InputError(
                file: file, line: error.line, message: "invalid JSON at column \(error.column): \(error.message)")
        }
    }
}
