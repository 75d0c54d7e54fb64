import Foundation

/// Names and dates of result files.
package enum ResultFiles {
    /// `2026-12-03T08:38:16Z`: the time a result or fixture was started, as results record it.
    package static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// `perwatt-results/<name>-<UTC time>.json`, the name made safe as a file name.
    package static func defaultPath(name: String, started: Date) -> String {
        let stamp = iso8601(started).replacingOccurrences(of: ":", with: "")
        return "perwatt-results/\(OutputFile.safeName(name))-\(stamp).json"
    }
}
