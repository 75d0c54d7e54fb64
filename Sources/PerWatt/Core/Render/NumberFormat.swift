/// A number as a person writes it in a message: whole numbers without ".0", others as Swift prints them.
package func formatNumber(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
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
