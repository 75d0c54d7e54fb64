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
            guard let tokens = q.outputTokens, tokens > 1, let latency = q.latencySeconds, let first = q.timeToFirstTokenSeconds, latency > first else { return nil }
            return Double(tokens - 1) / (latency - first)
        }
        if !decodeRates.isEmpty { medianDecodeTokensPerSecond = Statistics.median(decodeRates) }
        let prompts = queries.compactMap(\.promptTokens), outputs = queries.compactMap(\.outputTokens)
        if prompts.count == queries.count && !prompts.isEmpty { meanPromptTokens = Double(prompts.reduce(0, +)) / Double(prompts.count) }
        if outputs.count == queries.count && !outputs.isEmpty { meanOutputTokens = Double(outputs.reduce(0, +)) / Double(outputs.count) }
        energyBasis = fixture.eval?.energy.basis

        // Energy figures only when every graded query has its energy: a mean over a subset would be biased.
        // An untrusted window (a sampling gap, a stalled counter) counts as no measurement.
        let measured = queries.compactMap { q in q.energy.flatMap { $0.untrusted == true ? nil : (q, $0) } }
        guard !measured.isEmpty, measured.count == queries.count else { return }
        struct Sample {
            package var correct: Double, joules: Double, net: Double?, watts: Double, tokens: Double?

            package init(correct: Double, joules: Double, net: Double? = nil, watts: Double, tokens: Double? = nil) {
                self.correct = correct
                self.joules = joules
                self.net = net
                self.watts = watts
                self.tokens = tokens
            }
        }
        let samples = measured.map { q, e in
            Sample(correct: q.correct ? 1 : 0, joules: e.joules, net: e.netJoules, watts: e.windowSeconds > 0 ? e.joules / e.windowSeconds : 0,
                   tokens: q.promptTokens.flatMap { p in q.outputTokens.map { Double(p + $0) } })
        }
        func figures(_ s: [Sample]) -> (j: Double, net: Double?, w: Double, ipj: Double, ipw: Double, tpj: Double?) {
            let count = Double(s.count)
            let accuracy = s.reduce(0) { $0 + $1.correct } / count
            let joules = s.reduce(0) { $0 + $1.joules } / count
            let watts = s.reduce(0) { $0 + $1.watts } / count
            let nets = s.compactMap(\.net)
            let tokens = s.compactMap(\.tokens)
            return (joules, nets.count == s.count ? nets.reduce(0, +) / count : nil, watts, accuracy / joules, accuracy / watts,
                    tokens.count == s.count ? tokens.reduce(0, +) / s.reduce(0) { $0 + $1.joules } : nil)
        }
        let point = figures(samples)
        var generator = SplitMix64(seed: 0xE7A1)
        var draws: [(j: Double, net: Double?, w: Double, ipj: Double, ipw: Double, tpj: Double?)] = []
        for _ in 0..<1000 {
            draws.append(figures((0..<samples.count).map { _ in samples[Int(generator.next() % UInt64(samples.count))] }))
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
        if prefill.count == measured.count { prefillEnergyShare = prefill.reduce(0, +) / measured.reduce(0) { $0 + $1.1.joules } }
    }
}

/// The terminal summary of `perwatt eval`.
package enum EvalSummary {
    package static func render(_ fixture: Fixture) -> String {
        let s = EvalScores(fixture)
        let run = fixture.eval
        var out = "perwatt eval: \(run?.settings.model ?? fixture.model) at \(run?.settings.endpoint ?? "?"), \(run?.querySet.name ?? fixture.benchmark)"
        out += " (\(s.graded) of \(run?.querySet.count ?? s.graded) graded\(s.failed > 0 ? ", \(s.failed) failed" : ""))\n"
        if let run {
            out += "settings: \(run.settings.api.path), temperature 0, seed \(run.settings.seed), max \(run.settings.maxTokens) tokens, "
                + "\(run.settings.stream ? "streaming" : "not streaming"); tokens \(run.tokenCounts)\n"
            if let basis = run.energy.basis {
                out += "energy: \(basis) (\(run.energy.measurement ?? "?"))"
                out += run.energy.idleWatts.map { "; idle \(fixed($0, 2)) W" } ?? "; no idle baseline (net figures absent)"
                out += "\n"
            } else {
                out += "energy: none (\(run.energy.unavailableReason ?? "no source")): J, W, IPJ, IPW and tokens/J are absent; time figures are measured\n"
            }
            if !run.complete, let reason = run.incompleteReason { out += "INCOMPLETE: \(reason); perwatt eval --resume FILE asks the rest\n" }
        }
        var lines: [(String, String)] = []
        lines.append(("accuracy [95%]", s.graded == 0 ? "n/a (no graded answer)" : "\(fixed(s.accuracy.value, 3)) [\(fixed(s.accuracy.low, 3))–\(fixed(s.accuracy.high, 3))] (\(fixture.counts.correct)/\(s.graded), Wilson)"))
        if let median = s.medianLatencySeconds, let p90 = s.p90LatencySeconds {
            lines.append(("latency", "median \(fixed(median, 3)) s, p90 \(fixed(p90, 3)) s"))
        }
        if let ttft = s.medianTimeToFirstTokenSeconds { lines.append(("time to first token", "median \(fixed(ttft, 3)) s")) }
        if let rate = s.medianDecodeTokensPerSecond { lines.append(("decode", "median \(fixed(rate, 1)) tokens/s")) }
        if let p = s.meanPromptTokens, let o = s.meanOutputTokens { lines.append(("tokens per query", "\(fixed(p, 1)) prompt + \(fixed(o, 1)) output (mean)")) }
        func interval(_ e: Estimate, _ scale: Double = 1) -> String { "\(sig(e.value * scale)) [\(sig(e.low * scale))–\(sig(e.high * scale))]" }
        if let j = s.joulesPerQuery, let w = s.wattsPerQuery, let ipj = s.ipj, let ipw = s.ipw {
            lines.append(("J/query [95%]", interval(j) + (s.prefillEnergyShare.map { " (\(fixed($0 * 100, 1))% before the first token)" } ?? "")))
            if let net = s.netJoulesPerQuery { lines.append(("net J/query [95%]", interval(net))) }
            lines.append(("W/query [95%]", interval(w)))
            lines.append(("IPJ [95%]", interval(ipj, 1000) + " accuracy per kJ"))
            lines.append(("IPW [95%]", interval(ipw) + " accuracy per W (rewards slow low-power machines; read beside IPJ)"))
            if let tpj = s.tokensPerJoule { lines.append(("tokens/J [95%]", interval(tpj))) }
        } else if run?.energy.basis != nil && s.graded > 0 {
            let untrusted = (fixture.queries ?? []).filter { $0.energy?.untrusted == true }.count
            lines.append(("energy", untrusted > 0
                ? "absent: \(untrusted) graded quer\(untrusted == 1 ? "y's" : "ies'") energy window stayed UNTRUSTED after re-asking (see their energy.warnings)"
                : "absent: not every graded query has a measured window"))
        }
        let width = lines.map(\.0.count).max() ?? 0
        out += lines.map { "  " + $0.0 + String(repeating: " ", count: width - $0.0.count + 2) + $0.1 + "\n" }.joined()
        let cached = (fixture.queries ?? []).compactMap(\.cachedPromptTokens).reduce(0, +)
        let prompt = (fixture.queries ?? []).compactMap(\.promptTokens).reduce(0, +)
        if cached > 0 {
            out += "warning: \(cached) of \(prompt) prompt tokens came from the server's prompt cache, so their prefill (and its energy) was not measured"
                + (run?.settings.promptCache == true ? " (--prompt-cache)" : "; this server ignores cache_prompt: false (vLLM prefix caching is set at its start)") + "\n"
        }
        out += "All figures measured here (not projected): energy inside each request's window, intervals from a bootstrap over queries.\n"
        return out
    }

    private static func sig(_ value: Double) -> String { String(format: "%.3g", value) }
}
