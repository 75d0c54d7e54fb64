import Foundation
import PerWattCore

/// `perwatt fixture validate FILE...`, `perwatt fixture import --from lm-eval PATH …`,
/// `perwatt fixture list`.
enum FixtureCommand: Command {
    static let name = "fixture"
    static let summary = "validate accuracy fixtures, import lm-evaluation-harness output, list the built-in ones"

    /// Every option of the command, declared once: the parser and the help come from here.
    struct Options: OptionGroup {
        let from = Option<String>.text(
            "--from", "lm-eval", help: "import: the format of PATH (lm-eval: lm-evaluation-harness output)")
        let model = Option<String>.text(
            "--model", "ID", help: "import: the model id the fixture is for (see perwatt models)")
        let quantization = Option<String>.text(
            "--quantization", "Q", help: "import: the precision it was evaluated at (f32, f16, bf16, q8_0, q4_0)")
        let scheme = Option<String>.text(
            "--scheme", "TEXT", help: "import: the quantization method, when not exactly --quantization")
        let benchmark = Option<String>.text(
            "--benchmark", "NAME", help: "import: benchmark name (default: the task, or the tasks' common prefix)")
        let task = Option<String>.text("--task", "NAME", help: "import: only this lm-eval task")
        let metric = Option<String>.text(
            "--metric", "NAME", help: "import: the 0/1 metric (default acc, else exact_match, else acc_norm)")
        let filter = Option<String>.text(
            "--filter", "NAME", help: "import: the lm-eval filter, when samples have several")
        let out = Option<String>.text(
            "--out", "FILE", help: "import: write the fixture here (atomically) instead of stdout")
        let helpFlag = Flag("--help", help: "show this help")
    }

    static let o = Options()
    static var specs: [OptionSpec] { Options.specs }

    static let help = """
        Usage: perwatt fixture validate FILE...
               perwatt fixture import --from lm-eval PATH --model ID --quantization Q [--scheme TEXT] [--benchmark NAME]
                                      [--task NAME] [--metric NAME] [--filter NAME] [--out FILE]
               perwatt fixture list

        validate checks perwatt.fixture/1 files (docs/fixtures.md); each error names the file, the line
        and the field. import reads lm-evaluation-harness output: the samples_<task>_*.jsonl files that
        --log_samples writes (per-query records; query ids are task/doc_id), or a results_*.json
        (an aggregate with n-samples), or a directory holding them. lm-eval logs no token counts, so
        scores use the suite's prompt and output tokens for imported queries. list prints the built-in
        fixtures with their sources.

        Options:
        \(Help.options(specs))

        Exit codes: 0 success; 64 usage error; 65 a fixture or input is invalid; 66 a file cannot be read;
        74 cannot write --out.

        """

    static func run(_ arguments: [String], context: CLIContext) throws -> ExitCode {
        let options = try parseOptions(
            arguments, specs: specs, command: "fixture", stopAtPositional: false, collectPositionals: true)
        if options.has(o.helpFlag) {
            context.stdout.write(help)
            return .success
        }
        guard let subcommand = options.positionals.first else {
            throw UsageError(message: "needs a subcommand: validate, import or list", command: "fixture")
        }
        let rest = Array(options.positionals.dropFirst())
        switch subcommand {
        case "validate":
            guard !rest.isEmpty else {
                throw UsageError(message: "validate takes one or more fixture files", command: "fixture")
            }
            var failures: [InputError] = []
            for path in rest {
                do {
                    let loaded = try LoadedFixture.load(path)
                    let (correct, n) = loaded.fixture.counts
                    context.stdout.line(
                        "\(path): ok: \(loaded.fixture.benchmark), \(loaded.fixture.model) at \(loaded.fixture.quantization), "
                            + "\(correct)/\(n) correct (\(loaded.fixture.queries == nil ? "aggregate" : "per query")), sha256 \(loaded.sha256.prefix(12))"
                    )
                } catch let error as InputError {
                    context.stderr.line(Message.sanitized("perwatt fixture: \(error)"))
                    failures.append(error)
                }
            }
            guard failures.isEmpty else { return failures.allSatisfy(\.unreadable) ? .noInput : .dataError }
            return .success
        case "import":
            guard options.value(o.from) == "lm-eval" else {
                throw UsageError(message: "import needs --from lm-eval (the one format it reads)", command: "fixture")
            }
            guard rest.count == 1 else {
                throw UsageError(message: "import takes one PATH (file or directory)", command: "fixture")
            }
            guard let model = options.value(o.model), let quantization = options.value(o.quantization) else {
                throw UsageError(message: "import needs --model ID and --quantization Q", command: "fixture")
            }
            var fixture = try LMEvalImport.load(
                rest[0],
                options: .init(
                    model: model, quantization: quantization, benchmark: options.value(o.benchmark),
                    task: options.value(o.task),
                    metric: options.value(o.metric), filter: options.value(o.filter)))
            fixture.scheme = options.value(o.scheme)
            let text = try JSON.encode(fixture) + "\n"
            // What was written must read back: the same validation as every fixture.
            _ = try Fixture.parse(text, file: "imported fixture")
            if let failure = context.emit(text, to: options.value(o.out), command: "fixture") { return failure }
            if let out = options.value(o.out) {
                let (correct, n) = fixture.counts
                context.stderr.line("wrote \(out): \(fixture.benchmark), \(correct)/\(n) correct")
            }
            return .success
        case "list":
            var table = Table(["FIXTURE", "ACCURACY", "N", "SCHEME"], rightAligned: [1, 2])
            let builtins = try BuiltinFixtures.all()
            for loaded in builtins {
                table.add([
                    loaded.origin, fixed(loaded.fixture.accuracy, 3), "\(loaded.fixture.counts.n)",
                    loaded.fixture.scheme == nil ? "as named" : "related (see scheme)",
                ])
            }
            context.stdout.write(table.render())
            let sources = Set(builtins.map(\.fixture.source)).sorted()
            context.stdout.line("\nSources:")
            for source in sources { context.stdout.line("- \(source)") }
            return .success
        default:
            throw UsageError(
                message: "unknown subcommand '\(shown(subcommand))' (validate, import, list)", command: "fixture")
        }
    }
}
