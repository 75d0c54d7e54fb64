import Foundation
import PowerProbe

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
    package static func pairedMeanRatio(_ base: [Double], _ new: [Double], draws: Int = 2000, seed: UInt64 = 0x9A1) -> Estimate {
        let n = base.count
        let point = new.reduce(0, +) / base.reduce(0, +)
        var generator = SplitMix64(seed: seed)
        var ratios: [Double] = []
        for _ in 0..<draws {
            var sumBase = 0.0, sumNew = 0.0
            for _ in 0..<n {
                let q = Int(generator.next() % UInt64(n))
                sumBase += base[q]
                sumNew += new[q]
            }
            ratios.append(sumNew / sumBase)
        }
        let finite = ratios.filter(\.isFinite)
        return Estimate(value: point, low: Statistics.quantile(finite, 0.025), high: Statistics.quantile(finite, 0.975))
    }

    /// (accuracy / mean cost) of new over base, resampling the query pairs; p is twice the smaller
    /// share of bootstrap ratios on either side of 1 (a percentile bootstrap test), counted as
    /// (k + 1) / (draws + 1) so that it is never 0.
    package static func pairedEfficiency(_ correct: [(Double, Double)], _ cost: [(Double, Double)], draws: Int = 2000,
                                 seed: UInt64 = 0x1B7) -> (Estimate, Double, Double, Double) {
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
        return (Estimate(value: newValue / baseValue, low: Statistics.quantile(finite, 0.025), high: Statistics.quantile(finite, 0.975)), p,
                baseValue, newValue)
    }

}

extension Comparison {
    /// Compares two fixtures written by `perwatt eval` on the queries both graded, pairing each
    /// query with itself: accuracy (Wilson per side, paired bootstrap, McNemar), and the means of J,
    /// latency and time to first token per query (paired bootstrap interval of the ratio of means,
    /// Wilcoxon signed-rank p), and IPJ and IPW (paired bootstrap; p from the bootstrap distribution).
    package static func compare(evalBase base: Fixture, new: Fixture, baseName: String, newName: String, thresholds: Thresholds) -> Comparison {
        let baseQueries = Dictionary((base.queries ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let newQueries = Dictionary((new.queries ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let common = Set(baseQueries.keys).intersection(newQueries.keys).sorted()
        let pairs = common.map { (baseQueries[$0]!, newQueries[$0]!) }
        let name = "eval:\(new.model)/\(new.quantization)/\(new.benchmark)"
        struct Pending {
            package var metric, unit: String
            package var direction: CompareStatistics.Direction
            package var band: Double
            package var ratio: Estimate
            package var p: Double
            package var baseInterval: Estimate? = nil, newInterval: Estimate? = nil
            package var baseValue: Double, newValue: Double
        }
        var pending: [Pending] = []
        let n = pairs.count
        if n > 0 {
            let a = pairs.map(\.0.correct), b = pairs.map(\.1.correct)
            let hitsA = a.filter { $0 }.count, hitsB = b.filter { $0 }.count
            let discordantB = zip(a, b).filter { $0 && !$1 }.count, discordantC = zip(a, b).filter { !$0 && $1 }.count
            pending.append(Pending(metric: "accuracy (same \(n) queries)", unit: "1", direction: .biggerIsBetter, band: thresholds.accuracy,
                                   ratio: CompareStatistics.pairedEfficiencyRatio(baseCorrect: a, newCorrect: b, baseCost: [1], newCost: [1], seed: 0xACC),
                                   p: CompareStatistics.mcNemarExact(b: discordantB, c: discordantC),
                                   baseInterval: Statistics.wilson(correct: hitsA, n: n), newInterval: Statistics.wilson(correct: hitsB, n: n),
                                   baseValue: Double(hitsA) / Double(n), newValue: Double(hitsB) / Double(n)))
        }
        // Per-query means, paired: only where both sides have the value for every common query.
        let perQuery: [(String, String, Double, (Fixture.Query) -> Double?)] = [
            ("energy per query", "J", thresholds.energy, { $0.energy?.joules }),
            ("latency per query", "s", thresholds.time, { $0.latencySeconds }),
            ("time to first token", "s", thresholds.time, { $0.timeToFirstTokenSeconds }),
        ]
        for (metric, unit, band, value) in perQuery {
            let values = pairs.compactMap { pair in value(pair.0).flatMap { x in value(pair.1).map { (x, $0) } } }
            guard !values.isEmpty, values.count == n else { continue }
            let (x, y) = (values.map(\.0), values.map(\.1))
            pending.append(Pending(metric: metric, unit: unit, direction: .smallerIsBetter, band: band,
                                   ratio: CompareStatistics.pairedMeanRatio(x, y), p: CompareStatistics.wilcoxonSignedRank(zip(y, x).map { $0 - $1 }).p,
                                   baseValue: x.reduce(0, +) / Double(n), newValue: y.reduce(0, +) / Double(n)))
        }
        // IPJ and IPW: accuracy over mean J (or mean W) per query, resampling the common queries.
        let energies = pairs.compactMap { pair in pair.0.energy.flatMap { x in pair.1.energy.map { (x, $0) } } }
        if n > 0, energies.count == n {
            let correct = pairs.map { ($0.0.correct ? 1.0 : 0, $0.1.correct ? 1.0 : 0) }
            let joules = energies.map { ($0.0.joules, $0.1.joules) }
            let watts = energies.map { ($0.0.windowSeconds > 0 ? $0.0.joules / $0.0.windowSeconds : 0, $0.1.windowSeconds > 0 ? $0.1.joules / $0.1.windowSeconds : 0) }
            for (metric, unit, cost) in [("IPJ", "1/J", joules), ("IPW", "1/W", watts)] {
                let (ratio, p, baseValue, newValue) = CompareStatistics.pairedEfficiency(correct, cost)
                pending.append(Pending(metric: metric, unit: unit, direction: .biggerIsBetter, band: thresholds.energy,
                                       ratio: ratio, p: p, baseValue: baseValue, newValue: newValue))
            }
        }
        let adjusted = CompareStatistics.holm(pending.map(\.p))
        let rows = pending.enumerated().map { index, item in
            Row(name: name, metric: item.metric, unit: item.unit, direction: item.direction, baseMedian: item.baseValue, newMedian: item.newValue,
                baseInterval: item.baseInterval, newInterval: item.newInterval, baseSamples: n, newSamples: n, ratio: item.ratio, p: item.p,
                adjustedP: adjusted[index], band: item.band,
                verdict: CompareStatistics.verdict(ratio: item.ratio, adjustedP: adjusted[index], direction: item.direction, band: item.band,
                                                   samples: (n, n)))
        }
        var mismatches: [String] = []
        if let a = base.eval, let b = new.eval {
            if a.querySet.sha256 != b.querySet.sha256 { mismatches.append("query set: \(a.querySet.name) (\(a.querySet.sha256.prefix(12))) vs \(b.querySet.name) (\(b.querySet.sha256.prefix(12)))") }
            if a.energy.basis != b.energy.basis { mismatches.append("energy basis: \(a.energy.basis ?? "none") vs \(b.energy.basis ?? "none")") }
            if a.settings.maxTokens != b.settings.maxTokens || a.settings.seed != b.settings.seed || a.settings.api != b.settings.api {
                mismatches.append("settings: \(a.settings.api.path), seed \(a.settings.seed), max \(a.settings.maxTokens) tokens vs \(b.settings.api.path), seed \(b.settings.seed), max \(b.settings.maxTokens) tokens")
            }
            if a.fingerprint.cpuModel != b.fingerprint.cpuModel { mismatches.append("CPU: \(a.fingerprint.cpuModel) vs \(b.fingerprint.cpuModel)") }
        }
        let uncommon = max(baseQueries.count, newQueries.count) - n
        if uncommon > 0 { mismatches.append("\(uncommon) queries graded on one side only are left out") }
        return Comparison(base: baseName, new: newName, suite: base.eval?.querySet.name ?? base.benchmark, mismatches: mismatches, rows: rows)
    }
}
