import Foundation

/// JSON as perwatt writes it: sorted keys (stable diffs), pretty for files, one line for streams.
package enum JSON {
    package static func encode<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .throw
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Writes `value`, pretty and with a final newline, to `path` through `OutputFile` (atomic for
    /// files, missing folders created). Throws `OutputError` for the file and encoding errors as they are.
    package static func write<T: Encodable>(_ value: T, to path: String) throws {
        try OutputFile.write(try encode(value) + "\n", to: path)
    }
}
