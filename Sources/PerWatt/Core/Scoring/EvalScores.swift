import PowerProbe

/// Scores of a fixture written by `perwatt eval`, all measured (nothing projected): accuracy with
/// its Wilson interval, and, with energy, J and W per query, IPJ, IPW and tokens per joule with
/// 95% intervals from a seeded bootstrap over the graded queries (accuracy and energy resampled
/// together, query by query).
package struct EvalScores: Codable, Sendable {
    package var model: String
    package var quantization: String
    package var benchmark: String
    package var graded: Int
    package var failed: Int
    package var accuracy: Estimate
    package var medianLatencySeconds: Double?
    package var p90LatencySeconds: Double?
    package var medianTimeToFirstTokenSeconds: Double?
    /// Output tokens / (latency − time to first token), median over queries.
    package var medianDecodeTokensPerSecond: Double?
    package var meanPromptTokens: Double?
    package var meanOutputTokens: Double?
    package var energyBasis: String?
    package var joulesPerQuery: Estimate?
    package var netJoulesPerQuery: Estimate?
    package var wattsPerQuery: Estimate?
    package var ipj: Estimate?
    package var ipw: Estimate?
    package var tokensPerJoule: Estimate?
    /// Fraction of the energy spent before the first token (streaming runs).
    package var prefillEnergyShare: Double?

    package init(_ fixture: Fixture) {
        let queries = fixture.queries ?? []
        model = fixture.model
        quantization = fixture.quantization
        benchmark = fixture.benchmark
        graded = queries.count
        failed = fixture.eval?.failed.count ?? 0
        let (right, n) = fixture.counts
        accuracy = Statistics.wilson(correct: right, n: n)
        let latencies = queries.compactMap(\.latencySeconds)
        if !latencies.isEmpty {
            medianLatencySeconds = Statistics.median(latencies)
            p90LatencySeconds = Statistics.quantile(latencies, 0.9)
        }
        let ttft = queries.compactMap(\.timeToFirstTokenSeconds)
        if !ttft.isEmpty { medianTimeToFirstTokenSeconds = Statistics.median(ttft) }
        let decodeRates = queries.compactMap { q -> Double? in
            guard let tokens = q.outputTokens, tokens > 1, let latency = q.latencySeconds,
                let first = q.timeToFirstTokenSeconds, latency > first
            else { return nil }
            return Double(tokens - 1) / (latency - first)
        }
        if !decodeRates.isEmpty { medianDecodeTokensPerSecond = Statistics.median(decodeRates) }
        let prompts = queries.compactMap(\.promptTokens)
        let outputs = queries.compactMap(\.outputTokens)
        if prompts.count == queries.count && !prompts.isEmpty {
            meanPromptTokens = Double(prompts.reduce(0, +)) / Double(prompts.count)
        }
        if outputs.count == queries.count && !outputs.isEmpty {
            meanOutputTokens = Double(outputs.reduce(0, +)) / Double(outputs.count)
        }
        energyBasis = fixture.eval?.energy.basis

        // Energy figures only when every graded query has its energy: a mean over a subset would be biased.
        // An untrusted window (a sampling gap, a stalled counter) counts as no measurement.
        let measured = queries.compactMap { q in
            q.energy.flatMap { e in e.trusted ? e.joules.map { (q, e, $0) } : nil }
        }
        guard !measured.isEmpty, measured.count == queries.count else { return }
        struct Sample {
            package var correct: Double, joules: Double, net: Double?, watts: Double, tokens: Double?
        }
        let samples = measured.map { q, e, joules in
            Sample(
                correct: q.correct ? 1 : 0, joules: joules, net: e.netJoules,
                watts: e.durationSeconds > 0 ? joules / e.durationSeconds : 0,
                tokens: q.promptTokens.flatMap { p in q.outputTokens.map { Double(p + $0) } })
        }
        func figures(_ s: [Sample]) -> (j: Double, net: Double?, w: Double, ipj: Double, ipw: Double, tpj: Double?) {
            let count = Double(s.count)
            let accuracy = s.reduce(0) { $0 + $1.correct } / count
            let joules = s.reduce(0) { $0 + $1.joules } / count
            let watts = s.reduce(0) { $0 + $1.watts } / count
            let nets = s.compactMap(\.net)
            let tokens = s.compactMap(\.tokens)
            return (
                joules, nets.count == s.count ? nets.reduce(0, +) / count : nil, watts, accuracy / joules,
                accuracy / watts,
                tokens.count == s.count ? tokens.reduce(0, +) / s.reduce(0) { $0 + $1.joules } : nil
            )
        }
        let point = figures(samples)
        var generator = SplitMix64(seed: 0xE7A1)
        var draws: [(j: Double, net: Double?, w: Double, ipj: Double, ipw: Double, tpj: Double?)] = []
        for _ in 0..<1000 {
            draws.append(
                figures((0..<samples.count).map { _ in samples[Int(generator.next() % UInt64(samples.count))] }))
        }
        func estimate(_ value: Double, _ values: [Double]) -> Estimate {
            return Statistics.percentileInterval(value, draws: values)
        }
        joulesPerQuery = estimate(point.j, draws.map(\.j))
        if let net = point.net { netJoulesPerQuery = estimate(net, draws.compactMap(\.net)) }
        wattsPerQuery = estimate(point.w, draws.map(\.w))
        ipj = estimate(point.ipj, draws.map(\.ipj))
        ipw = estimate(point.ipw, draws.map(\.ipw))
        if let tpj = point.tpj { tokensPerJoule = estimate(tpj, draws.compactMap(\.tpj)) }
        let prefill = measured.compactMap(\.1.prefillJoules)
        if prefill.count == measured.count {
            prefillEnergyShare = prefill.reduce(0, +) / measured.reduce(0) { $0 + $1.2 }
        }
    }
}
