/// Power of the machine at rest, measured before the work so results can be given net of it.
public struct IdleBaseline: Sendable, Hashable {
    /// Basis power of each idle window.
    public var windowWatts: [Double]
    /// Median of `windowWatts`: robust to a background task waking up in one window.
    public var medianWatts: Double
    /// Median power per channel id.
    public var channelMedianWatts: [String: Double]
    public var totalSeconds: Double
    /// Windows left out because their energy could not be trusted.
    public var untrustedWindows: Int = 0

    /// Measures `seconds` of idle in windows of `windowSeconds` (default 1 s), sleeping in between reads.
    /// A window whose energy is untrusted (`EnergyWindow.untrusted`) is left out of the median; its
    /// count is in `untrustedWindows`. Returns nil if `seconds` is not positive, a basis channel could
    /// not be read, or no window was trusted.
    public static func measure(with meter: EnergyMeter, seconds: Double, windowSeconds: Double = 1.0) -> IdleBaseline? {
        guard seconds > 0 else { return nil }
        let count = max(1, Int((seconds / windowSeconds).rounded()))
        let length = seconds / Double(count)
        var watts: [Double] = []
        var perChannel: [String: [Double]] = [:]
        var total = 0.0
        var untrusted = 0
        for _ in 0..<count {
            let mark = meter.beginWindow()
            Syscalls.sleep(nanoseconds: UInt64(length * 1e9))
            let window = meter.endWindow(mark)
            guard let power = window.averageWatts else { return nil }
            if window.untrusted {
                untrusted += 1
                continue
            }
            watts.append(power)
            total += window.durationSeconds
            for channel in window.channels {
                if let channelWatts = channel.averageWatts {
                    perChannel[channel.channel.id, default: []].append(channelWatts)
                }
            }
        }
        guard !watts.isEmpty else { return nil }
        return IdleBaseline(
            windowWatts: watts, medianWatts: median(watts),
            channelMedianWatts: perChannel.mapValues(median), totalSeconds: total, untrustedWindows: untrusted)
    }
}

/// Median of a non-empty sample (mean of the two middle values for an even count).
func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "median of an empty sample")
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
