import PerWattCore

/// The terminal report of `perwatt run`: scores ranked by IPJ (by accuracy per second of compute
/// when there is no energy source), with the basis, the projection and any reference ratios in view.
enum RunReport {
    static func render(_ result: RunResult, reference: RunResult? = nil) -> String {
        var out =
            "perwatt run: suite \(result.suite.name) (sha256 \(result.suite.sha256.prefix(12))), \(result.workloads.count) workload(s), \(result.settings.threads) thread(s)\n"
        if !result.complete { out += "INCOMPLETE: \(result.incompleteReason ?? "stopped")\n" }
        if let limits = result.machineLimits {
            out +=
                "machine limits (measured now): f32 FMA peak \(fixed(limits.peakF32FlopsPerSecond / 1e9, 1)) GFLOP/s, triad bandwidth \(fixed(limits.triadBytesPerSecond / 1e9, 1)) GB/s\n"
        }
        if let basis = result.energy.basis {
            var line = "energy: \(basis) (\(result.energy.measurement ?? "?"))"
            if let idle = result.energy.idle {
                line += "; idle \(fixed(idle.medianWatts, 2)) W (median of \(idle.windowWatts.count) window(s))"
            }
            out += line + "\n"
        } else {
            out +=
                "energy: none (\(result.energy.unavailableReason ?? "no source")): J/query, IPJ, IPW and tokens/J are absent; time figures are measured\n"
        }
        let kernels = result.kernels.filter { record in
            !result.workloads.contains { $0.parts.contains { $0.kernel == record.name } }
        }
        if !kernels.isEmpty {
            var table = Table(["KERNEL", "MEDIAN ms", "GFLOP/s", "J/CALL"], rightAligned: [1, 2, 3])
            for kernel in kernels {
                guard kernel.verified, let seconds = kernel.medianSecondsPerCall else {
                    table.add([kernel.name, "FAILED verification: not timed"])
                    continue
                }
                table.add([
                    kernel.name, fixed(seconds * 1000, 3), fixed(kernel.gflopsPerSecond ?? 0, 1),
                    kernel.joulesPerCall.map { String(format: "%.3g", $0) } ?? "n/a",
                ])
            }
            out += "\n" + table.render()
        }
        let hasEnergy = result.scores.contains { $0.ipj != nil }
        let ranked = result.scores.sorted {
            hasEnergy
                ? ($0.ipj?.value ?? 0) > ($1.ipj?.value ?? 0)
                : $0.accuracy.value / $0.secondsPerQuery.value > $1.accuracy.value / $1.secondsPerQuery.value
        }
        var headers = [
            "MODEL", "QUANT", "BENCHMARK", "ACCURACY [95%]", "s/QUERY", "PREFILL tok/s", "DECODE tok/s",
            "J/QUERY [95%]", "W/QUERY", "IPJ acc/kJ [95%]", "IPW acc/W", "tok/J",
        ]
        if hasEnergy && result.energy.idle != nil { headers.append("NET J/QUERY") }
        if reference != nil { headers.append("IPJ vs REF") }
        var table = Table(headers, rightAligned: Set(3..<headers.count))
        for score in ranked {
            var row = [
                score.model, score.quantization + (score.scheme == nil ? "" : "*"), score.benchmark,
                "\(fixed(score.accuracy.value, 3)) [\(fixed(score.accuracy.low, 3))–\(fixed(score.accuracy.high, 3))]",
                String(format: "%.3g", score.secondsPerQuery.value),
                String(format: "%.1f", score.prefillTokensPerSecond.value),
                String(format: "%.1f", score.decodeTokensPerSecond.value),
            ]
            if let j = score.joulesPerQuery, let w = score.wattsPerQuery, let ipj = score.ipj, let ipw = score.ipw,
                let tpj = score.tokensPerJoule
            {
                row += [
                    "\(sig(j.value)) [\(sig(j.low))–\(sig(j.high))]", fixed(w.value, 1),
                    "\(sig(ipj.value * 1000)) [\(sig(ipj.low * 1000))–\(sig(ipj.high * 1000))]", sig(ipw.value),
                    sig(tpj.value),
                ]
            } else {
                row += ["n/a", "n/a", "n/a", "n/a", "n/a"]
            }
            if hasEnergy && result.energy.idle != nil {
                row.append(score.netJoulesPerQuery.map { sig($0.value) } ?? "n/a")
            }
            if let reference { row.append(ratio(score, in: result, to: reference)) }
            table.add(row)
        }
        out += "\n"
        if ranked.isEmpty {
            out += "no scores: no workload with a fixture was measured\n"
        } else {
            out += table.render()
            out +=
                "\nRanked by \(hasEnergy ? "IPJ (accuracy per joule per query)" : "accuracy per second per query (no energy source)"). "
            out += "Per-query time and energy are projected: one measured layer × the model's layers + the LM head.\n"
            if hasEnergy {
                out += "IPW (accuracy per watt) rewards slow low-power machines: read it beside IPJ, never alone.\n"
            }
            if ranked.contains(where: { $0.scheme != nil }) {
                out +=
                    "* accuracy measured with a related scheme (see the fixture's \"scheme\"), energy with this precision's kernels.\n"
            }
            let tokenNotes = Set(ranked.map(\.tokenCounts))
            out += "Tokens per query: \(tokenNotes.sorted().joined(separator: "; ")).\n"
        }
        let unscored = result.workloads.filter { w in
            !result.scores.contains { $0.model == w.model && $0.quantization == w.quantization }
        }
        for workload in unscored {
            let seconds =
                workload.prefillSeconds.map { "prefill \(sig($0)) s for \(workload.promptTokens) tokens" }
                ?? "not measured"
            let decode = workload.decodeSecondsPerToken.map { ", decode \(fixed(1 / $0, 1)) tok/s" } ?? ""
            out +=
                "\(workload.model) \(workload.quantization): \(seconds)\(decode) (projected); \(workload.notMeasuredReason ?? "no fixture, no scores")\n"
        }
        let tight = result.workloads.filter { $0.fitsInMemory == false }
        for workload in tight {
            out +=
                "note: \(workload.model) at \(workload.quantization) needs \(bytesText(UInt64(workload.weightBytes + workload.kvCacheBytes))) and does not fit in this machine's memory; its figures are for the layers measured\n"
        }
        for warning in result.warnings { out += "warning: \(warning)\n" }
        return out
    }

    /// IPJ as a ratio to the reference's score for the same (model, quantization, fixture).
    static func ratio(_ score: Score, in result: RunResult, to reference: RunResult) -> String {
        guard reference.suite.sha256 == result.suite.sha256 else { return "other suite" }
        guard reference.energy.basis == result.energy.basis else { return "other basis" }
        guard
            let theirs = reference.scores.first(where: {
                $0.model == score.model && $0.quantization == score.quantization && $0.fixture == score.fixture
            }),
            let a = score.ipj?.value, let b = theirs.ipj?.value, b > 0
        else { return "n/a" }
        return fixed(a / b, 2) + "×"
    }

    private static func sig(_ value: Double) -> String { String(format: "%.3g", value) }
}
