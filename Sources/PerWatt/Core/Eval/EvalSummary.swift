import PowerProbe

/// The terminal summary of `perwatt eval`.
package enum EvalSummary {
    package static func render(_ fixture: Fixture) -> String {
        let s = EvalScores(fixture)
        let run = fixture.eval
        var out =
            "perwatt eval: \(run?.settings.model ?? fixture.model) at \(run?.settings.endpoint ?? "?"), \(run?.querySet.name ?? fixture.benchmark)"
        out +=
            " (\(s.graded) of \(run?.querySet.count ?? s.graded) graded\(s.failed > 0 ? ", \(s.failed) failed" : ""))\n"
        if let run {
            out +=
                "settings: \(run.settings.api.path), temperature 0, seed \(run.settings.seed), max \(run.settings.maxTokens) tokens, "
                + "\(run.settings.stream ? "streaming" : "not streaming"); tokens \(run.tokenCounts)\n"
            if let basis = run.energy.basis {
                out += "energy: \(basis) (\(run.energy.measurement ?? "?"))"
                out +=
                    run.energy.idleWatts.map { "; idle \(fixed($0, 2)) W" } ?? "; no idle baseline (net figures absent)"
                out += "\n"
            } else {
                out +=
                    "energy: none (\(run.energy.unavailableReason ?? "no source")): J, W, IPJ, IPW and tokens/J are absent; time figures are measured\n"
            }
            if !run.complete, let reason = run.incompleteReason {
                out += "INCOMPLETE: \(reason); perwatt eval --resume FILE asks the rest\n"
            }
        }
        var lines: [(String, String)] = []
        lines.append(
            (
                "accuracy [95%]",
                s.graded == 0
                    ? "n/a (no graded answer)"
                    : "\(fixed(s.accuracy.value, 3)) [\(fixed(s.accuracy.low, 3))–\(fixed(s.accuracy.high, 3))] (\(fixture.counts.correct)/\(s.graded), Wilson)"
            ))
        if let median = s.medianLatencySeconds, let p90 = s.p90LatencySeconds {
            lines.append(("latency", "median \(fixed(median, 3)) s, p90 \(fixed(p90, 3)) s"))
        }
        if let ttft = s.medianTimeToFirstTokenSeconds {
            lines.append(("time to first token", "median \(fixed(ttft, 3)) s"))
        }
        if let rate = s.medianDecodeTokensPerSecond { lines.append(("decode", "median \(fixed(rate, 1)) tokens/s")) }
        if let p = s.meanPromptTokens, let o = s.meanOutputTokens {
            lines.append(("tokens per query", "\(fixed(p, 1)) prompt + \(fixed(o, 1)) output (mean)"))
        }
        func interval(_ e: Estimate, _ scale: Double = 1) -> String {
            "\(sig(e.value * scale)) [\(sig(e.low * scale))–\(sig(e.high * scale))]"
        }
        if let j = s.joulesPerQuery, let w = s.wattsPerQuery, let ipj = s.ipj, let ipw = s.ipw {
            lines.append(
                (
                    "J/query [95%]",
                    interval(j)
                        + (s.prefillEnergyShare.map { " (\(fixed($0 * 100, 1))% before the first token)" } ?? "")
                ))
            if let net = s.netJoulesPerQuery { lines.append(("net J/query [95%]", interval(net))) }
            lines.append(("W/query [95%]", interval(w)))
            lines.append(("IPJ [95%]", interval(ipj, 1000) + " accuracy per kJ"))
            lines.append(
                ("IPW [95%]", interval(ipw) + " accuracy per W (rewards slow low-power machines; read beside IPJ)"))
            if let tpj = s.tokensPerJoule { lines.append(("tokens/J [95%]", interval(tpj))) }
        } else if run?.energy.basis != nil && s.graded > 0 {
            let untrusted = (fixture.queries ?? []).filter { $0.energy?.trusted == false }.count
            lines.append(
                (
                    "energy",
                    untrusted > 0
                        ? "absent: \(untrusted) graded quer\(untrusted == 1 ? "y's" : "ies'") energy window stayed UNTRUSTED after re-asking (see their energy.warnings)"
                        : "absent: not every graded query has a measured window"
                ))
        }
        let width = lines.map(\.0.count).max() ?? 0
        out += lines.map { "  " + $0.0 + String(repeating: " ", count: width - $0.0.count + 2) + $0.1 + "\n" }.joined()
        let cached = (fixture.queries ?? []).compactMap(\.cachedPromptTokens).reduce(0, +)
        let prompt = (fixture.queries ?? []).compactMap(\.promptTokens).reduce(0, +)
        if cached > 0 {
            out +=
                "warning: \(cached) of \(prompt) prompt tokens came from the server's prompt cache, so their prefill (and its energy) was not measured"
                + (run?.settings.promptCache == true
                    ? " (--prompt-cache)"
                    : "; this server ignores cache_prompt: false (vLLM prefix caching is set at its start)") + "\n"
        }
        out +=
            "All figures measured here (not projected): energy inside each request's window, intervals from a bootstrap over queries.\n"
        return out
    }

    private static func sig(_ value: Double) -> String { String(format: "%.3g", value) }
}
