import Foundation
import Testing

@testable import PerWattCLI
@testable import PerWattCore

@Suite struct CompareStatisticsTests {
    @Test func mannWhitneyExactOnHandComputedSamples() {
        // Complete separation, 3 vs 3: U = 0, p = 2 · 1/C(6,3) = 0.1.
        var result = CompareStatistics.mannWhitney([1, 2, 3], [4, 5, 6])
        #expect(result.u == 0 && abs(result.p - 0.1) < 1e-12)
        // 5 vs 5: p = 2/252.
        result = CompareStatistics.mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
        #expect(result.u == 0 && abs(result.p - 2.0 / 252) < 1e-12)
        // Interleaved: ranks of x are 1, 3, 5, U = 3; the U counts for 3 vs 3 are 1,1,2,3,3,3,3,2,1,1,
        // so P[U ≤ 3] = 7/20 and p = 0.7.
        result = CompareStatistics.mannWhitney([1, 3, 5], [2, 4, 6])
        #expect(result.u == 3 && abs(result.p - 0.7) < 1e-12)
        #expect(CompareStatistics.uDistribution(3, 3) == [1, 1, 2, 3, 3, 3, 3, 2, 1, 1])
    }

    @Test func mannWhitneyWithTiesUsesTheCorrectedNormalApproximation() {
        // Ranks: 1 | 3 3 3 | 5.5 5.5 | 7 | 8; rank sum of x = 12.5, U = 2.5. Tie term 3³−3 + 2³−2 = 30,
        // variance = 4·4/12 · (9 − 30/56), z = (|2.5 − 8| − 0.5)/σ = 1.488351, p = erfc(z/√2).
        let result = CompareStatistics.mannWhitney([1, 2, 2, 3], [2, 3, 4, 5])
        #expect(result.u == 2.5)
        #expect(abs(result.p - 0.1366582) < 1e-6, "\(result.p)")
    }

    @Test func holmAdjustsInRankOrderAndStaysMonotone() {
        let adjusted = CompareStatistics.holm([0.01, 0.04, 0.03, 0.2])
        // Sorted 0.01·4 = 0.04, 0.03·3 = 0.09, 0.04·2 = 0.08 → 0.09 (monotone), 0.2·1 = 0.2.
        #expect(zip(adjusted, [0.04, 0.09, 0.09, 0.2]).allSatisfy { abs($0 - $1) < 1e-12 }, "\(adjusted)")
        #expect(CompareStatistics.holm([0.5, 0.6]) == [1, 1])
    }

    @Test func mcNemarExact() {
        // b = 1, c = 9: P[X ≤ 1] for Binomial(10, ½) = 11/1024; two-sided 22/1024.
        expectClose(CompareStatistics.mcNemarExact(b: 1, c: 9), 22.0 / 1024)
        #expect(CompareStatistics.mcNemarExact(b: 5, c: 5) == 1)
        #expect(CompareStatistics.mcNemarExact(b: 0, c: 0) == 1)
        // b = 0, c = 6: 2 · (½)⁶.
        expectClose(CompareStatistics.mcNemarExact(b: 0, c: 6), 2.0 / 64)
    }

    @Test func bootstrapRatioIsSeededAndExactForConstantSamples() {
        let constant = CompareStatistics.ratioOfMedians(base: [1, 1, 1], new: [1.1, 1.1, 1.1])
        for endpoint in [constant.value, constant.low, constant.high] { expectClose(endpoint, 1.1) }
        let base = [1.00, 1.02, 0.98, 1.01, 0.99]
        let new = [0.99, 1.01, 1.00, 1.02, 0.98]
        let first = CompareStatistics.ratioOfMedians(base: base, new: new)
        // The seed decides the draws: another seed gives another interval (same point).
        // (Twenty spread values, so that the percentile endpoints are not pinned to a few order statistics.)
        let wideBase = (0..<20).map { 1 + Double($0 * 7 % 20) * 0.003 }
        let wideNew = (0..<20).map { 1.01 + Double($0 * 3 % 20) * 0.004 }
        let seeded = CompareStatistics.ratioOfMedians(base: wideBase, new: wideNew)
        let other = CompareStatistics.ratioOfMedians(base: wideBase, new: wideNew, seed: 1)
        #expect(other.value == seeded.value && (other.low, other.high) != (seeded.low, seeded.high))
        // Resampled medians stay within each sample's range, so the ratio does too.
        #expect(first.low >= 0.98 / 1.02 - 1e-12 && first.high <= 1.02 / 0.98 + 1e-12 && first.value == 1)
    }

    @Test func pairedEfficiencyRatioPairsQueriesAndResamplesCosts() {
        let correct = (0..<200).map { $0 % 5 < 3 }
        // Same answers, constant costs: every draw gives exactly 1, or exactly the cost ratio.
        let same = CompareStatistics.pairedEfficiencyRatio(
            baseCorrect: correct, newCorrect: correct, baseCost: [2, 2, 2], newCost: [2, 2, 2])
        #expect(same == Estimate(value: 1, low: 1, high: 1))
        let cheaper = CompareStatistics.pairedEfficiencyRatio(
            baseCorrect: correct, newCorrect: correct, baseCost: [2, 2, 2], newCost: [1, 1, 1])
        #expect(cheaper == Estimate(value: 2, low: 2, high: 2))
        // Four of 120 right answers lost: the point is (116/200)/(120/200). Paired, only those four
        // queries move the ratio, so its interval is far narrower than the two Wilson intervals
        // (each about ±0.068 wide on an accuracy of 0.6) would suggest: at most 1 − 12/120 below 1.
        var worse = correct
        for index in [0, 5, 10, 15] { worse[index] = false }
        let paired = CompareStatistics.pairedEfficiencyRatio(
            baseCorrect: correct, newCorrect: worse, baseCost: [1], newCost: [1])
        #expect(abs(paired.value - 116.0 / 120) < 1e-12)
        #expect(paired.high <= 1 + 1e-12 && paired.low > 0.9 && paired.low < paired.value)
        #expect(
            paired
                == CompareStatistics.pairedEfficiencyRatio(
                    baseCorrect: correct, newCorrect: worse, baseCost: [1], newCost: [1]))
        // Unpaired, the same accuracies would give an interval several times wider.
        let (a, b) = (Statistics.wilson(correct: 120, n: 200), Statistics.wilson(correct: 116, n: 200))
        #expect((b.high / a.low - b.low / a.high) > 3 * (paired.high - paired.low))
        // Noisy costs widen the interval beyond the accuracy's alone.
        let noisy = CompareStatistics.pairedEfficiencyRatio(
            baseCorrect: correct, newCorrect: worse, baseCost: [0.9, 1.0, 1.1, 1.0, 0.95],
            newCost: [0.9, 1.0, 1.1, 1.0, 0.95])
        #expect(noisy.high - noisy.low > paired.high - paired.low)
    }

    @Test func wilcoxonSignedRankOnHandComputedSamples() {
        // All five differences positive: W⁺ = 15, and only 1 of the 32 sign patterns is as extreme on each side.
        let allUp = CompareStatistics.wilcoxonSignedRank([1, 2, 3, 4, 5])
        #expect(allUp.w == 15 && abs(allUp.p - 2.0 / 32) < 1e-12)
        // Ranks 1…5 with 1 and 4 negative: W⁺ = 10, W⁻ = 5; 10 subsets of {1…5} sum to ≤ 5, so p = 2·10/32.
        let mixed = CompareStatistics.wilcoxonSignedRank([-1, 2, 3, -4, 5])
        #expect(mixed.w == 10 && abs(mixed.p - 20.0 / 32) < 1e-12)
        // Zeros are dropped; no differences at all is p = 1.
        #expect(CompareStatistics.wilcoxonSignedRank([0, 0]).p == 1)
        #expect(CompareStatistics.wilcoxonSignedRank([0, 1, 2, 3, 4, 5]).w == 15)
        // With ties, the normal approximation: symmetric in the sign.
        let tied = CompareStatistics.wilcoxonSignedRank([1, 1, 2, 2, 3, 3, -1])
        #expect(
            abs(tied.p - CompareStatistics.wilcoxonSignedRank([-1, -1, -2, -2, -3, -3, 1]).p) < 1e-12 && tied.p > 0
                && tied.p < 0.2)
    }

    @Test func pairedEfficiencyBootstrapPIsNeverZero() {
        // Every query right on both sides, new costs half as much: every draw's ratio is exactly 2, so no
        // draw reaches 1 and p is its floor, 2 · 1 / (2000 + 1).
        let correct = [(Double, Double)](repeating: (1, 1), count: 30)
        let cost: [(Double, Double)] = (0..<30).map { index -> (Double, Double) in
            let joules = Double(index % 5 + 1)
            return (joules, joules / 2)
        }
        let result = CompareStatistics.pairedEfficiency(correct, cost)
        let ratio: Estimate = result.0
        let p: Double = result.1
        for endpoint in [ratio.value, ratio.low, ratio.high] { expectClose(endpoint, 2) }
        expectClose(p, 2.0 / 2001, "p")
        expectClose(result.3 / result.2, 2)
    }

    @Test func noiseIsNeverARegressionAndATenPercentSlowdownIs() {
        let base = [1.00, 1.02, 0.98, 1.01, 0.99]
        // The same distribution again: not a regression.
        let noise = [0.99, 1.01, 1.00, 1.02, 0.98]
        let noiseRatio = CompareStatistics.ratioOfMedians(base: base, new: noise)
        let noiseP = CompareStatistics.mannWhitney(base, noise).p
        let quiet = CompareStatistics.verdict(
            ratio: noiseRatio, adjustedP: noiseP, direction: .smallerIsBetter, band: 0.03, samples: (5, 5))
        // Seeded, so one verdict: the interval of the ratio does not lie inside the 3% band with five
        // repetitions, and nothing is significant, so it is inconclusive, never regressed.
        #expect(quiet == .inconclusive, "\(quiet) with interval \(noiseRatio.low)–\(noiseRatio.high), p \(noiseP)")
        // 10% slower (time, smaller is better): significant and wholly beyond the 3% band.
        let slow = base.map { $0 * 1.1 }
        let slowRatio = CompareStatistics.ratioOfMedians(base: base, new: slow)
        let slowP = CompareStatistics.mannWhitney(base, slow).p
        #expect(
            CompareStatistics.verdict(
                ratio: slowRatio, adjustedP: slowP, direction: .smallerIsBetter, band: 0.03, samples: (5, 5))
                == .regressed)
        // The same change read as throughput (bigger is better) is an improvement.
        #expect(
            CompareStatistics.verdict(
                ratio: slowRatio, adjustedP: slowP, direction: .biggerIsBetter, band: 0.03, samples: (5, 5))
                == .improved)
        // Significant but inside the band: never a regression.
        let inside = Estimate(value: 1.01, low: 1.005, high: 1.02)
        #expect(
            CompareStatistics.verdict(
                ratio: inside, adjustedP: 0.001, direction: .smallerIsBetter, band: 0.03, samples: (5, 5)) == .unchanged
        )
        // Beyond the band but not significant (after Holm): inconclusive.
        #expect(
            CompareStatistics.verdict(
                ratio: slowRatio, adjustedP: 0.2, direction: .smallerIsBetter, band: 0.03, samples: (5, 5))
                == .inconclusive)
        #expect(
            CompareStatistics.verdict(
                ratio: slowRatio, adjustedP: slowP, direction: .smallerIsBetter, band: 0.03, samples: (2, 5))
                == .insufficientData)
    }

    /// Repetitions of one run share its drift: resampling whole runs first widens the interval when
    /// the runs disagree, and changes nothing when there is one run.
    @Test func clusterBootstrapWidensTheIntervalForDriftBetweenRuns() {
        // Three runs per side, each tight (±0.5%) but at its own level: the machine drifted by 4%.
        let jitter = [-0.005, -0.003, -0.001, 0, 0.001, 0.002, 0.003, 0.005]
        let base = [1.00, 1.04, 1.08].flatMap { level in jitter.map { level + $0 } }
        let new = [1.02, 1.06, 1.10].flatMap { level in jitter.map { level + $0 } }
        let plain = CompareStatistics.ratioOfMedians(base: base, new: new)
        let clustered = CompareStatistics.ratioOfMedians(
            base: base, new: new, baseRuns: [8, 8, 8], newRuns: [8, 8, 8])
        #expect(clustered.value == plain.value)
        // Treated as 24 independent repetitions the interval is about half as wide as by runs
        // (here [0.984, 1.056] against [0.948, 1.097]).
        #expect(clustered.low < plain.low && clustered.high > plain.high, "plain \(plain), clustered \(clustered)")
        #expect(
            clustered.high - clustered.low > 1.5 * (plain.high - plain.low), "plain \(plain), clustered \(clustered)")
        #expect(CompareStatistics.ratioOfMedians(base: base, new: new, baseRuns: [24], newRuns: [24]) == plain)
    }
}
