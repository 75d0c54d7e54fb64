import Testing

@testable import PerWattCore

/// Statistics on exactly known samples.
struct StatisticsTests {
    @Test func medianOfOddAndEvenSamples() {
        #expect(Statistics.median([3, 1, 2]) == 2)
        #expect(Statistics.median([4, 1, 3, 2]) == 2.5)
        #expect(Statistics.median([7]) == 7)
        #expect(Statistics.median([-1, -1, 5, 9]) == 2)
    }

    @Test func percentileIntervalIsTheQuantilesOfTheFiniteDraws() {
        // 0, 1, …, 100 with two non-finite draws that must be left out: 2.5% → 2.5, 97.5% → 97.5.
        let draws = (0...100).map(Double.init) + [.infinity, .nan]
        let estimate = Statistics.percentileInterval(50, draws: draws)
        #expect(estimate.value == 50 && estimate.low == 2.5 && estimate.high == 97.5)
    }

    @Test func quantileInterpolatesBetweenOrderStatistics() {
        #expect(Statistics.quantile([10, 20], 0.25) == 12.5)
        #expect(Statistics.quantile([5], 0.9) == 5)
        #expect(Statistics.quantile([], 0.5).isNaN)
    }
}
