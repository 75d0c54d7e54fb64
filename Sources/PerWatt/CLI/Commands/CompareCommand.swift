import Foundation
import PerWattCore

/// `perwatt compare BASE NEW`: did NEW get worse than BASE? Exit 1 on a regression, never on noise.
enum CompareCommand: Command {
    static let name = "compare"
    static let summary = "compare two run results metric by metric; exit 1 on a regression, never on noise"

    /// Every option of the command, declared once: the parser and the help come from here.
    struct Options: OptionGroup {
        let format = Option<String>.text(
            "--format", "FORMAT", help: "text (default), markdown, json, csv, or github-action-benchmark")
        let threshold = Option<Double>.number(
            "--threshold", "PCT", in: 0...100, unit: "percent",
            help: "noise band in percent for every metric (default 3 for time, 5 for energy, IPJ, IPW)")
        let allowMismatch = Flag(
            "--allow-mismatch",
            help: "compare results of different suites, bases, fixtures or machines, listing what differs")
        let out = Option<String>.text("--out", "FILE", help: "write the report here (atomically) instead of stdout")
        let color = ColorOption.declaration
        let helpFlag = Flag("--help", help: "show this help")
    }

    static let o = Options()
    static var specs: [OptionSpec] { Options.specs }

    static let help = """
        Usage: perwatt compare BASE.json[,BASE2.json…] NEW.json[,NEW2.json…] [--format text|markdown|json|csv|github-action-benchmark]
                               [--threshold PCT] [--allow-mismatch] [--out FILE] [--color auto|always|never]

        Compares two perwatt.result/2 files metric by metric: each kernel's time and energy per call,
        each workload's prefill and decode time and energy per token, each score's IPJ and IPW. For each:
        the ratio of medians NEW/BASE with a seeded percentile-bootstrap 95% interval, a Mann–Whitney test
        on the repetitions, Holm–Bonferroni across all comparisons, and a noise band. Verdicts: regressed
        (significant and the interval wholly beyond the band on the bad side), improved (the same on the
        good side), unchanged (interval inside the band), inconclusive, insufficient data (under 3
        repetitions). Also the geometric mean of the ratios per metric (> 1 is worse).

        Two fixtures written by perwatt eval are compared query by query on the queries both graded:
        accuracy (Wilson intervals, paired bootstrap, McNemar), mean J, latency and time to first token
        per query (paired bootstrap of the ratio of means, Wilcoxon signed-rank), IPJ and IPW (paired
        bootstrap). Different query sets or energy bases are refused unless --allow-mismatch.

        Several result files per side (comma-separated) pool their repetitions: run the two builds
        interleaved (A B A B A B) so that drift of the machine between runs falls on both sides; one run
        per side on a noisy machine can show a "regression" that is drift. Results of different suites or
        energy bases are refused unless --allow-mismatch is given.

        Options:
        \(Help.options(specs))

        Exit codes: 0 no regression (improvements included); 1 a metric regressed; 64 usage error;
        65 invalid or mismatched input; 66 unreadable file; 74 --out not written.

        """

    enum Format: String, CaseIterable {
        case text, markdown, json, csv
        case githubActionBenchmark = "github-action-benchmark"
    }

    /// One side of the comparison: a result file, or several (comma-separated) whose repetitions are
    /// pooled. Runs of the two sides interleaved on one machine (A B A B …) share its drift, so pooled
    /// repetitions carry the between-run variance that one run alone hides.
    /// - Parameter first: the list's first file, already loaded.
    static func pooled(_ list: String, first result: RunResult) throws -> (result: RunResult, runs: [Int]) {
        let paths = list.split(separator: ",").map(String.init)
        let first = paths[0]
        var result = result
        var runs = [result.settings.repetitions]
        for path in paths.dropFirst() {
            let other = try RunResult.load(path)
            guard other.suite.sha256 == result.suite.sha256, other.energy.basis == result.energy.basis else {
                throw InputError(
                    file: path, message: "cannot be pooled with \(first): a different suite or energy basis")
            }
            runs.append(other.settings.repetitions)
            for (index, kernel) in result.kernels.enumerated() {
                guard let match = other.kernels.first(where: { $0.name == kernel.name }) else { continue }
                result.kernels[index].secondsPerCall = kernel.secondsPerCall.flatMap { a in
                    match.secondsPerCall.map { a + $0 }
                }
                result.kernels[index].joulesPerCallByRepetition = kernel.joulesPerCallByRepetition.flatMap { a in
                    match.joulesPerCallByRepetition.map { a + $0 }
                }
            }
        }
        return (result, runs)
    }

    static func run(_ arguments: [String], context: CLIContext) throws -> ExitCode {
        let options = try parseOptions(
            arguments, specs: specs, command: "compare", stopAtPositional: false, collectPositionals: true)
        if options.has(o.helpFlag) {
            context.stdout.write(help)
            return .success
        }
        guard options.positionals.count == 2 else {
            throw UsageError(
                message:
                    "takes two arguments, BASE and NEW, each a result file or a comma-separated list of them (got \(options.positionals.count))",
                command: "compare")
        }
        let formatText = options.value(o.format) ?? "text"
        guard let format = Format(rawValue: formatText) else {
            throw UsageError(
                message:
                    "--format takes \(Format.allCases.map(\.rawValue).joined(separator: ", ")); not '\(shown(formatText))'",
                command: "compare")
        }
        var thresholds = Comparison.Thresholds()
        if let percent = try options.value(o.threshold) {
            thresholds = .init(time: percent / 100, energy: percent / 100, accuracy: percent / 100)
        }
        let (basePath, newPath) = (options.positionals[0], options.positionals[1])
        let color = try ColorOption.enabled(
            options, context: context, command: "compare", toFile: options.value(o.out) != nil)
        let comparison: Comparison
        var basis: String?
        // Each side's first file says what is compared: run results (a list pools its runs) or eval fixtures.
        func firstOf(_ side: String) throws -> ResultDocument {
            guard let path = side.split(separator: ",").first.map(String.init) else {
                throw UsageError(message: "an empty list of result files", command: "compare")
            }
            return try ResultDocument.load(
                path, withoutEval: "compare takes run results, or fixtures that perwatt eval measured")
        }
        switch (try firstOf(basePath), try firstOf(newPath)) {
        case (.eval(let baseFixture), .eval(let newFixture)):
            guard !basePath.contains(","), !newPath.contains(",") else {
                throw UsageError(
                    message:
                        "takes one perwatt eval fixture per side (its queries are the samples; there are no runs to pool)",
                    command: "compare")
            }
            let (base, new) = (baseFixture.fixture, newFixture.fixture)
            comparison = Comparison.compare(
                evalBase: base, new: new, baseName: basePath, newName: newPath, thresholds: thresholds)
            basis = new.eval?.energy.basis
            let blocking = comparison.mismatches.filter { $0.hasPrefix("query set:") || $0.hasPrefix("energy basis:") }
            if !blocking.isEmpty && !options.has(o.allowMismatch) {
                throw InputError(
                    file: newPath,
                    message:
                        "is not comparable with \(basePath): \(blocking.joined(separator: "; ")). Compare evals of the same query set on the same energy basis, or pass --allow-mismatch"
                )
            }
        case (.run(let baseFirst), .run(let newFirst)):
            let (base, baseRuns) = try pooled(basePath, first: baseFirst)
            let (new, newRuns) = try pooled(newPath, first: newFirst)
            let mismatches = Comparison.mismatches(base, new)
            let blocking = mismatches.filter { $0.hasPrefix("suite:") || $0.hasPrefix("energy basis:") }
            if !blocking.isEmpty && !options.has(o.allowMismatch) {
                throw InputError(
                    file: newPath,
                    message:
                        "is not comparable with \(basePath): \(blocking.joined(separator: "; ")). Compare runs of the same suite on the same energy basis, or pass --allow-mismatch"
                )
            }
            comparison = Comparison.compare(
                base: base, new: new, baseName: basePath, newName: newPath, thresholds: thresholds,
                baseRuns: baseRuns, newRuns: newRuns)
            basis = new.energy.basis
        default:
            throw UsageError(
                message: "compares two run results or two perwatt eval fixtures, not one of each", command: "compare")
        }
        let text: String
        switch format {
        case .text:
            text =
                color ? Color.paint(renderTable(comparison, markdown: false)) : renderTable(comparison, markdown: false)
        case .markdown: text = renderTable(comparison, markdown: true)
        case .json: text = try JSON.encode(comparison) + "\n"
        case .csv: text = csv(comparison)
        case .githubActionBenchmark: text = try githubActionBenchmark(comparison, basis: basis) + "\n"
        }
        return finish(text, options: options, context: context, comparison)
    }

    static func finish(_ text: String, options: ParsedOptions, context: CLIContext, _ comparison: Comparison)
        -> ExitCode
    {
        if let failure = context.emit(text, to: options.value(o.out), command: "compare") { return failure }
        return comparison.regressions > 0 ? .regression : .success
    }

    static func renderTable(_ c: Comparison, markdown: Bool) -> String {
        let headers = ["NAME", "METRIC", "BASE", "NEW", "RATIO [95%]", "p (Holm)", "BAND", "VERDICT"]
        let rows = c.rows.map { row in
            [
                row.name, row.metric, value(row.baseMedian, row.baseInterval, row.unit),
                value(row.newMedian, row.newInterval, row.unit),
                "\(fixed(row.ratio.value, 3)) [\(fixed(row.ratio.low, 3))–\(fixed(row.ratio.high, 3))]",
                String(format: "%.3g", row.adjustedP), "±\(formatNumber(row.band * 100))%",
                row.verdict == .regressed ? "REGRESSED" : row.verdict.rawValue,
            ]
        }
        var out: String
        if markdown {
            out = "### perwatt compare: \(c.regressions == 0 ? "no regression" : "\(c.regressions) regression(s)")\n\n"
            out += "`\(c.base)` → `\(c.new)` (suite \(c.suite))\n\n"
            out +=
                "| " + headers.joined(separator: " | ") + " |\n|" + headers.map { _ in "---" }.joined(separator: "|")
                + "|\n"
            for row in rows {
                out +=
                    "| " + row.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
            }
        } else {
            out = "perwatt compare: \(c.base) → \(c.new) (suite \(c.suite))\n"
            var table = Table(headers, rightAligned: [2, 3, 4, 5, 6])
            for row in rows { table.add(row) }
            out += table.render()
        }
        out += "\n"
        for metric in c.geometricMeanWorseRatio.keys.sorted() {
            out += "geometric mean (\(metric), > 1 is worse): \(fixed(c.geometricMeanWorseRatio[metric]!, 3))\n"
        }
        for mismatch in c.mismatches { out += "differs: \(mismatch)\n" }
        out +=
            "\(c.regressions) regressed, \(c.improvements) improved, "
            + "\(c.rows.filter { $0.verdict == .unchanged }.count) unchanged, "
            + "\(c.rows.filter { $0.verdict == .inconclusive }.count) inconclusive, "
            + "\(c.rows.filter { $0.verdict == .insufficientData }.count) with insufficient data\n"
        return out
    }

    /// Long format, SI units: one line per metric.
    static func csv(_ c: Comparison) -> String {
        var out =
            "name,metric,unit,direction,base_median,new_median,base_low,base_high,new_low,new_high,base_samples,new_samples,"
            + "ratio,ratio_low,ratio_high,p,p_holm,band,verdict\n"
        for r in c.rows {
            let intervals = [r.baseInterval?.low, r.baseInterval?.high, r.newInterval?.low, r.newInterval?.high].map {
                $0.map { "\($0)" } ?? ""
            }
            let fields =
                [
                    csvField(r.name), csvField(r.metric), r.unit, r.direction.rawValue, "\(r.baseMedian)",
                    "\(r.newMedian)",
                ] + intervals
                + [
                    "\(r.baseSamples)", "\(r.newSamples)", "\(r.ratio.value)", "\(r.ratio.low)", "\(r.ratio.high)",
                    "\(r.p)", "\(r.adjustedP)",
                    "\(r.band)", r.verdict.rawValue,
                ]
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    /// github-action-benchmark's `customSmallerIsBetter` and `customBiggerIsBetter` inputs for the
    /// NEW run: `[{name, unit, value, range, extra}]`, value = median, units as measured.
    static func githubActionBenchmark(_ c: Comparison, basis: String?) throws -> String {
        struct Entry: Encodable {
            var name: String
            var unit: String
            var value: Double
            var range: String
            var extra: String
        }
        struct Output: Encodable {
            var customSmallerIsBetter: [Entry]
            var customBiggerIsBetter: [Entry]
        }
        func entries(_ direction: CompareStatistics.Direction) -> [Entry] {
            c.rows.filter { $0.direction == direction }.map { row in
                Entry(
                    name: "\(row.name) \(row.metric)", unit: row.unit, value: row.newMedian,
                    range: "ratio \(fixed(row.ratio.low, 3))–\(fixed(row.ratio.high, 3))",
                    extra: "\(row.verdict.rawValue); base \(row.baseMedian) \(row.unit); \(basis ?? "energy none")")
            }
        }
        return try JSON.encode(
            Output(customSmallerIsBetter: entries(.smallerIsBetter), customBiggerIsBetter: entries(.biggerIsBetter)))
    }

    private static func sig(_ value: Double) -> String { String(format: "%.4g", value) }

    /// A median with its unit (none for a dimensionless "1"), and a 95% interval where the row has one.
    private static func value(_ median: Double, _ interval: Estimate?, _ unit: String) -> String {
        let number = sig(median) + (unit == "1" ? "" : " \(unit)")
        guard let interval else { return number }
        return number + " [\(fixed(interval.low, 3))–\(fixed(interval.high, 3))]"
    }
}
