import PowerProbe

/// `perwatt probe --watch`: one energy window per second, back to back, until `count` readings or an
/// interrupt; each reading goes to the caller as it is measured.
package struct WatchSession {
    /// One second's power, as `--watch --json` prints it (one JSON object per line).
    package struct Reading: Encodable {
        /// Since the watch began.
        package var seconds: Double
        package var basisWatts: Double?
        /// Average power per channel id over the second.
        package var channelWatts: [String: Double]
        package var warnings: [String]
        /// The same, per channel in the plan's order (nil where a channel gave no figure), for a table.
        package var orderedChannelWatts: [Double?]

        private enum CodingKeys: String, CodingKey { case seconds, basisWatts, channelWatts, warnings }
    }

    package let meter: EnergyMeter
    /// Stop after this many readings; nil runs until interrupted.
    package let count: Int?

    package init(meter: EnergyMeter, count: Int?) {
        self.meter = meter
        self.count = count
    }

    /// Runs until `count` readings or until the one-second sleep is interrupted (Ctrl-C).
    package func run(_ each: (Reading) -> Void) {
        meter.start()
        defer { meter.stop() }
        var readings = 0
        let begin = POSIX.monotonicSeconds()
        var mark = meter.beginWindow()
        while count.map({ readings < $0 }) ?? true {
            guard POSIX.sleep(seconds: 1.0) else { break }
            let window = meter.endWindow(mark)
            mark = meter.beginWindow()
            readings += 1
            var watts: [String: Double] = [:]
            for channel in window.channels { watts[channel.channel.id] = channel.averageWatts }
            each(
                Reading(
                    seconds: POSIX.monotonicSeconds() - begin, basisWatts: window.averageWatts, channelWatts: watts,
                    warnings: window.warnings, orderedChannelWatts: window.channels.map(\.averageWatts)))
        }
    }
}
