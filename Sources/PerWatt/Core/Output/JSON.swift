import Foundation

/// JSON as perwatt writes it: sorted keys (stable diffs), pretty for files, one line for streams.
package enum JSON {
    package static func encode<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .throw
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Writes `value`, pretty and with a final newline, to `path` through `OutputFile` (atomic for
    /// files, missing folders created). Throws `OutputError` for the file and encoding errors as they are.
    package static func write<T: Encodable>(_ value: T, to path: String) throws {
        try OutputFile.write(try encode(value) + "\n", to: path)
    }
}

/// Formats a number with a fixed count of decimals.
package func fixed(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}

/// Human size in binary units.
package func bytesText(_ bytes: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : "\(fixed(value, 1)) \(units[unit])"
}

/// Seconds in a readable unit.
package func durationText(_ seconds: Double) -> String {
    if seconds >= 3600 { return "\(fixed(seconds / 3600, 1)) h" }
    if seconds >= 120 { return "\(fixed(seconds / 60, 1)) min" }
    if seconds >= 1 { return "\(fixed(seconds, 1)) s" }
    if seconds >= 0.001 { return "\(fixed(seconds * 1000, 1)) ms" }
    return "\(fixed(seconds * 1e6, 1)) µs"
}
