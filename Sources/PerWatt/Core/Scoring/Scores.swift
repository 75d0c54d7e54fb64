import Foundation
import KernelBench
import PowerProbe

/// A kernel's measured windows: time and (with an energy source) basis energy per call, one value
/// per repetition, paired by index.
package struct KernelSamples: Sendable {
    package var secondsPerCall: [Double]
    package var joulesPerCall: [Double]?
}

/// Scores of one (model, quantization, fixture), per DESIGN 7 and docs/scores.md.
package struct Score: Codable, Sendable {
    package var model: String
    package var quantization: String
    package var benchmark: String
    package var fixture: String
    package var scheme: String?
    package var n: Int
    /// Accuracy with its Wilson 95% interval.
    package var accuracy: Estimate
    /// Where the per-query token counts came from.
    package var tokenCounts: String
    package var meanPromptTokens: Double
    package var meanOutputTokens: Double
    /// Per-token time and energy are projected from one measured layer × `layers`, plus the head.
    package var projected = true
    package var layers: Int
    package var secondsPerQuery: Estimate
    package var prefillTokensPerSecond: Estimate
    package var decodeTokensPerSecond: Estimate
    package var energyBasis: String?
    package var joulesPerQuery: Estimate?
    package var netJoulesPerQuery: Estimate?
    package var wattsPerQuery: Estimate?
    package var netWattsPerQuery: Estimate?
    /// Intelligence per joule: accuracy / mean J per query (the primary score).
    package var ipj: Estimate?
    package var netIPJ: Estimate?
    /// Intelligence per watt: accuracy / mean W per query (never shown alone).
    package var ipw: Estimate?
    package var tokensPerJoule: Estimate?
    package var gflopPerJoule: Estimate?
    /// Why the energy figures are absent.
    package var energyUnavailableReason: String?
}

package enum Scoring {
    package static let bootstrapDraws = 1000

    /// Scores `fixture` against `workload`'s measured kernels. `idleWatts` gives the net figures;
    /// `energyBasis` nil means no energy source (energy figures absent, with `energyReason`).
    package static func score(
        workload: Workload, samples: [KernelCase: KernelSamples], fixture: LoadedFixture, idleWatts: Double?,
        energyBasis: String?, energyReason: String?, seed: UInt64 = 0x5EED
    ) -> Score? {
        let f = fixture.fixture
        // Per-query token counts: the query's, else the aggregate's, else the workload's shape.
        var tokens: [(prompt: Double, output: Double)]
        var correct: [Bool]
        let source: String
        if let queries = f.queries, !queries.isEmpty {
            tokens = queries.map {
                (Double($0.promptTokens ?? workload.promptTokens), Double($0.outputTokens ?? workload.outputTokens))
            }
            correct = queries.map(\.correct)
            let given = queries.filter { $0.promptTokens != nil && $0.outputTokens != nil }.count
            source =
                given == queries.count
                ? "per query"
                : given == 0
                    ? "suite default (\(workload.promptTokens) prompt, \(workload.outputTokens) output)"
                    : "per query where given (\(given) of \(queries.count)), suite default otherwise"
        } else if let aggregate = f.aggregate {
            let prompt = aggregate.promptTokens ?? workload.promptTokens
            let output = aggregate.outputTokens ?? workload.outputTokens
            tokens = [(Double(prompt), Double(output))]
            correct = []
            source =
                aggregate.promptTokens != nil && aggregate.outputTokens != nil
                ? "fixture aggregate mean"
                : "suite default (\(workload.promptTokens) prompt, \(workload.outputTokens) output)"
        } else {
            return nil
        }
        let (right, n) = f.counts
        // In a fixed order: the bootstrap draws from one seeded generator, kernel by kernel, and a
        // Set's order changes from one instance to the next.
        let kernels = Array(Set(workload.parts.map(\.kernel))).sorted { $0.name < $1.name }
        guard kernels.allSatisfy({ samples[$0] != nil }) else { return nil }
        let hasEnergy = energyBasis != nil && kernels.allSatisfy { samples[$0]?.joulesPerCall != nil }
        let promptShape = Double(workload.promptTokens)
        let flopsPrefillToken = workload.flops(.prefill) / promptShape
        let flopsDecodeToken = workload.flops(.decode)

        struct Figures {
            package var seconds = 0.0, prefillRate = 0.0, decodeRate = 0.0
            package var joules = 0.0, netJoules = 0.0, watts = 0.0, netWatts = 0.0
            package var ipj = 0.0, netIPJ = 0.0, ipw = 0.0, tokensPerJoule = 0.0, gflopPerJoule = 0.0
        }
        func figures(
            accuracy: Double, tokens: [(prompt: Double, output: Double)], perCall: [KernelCase: (Double, Double?)]
        ) -> Figures {
            let time = WorkloadCost.project(workload) { perCall[$0]?.0 }!
            let energy = hasEnergy ? WorkloadCost.project(workload) { perCall[$0]?.1 } : nil
            let tPrefill = time.prefill / promptShape
            let tDecode = time.decode
            var out = Figures()
            var sumT = 0.0
            var sumJ = 0.0
            var sumNetJ = 0.0
            var sumW = 0.0
            var sumNetW = 0.0
            var sumTokens = 0.0
            var sumFlops = 0.0
            for (p, o) in tokens {
                let t = p * tPrefill + o * tDecode
                sumT += t
                sumTokens += p + o
                sumFlops += p * flopsPrefillToken + o * flopsDecodeToken
                if let energy {
                    let j = p * energy.prefill / promptShape + o * energy.decode
                    sumJ += j
                    sumW += j / t
                    if let idleWatts {
                        sumNetJ += j - idleWatts * t
                        sumNetW += j / t - idleWatts
                    }
                }
            }
            let count = Double(tokens.count)
            out.seconds = sumT / count
            out.prefillRate = 1 / tPrefill
            out.decodeRate = 1 / tDecode
            if energy != nil {
                out.joules = sumJ / count
                out.watts = sumW / count
                out.ipj = accuracy / out.joules
                out.ipw = accuracy / out.watts
                out.tokensPerJoule = sumTokens / sumJ
                out.gflopPerJoule = sumFlops / sumJ / 1e9
                out.netJoules = sumNetJ / count
                out.netWatts = sumNetW / count
                out.netIPJ = accuracy / out.netJoules
            }
            return out
        }

        func medians(_ pick: (KernelSamples) -> [Int]) -> [KernelCase: (Double, Double?)] {
            var result: [KernelCase: (Double, Double?)] = [:]
            for kernel in kernels {
                let s = samples[kernel]!
                let indices = pick(s)
                result[kernel] = (
                    Statistics.median(indices.map { s.secondsPerCall[$0] }),
                    s.joulesPerCall.map { joules in Statistics.median(indices.map { joules[$0] }) }
                )
            }
            return result
        }
        let accuracy = f.accuracy
        let point = figures(accuracy: accuracy, tokens: tokens, perCall: medians { Array($0.secondsPerCall.indices) })

        // Bootstrap: resample each kernel's repetitions (time and energy paired), and the queries
        // (or, for an aggregate, the count correct from its binomial, normal approximation).
        var generator = SplitMix64(seed: seed)
        var draws: [Figures] = []
        draws.reserveCapacity(bootstrapDraws)
        for _ in 0..<bootstrapDraws {
            let perCall = medians { s in
                (0..<s.secondsPerCall.count).map { _ in Int.random(in: 0..<s.secondsPerCall.count, using: &generator) }
            }
            var drawAccuracy = accuracy
            var drawTokens = tokens
            if !correct.isEmpty {
                var hits = 0
                drawTokens = []
                drawTokens.reserveCapacity(correct.count)
                for _ in 0..<correct.count {
                    let index = Int.random(in: 0..<correct.count, using: &generator)
                    if correct[index] { hits += 1 }
                    drawTokens.append(tokens[index])
                }
                drawAccuracy = Double(hits) / Double(correct.count)
            } else {
                let p = accuracy
                let nn = Double(n)
                let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
                let u2 = Double.random(in: 0..<1, using: &generator)
                let normal = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
                drawAccuracy = min(1, max(0, (nn * p + normal * (nn * p * (1 - p)).squareRoot()).rounded() / nn))
            }
            draws.append(figures(accuracy: drawAccuracy, tokens: drawTokens, perCall: perCall))
        }
        func estimate(_ value: Double, _ key: (Figures) -> Double) -> Estimate {
            Statistics.percentileInterval(value, draws: draws.map(key))
        }
        var score = Score(
            model: f.model, quantization: f.quantization, benchmark: f.benchmark, fixture: fixture.origin,
            scheme: f.scheme, n: n,
            accuracy: Statistics.wilson(correct: right, n: n), tokenCounts: source,
            meanPromptTokens: tokens.map(\.prompt).reduce(0, +) / Double(tokens.count),
            meanOutputTokens: tokens.map(\.output).reduce(0, +) / Double(tokens.count),
            layers: workload.model.layers, secondsPerQuery: estimate(point.seconds, \.seconds),
            prefillTokensPerSecond: estimate(point.prefillRate, \.prefillRate),
            decodeTokensPerSecond: estimate(point.decodeRate, \.decodeRate), energyBasis: hasEnergy ? energyBasis : nil)
        score.accuracy.value = accuracy
        if hasEnergy {
            score.joulesPerQuery = estimate(point.joules, \.joules)
            score.wattsPerQuery = estimate(point.watts, \.watts)
            score.ipj = estimate(point.ipj, \.ipj)
            score.ipw = estimate(point.ipw, \.ipw)
            score.tokensPerJoule = estimate(point.tokensPerJoule, \.tokensPerJoule)
            score.gflopPerJoule = estimate(point.gflopPerJoule, \.gflopPerJoule)
            if idleWatts != nil {
                score.netJoulesPerQuery = estimate(point.netJoules, \.netJoules)
                score.netWattsPerQuery = estimate(point.netWatts, \.netWatts)
                // Net energy at or below zero (idle as high as the load: noise, or a source that does
                // not see the work) makes accuracy per net joule meaningless: left out.
                if point.netJoules > 0 { score.netIPJ = estimate(point.netIPJ, \.netIPJ) }
            }
        } else {
            score.energyUnavailableReason = energyReason ?? "a kernel's energy could not be measured"
        }
        return score
    }
}
