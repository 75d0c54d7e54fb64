import Foundation
import PowerProbe

/// Matches two `perwatt.result/2` files metric by metric and classifies each change (DESIGN 9).
///
/// Metrics with per-repetition samples on both sides:
/// - every kernel: seconds per call, and basis joules per call when both runs had energy;
/// - every workload: prefill and decode seconds (and joules) per token, one projected sample per
///   repetition index r (Σ calls per pass × the kernel's r-th repetition);
/// - every score: IPJ and IPW per repetition, from that repetition's joules and seconds per query at the
///   score's mean token counts and its fixture's accuracy. Where both fixtures are per query, the ratio's
///   interval is a paired bootstrap over the common queries and the repetitions together
///   (`CompareStatistics.pairedEfficiencyRatio`); otherwise over the repetitions, accuracy held fixed;
/// - accuracy on the same queries, where both fixtures are per query: each side's Wilson interval, a
///   paired bootstrap over the common queries for the ratio's interval, McNemar's exact test on the
///   discordant ones for p.
package struct Comparison: Codable, Sendable {
    package struct Row: Codable, Sendable {
        /// Stable name: `kernel:<case>`, `workload:<model>/<quantization>`, `score:<model>/<quantization>/<benchmark>`.
        package var name: String
        package var metric: String
        package var unit: String
        package var direction: CompareStatistics.Direction
        package var baseMedian: Double
        package var newMedian: Double
        /// Wilson 95% intervals of each side's accuracy (accuracy rows only).
        package var baseInterval: Estimate? = nil
        package var newInterval: Estimate? = nil
        package var baseSamples: Int
        package var newSamples: Int
        /// median(new) / median(base), with its bootstrap 95% interval.
        package var ratio: Estimate
        package var p: Double
        package var adjustedP: Double
        package var band: Double
        package var verdict: CompareStatistics.Verdict

        package init(
            name: String, metric: String, unit: String, direction: CompareStatistics.Direction, baseMedian: Double,
            newMedian: Double, baseInterval: Estimate? = nil, newInterval: Estimate? = nil, baseSamples: Int,
            newSamples: Int, ratio: Estimate, p: Double, adjustedP: Double, band: Double,
            verdict: CompareStatistics.Verdict
        ) {
            self.name = name
            self.metric = metric
            self.unit = unit
            self.direction = direction
            self.baseMedian = baseMedian
            self.newMedian = newMedian
            self.baseInterval = baseInterval
            self.newInterval = newInterval
            self.baseSamples = baseSamples
            self.newSamples = newSamples
            self.ratio = ratio
            self.p = p
            self.adjustedP = adjustedP
            self.band = band
            self.verdict = verdict
        }
    }

    package var schema = "perwatt.compare/1"
    package var base: String
    package var new: String
    package var suite: String
    /// What differs between the two runs (suite, basis, fixtures, machine); empty when they match.
    package var mismatches: [String]
    package var rows: [Row]
    /// Geometric mean of the ratios per metric, oriented so that > 1 is worse.
    package var geometricMeanWorseRatio: [String: Double]
    package var regressions: Int
    package var improvements: Int

    package struct Thresholds: Sendable {
        package var time = 0.03
        package var energy = 0.05
        /// Relative change of accuracy on the same queries.
        package var accuracy = 0.01

        package init(time: Double = 0.03, energy: Double = 0.05, accuracy: Double = 0.01) {
            self.time = time
            self.energy = energy
            self.accuracy = accuracy
        }
    }

    /// What differs between two results, in words.
    package static func mismatches(_ a: RunResult, _ b: RunResult) -> [String] {
        var out: [String] = []
        if a.suite.sha256 != b.suite.sha256 {
            out.append(
                "suite: \(a.suite.name) (\(a.suite.sha256.prefix(12))) vs \(b.suite.name) (\(b.suite.sha256.prefix(12)))"
            )
        }
        if a.energy.basis != b.energy.basis {
            out.append("energy basis: \(a.energy.basis ?? "none") vs \(b.energy.basis ?? "none")")
        }
        let fixturesA = Set(a.fixtures.map(\.sha256))
        let fixturesB = Set(b.fixtures.map(\.sha256))
        if fixturesA != fixturesB { out.append("fixtures differ (accuracy is not the same on both sides)") }
        if a.fingerprint.cpuModel != b.fingerprint.cpuModel {
            out.append("CPU: \(a.fingerprint.cpuModel) vs \(b.fingerprint.cpuModel)")
        }
        if a.fingerprint.buildTarget != b.fingerprint.buildTarget {
            out.append("build target: \(a.fingerprint.buildTarget.name) vs \(b.fingerprint.buildTarget.name)")
        }
        return out
    }

    /// Per repetition: seconds and joules per prefill token and per decode step (nil where unmeasured).
    package struct Series {
        package var prefillSeconds, decodeSeconds, prefillJoules, decodeJoules: [Double]?

        package init(_ w: RunResult.WorkloadRecord, _ kernels: [String: KernelResult]) {
            prefillSeconds = Comparison.perRepetition(w, phase: "prefill", kernels: kernels, \.secondsPerCall)
            decodeSeconds = Comparison.perRepetition(w, phase: "decode", kernels: kernels, \.secondsPerCall)
            prefillJoules = Comparison.perRepetition(w, phase: "prefill", kernels: kernels, \.joulesPerCallByRepetition)
            decodeJoules = Comparison.perRepetition(w, phase: "decode", kernels: kernels, \.joulesPerCallByRepetition)
        }

        /// Joules and watts per query of each repetition, at a score's mean token counts.
        package func perQuery(_ s: Score) -> (joules: [Double], watts: [Double])? {
            guard let ps = prefillSeconds, let ds = decodeSeconds, let pj = prefillJoules, let dj = decodeJoules else {
                return nil
            }
            let repetitions = 0..<min(ps.count, ds.count, pj.count, dj.count)
            let seconds = repetitions.map { s.meanPromptTokens * ps[$0] + s.meanOutputTokens * ds[$0] }
            let joules = repetitions.map { s.meanPromptTokens * pj[$0] + s.meanOutputTokens * dj[$0] }
            return (joules, zip(joules, seconds).map { $0 / $1 })
        }
    }

    /// One projected sample per repetition index r: Σ calls per pass × the part's kernel's r-th value
    /// (per prompt token for prefill), nil when a kernel of the phase lacks the values.
    package static func perRepetition(
        _ workload: RunResult.WorkloadRecord, phase: String, kernels: [String: KernelResult],
        _ values: (KernelResult) -> [Double]?
    ) -> [Double]? {
        let parts = workload.parts.filter { $0.phase == phase }
        var series: [[Double]] = []
        for part in parts {
            guard let kernel = kernels[part.kernel], let samples = values(kernel) else { return nil }
            series.append(samples.map { $0 * Double(part.callsPerPass) })
        }
        guard let count = series.map(\.count).min(), count > 0 else { return nil }
        let scale = phase == "prefill" ? 1 / Double(workload.promptTokens) : 1
        return (0..<count).map { r in series.reduce(0) { $0 + $1[r] } * scale }
    }

    /// `baseRuns`/`newRuns`: the repetitions each pooled run contributed, in order (one entry per run).
    package static func compare(
        base: RunResult, new: RunResult, baseName: String, newName: String, thresholds: Thresholds,
        baseRuns: [Int]? = nil, newRuns: [Int]? = nil
    ) -> Comparison {
        struct Pending {
            package var name, metric, unit: String
            package var direction: CompareStatistics.Direction
            package var base, new: [Double]
            package var band: Double
            /// A paired interval computed elsewhere, instead of the ratio of medians over repetitions.
            package var ratio: Estimate? = nil
        }
        var pending: [Pending] = []
        let kernelsA = Dictionary(base.kernels.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let kernelsB = Dictionary(new.kernels.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for kernel in base.kernels {
            guard let other = kernelsB[kernel.name] else { continue }
            if let a = kernel.secondsPerCall, let b = other.secondsPerCall {
                pending.append(
                    Pending(
                        name: "kernel:\(kernel.name)", metric: "time", unit: "s", direction: .smallerIsBetter,
                        base: a, new: b, band: thresholds.time))
            }
            if let a = kernel.joulesPerCallByRepetition, let b = other.joulesPerCallByRepetition {
                pending.append(
                    Pending(
                        name: "kernel:\(kernel.name)", metric: "energy", unit: "J", direction: .smallerIsBetter,
                        base: a, new: b, band: thresholds.energy))
            }
        }
        let workloadsB = Dictionary(
            new.workloads.map { ("\($0.model)/\($0.quantization)", $0) }, uniquingKeysWith: { a, _ in a })
        var series: [String: (base: Series, new: Series)] = [:]
        for workload in base.workloads {
            let key = "\(workload.model)/\(workload.quantization)"
            guard let other = workloadsB[key] else { continue }
            let (a, b) = (Series(workload, kernelsA), Series(other, kernelsB))
            series[key] = (a, b)
            let metrics: [(String, String, Double, KeyPath<Series, [Double]?>)] = [
                ("prefill time per token", "s", thresholds.time, \.prefillSeconds),
                ("decode time per token", "s", thresholds.time, \.decodeSeconds),
                ("prefill energy per token", "J", thresholds.energy, \.prefillJoules),
                ("decode energy per token", "J", thresholds.energy, \.decodeJoules),
            ]
            for (label, unit, band, path) in metrics {
                guard let valuesA = a[keyPath: path], let valuesB = b[keyPath: path] else { continue }
                pending.append(
                    Pending(
                        name: "workload:\(key)", metric: label, unit: unit, direction: .smallerIsBetter, base: valuesA,
                        new: valuesB, band: band))
            }
        }
        // Accuracy on the same queries: each score's fixture on both sides, paired by query id.
        struct Paired {
            package var name: String
            package var base: [Bool], new: [Bool]

            package init(name: String, base: [Bool], new: [Bool]) {
                self.name = name
                self.base = base
                self.new = new
            }
        }
        var paired: [Paired] = []
        let fixturesA = Dictionary(base.fixtures.map { ($0.origin, $0) }, uniquingKeysWith: { a, _ in a })
        let fixturesB = Dictionary(new.fixtures.map { ($0.origin, $0) }, uniquingKeysWith: { a, _ in a })
        let scoresB = Dictionary(
            new.scores.map { ("\($0.model)/\($0.quantization)/\($0.fixture)", $0) }, uniquingKeysWith: { a, _ in a })
        for score in base.scores {
            guard
                let other = new.scores.first(where: {
                    $0.model == score.model && $0.quantization == score.quantization
                        && $0.benchmark == score.benchmark
                }),
                let a = fixturesA[score.fixture]?.correctByQuery, let b = fixturesB[other.fixture]?.correctByQuery
            else { continue }
            let common = Set(a.keys).intersection(b.keys).sorted()
            guard !common.isEmpty else { continue }
            paired.append(
                Paired(
                    name: "score:\(score.model)/\(score.quantization)/\(score.benchmark)", base: common.map { a[$0]! },
                    new: common.map { b[$0]! }))
        }
        for score in base.scores {
            let key = "\(score.model)/\(score.quantization)"
            guard let other = scoresB["\(key)/\(score.fixture)"], let pair = series[key],
                let a = pair.base.perQuery(score), let b = pair.new.perQuery(other)
            else { continue }
            let name = "score:\(key)/\(score.benchmark)"
            let queries = paired.first { $0.name == name }
            for (metric, unit, costA, costB) in [("IPJ", "1/J", a.joules, b.joules), ("IPW", "1/W", a.watts, b.watts)] {
                let ratio = queries.map {
                    CompareStatistics.pairedEfficiencyRatio(
                        baseCorrect: $0.base, newCorrect: $0.new, baseCost: costA, newCost: costB,
                        baseRuns: baseRuns, newRuns: newRuns)
                }
                pending.append(
                    Pending(
                        name: name, metric: metric, unit: unit, direction: .biggerIsBetter,
                        base: costA.map { score.accuracy.value / $0 }, new: costB.map { other.accuracy.value / $0 },
                        band: thresholds.energy, ratio: ratio))
            }
        }

        let pValues =
            pending.map { CompareStatistics.mannWhitney($0.base, $0.new).p }
            + paired.map { pair in
                let b = zip(pair.base, pair.new).filter { $0 && !$1 }.count
                let c = zip(pair.base, pair.new).filter { !$0 && $1 }.count
                return CompareStatistics.mcNemarExact(b: b, c: c)
            }
        let adjusted = CompareStatistics.holm(pValues)
        var rows: [Row] = []
        for (index, item) in pending.enumerated() where !item.base.isEmpty && !item.new.isEmpty {
            let ratio =
                item.ratio
                ?? CompareStatistics.ratioOfMedians(
                    base: item.base, new: item.new, baseRuns: baseRuns, newRuns: newRuns)
            rows.append(
                Row(
                    name: item.name, metric: item.metric, unit: item.unit, direction: item.direction,
                    baseMedian: Statistics.median(item.base), newMedian: Statistics.median(item.new),
                    baseSamples: item.base.count, newSamples: item.new.count, ratio: ratio, p: pValues[index],
                    adjustedP: adjusted[index], band: item.band,
                    verdict: CompareStatistics.verdict(
                        ratio: ratio, adjustedP: adjusted[index], direction: item.direction,
                        band: item.band, samples: (item.base.count, item.new.count))))
        }
        for (offset, pair) in paired.enumerated() {
            let index = pending.count + offset
            let n = pair.base.count
            let hitsBase = pair.base.filter { $0 }.count
            let hitsNew = pair.new.filter { $0 }.count
            let accuracyBase = Double(hitsBase) / Double(n)
            let accuracyNew = Double(hitsNew) / Double(n)
            // The same paired bootstrap as IPJ's, with a unit cost: the ratio of accuracies.
            let ratio = CompareStatistics.pairedEfficiencyRatio(
                baseCorrect: pair.base, newCorrect: pair.new, baseCost: [1], newCost: [1],
                seed: 0xACC)
            rows.append(
                Row(
                    name: pair.name, metric: "accuracy (same \(n) queries)", unit: "1", direction: .biggerIsBetter,
                    baseMedian: accuracyBase, newMedian: accuracyNew,
                    baseInterval: Statistics.wilson(correct: hitsBase, n: n),
                    newInterval: Statistics.wilson(correct: hitsNew, n: n), baseSamples: n, newSamples: n, ratio: ratio,
                    p: pValues[index], adjustedP: adjusted[index], band: thresholds.accuracy,
                    verdict: CompareStatistics.verdict(
                        ratio: ratio, adjustedP: adjusted[index], direction: .biggerIsBetter,
                        band: thresholds.accuracy, samples: (n, n))))
        }
        return Comparison(
            base: baseName, new: newName, suite: base.suite.name, mismatches: mismatches(base, new), rows: rows)
    }

    package init(
        schema: String = "perwatt.compare/1", base: String, new: String, suite: String, mismatches: [String],
        rows: [Row], geometricMeanWorseRatio: [String: Double], regressions: Int, improvements: Int
    ) {
        self.schema = schema
        self.base = base
        self.new = new
        self.suite = suite
        self.mismatches = mismatches
        self.rows = rows
        self.geometricMeanWorseRatio = geometricMeanWorseRatio
        self.regressions = regressions
        self.improvements = improvements
    }
}

extension Comparison {
    /// A comparison of `rows`, with what follows from them: the geometric mean of the ratios per
    /// metric (oriented so that > 1 is worse) and the counts of regressions and improvements.
    package init(base: String, new: String, suite: String, mismatches: [String], rows: [Row]) {
        var byMetric: [String: [Double]] = [:]
        for row in rows where row.ratio.value.isFinite && row.ratio.value > 0 {
            byMetric[row.metric, default: []].append(
                row.direction == .smallerIsBetter ? row.ratio.value : 1 / row.ratio.value)
        }
        self.init(
            base: base, new: new, suite: suite, mismatches: mismatches, rows: rows,
            geometricMeanWorseRatio: byMetric.mapValues { exp($0.map(log).reduce(0, +) / Double($0.count)) },
            regressions: rows.filter { $0.verdict == .regressed }.count,
            improvements: rows.filter { $0.verdict == .improved }.count)
    }
}
