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
