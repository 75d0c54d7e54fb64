import Foundation

/// The paired tests and bootstraps for two evals graded on the same queries.
extension CompareStatistics {
    /// Wilcoxon signed-rank test (two-sided) on paired differences: zeros dropped, ties given average
    /// ranks; exact over all 2ⁿ sign patterns when there are no ties and n ≤ 25, else the normal
    /// approximation with tie and continuity corrections. Returns W⁺ and p.
    package static func wilcoxonSignedRank(_ differences: [Double]) -> (w: Double, p: Double) {
        let nonzero = differences.filter { $0 != 0 && $0.isFinite }
        let n = nonzero.count
        guard n > 0 else { return (0, 1) }
        let sorted = nonzero.map { (abs($0), $0 > 0) }.sorted { $0.0 < $1.0 }
        var ranks = [Double](repeating: 0, count: n)
        var tieTerm = 0.0
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && sorted[j + 1].0 == sorted[i].0 { j += 1 }
            for k in i...j { ranks[k] = Double(i + j + 2) / 2 }
            let t = Double(j - i + 1)
            tieTerm += t * t * t - t
            i = j + 1
        }
        let wPlus = zip(sorted, ranks).filter { $0.0.1 }.reduce(0) { $0 + $1.1 }
        let total = Double(n * (n + 1)) / 2
        if tieTerm == 0 && n <= 25 {
            // counts[s]: sign patterns whose positive ranks sum to s (ranks 1…n, a subset-sum count).
            var counts = [Double](repeating: 0, count: Int(total) + 1)
            counts[0] = 1
            for rank in 1...n {
                for s in stride(from: Int(total), through: rank, by: -1) { counts[s] += counts[s - rank] }
            }
            let extreme = min(wPlus, total - wPlus)
            let tail = counts.enumerated().filter { Double($0.offset) <= extreme + 1e-9 }.reduce(0) { $0 + $1.element }
            return (wPlus, min(1, 2 * tail / counts.reduce(0, +)))
        }
        let mean = total / 2
        let variance = Double(n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48
        guard variance > 0 else { return (wPlus, 1) }
        let z = (abs(wPlus - mean) - 0.5) / variance.squareRoot()
        return (wPlus, min(1, erfc(max(z, 0) / 2.0.squareRoot())))
    }

    /// mean(new) / mean(base) over paired values, with a seeded bootstrap over the pairs.
    package static func pairedMeanRatio(_ base: [Double], _ new: [Double], draws: Int = 2000, seed: UInt64 = 0x9A1)
        -> Estimate
    {
        let n = base.count
        let point = new.reduce(0, +) / base.reduce(0, +)
        var generator = SplitMix64(seed: seed)
        var ratios: [Double] = []
        for _ in 0..<draws {
            var sumBase = 0.0
            var sumNew = 0.0
            for _ in 0..<n {
                let q = Int(generator.next() % UInt64(n))
                sumBase += base[q]
                sumNew += new[q]
            }
            ratios.append(sumNew / sumBase)
        }
        return Statistics.percentileInterval(point, draws: ratios)
    }

    /// (accuracy / mean cost) of new over base, resampling the query pairs; p is twice the smaller
    /// share of bootstrap ratios on either side of 1 (a percentile bootstrap test), counted as
    /// (k + 1) / (draws + 1) so that it is never 0.
    package static func pairedEfficiency(
        _ correct: [(Double, Double)], _ cost: [(Double, Double)], draws: Int = 2000,
        seed: UInt64 = 0x1B7
    ) -> (Estimate, Double, Double, Double) {
        let n = correct.count
        func value(_ indices: [Int]) -> (Double, Double) {
            let hits = indices.reduce((0.0, 0.0)) { ($0.0 + correct[$1].0, $0.1 + correct[$1].1) }
            let costs = indices.reduce((0.0, 0.0)) { ($0.0 + cost[$1].0, $0.1 + cost[$1].1) }
            return (hits.0 / costs.0, hits.1 / costs.1)
        }
        let (baseValue, newValue) = value(Array(0..<n))
        var generator = SplitMix64(seed: seed)
        var ratios: [Double] = []
        for _ in 0..<draws {
            let (b, v) = value((0..<n).map { _ in Int(generator.next() % UInt64(n)) })
            ratios.append(v / b)
        }
        let finite = ratios.filter(\.isFinite)
        // (count + 1) / (draws + 1): a bootstrap never gives p = 0, only "fewer than one draw in `draws`".
        let tail = Double(min(finite.filter { $0 <= 1 }.count, finite.filter { $0 >= 1 }.count))
        let p = finite.isEmpty ? 1 : min(1, 2 * (tail + 1) / Double(finite.count + 1))
        return (
            Statistics.percentileInterval(newValue / baseValue, draws: finite), p,
            baseValue, newValue
        )
    }

}
