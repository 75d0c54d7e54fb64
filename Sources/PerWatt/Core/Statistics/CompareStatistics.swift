import Foundation
import PowerProbe

/// The statistics `perwatt compare` rests on (issue 5): ratio of medians with a percentile
/// bootstrap interval, the Mann–Whitney U test on repetitions, Holm–Bonferroni across comparisons,
/// McNemar's exact test on paired correctness, and the verdict rule that combines them.
package enum CompareStatistics {
    /// median(new) / median(base) with a percentile-bootstrap 95% interval: both samples resampled
    /// with replacement, independently, `draws` times, from a seeded generator (results repeat).
    ///
    /// With `baseRuns`/`newRuns` (the sizes of consecutive groups that came from separate runs), the
    /// resampling is two-stage, a cluster bootstrap: runs are drawn with replacement, then repetitions
    /// within each drawn run. Repetitions of one run share that run's state of the machine, so treating
    /// them as independent would hide the drift between runs and make the interval too narrow.
    package static func ratioOfMedians(
        base: [Double], new: [Double], baseRuns: [Int]? = nil, newRuns: [Int]? = nil,
        draws: Int = 2000, seed: UInt64 = 0xC0FFEE
    ) -> Estimate {
        let point = Statistics.median(new) / Statistics.median(base)
        var generator = SplitMix64(seed: seed)
        let (baseClusters, newClusters) = (clusters(base, baseRuns), clusters(new, newRuns))
        var ratios: [Double] = []
        ratios.reserveCapacity(draws)
        for _ in 0..<draws {
            let b = resampledMedian(baseClusters, using: &generator)
            let n = resampledMedian(newClusters, using: &generator)
            ratios.append(n / b)
        }
        return Statistics.percentileInterval(point, draws: ratios)
    }

    /// IPJ (or IPW) of NEW over BASE, accuracy / median cost per query on each side, when both sides
    /// graded the same queries: a paired bootstrap. Each draw resamples the common queries once, the
    /// same indices for both sides, so a query that both get right (or wrong) moves both accuracies
    /// together and the interval reflects only the queries on which they differ; the costs (joules or
    /// watts per query, one per repetition) are resampled per side as in `ratioOfMedians`.
    /// - Parameters:
    ///   - baseCorrect, newCorrect: correctness on the common queries, in the same order.
    ///   - baseCost, newCost: cost per query of each repetition.
    package static func pairedEfficiencyRatio(
        baseCorrect: [Bool], newCorrect: [Bool], baseCost: [Double], newCost: [Double],
        baseRuns: [Int]? = nil, newRuns: [Int]? = nil, draws: Int = 2000, seed: UInt64 = 0x1B7
    ) -> Estimate {
        let n = min(baseCorrect.count, newCorrect.count)
        func accuracy(_ hits: Int) -> Double { Double(hits) / Double(n) }
        let point =
            accuracy(newCorrect.prefix(n).filter { $0 }.count) / Statistics.median(newCost)
            / (accuracy(baseCorrect.prefix(n).filter { $0 }.count) / Statistics.median(baseCost))
        var generator = SplitMix64(seed: seed)
        let (baseClusters, newClusters) = (clusters(baseCost, baseRuns), clusters(newCost, newRuns))
        var ratios: [Double] = []
        ratios.reserveCapacity(draws)
        for _ in 0..<draws {
            var hitsBase = 0
            var hitsNew = 0
            for _ in 0..<n {
                let q = Int.random(in: 0..<n, using: &generator)
                if baseCorrect[q] { hitsBase += 1 }
                if newCorrect[q] { hitsNew += 1 }
            }
            let costBase = resampledMedian(baseClusters, using: &generator)
            let costNew = resampledMedian(newClusters, using: &generator)
            ratios.append(accuracy(hitsNew) / costNew / (accuracy(hitsBase) / costBase))
        }
        let finite = ratios.filter(\.isFinite)
        guard n > 0, !finite.isEmpty else { return Estimate(value: point, low: .nan, high: .nan) }
        return Statistics.percentileInterval(point, draws: finite)
    }

    /// `values` split into consecutive groups of `sizes` (one per pooled run), or one group when the
    /// sizes are absent, a single run, or do not add up.
    package static func clusters(_ values: [Double], _ sizes: [Int]?) -> [[Double]] {
        guard let sizes, sizes.count > 1, sizes.reduce(0, +) == values.count else { return [values] }
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return Array(values[start..<(start + size)])
        }
    }

    /// The median of one bootstrap resample: with one cluster, its values drawn with replacement; with
    /// several, clusters drawn with replacement, then values within each drawn cluster.
    package static func resampledMedian(_ clusters: [[Double]], using generator: inout SplitMix64) -> Double {
        var values: [Double] = []
        for _ in clusters.indices {
            let cluster =
                clusters.count == 1 ? clusters[0] : clusters[Int.random(in: 0..<clusters.count, using: &generator)]
            for _ in cluster.indices { values.append(cluster[Int.random(in: 0..<cluster.count, using: &generator)]) }
        }
        return Statistics.median(values)
    }

    /// Mann–Whitney U test (two-sided) of `x` against `y`: U of x (ties get average ranks) and the
    /// p-value, exact from the U distribution when there are no ties and both samples have at most
    /// 20 values, else from the normal approximation with tie and continuity corrections.
    package static func mannWhitney(_ x: [Double], _ y: [Double]) -> (u: Double, p: Double) {
        let (m, n) = (x.count, y.count)
        guard m > 0, n > 0 else { return (0, 1) }
        let pooled = (x.map { ($0, true) } + y.map { ($0, false) }).sorted { $0.0 < $1.0 }
        var ranks = [Double](repeating: 0, count: pooled.count)
        var tieTerm = 0.0
        var i = 0
        while i < pooled.count {
            var j = i
            while j + 1 < pooled.count && pooled[j + 1].0 == pooled[i].0 { j += 1 }
            let rank = Double(i + j + 2) / 2
            for k in i...j { ranks[k] = rank }
            let t = Double(j - i + 1)
            tieTerm += t * t * t - t
            i = j + 1
        }
        let rankSumX = zip(pooled, ranks).filter { $0.0.1 }.reduce(0) { $0 + $1.1 }
        let u = rankSumX - Double(m * (m + 1)) / 2
        let mean = Double(m * n) / 2
        if tieTerm == 0 && m <= 20 && n <= 20 {
            // Exact: counts of each U over all C(m+n, m) arrangements, by the recurrence
            // f(m, n, u) = f(m − 1, n, u − n) + f(m, n − 1, u).
            let counts = uDistribution(m, n)
            let total = counts.reduce(0, +)
            let extreme = min(u, Double(m * n) - u)
            let tail = counts.enumerated().filter { Double($0.offset) <= extreme + 1e-9 }.reduce(0) { $0 + $1.element }
            return (u, min(1, 2 * tail / total))
        }
        let total = Double(m + n)
        let variance = Double(m * n) / 12 * ((total + 1) - tieTerm / (total * (total - 1)))
        guard variance > 0 else { return (u, 1) }
        let z = (abs(u - mean) - 0.5) / variance.squareRoot()
        return (u, min(1, erfc(max(z, 0) / 2.0.squareRoot())))
    }

    /// Number of arrangements giving each U = 0…m·n, for samples of m and n distinct values.
    package static func uDistribution(_ m: Int, _ n: Int) -> [Double] {
        // table[a][b] is the distribution for sizes (a, b).
        var table = [[[Double]]](repeating: [[Double]](repeating: [], count: n + 1), count: m + 1)
        for a in 0...m {
            for b in 0...n {
                if a == 0 || b == 0 {
                    table[a][b] = [1]
                    continue
                }
                var counts = [Double](repeating: 0, count: a * b + 1)
                for (u, c) in table[a - 1][b].enumerated() where u + b < counts.count { counts[u + b] += c }
                for (u, c) in table[a][b - 1].enumerated() { counts[u] += c }
                table[a][b] = counts
            }
        }
        return table[m][n]
    }

    /// Holm–Bonferroni adjusted p-values, in the input order: sorted ascending, p₍ᵢ₎·(k − i + 1),
    /// made monotone, capped at 1.
    package static func holm(_ p: [Double]) -> [Double] {
        let k = p.count
        let order = p.indices.sorted { p[$0] < p[$1] }
        var adjusted = [Double](repeating: 1, count: k)
        var running = 0.0
        for (rank, index) in order.enumerated() {
            running = max(running, min(1, Double(k - rank) * p[index]))
            adjusted[index] = running
        }
        return adjusted
    }

    /// McNemar's exact test (two-sided) on the discordant pairs: b queries right only in base, c
    /// right only in new; p = min(1, 2·P[X ≤ min(b, c)]) for X ~ Binomial(b + c, ½).
    package static func mcNemarExact(b: Int, c: Int) -> Double {
        let n = b + c
        guard n > 0 else { return 1 }
        var tail = 0.0
        // log C(n, k) − n·log 2, summed in linear space (n up to a few thousand is fine).
        var logChoose = 0.0
        for k in 0...min(b, c) {
            if k > 0 { logChoose += log(Double(n - k + 1)) - log(Double(k)) }
            tail += exp(logChoose - Double(n) * log(2.0))
        }
        return min(1, 2 * tail)
    }

    /// Which way a metric prefers to move.
    package enum Direction: String, Codable, Sendable { case smallerIsBetter, biggerIsBetter }

    package enum Verdict: String, Codable, Sendable {
        case regressed, improved, unchanged, inconclusive
        case insufficientData = "insufficient data"
    }

    /// The verdict of one metric: a regression (or improvement) needs both significance (Holm-adjusted
    /// p < α) and a ratio interval wholly beyond the noise band on the bad (or good) side; an interval
    /// wholly inside the band is unchanged; anything else is inconclusive. Fewer than `minimumSamples`
    /// repetitions on either side is insufficient data.
    package static func verdict(
        ratio: Estimate, adjustedP: Double, direction: Direction, band: Double, samples: (base: Int, new: Int),
        alpha: Double = 0.05, minimumSamples: Int = 3
    ) -> Verdict {
        guard samples.base >= minimumSamples, samples.new >= minimumSamples else { return .insufficientData }
        let worse = direction == .smallerIsBetter ? ratio.low > 1 + band : ratio.high < 1 - band
        let better = direction == .smallerIsBetter ? ratio.high < 1 - band : ratio.low > 1 + band
        if adjustedP < alpha && worse { return .regressed }
        if adjustedP < alpha && better { return .improved }
        if ratio.low >= 1 - band && ratio.high <= 1 + band { return .unchanged }
        return .inconclusive
    }
}
