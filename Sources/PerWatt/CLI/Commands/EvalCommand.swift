import Foundation
import KernelBench
import PerWattCore
import PowerProbe
import Synchronization

/// `perwatt eval`: a real model behind an OpenAI-compatible server answers a query set here; each
/// answer is graded deterministically and charged the energy measured inside its own request window.
/// The output is a `perwatt.fixture/1` file with per-query verdicts, tokens, latency and joules.
enum EvalCommand: Command {
    static let name = "eval"
    static let summary = "ask a local OpenAI-compatible server a query set; grade, and measure joules per answer"

    /// Every option of the command, declared once: the parser and the help come from here.
    struct Options: OptionGroup {
        let endpoint = Option<String>.text(
            "--endpoint", "URL",
            help: "the API base, e.g. http://127.0.0.1:8080/v1 (requests go to URL/chat/completions)")
        let model = Option<String>.text("--model", "NAME", help: "the model name the server expects in requests")
        let queries = Option<String>.text(
            "--queries", "FILE|builtin:NAME",
            help: "a JSONL query set, or builtin:arithmetic, builtin:units, builtin:knowledge")
        let api = Option<String>.text(
            "--api", "chat|completions", help: "chat/completions (default) or completions (the prompt as plain text)")
        let maxTokens = Option<Int>.int(
            "--max-tokens", "N", in: 1...1_000_000, help: "answer token limit (default: the query's, else the set's)")
        let seed = Option<Int>.int(
            "--seed", "S", in: 0...Int(Int32.max),
            help: "sampling seed sent with every request (default 0); temperature is always 0")
        let timeout = Option<Double>.number(
            "--timeout", "S", in: 0.1...86_400, unit: "seconds",
            help: "seconds for one whole request, connection to last byte (default 120)")
        let maxResponseBytes = Option<Int>.int(
            "--max-response-bytes", "N", in: 1024...(1 << 30),
            help: "a larger answer is a failed query (default 1048576)")
        let retries = Option<Int>.int(
            "--retries", "N", in: 0...100,
            help: "further attempts after a failed request: connection, timeout, 5xx, 408, 429, malformed (default 2)")
        let promptCache = Flag(
            "--prompt-cache",
            help: "let the server reuse cached prompt state (default: cache_prompt false, so every prefill is computed)"
        )
        let noStream = Flag(
            "--no-stream", help: "ask for whole answers: no time to first token and no prefill/decode split")
        let idle = Option<Double>.number(
            "--idle", "S", in: 0...3600, unit: "seconds",
            help: "idle baseline seconds before the queries (default 5 with an energy source; 0 skips)")
        let limit = Option<Int>.int("--limit", "N", in: 1...10_000_000, help: "only the first N queries of the set")
        let fixtureModel = Option<String>.text(
            "--fixture-model", "ID", help: "the model id the fixture names, e.g. smollm2-135m (default: --model)")
        let quantization = Option<String>.text(
            "--quantization", "Q", help: "the quantization the fixture names, e.g. q4_0 (default: unknown)")
        let scheme = Option<String>.text(
            "--scheme", "TEXT",
            help: "the quantization as served, when it is not exactly --quantization (e.g. \"GGUF Q4_1\")")
        let out = Option<String>.text(
            "--out", "FILE",
            help:
                "the fixture file (default perwatt-results/eval-<set>-<UTC time>.json), rewritten atomically after each query"
        )
        let resume = Option<String>.text(
            "--resume", "FILE",
            help: "continue the run in FILE: queries with a graded answer are kept, the rest are asked")
        let regrade = Option<String>.text(
            "--regrade", "FILE", help: "grade FILE's recorded answers again (no server) and rewrite it, or write --out")
        let json = Flag("--json", help: "print the fixture instead of the summary")
        let quiet = Flag("--quiet", help: "no progress on stderr")
        let list = Flag(
            "--list",
            help: "list the built-in query sets (with --json, print one as JSONL: --list --queries builtin:NAME)")
        let helpFlag = Flag("--help", help: "show this help")
        let energy = EnergyOptionGroup()
    }

    static let o = Options()
    static var specs: [OptionSpec] { Options.specs }

    static let help = """
        Usage: perwatt eval --endpoint URL --model NAME --queries FILE|builtin:NAME [--api chat|completions]
                            [--max-tokens N] [--seed S] [--timeout S] [--retries N] [--no-stream] [--prompt-cache] [--idle S] [--limit N]
                            [--fixture-model ID] [--quantization Q] [--scheme TEXT] [--out FILE] [--json] [--energy SOURCE]
               perwatt eval --resume FILE [--endpoint URL] [--timeout S] [--retries N]
               perwatt eval --regrade FILE [--out FILE]
               perwatt eval --list [--queries builtin:NAME --json]

        Sends each query of the set to an OpenAI-compatible server (llama-server, Ollama, vLLM, LM Studio)
        one at a time, temperature 0 with the seed and token limit pinned, and grades each answer with the
        query's deterministic grader (exact, normalized, numeric, choice, regex). With an energy source,
        each query is charged the basis energy inside its own request window, from sending the request to
        the last byte of the answer, gross and net of the idle baseline; streaming splits it at the first
        token into prefill and decode. Nothing between queries is charged to any query. Token counts come
        from the server's usage; when it gives none the fixture says so.

        The fixture (perwatt.fixture/1) keeps every raw answer, the expected answer and the grader, so
        --regrade can judge again; it is rewritten atomically after every query, so an interrupted run
        keeps what finished and --resume completes it. A query whose every attempt failed is listed in
        eval.failed with the reason and counts in no accuracy; --resume asks it again. After 3 queries in
        a row fail to reach the server, the run stops (exit 75).

        Options:
        \(Help.options(specs))

        Exit codes: 0 every query graded; 75 queries failed or the server stopped answering (the fixture
        keeps the rest; --resume); 64 usage; 65 invalid query set or fixture; 66 unreadable file;
        69/77 energy; 74 fixture not written; 130 Ctrl-C (the fixture keeps what finished).

        """

    static func run(_ arguments: [String], context: CLIContext) throws -> ExitCode {
        guard
            let (options, energy) = try parseCommand(
                arguments, specs: specs, command: "eval", help: help,
                stopAtPositional: false, context: context)
        else { return .success }
        if options.has(o.list) { return try list(options, context: context) }
        if let path = options.value(o.regrade) { return try regrade(path, options: options, context: context) }

        // What to run: fresh, or the recorded settings of the run being resumed.
        var previous: Fixture?
        let resumePath = options.value(o.resume)
        if let resumePath {
            let fixture = try LoadedFixture.load(resumePath).fixture
            guard fixture.eval != nil else {
                throw InputError(
                    file: resumePath, field: "eval",
                    message: "is missing: only a fixture written by perwatt eval can be resumed")
            }
            previous = fixture
        }
        let recorded = previous?.eval?.settings
        guard let endpoint = options.value(o.endpoint) ?? recorded?.endpoint else {
            throw UsageError(
                message: "--endpoint URL is required (the server's API base, e.g. http://127.0.0.1:8080/v1)",
                command: "eval")
        }
        guard let model = options.value(o.model) ?? recorded?.model else {
            throw UsageError(
                message: "--model NAME is required (the model name the server expects; llama-server accepts any)",
                command: "eval")
        }
        guard let querySpec = options.value(o.queries) ?? previous?.eval?.querySet.name else {
            throw UsageError(
                message: "--queries FILE|builtin:NAME is required (perwatt eval --list shows the built-in sets)",
                command: "eval")
        }
        let apiText = options.value(o.api) ?? recorded?.api.rawValue ?? "chat"
        guard let api = CompletionClient.API(rawValue: apiText) else {
            throw UsageError(message: "--api takes chat or completions; not '\(shown(apiText))'", command: "eval")
        }
        var set = try QuerySet.load(querySpec)
        if let previous, let info = previous.eval?.querySet, info.sha256 != set.sha256 {
            throw InputError(
                file: querySpec,
                message:
                    "has changed since \(resumePath!) was started (sha256 \(set.sha256.prefix(12)), recorded \(info.sha256.prefix(12))); resuming would mix two query sets. Start a new run"
            )
        }
        let limit = try options.value(o.limit) ?? previous?.eval.map { $0.querySet.count }
        if let limit, limit < set.queries.count { set.queries = Array(set.queries.prefix(limit)) }
        let maxTokens = try options.value(o.maxTokens)
        let settings = CompletionClient.Settings(
            endpoint: endpoint, api: api, model: model,
            seed: try options.value(o.seed) ?? recorded?.seed ?? 0,
            maxTokens: maxTokens ?? recorded?.maxTokens ?? set.defaultMaxTokens,
            stream: previous == nil ? !options.has(o.noStream) : (recorded?.stream ?? true),
            timeoutSeconds: try options.value(o.timeout) ?? recorded?.timeoutSeconds ?? 120,
            promptCache: previous == nil ? options.has(o.promptCache) : recorded?.promptCache,
            maxResponseBytes: try options.value(o.maxResponseBytes)
                ?? recorded?.maxResponseBytes ?? CompletionClient.defaultMaxResponseBytes)
        if let recorded,
            recorded.seed != settings.seed || recorded.maxTokens != settings.maxTokens
                || recorded.model != settings.model
        {
            throw UsageError(
                message:
                    "--seed, --max-tokens and --model must stay as recorded in \(resumePath!) (seed \(recorded.seed), max tokens \(recorded.maxTokens), model \(recorded.model)); the answers must come from one setting",
                command: "eval")
        }
        let retries = try options.value(o.retries) ?? 2
        let client = try CompletionClient(settings: settings)
        let quantization = options.value(o.quantization) ?? previous?.quantization ?? "unknown"
        let quantizations = Precision.allCases.map(\.rawValue) + Fixture.otherQuantizations
        guard quantizations.contains(quantization) else {
            throw UsageError(
                message:
                    "--quantization '\(shown(quantization))' is not a known quantization; use one of \(quantizations.joined(separator: ", ")) (and --scheme for what was served)",
                command: "eval")
        }
        let started = Date()
        let out =
            options.value(o.out) ?? resumePath
            ?? ResultFiles.defaultPath(name: "eval-\(set.benchmark)", started: started)
        if out.isEmpty { throw UsageError(message: "--out needs a file name", command: "eval") }

        let (meter, noneReason) = try energy.makeMeter(context: context)
        if let previousBasis = previous?.eval?.energy.basis, previousBasis != meter?.plan.basis {
            throw UsageError(
                message:
                    "\(resumePath!) was measured on energy basis \(previousBasis), this machine now gives \(meter?.plan.basis ?? "none"); resume on the same basis (--energy) or start a new run",
                command: "eval")
        }
        let progress = !options.has(o.quiet) && context.stderr.isTerminal
        let session = EvalSession(
            EvalSession.Settings(
                querySet: set, client: client, retries: retries, maxTokens: maxTokens,
                idleSeconds: try options.value(o.idle) ?? (meter == nil ? 0 : 5), previous: previous,
                fixtureModel: options.value(o.fixtureModel) ?? previous?.model ?? model, quantization: quantization,
                scheme: options.value(o.scheme) ?? previous?.scheme, fingerprint: context.fingerprint()),
            meter: meter, noneReason: noneReason)
        let restoreInterrupt = POSIX.catchInterrupt()
        defer { restoreInterrupt() }
        let interrupted = { POSIX.interrupted.load(ordering: .relaxed) }
        let outcome = try session.run(
            started: started,
            progress: { event in
                switch event {
                case .failed(let id, let failure):
                    context.stderr.line(
                        "perwatt eval: \(id): \(failure.error) (after \(failure.attempts) attempt\(failure.attempts == 1 ? "" : "s"))"
                    )
                case .idle(let seconds) where progress:
                    context.stderr.line(
                        "measuring idle power for \(formatNumber(seconds)) s (keep the machine and the server quiet)…")
                case .resuming(let graded, let todo) where progress:
                    context.stderr.line("resuming \(out): \(graded) graded, \(todo) to ask")
                case .answered(let index, let total, let record) where progress:
                    context.stderr.line(
                        "[\(index + 1)/\(total)] \(record.id): \(record.correct ? "correct" : "wrong") (\(fixed(record.latencySeconds ?? 0, 2)) s\(record.energy?.joules.map { ", \(fixed($0, 2)) J" } ?? ""))"
                    )
                default: break
                }
            },
            save: { try JSON.write($0, to: out) }, interrupted: interrupted)
        let fixture = outcome.fixture

        if options.has(o.json) {
            context.stdout.line(try JSON.encode(fixture))
        } else {
            context.stdout.write(EvalSummary.render(fixture))
            context.stdout.line("fixture: \(out)")
        }
        if interrupted() { return .interrupted }
        if outcome.serverGone {
            context.stderr.line(
                "perwatt eval: stopped: 3 queries in a row could not reach \(endpoint). Check the server, then: perwatt eval --resume \(out)"
            )
            return .unavailable
        }
        return (fixture.eval?.failed ?? []).isEmpty ? .success : .unavailable
    }

    static func regrade(_ path: String, options: ParsedOptions, context: CLIContext) throws -> ExitCode {
        let (fixture, changed) = try EvalSession.regrade(try LoadedFixture.load(path).fixture, file: path, at: Date())
        let out = options.value(o.out) ?? path
        do {
            try JSON.write(fixture, to: out)
        } catch {
            context.stderr.line("perwatt eval: \(error)")
            return .ioError
        }
        if options.has(o.json) {
            context.stdout.line(try JSON.encode(fixture))
        } else {
            context.stdout.write(EvalSummary.render(fixture))
            context.stdout.line(
                "regraded \(fixture.queries?.count ?? 0) answers: \(changed.isEmpty ? "no verdict changed" : "\(changed.count) changed")"
            )
            for line in changed { context.stdout.line("  \(line)") }
            context.stdout.line("fixture: \(out)")
        }
        return .success
    }

    static func list(_ options: ParsedOptions, context: CLIContext) throws -> ExitCode {
        if options.has(o.json), let spec = options.value(o.queries) {
            context.stdout.write(try QuerySet.load(spec).jsonLines)
            return .success
        }
        var table = Table(["SET", "QUERIES", "MAX TOKENS", "SHA256", "MEASURES"], rightAligned: [1, 2])
        for set in BuiltinQuerySets.all {
            table.add([
                set.name, "\(set.queries.count)", "\(set.defaultMaxTokens)", String(set.sha256.prefix(12)), set.about,
            ])
        }
        context.stdout.write(table.render())
        return .success
    }
}
