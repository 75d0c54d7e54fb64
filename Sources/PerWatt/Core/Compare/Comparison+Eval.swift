import Foundation
import PowerProbe

extension Comparison {
    /// Compares two fixtures written by `perwatt eval` on the queries both graded, pairing each
    /// query with itself: accuracy (Wilson per side, paired bootstrap, McNemar), and the means of J,
    /// latency and time to first token per query (paired bootstrap interval of the ratio of means,
    /// Wilcoxon signed-rank p), and IPJ and IPW (paired bootstrap; p from the bootstrap distribution).
    package static func compare(
        evalBase base: Fixture, new: Fixture, baseName: String, newName: String, thresholds: Thresholds
    ) -> Comparison {
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
            let a = pairs.map(\.0.correct)
            let b = pairs.map(\.1.correct)
            let hitsA = a.filter { $0 }.count
            let hitsB = b.filter { $0 }.count
            let discordantB = zip(a, b).filter { $0 && !$1 }.count
            let discordantC = zip(a, b).filter { !$0 && $1 }.count
            pending.append(
                Pending(
                    metric: "accuracy (same \(n) queries)", unit: "1", direction: .biggerIsBetter,
                    band: thresholds.accuracy,
                    ratio: CompareStatistics.pairedEfficiencyRatio(
                        baseCorrect: a, newCorrect: b, baseCost: [1], newCost: [1], seed: 0xACC),
                    p: CompareStatistics.mcNemarExact(b: discordantB, c: discordantC),
                    baseInterval: Statistics.wilson(correct: hitsA, n: n),
                    newInterval: Statistics.wilson(correct: hitsB, n: n),
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
            pending.append(
                Pending(
                    metric: metric, unit: unit, direction: .smallerIsBetter, band: band,
                    ratio: CompareStatistics.pairedMeanRatio(x, y),
                    p: CompareStatistics.wilcoxonSignedRank(zip(y, x).map { $0 - $1 }).p,
                    baseValue: x.reduce(0, +) / Double(n), newValue: y.reduce(0, +) / Double(n)))
        }
        // IPJ and IPW: accuracy over mean J (or mean W) per query, resampling the common queries.
        // (joules, seconds) of each side's window, for the queries both sides measured.
        let energies = pairs.compactMap { pair -> ((Double, Double), (Double, Double))? in
            guard let a = pair.0.energy, let b = pair.1.energy, let ja = a.joules, let jb = b.joules else { return nil }
            return ((ja, a.durationSeconds), (jb, b.durationSeconds))
        }
        if n > 0, energies.count == n {
            let correct = pairs.map { ($0.0.correct ? 1.0 : 0, $0.1.correct ? 1.0 : 0) }
            let joules = energies.map { ($0.0.0, $0.1.0) }
            let watts = energies.map { ($0.0.1 > 0 ? $0.0.0 / $0.0.1 : 0, $0.1.1 > 0 ? $0.1.0 / $0.1.1 : 0) }
            for (metric, unit, cost) in [("IPJ", "1/J", joules), ("IPW", "1/W", watts)] {
                let (ratio, p, baseValue, newValue) = CompareStatistics.pairedEfficiency(correct, cost)
                pending.append(
                    Pending(
                        metric: metric, unit: unit, direction: .biggerIsBetter, band: thresholds.energy,
                        ratio: ratio, p: p, baseValue: baseValue, newValue: newValue))
            }
        }
        let adjusted = CompareStatistics.holm(pending.map(\.p))
        let rows = pending.enumerated().map { index, item in
            Row(
                name: name, metric: item.metric, unit: item.unit, direction: item.direction, baseMedian: item.baseValue,
                newMedian: item.newValue,
                baseInterval: item.baseInterval, newInterval: item.newInterval, baseSamples: n, newSamples: n,
                ratio: item.ratio, p: item.p,
                adjustedP: adjusted[index], band: item.band,
                verdict: CompareStatistics.verdict(
                    ratio: item.ratio, adjustedP: adjusted[index], direction: item.direction, band: item.band,
                    samples: (n, n)))
        }
        var mismatches: [String] = []
        if let a = base.eval, let b = new.eval {
            if a.querySet.sha256 != b.querySet.sha256 {
                mismatches.append(
                    "query set: \(a.querySet.name) (\(a.querySet.sha256.prefix(12))) vs \(b.querySet.name) (\(b.querySet.sha256.prefix(12)))"
                )
            }
            if a.energy.basis != b.energy.basis {
                mismatches.append("energy basis: \(a.energy.basis ?? "none") vs \(b.energy.basis ?? "none")")
            }
            if a.settings.maxTokens != b.settings.maxTokens || a.settings.seed != b.settings.seed
                || a.settings.api != b.settings.api
            {
                mismatches.append(
                    "settings: \(a.settings.api.path), seed \(a.settings.seed), max \(a.settings.maxTokens) tokens vs \(b.settings.api.path), seed \(b.settings.seed), max \(b.settings.maxTokens) tokens"
                )
            }
            if a.fingerprint.cpuModel != b.fingerprint.cpuModel {
                mismatches.append("CPU: \(a.fingerprint.cpuModel) vs \(b.fingerprint.cpuModel)")
            }
        }
        let uncommon = max(baseQueries.count, newQueries.count) - n
        if uncommon > 0 { mismatches.append("\(uncommon) queries graded on one side only are left out") }
        return Comparison(
            base: baseName, new: newName, suite: base.eval?.querySet.name ?? base.benchmark, mismatches: mismatches,
            rows: rows)
    }
}
