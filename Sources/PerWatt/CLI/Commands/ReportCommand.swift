import Foundation
import PerWattCore

/// `perwatt report RESULT... [--format text|markdown|json|csv|html] [--out FILE]`.
enum ReportCommand: Command {
    static let name = "report"
    static let summary = "report results as text, Markdown, JSON, CSV, or an HTML page with plots"

    /// Every option of the command, declared once: the parser and the help come from here.
    struct Options: OptionGroup {
        let format = Option<String>.text("--format", "FORMAT", help: "text (default), markdown, json, csv, or html")
        let out = Option<String>.text("--out", "FILE", help: "write the report here (atomically) instead of stdout")
        let color = ColorOption.declaration
        let helpFlag = Flag("--help", help: "show this help")
    }

    static let o = Options()
    static var specs: [OptionSpec] { Options.specs }

    static let help = """
        Usage: perwatt report RESULT.json|EVAL.json... [--format text|markdown|json|csv|html] [--out FILE] [--color auto|always|never]

        Reports one or several perwatt.result/2 files, and fixtures written by perwatt eval: their
        measured accuracy, J per query, IPJ and IPW beside the projected IPJ of any given run that scored
        the same fixture (perwatt run --fixture EVAL.json). text: the table perwatt run prints. markdown: a
        scores table per result. json: the results as an array, unchanged. csv: one line per (result,
        score, metric) with value and 95% interval, SI units. html: one self-contained page (inline SVG,
        no scripts, no network) with accuracy against energy per query and each model's Pareto front, IPJ
        and IPW with intervals, the power trace with the idle level, a roofline of the kernels against the
        measured peaks, and the machine and energy basis.

        Options:
        \(Help.options(specs))

        Exit codes: 0 success; 64 usage error; 65 invalid result file; 66 unreadable file; 74 --out not written.

        """

    enum Format: String, CaseIterable { case text, markdown, json, csv, html }

    static func run(_ arguments: [String], context: CLIContext) throws -> ExitCode {
        let options = try parseOptions(
            arguments, specs: specs, command: "report", stopAtPositional: false, collectPositionals: true)
        if options.has(o.helpFlag) {
            context.stdout.write(help)
            return .success
        }
        guard !options.positionals.isEmpty else {
            throw UsageError(message: "takes one or more result files", command: "report")
        }
        let formatText = options.value(o.format) ?? "text"
        guard let format = Format(rawValue: formatText) else {
            throw UsageError(
                message:
                    "--format takes \(Format.allCases.map(\.rawValue).joined(separator: ", ")); not '\(shown(formatText))'",
                command: "report")
        }
        let color = try ColorOption.enabled(
            options, context: context, command: "report", toFile: options.value(o.out) != nil)
        var results: [(name: String, result: RunResult)] = []
        var evals: [EvalReport.Input] = []
        /// Each input as read, in the order given (for --format json).
        var documents: [String] = []
        for path in options.positionals {
            switch try ResultDocument.load(
                path,
                withoutEval:
                    "report shows fixtures that perwatt eval measured; give an accuracy-only fixture to perwatt run --fixture instead"
            ) {
            case .eval(let loaded):
                evals.append(.init(name: path, fixture: loaded.fixture, sha256: loaded.sha256))
                documents.append(try JSON.encode(loaded.fixture))
            case .run(let result):
                results.append((path, result))
                documents.append(try JSON.encode(result))
            }
        }
        let rows = EvalReport.rows(evals, results: results)
        let text: String
        switch format {
        case .text:
            let plain = results.map { RunReport.render($0.1) }.joined(separator: "\n") + EvalReport.text(rows)
            text = color ? Color.paint(plain) : plain
        case .markdown:
            text =
                results.map { markdown($0.0, $0.1) }.joined(separator: "\n") + (results.isEmpty ? "" : "\n")
                + EvalReport.markdown(rows)
        case .json: text = "[\n" + documents.joined(separator: ",\n") + "\n]\n"
        case .csv: text = csv(results) + EvalReport.csv(rows)
        case .html: text = HTMLReport.render(results, evals: rows)
        }
        return context.emit(text, to: options.value(o.out), command: "report") ?? .success
    }

    static func markdown(_ name: String, _ r: RunResult) -> String {
        var out = "### \(name): suite \(r.suite.name)\(r.complete ? "" : " (incomplete)")\n\n"
        out +=
            "Energy: \(r.energy.basis ?? "none (\(r.energy.unavailableReason ?? "no source"))"). Machine: \(r.fingerprint.cpuModel), \(r.fingerprint.logicalCPUs) CPUs.\n\n"
        out +=
            "| model | quant | benchmark | accuracy | s/query | J/query | IPJ per kJ | IPW | decode tok/s |\n|---|---|---|---|---|---|---|---|---|\n"
        for s in r.scores {
            out +=
                "| \(s.model) | \(s.quantization)\(s.scheme == nil ? "" : "*") | \(s.benchmark) | \(fixed(s.accuracy.value, 3)) | \(String(format: "%.3g", s.secondsPerQuery.value)) | "
                + "\(s.joulesPerQuery.map { String(format: "%.3g", $0.value) } ?? "n/a") | \(s.ipj.map { String(format: "%.3g", $0.value * 1000) } ?? "n/a") | "
                + "\(s.ipw.map { String(format: "%.3g", $0.value) } ?? "n/a") | \(fixed(s.decodeTokensPerSecond.value, 1)) |\n"
        }
        return out
    }

    static func csv(_ results: [(String, RunResult)]) -> String {
        var out = "result,suite,model,quantization,benchmark,metric,unit,value,low,high,energy_basis\n"
        for (name, r) in results {
            for s in r.scores {
                let metrics: [(String, String, Estimate?)] = [
                    ("accuracy", "1", s.accuracy), ("seconds_per_query", "s", s.secondsPerQuery),
                    ("joules_per_query", "J", s.joulesPerQuery),
                    ("net_joules_per_query", "J", s.netJoulesPerQuery), ("watts_per_query", "W", s.wattsPerQuery),
                    ("ipj", "1/J", s.ipj),
                    ("ipw", "1/W", s.ipw), ("prefill_tokens_per_second", "1/s", s.prefillTokensPerSecond),
                    ("decode_tokens_per_second", "1/s", s.decodeTokensPerSecond),
                    ("tokens_per_joule", "1/J", s.tokensPerJoule),
                    ("gflop_per_joule", "GFLOP/J", s.gflopPerJoule),
                ]
                for (metric, unit, value) in metrics {
                    guard let value else { continue }
                    out +=
                        [
                            csvField(name), csvField(r.suite.name), csvField(s.model), s.quantization,
                            csvField(s.benchmark), metric, unit,
                            "\(value.value)", "\(value.low)", "\(value.high)", csvField(r.energy.basis ?? "none"),
                        ].joined(separator: ",") + "\n"
                }
            }
        }
        return out
    }
}
