import Foundation

/// Fixtures written by `perwatt eval` in `perwatt report`: measured accuracy and energy per query,
/// beside the projected figures of any run result that scored the same fixture (or, failing that, the
/// same model, quantization and benchmark).
package enum EvalReport {
    package struct Input {
        package var name: String
        package var fixture: Fixture
        package var sha256: String

        package init(name: String, fixture: Fixture, sha256: String) {
            self.name = name
            self.fixture = fixture
            self.sha256 = sha256
        }
    }

    package struct Row {
        package var name: String
        package var fixture: Fixture
        package var scores: EvalScores
        /// The matching projected score and the result it came from.
        package var projected: (result: String, score: Score)?

        package init(
            name: String, fixture: Fixture, scores: EvalScores, projected: (result: String, score: Score)? = nil
        ) {
            self.name = name
            self.fixture = fixture
            self.scores = scores
            self.projected = projected
        }
    }

    package static func rows(_ evals: [Input], results: [(name: String, result: RunResult)]) -> [Row] {
        evals.map { input in
            var match: (String, Score)?
            for (name, result) in results {
                let origins = Set(result.fixtures.filter { $0.sha256 == input.sha256 }.map(\.origin))
                if let score = result.scores.first(where: { origins.contains($0.fixture) }) {
                    match = (name, score)
                    break
                }
            }
            if match == nil {
                let f = input.fixture
                for (name, result) in results {
                    if let score = result.scores.first(where: {
                        $0.model == f.model && $0.quantization == f.quantization && $0.benchmark == f.benchmark
                    }) {
                        match = (name, score)
                        break
                    }
                }
            }
            return Row(name: input.name, fixture: input.fixture, scores: EvalScores(input.fixture), projected: match)
        }
    }

    private static func sig(_ value: Double) -> String { String(format: "%.3g", value) }
    private static func interval(_ e: Estimate?, _ scale: Double = 1) -> String {
        e.map { "\(sig($0.value * scale)) [\(sig($0.low * scale))–\(sig($0.high * scale))]" } ?? "n/a"
    }

    /// Measured IPJ over projected IPJ, when both exist.
    package static func ratio(_ row: Row) -> Double? {
        guard let measured = row.scores.ipj?.value, let projected = row.projected?.score.ipj?.value, projected > 0
        else { return nil }
        return measured / projected
    }

    package static func text(_ rows: [Row]) -> String {
        guard !rows.isEmpty else { return "" }
        var out = "\nMeasured by perwatt eval (a real model answering here; energy inside each request's window):\n"
        var table = Table(
            [
                "MODEL", "QUANT", "BENCHMARK", "ACCURACY [95%]", "LATENCY s", "J/QUERY [95%]", "IPJ acc/kJ [95%]",
                "IPW acc/W",
                "tok/J", "PROJECTED IPJ", "MEASURED/PROJECTED",
            ], rightAligned: Set(3..<11))
        for row in rows {
            let s = row.scores
            table.add([
                s.model, s.quantization + (row.fixture.scheme == nil ? "" : "*"), s.benchmark,
                s.graded == 0
                    ? "n/a"
                    : "\(fixed(s.accuracy.value, 3)) [\(fixed(s.accuracy.low, 3))–\(fixed(s.accuracy.high, 3))]",
                s.medianLatencySeconds.map { fixed($0, 3) } ?? "n/a", interval(s.joulesPerQuery), interval(s.ipj, 1000),
                s.ipw.map { sig($0.value) } ?? "n/a", s.tokensPerJoule.map { sig($0.value) } ?? "n/a",
                row.projected.map { p in p.score.ipj.map { sig($0.value * 1000) } ?? "n/a" } ?? "no run",
                ratio(row).map { fixed($0, 2) + "×" } ?? "n/a",
            ])
        }
        out += table.render()
        for row in rows {
            let basis =
                row.fixture.eval?.energy.basis ?? "none (\(row.fixture.eval?.energy.unavailableReason ?? "no source"))"
            out +=
                "\(row.name): \(row.scores.graded) graded\(row.scores.failed > 0 ? ", \(row.scores.failed) failed" : ""); energy \(basis)"
            if let p = row.projected {
                out += "; projected: \(p.result) (\(p.score.model) \(p.score.quantization), \(p.score.tokenCounts))"
            }
            out += "\n"
            if let eval = row.fixture.eval, !eval.complete {
                out += "INCOMPLETE: \(row.name): \(eval.incompleteReason ?? "")\n"
            }
        }
        out +=
            "Projected IPJ: the run's measured layers × layer count, at the fixture's accuracy and token counts; measured IPJ: the whole served model. "
            + "Their ratio shows what the projection leaves out (server overhead, elementwise ops, sampling) or over-counts.\n"
        return out
    }

    package static func markdown(_ rows: [Row]) -> String {
        guard !rows.isEmpty else { return "" }
        var out =
            "### Measured by perwatt eval\n\n| model | quant | benchmark | accuracy | latency s | J/query | IPJ per kJ | IPW | projected IPJ per kJ | measured/projected |\n|---|---|---|---|---|---|---|---|---|---|\n"
        for row in rows {
            let s = row.scores
            out +=
                "| \(s.model) | \(s.quantization)\(row.fixture.scheme == nil ? "" : "*") | \(s.benchmark) | \(fixed(s.accuracy.value, 3)) | "
                + "\(s.medianLatencySeconds.map { fixed($0, 3) } ?? "n/a") | \(s.joulesPerQuery.map { sig($0.value) } ?? "n/a") | "
                + "\(s.ipj.map { sig($0.value * 1000) } ?? "n/a") | \(s.ipw.map { sig($0.value) } ?? "n/a") | "
                + "\(row.projected?.score.ipj.map { sig($0.value * 1000) } ?? "n/a") | \(ratio(row).map { fixed($0, 2) + "×" } ?? "n/a") |\n"
        }
        return out
    }

    /// CSV lines in `perwatt report --format csv`'s columns; the suite column says `eval`.
    package static func csv(_ rows: [Row]) -> String {
        var out = ""
        for row in rows {
            let s = row.scores
            let metrics: [(String, String, Estimate?)] = [
                ("accuracy", "1", s.graded == 0 ? nil : s.accuracy), ("joules_per_query", "J", s.joulesPerQuery),
                ("net_joules_per_query", "J", s.netJoulesPerQuery), ("watts_per_query", "W", s.wattsPerQuery),
                ("ipj", "1/J", s.ipj),
                ("ipw", "1/W", s.ipw), ("tokens_per_joule", "1/J", s.tokensPerJoule),
                ("median_latency_seconds", "s", s.medianLatencySeconds.map { Estimate(value: $0, low: $0, high: $0) }),
                (
                    "median_time_to_first_token_seconds", "s",
                    s.medianTimeToFirstTokenSeconds.map { Estimate(value: $0, low: $0, high: $0) }
                ),
            ]
            for (metric, unit, value) in metrics {
                guard let value else { continue }
                out +=
                    [
                        csvField(row.name), "eval", csvField(s.model), csvField(s.quantization), csvField(s.benchmark),
                        metric, unit,
                        "\(value.value)", "\(value.low)", "\(value.high)", csvField(s.energyBasis ?? "none"),
                    ].joined(separator: ",") + "\n"
            }
        }
        return out
    }

    /// The HTML section: a table, and accuracy against J per query with each measured point (filled)
    /// joined to its projected one (ring).
    package static func html(_ rows: [Row]) -> String {
        guard !rows.isEmpty else { return "" }
        var html =
            "<h2>Measured by perwatt eval</h2>\n<p class=\"note\">A real model answering here, graded deterministically; energy inside each request's window. Projected figures come from the run results given with it.</p>\n"
        let plotted = rows.filter { $0.scores.joulesPerQuery != nil && $0.scores.graded > 0 }
        if plotted.isEmpty {
            html += HTMLReport.missing(
                "Accuracy vs energy: the eval fixtures have no energy measurement (\(rows.first?.fixture.eval?.energy.unavailableReason ?? "no source"))."
            )
        } else {
            var costs = plotted.map { $0.scores.joulesPerQuery!.value }
            costs += plotted.compactMap { $0.projected?.score.joulesPerQuery?.value }
            var accuracies = plotted.map(\.scores.accuracy.value)
            accuracies += plotted.compactMap { $0.projected?.score.accuracy.value }
            var plot = SVGPlot(
                title: "Measured (dot) and projected (ring) energy per query",
                x: .init(
                    label: "J per query (\(plotted[0].scores.energyBasis ?? ""))",
                    range: (costs.min()! * 0.7)...(costs.max()! * 1.4), log: true),
                y: .init(label: "accuracy", range: max(0, accuracies.min()! - 0.05)...min(1, accuracies.max()! + 0.05)))
            for (index, row) in plotted.enumerated() {
                let color = HTMLReport.palette[index % HTMLReport.palette.count]
                let measured = (row.scores.joulesPerQuery!.value, row.scores.accuracy.value)
                if let projected = row.projected?.score, let j = projected.joulesPerQuery?.value {
                    plot.line([measured, (j, projected.accuracy.value)], color: color, width: 1, dash: "3 3")
                    plot.point(j, projected.accuracy.value, color: color, label: nil, hollow: true)
                }
                plot.point(
                    measured.0, measured.1, color: color,
                    label: "\(row.scores.model) \(row.scores.quantization) \(row.scores.benchmark)")
            }
            html += "<div class=\"plots\">\n" + plot.render() + "\n</div>\n"
        }
        html +=
            "<table><tr><th>fixture</th><th>model</th><th>quant</th><th>benchmark</th><th>graded</th><th>accuracy [95%]</th><th>latency s (median)</th><th>J/query</th><th>IPJ per kJ</th><th>IPW</th><th>tokens/J</th><th>projected IPJ per kJ</th><th>measured/projected</th><th>energy</th></tr>"
        for row in rows {
            let s = row.scores
            html +=
                "<tr><td>\(escape(row.name))</td><td>\(escape(s.model))</td><td>\(escape(s.quantization))\(row.fixture.scheme == nil ? "" : "*")</td><td>\(escape(s.benchmark))</td>"
                + "<td>\(s.graded)\(s.failed > 0 ? " (\(s.failed) failed)" : "")</td><td>\(s.graded == 0 ? "n/a" : escape(interval(s.accuracy)))</td>"
                + "<td>\(s.medianLatencySeconds.map { fixed($0, 3) } ?? "n/a")</td><td>\(escape(interval(s.joulesPerQuery)))</td><td>\(escape(interval(s.ipj, 1000)))</td>"
                + "<td>\(s.ipw.map { sig($0.value) } ?? "n/a")</td><td>\(s.tokensPerJoule.map { sig($0.value) } ?? "n/a")</td>"
                + "<td>\(row.projected?.score.ipj.map { sig($0.value * 1000) } ?? "n/a")</td><td>\(ratio(row).map { fixed($0, 2) + "×" } ?? "n/a")</td>"
                + "<td>\(escape(s.energyBasis ?? "none"))</td></tr>"
        }
        return html + "</table>\n"
    }
}
