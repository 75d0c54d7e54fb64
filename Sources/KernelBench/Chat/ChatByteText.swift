/// Byte-level text helpers for the chat templates: llama.cpp works on `std::string` bytes, so
/// matching and trimming here do too, never on Swift's Unicode-equivalent `Character`s.
enum ChatByteText {
    /// Whether `marker`'s UTF-8 bytes occur in `text`. The corresponding C++ call is `std::string::find`.
    static func contains(_ text: [UInt8], _ marker: StaticString) -> Bool {
        marker.withUTF8Buffer { needle in
            guard let first = needle.first else { return true }
            guard needle.count <= text.count else { return false }
            var start = 0
            let last = text.count - needle.count
            while start <= last {
                if text[start] == first && text[start..<start + needle.count].elementsEqual(needle) {
                    return true
                }
                start += 1
            }
            return false
        }
    }

    /// Whether `text` starts with `marker`'s UTF-8 bytes (`tmpl.find(marker) == 0`).
    static func hasPrefix(_ text: [UInt8], _ marker: StaticString) -> Bool {
        marker.withUTF8Buffer { text.starts(with: $0) }
    }

    /// Whether a byte is C `isspace` in the "C" locale: space, \t, \n, \v, \f, \r.
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    /// `text` without leading and trailing `isspace` bytes. The corresponding C++ function is
    /// `trim` in src/llama-chat.cpp.
    static func trim(_ text: [UInt8]) -> ArraySlice<UInt8> {
        var start = 0
        var end = text.count
        while start < end && isSpace(text[start]) { start += 1 }
        while end > start && isSpace(text[end - 1]) { end -= 1 }
        return text[start..<end]
    }

    /// ASCII `toupper` of one byte ("C" locale: other bytes stay as they are).
    static func upper(_ byte: UInt8) -> UInt8 { (0x61...0x7A).contains(byte) ? byte - 0x20 : byte }
}
