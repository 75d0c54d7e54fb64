import Foundation
import KernelBench
import Testing

@testable import PerWattCLI
@testable import PerWattCore

/// A dense model small enough to reason about by hand: 2 layers, hidden 32, 2 heads of 16 with one
/// KV head, a gated MLP of 64, a vocabulary of 100.
let tinyModel = ModelSpec(
    id: "tiny", name: "Tiny", layers: 2, hiddenSize: 32, heads: 2, kvHeads: 1, headDim: 16, ffnSize: 64,
    vocabularySize: 100, tiedEmbeddings: true, ffnKind: .gated, experts: nil, activeExperts: nil, source: "test")

@Suite struct ScoringTests {
    @Test func wilsonIntervalsMatchHandComputedValues() {
        // (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z = 1.959964, computed independently.
        for (correct, n, low, high) in [
            (8, 10, 0.490162, 0.943318), (0, 10, 0.0, 0.277533), (10, 10, 0.722467, 1.0),
            (3, 4, 0.300642, 0.954413), (4932, 10000, 0.483406, 0.503000),
        ] {
            let interval = Statistics.wilson(correct: correct, n: n)
            #expect(abs(interval.low - low) < 1e-6 && abs(interval.high - high) < 1e-6, "\(correct)/\(n): \(interval)")
            #expect(interval.value == Double(correct) / Double(n))
        }
    }

    @Test func quantilesInterpolateBetweenOrderStatistics() {
        #expect(Statistics.quantile([4, 1, 3, 2, 5], 0.5) == 3)
        #expect(Statistics.quantile([1, 2, 3, 4, 5], 0.025) == 1.1)
        #expect(Statistics.quantile([1, 2], 0.75) == 1.75)
    }

    /// Every kernel 1 ms and 10 mJ per call (10 W): one pass is 5 parts × 2 layers + the head = 11
    /// calls, so prefill of the 4-token shape takes 11 ms (2.75 ms per token) and a decode step 11 ms.
    func uniformSamples(_ workload: Workload, seconds: Double = 0.001, joules: Double = 0.01) -> [KernelCase:
        KernelSamples]
    {
        Dictionary(
            workload.parts.map {
                (
                    $0.kernel,
                    KernelSamples(
                        secondsPerCall: [seconds, seconds, seconds], joulesPerCall: [joules, joules, joules])
                )
            },
            uniquingKeysWith: { first, _ in first })
    }

    @Test func ipjIpwAndNetFiguresOnExactSyntheticNumbers() throws {
        let workload = try Workload(model: tinyModel, precision: .q8_0, promptTokens: 4, outputTokens: 2)
        // Query 1: 4 prompt + 2 output tokens: 4 × 2.75 + 2 × 11 = 33 ms, 0.33 J.
        // Query 2: 8 prompt + 0 output: 22 ms, 0.22 J. Queries 3 and 4: the suite shape (4, 2).
        let fixture = Fixture(
            benchmark: "synthetic", model: "tiny", quantization: "q8_0", source: "test",
            queries: [
                .init(id: "a", correct: true, promptTokens: 4, outputTokens: 2),
                .init(id: "b", correct: true, promptTokens: 8, outputTokens: 0),
                .init(id: "c", correct: true, promptTokens: nil, outputTokens: nil),
                .init(id: "d", correct: false, promptTokens: nil, outputTokens: nil),
            ])
        let loaded = LoadedFixture(fixture: fixture, origin: "test", sha256: "")
        let score = try #require(
            Scoring.score(
                workload: workload, samples: uniformSamples(workload), fixture: loaded, idleWatts: 4,
                energyBasis: "rapl:package", energyReason: nil))
        let meanJoules = (0.33 + 0.22 + 0.33 + 0.33) / 4
        let meanSeconds = (0.033 + 0.022 + 0.033 + 0.033) / 4
        #expect(abs(score.joulesPerQuery!.value - meanJoules) < 1e-12)
        #expect(abs(score.secondsPerQuery.value - meanSeconds) < 1e-12)
        #expect(abs(score.wattsPerQuery!.value - 10) < 1e-9)
        #expect(abs(score.ipj!.value - 0.75 / meanJoules) < 1e-9)
        #expect(abs(score.ipw!.value - 0.075) < 1e-12)
        // Net of a 4 W idle: J − 4 W × t per query.
        #expect(abs(score.netJoulesPerQuery!.value - (meanJoules - 4 * meanSeconds)) < 1e-12)
        #expect(abs(score.netIPJ!.value - 0.75 / (meanJoules - 4 * meanSeconds)) < 1e-9)
        #expect(abs(score.netWattsPerQuery!.value - 6) < 1e-9)
        #expect(abs(score.tokensPerJoule!.value - 26 / (4 * meanJoules)) < 1e-9)
        #expect(abs(score.prefillTokensPerSecond.value - 1 / 0.00275) < 1e-6)
        #expect(abs(score.decodeTokensPerSecond.value - 1 / 0.011) < 1e-6)
        #expect(score.accuracy.value == 0.75 && score.n == 4)
        #expect(score.tokenCounts == "per query where given (2 of 4), suite default otherwise")
        // Energy per kernel never varies, so its interval is the point; IPJ varies with the resampled queries.
        #expect(score.wattsPerQuery!.low == score.wattsPerQuery!.high)
        #expect(score.ipj!.low < score.ipj!.value && score.ipj!.value <= score.ipj!.high)
        let flops =
            4 * workload.flops(.prefill) / 4 + 2 * workload.flops(.decode) + 8 * workload.flops(.prefill) / 4
            + 2 * (4 * workload.flops(.prefill) / 4 + 2 * workload.flops(.decode))
        #expect(abs(score.gflopPerJoule!.value - flops / (4 * meanJoules) / 1e9) < 1e-9)
    }

    @Test func netIPJIsLeftOutWhenIdleIsAsHighAsTheLoad() throws {
        let workload = try Workload(model: tinyModel, precision: .q8_0, promptTokens: 4, outputTokens: 2)
        let fixture = LoadedFixture(
            fixture: Fixture(
                benchmark: "b", model: "tiny", quantization: "q8_0", source: "t",
                aggregate: .init(accuracy: 0.5, n: 100)), origin: "t", sha256: "")
        // The kernels draw 10 W; an idle baseline of 12 W leaves −2 W net.
        let score = try #require(
            Scoring.score(
                workload: workload, samples: uniformSamples(workload), fixture: fixture, idleWatts: 12,
                energyBasis: "rapl:package", energyReason: nil))
        #expect(abs(score.netWattsPerQuery!.value + 2) < 1e-9)
        #expect(score.netJoulesPerQuery!.value < 0 && score.netIPJ == nil && score.ipj != nil)
    }

    @Test func withoutEnergyOnlyTimeFiguresComeOutWithTheReason() throws {
        let workload = try Workload(model: tinyModel, precision: .f16, promptTokens: 4, outputTokens: 2)
        var samples = uniformSamples(workload)
        for key in samples.keys { samples[key]?.joulesPerCall = nil }
        let fixture = Fixture(
            benchmark: "b", model: "tiny", quantization: "f16", source: "test", aggregate: .init(accuracy: 0.5, n: 100))
        let score = try #require(
            Scoring.score(
                workload: workload, samples: samples, fixture: LoadedFixture(fixture: fixture, origin: "t", sha256: ""),
                idleWatts: nil, energyBasis: nil, energyReason: "--energy none"))
        #expect(score.joulesPerQuery == nil && score.ipj == nil && score.ipw == nil && score.tokensPerJoule == nil)
        #expect(score.energyUnavailableReason == "--energy none")
        #expect(abs(score.secondsPerQuery.value - 0.033) < 1e-12)
        #expect(score.tokenCounts == "suite default (4 prompt, 2 output)")
        // Aggregate accuracy: the Wilson interval of 50/100.
        expectClose(score.accuracy.low, 0.403832, within: Tolerance.sixDigits)
        expectClose(score.accuracy.high, 0.596168, within: Tolerance.sixDigits)
    }

    @Test func bootstrapIntervalsAreReproducibleAndCoverTheSpreadOfRepetitions() throws {
        let workload = try Workload(model: tinyModel, precision: .q4_0, promptTokens: 4, outputTokens: 2)
        var samples = uniformSamples(workload)
        for key in samples.keys {
            samples[key] = KernelSamples(
                secondsPerCall: [0.001, 0.0012, 0.0009], joulesPerCall: [0.010, 0.013, 0.008])
        }
        let fixture = LoadedFixture(
            fixture: Fixture(
                benchmark: "b", model: "tiny", quantization: "q4_0", source: "t",
                aggregate: .init(accuracy: 0.6, n: 1000)), origin: "t", sha256: "")
        let first = try #require(
            Scoring.score(
                workload: workload, samples: samples, fixture: fixture, idleWatts: nil, energyBasis: "x",
                energyReason: nil))
        // Another fixture seed draws other queries: the interval moves, the point does not.
        let reseeded = try #require(
            Scoring.score(
                workload: workload, samples: samples, fixture: fixture, idleWatts: nil, energyBasis: "x",
                energyReason: nil, seed: 7))
        #expect(reseeded.ipj?.value == first.ipj?.value && reseeded.ipj?.low != first.ipj?.low)
        // Per-call medians 1 ms and 10 mJ; resampled medians range over 0.9–1.2 ms and 8–13 mJ.
        expectClose(first.joulesPerQuery!.value, 0.33)
        #expect(first.joulesPerQuery!.low >= 0.264 - 1e-12 && first.joulesPerQuery!.high <= 0.429 + 1e-12)
        #expect(first.joulesPerQuery!.low < first.joulesPerQuery!.high)
    }
}
