/// How perwatt puts text that came from outside (file contents, arguments, server answers) into a
/// message: control characters escaped so they cannot drive the terminal, long values cut short.
package enum Message {
    /// The most characters of an echoed value that a message shows.
    package static let echoLimit = 120
    /// The most characters an error message may have; the backstop behind `shown`.
    package static let messageLimit = 4000

    /// `text` with every control character except newline and tab written as `\u{XX}` (NUL, ESC,
    /// DEL, C1 controls, bidirectional overrides), so it prints as plain text.
    package static func escaped(_ text: String, keepNewlines: Bool = true) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0, keepNewlines: keepNewlines) }) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            if needsEscape(scalar, keepNewlines: keepNewlines) {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func needsEscape(_ scalar: Unicode.Scalar, keepNewlines: Bool) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: !keepNewlines
        case 0x00..<0x20, 0x7F..<0xA0, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// A value as a message shows it: escaped (newlines too) and, beyond `echoLimit` characters,
    /// cut with its full length given.
    package static func shown(_ value: String) -> String {
        var count = 0
        var end = value.startIndex
        for index in value.indices {
            if count == echoLimit {
                end = index
                break
            }
            count += 1
            end = value.index(after: index)
        }
        guard end < value.endIndex else { return escaped(value, keepNewlines: false) }
        return escaped(String(value[..<end]), keepNewlines: false) + "… (\(value.count) characters)"
    }

    /// A whole message as printed: escaped, and capped at `messageLimit` characters.
    package static func sanitized(_ message: String) -> String {
        let text = escaped(message)
        guard text.count > messageLimit else { return text }
        return String(text.prefix(messageLimit)) + "… (message cut at \(messageLimit) of \(text.count) characters)"
    }
}

extension Message {
    /// Text of several lines as printed: each line escaped and capped at `messageLimit` characters.
    package static func sanitizedLines(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { needsEscapeInLine($0) }) || text.utf8.count > messageLimit else {
            return text
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { sanitized(String($0)) }.joined(
            separator: "\n")
    }

    private static func needsEscapeInLine(_ scalar: Unicode.Scalar) -> Bool {
        scalar != "\n" && scalar != "\t" && escaped(String(scalar)) != String(scalar)
    }
}

/// `Message.shown`: an outside value, escaped and cut to a readable length.
package func shown(_ value: String) -> String { Message.shown(value) }

/// `Message.shown` of any value's description.
package func shown(_ value: some CustomStringConvertible) -> String { Message.shown(value.description) }
