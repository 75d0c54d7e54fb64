import Foundation

/// A value with its 95% interval.
package struct Estimate: Codable, Sendable, Hashable {
    package var value: Double
    package var low: Double
    package var high: Double

    package init(value: Double, low: Double, high: Double) {
        self.value = value
        self.low = low
        self.high = high
    }
}

package enum Statistics {
    /// z for a two-sided 95% interval.
    package static let z95 = 1.959963984540054

    /// Wilson score interval for `correct` successes in `n` trials (Wilson 1927; Brown, Cai &
    /// DasGupta 2001): (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n).
    package static func wilson(correct: Int, n: Int, z: Double = z95) -> Estimate {
        guard n > 0 else { return Estimate(value: 0, low: 0, high: 1) }
        let nn = Double(n)
        let p = Double(correct) / nn
        let z2 = z * z
        let denominator = 1 + z2 / nn
        let center = (p + z2 / (2 * nn)) / denominator
        let half = z * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot() / denominator
        return Estimate(value: p, low: max(0, center - half), high: min(1, center + half))
    }

    /// The q-quantile (0…1) of a sample, linear between order statistics.
    package static func quantile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        guard sorted.count > 1 else { return sorted.first ?? .nan }
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }
}

/// A small deterministic generator (SplitMix64) so bootstrap intervals repeat run to run.
package struct SplitMix64: RandomNumberGenerator {
    package var state: UInt64
    package init(seed: UInt64) { state = seed }
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
