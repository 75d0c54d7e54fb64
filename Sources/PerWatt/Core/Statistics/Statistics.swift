import Foundation

/// A value with its 95% interval.
package struct Estimate: Codable, Sendable, Hashable {
    package var value: Double
    package var low: Double
    package var high: Double
}

/// The one home of perwatt's statistics: estimates and intervals here, the tests and bootstraps that
/// compare two results in `CompareStatistics`, the seeded generator in `SplitMix64`.
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

    /// Median of a non-empty sample (mean of the two middle values for an even count).
    package static func median(_ values: [Double]) -> Double {
        precondition(!values.isEmpty, "median of an empty sample")
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// `value` with the percentile 95% interval (2.5% and 97.5% quantiles) of its bootstrap `draws`;
    /// draws that are not finite (a resample with zero cost) are left out.
    package static func percentileInterval(_ value: Double, draws: [Double]) -> Estimate {
        let finite = draws.filter(\.isFinite)
        return Estimate(value: value, low: quantile(finite, 0.025), high: quantile(finite, 0.975))
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
