import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An input file perwatt cannot use: which file, which line, which field, what is wrong and, in the
/// message, what would be right. Exit status 65 (66 when the file cannot be read at all).
package struct InputError: Error, Sendable, CustomStringConvertible {
    package var file: String
    package var line: Int?
    /// Dotted path of the field at fault, e.g. `queries[3].correct`.
    package var field: String?
    package var message: String
    /// The file could not be opened or read (exit 66, not 65).
    package var unreadable = false

    package var description: String {
        var text = file
        if let line { text += ":\(line)" }
        return text + ": " + (field.map { "\($0): " } ?? "") + message
    }

    /// The error without the file: `field: message`, with the line when there is one.
    package var detail: String {
        (line.map { "line \($0): " } ?? "") + (field.map { "\($0): " } ?? "") + message
    }

    package init(file: String, line: Int? = nil, field: String? = nil, message: String, unreadable: Bool = false) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        self.unreadable = unreadable
    }
}

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

/// Typed access to an object's members, with errors that name the file, line and field.
package struct ObjectReader {
    package let value: JSONValue
    package let file: String
    /// Field path of this object ("" at the top).
    package let path: String

    package init(_ value: JSONValue, file: String, path: String = "") throws(InputError) {
        guard case .object = value else {
            throw InputError(
                file: file, line: value.line, field: path.isEmpty ? nil : path,
                message: "must be a JSON object, not \(value.typeName)")
        }
        self.value = value
        self.file = file
        self.path = path
    }

    package func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    package func error(_ key: String, _ message: String) -> InputError {
        InputError(file: file, line: value[key]?.line ?? value.line, field: field(key), message: message)
    }

    package func has(_ key: String) -> Bool {
        if let member = value[key], case .null = member { return false }
        return value[key] != nil
    }

    package func string(_ key: String, required: Bool = true) throws(InputError) -> String? {
        guard let member = value[key], !isNull(member) else {
            if required { throw error(key, "is missing: a string is required") }
            return nil
        }
        guard let text = member.stringValue else { throw error(key, "must be a string, not \(member.typeName)") }
        if required && text.trimmingCharacters(in: .whitespaces).isEmpty { throw error(key, "must not be empty") }
        return text
    }

    package func int(_ key: String, required: Bool = true, minimum: Int = 1) throws(InputError) -> Int? {
        guard let member = value[key], !isNull(member) else {
            if required { throw error(key, "is missing: a whole number ≥ \(minimum) is required") }
            return nil
        }
        guard let number = member.intValue, number >= minimum else {
            let shown = member.doubleValue.map { formatNumber($0) } ?? member.typeName
            throw error(key, "must be a whole number ≥ \(minimum), not \(shown)")
        }
        return number
    }

    /// A whole number within `range` (the same bounds as the command-line flag it mirrors).
    package func int(_ key: String, required: Bool = true, in range: ClosedRange<Int>) throws(InputError) -> Int? {
        guard let member = value[key], !isNull(member) else {
            if required {
                throw error(
                    key, "is missing: a whole number from \(range.lowerBound) to \(range.upperBound) is required")
            }
            return nil
        }
        guard let number = member.intValue, range.contains(number) else {
            let shown = member.doubleValue.map { formatNumber($0) } ?? member.typeName
            throw error(key, "must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(shown)")
        }
        return number
    }

    package func double(_ key: String, required: Bool = true, in range: ClosedRange<Double>) throws(InputError)
        -> Double?
    {
        guard let member = value[key], !isNull(member) else {
            if required {
                throw error(
                    key,
                    "is missing: a number from \(formatNumber(range.lowerBound)) to \(formatNumber(range.upperBound)) is required"
                )
            }
            return nil
        }
        guard let number = member.doubleValue, range.contains(number) else {
            let shown = member.doubleValue.map { formatNumber($0) } ?? member.typeName
            throw error(
                key,
                "must be a number from \(formatNumber(range.lowerBound)) to \(formatNumber(range.upperBound)), not \(shown)"
            )
        }
        return number
    }

    package func bool(_ key: String, required: Bool = true) throws(InputError) -> Bool? {
        guard let member = value[key], !isNull(member) else {
            if required { throw error(key, "is missing: true or false is required") }
            return nil
        }
        guard let flag = member.boolValue else { throw error(key, "must be true or false, not \(member.typeName)") }
        return flag
    }

    /// Rejects members not in `allowed` (a typo would otherwise be ignored silently).
    package func rejectUnknown(_ allowed: [String]) throws(InputError) {
        for (key, member) in value.objectMembers ?? [] where !allowed.contains(key) {
            throw InputError(
                file: file, line: member.line, field: field(key),
                message: "is not a known field; expected one of \(allowed.joined(separator: ", "))")
        }
    }

    private func isNull(_ value: JSONValue) -> Bool {
        if case .null = value { return true }
        return false
    }
}
