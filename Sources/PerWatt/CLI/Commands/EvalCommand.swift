import PerWattCore
import Foundation
import Synchronization
import PowerProbe
import KernelBench

/// `perwatt eval`: a real model behind an OpenAI-compatible server answers a query set here; each
/// answer is graded deterministically and charged the energy measured inside its own request window.
/// The output is a `perwatt.fixture/1` file with per-query verdicts, tokens, latency and joules.
enum EvalCommand: Command {
    static let name = "eval"
    static let summary = "ask a local OpenAI-compatible server a query set; grade, and measure joules per answer"

    /// Every option of the command, declared once: the parser and the help come from here.
    struct Options: OptionGroup {
        let endpoint = Option<String>.text("--endpoint", "URL", help: "the API base, e.g. http://127.0.0.1:8080/v1 (requests go to URL/chat/completions)")
        let model = Option<String>.text("--model", "NAME", help: "the model name the server expects in requests")
        let queries = Option<String>.text("--queries", "FILE|builtin:NAME", help: "a JSONL query set, or builtin:arithmetic, builtin:units, builtin:knowledge")
        let api = Option<String>.text("--api", "chat|completions", help: "chat/completions (default) or completions (the prompt as plain text)")
        let maxTokens = Option<Int>.int("--max-tokens", "N", in: 1...1_000_000, help: "answer token limit (default: the query's, else the set's)")
        let seed = Option<Int>.int("--seed", "S", in: 0...Int(Int32.max), help: "sampling seed sent with every request (default 0); temperature is always 0")
        let timeout = Option<Double>.number("--timeout", "S", in: 0.1...86_400, unit: "seconds", help: "seconds for one whole request, connection to last byte (default 120)")
        let maxResponseBytes = Option<Int>.int("--max-response-bytes", "N", in: 1024...(1 << 30), help: "a larger answer is a failed query (default 1048576)")
        let retries = Option<Int>.int("--retries", "N", in: 0...100, help: "further attempts after a failed request: connection, timeout, 5xx, 408, 429, malformed (default 2)")
        let promptCache = Flag("--prompt-cache", help: "let the server reuse cached prompt state (default: cache_prompt false, so every prefill is computed)")
        let noStream = Flag("--no-stream", help: "ask for whole answers: no time to first token and no prefill/decode split")
        let idle = Option<Double>.number("--idle", "S", in: 0...3600, unit: "seconds", help: "idle baseline seconds before the queries (default 5 with an energy source; 0 skips)")
        let limit = Option<Int>.int("--limit", "N", in: 1...10_000_000, help: "only the first N queries of the set")
        let fixtureModel = Option<String>.text("--fixture-model", "ID", help: "the model id the fixture names, e.g. smollm2-135m (default: --model)")
        let quantization = Option<String>.text("--quantization", "Q", help: "the quantization the fixture names, e.g. q4_0 (default: unknown)")
        let scheme = Option<String>.text("--scheme", "TEXT", help: "the quantization as served, when it is not exactly --quantization (e.g. \"GGUF Q4_1\")")
        let out = Option<String>.text("--out", "FILE", help: "the fixture file (default perwatt-results/eval-<set>-<UTC time>.json), rewritten atomically after each query")
        let resume = Option<String>.text("--resume", "FILE", help: "continue the run in FILE: queries with a graded answer are kept, the rest are asked")
        let regrade = Option<String>.text("--regrade", "FILE", help: "grade FILE's recorded answers again (no server) and rewrite it, or write --out")
        let json = Flag("--json", help: "print the fixture instead of the summary")
        let quiet = Flag("--quiet", help: "no progress on stderr")
        let list = Flag("--list", help: "list the built-in query sets (with --json, print one as JSONL: --list --queries builtin:NAME)")
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
        guard let (options, energy) = try parseCommand(arguments, specs: specs, command: "eval", help: help,
                                                       stopAtPositional: false, context: context) else { return .success }
        if options.has(o.list) { return try list(options, context: context) }
        if let path = options.value(o.regrade) { return try regrade(path, options: options, context: context) }

        // What to run: fresh, or the recorded settings of the run being resumed.
        var previous: Fixture?
        let resumePath = options.value(o.resume)
        if let resumePath {
            let fixture = try LoadedFixture.load(resumePath).fixture
            guard fixture.eval != nil else {
                throw InputError(file: resumePath, field: "eval", message: "is missing: only a fixture written by perwatt eval can be resumed")
            }
            previous = fixture
        }
        let recorded = previous?.eval?.settings
        guard let endpoint = options.value(o.endpoint) ?? recorded?.endpoint else {
            throw UsageError(message: "--endpoint URL is required (the server's API base, e.g. http://127.0.0.1:8080/v1)", command: "eval")
        }
        guard let model = options.value(o.model) ?? recorded?.model else {
            throw UsageError(message: "--model NAME is required (the model name the server expects; llama-server accepts any)", command: "eval")
        }
        guard let querySpec = options.value(o.queries) ?? previous?.eval?.querySet.name else {
            throw UsageError(message: "--queries FILE|builtin:NAME is required (perwatt eval --list shows the built-in sets)", command: "eval")
        }
        let apiText = options.value(o.api) ?? recorded?.api.rawValue ?? "chat"
        guard let api = CompletionClient.API(rawValue: apiText) else {
            throw UsageError(message: "--api takes chat or completions; not '\(shown(apiText))'", command: "eval")
        }
        var set = try QuerySet.load(querySpec)
        if let previous, let info = previous.eval?.querySet, info.sha256 != set.sha256 {
            throw InputError(file: querySpec, message: "has changed since \(resumePath!) was started (sha256 \(set.sha256.prefix(12)), recorded \(info.sha256.prefix(12))); resuming would mix two query sets. Start a new run")
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
        if let recorded, recorded.seed != settings.seed || recorded.maxTokens != settings.maxTokens || recorded.model != settings.model {
            throw UsageError(message: "--seed, --max-tokens and --model must stay as recorded in \(resumePath!) (seed \(recorded.seed), max tokens \(recorded.maxTokens), model \(recorded.model)); the answers must come from one setting", command: "eval")
        }
        let retries = try options.value(o.retries) ?? 2
        let client = try CompletionClient(settings: settings)
        let quantization = options.value(o.quantization) ?? previous?.quantization ?? "unknown"
        let quantizations = Precision.allCases.map(\.rawValue) + Fixture.otherQuantizations
        guard quantizations.contains(quantization) else {
            throw UsageError(message: "--quantization '\(shown(quantization))' is not a known quantization; use one of \(quantizations.joined(separator: ", ")) (and --scheme for what was served)", command: "eval")
        }
        let started = Date()
        let out = options.value(o.out) ?? resumePath ?? RunCommand.defaultOutputPath(suite: "eval-\(set.benchmark)", started: started)
        if out.isEmpty { throw UsageError(message: "--out needs a file name", command: "eval") }

        let (meter, noneReason) = try energy.makeMeter(context: context)
        meter?.start()
        defer { _ = meter?.stop() }
        let restoreInterrupt = POSIX.catchInterrupt()
        defer { restoreInterrupt() }
        let interrupted = { POSIX.interrupted.load(ordering: .relaxed) }
        let progress = !options.has(o.quiet) && context.stderr.isTerminal
        func say(_ text: String) { if progress { context.stderr.line(text) } }

        // Idle power: measured anew (the machine may differ from the first session), else kept from the run resumed.
        var energyInfo = EvalRun.Energy(basis: meter?.plan.basis, source: meter?.plan.source, measurement: meter?.plan.measurement,
                                        unavailableReason: noneReason)
        if let previousBasis = previous?.eval?.energy.basis, previousBasis != energyInfo.basis {
            throw UsageError(message: "\(resumePath!) was measured on energy basis \(previousBasis), this machine now gives \(energyInfo.basis ?? "none"); resume on the same basis (--energy) or start a new run", command: "eval")
        }
        let idleSeconds = try options.value(o.idle) ?? (meter == nil ? 0 : 5)
        if let meter, idleSeconds > 0 {
            say("measuring idle power for \(formatNumber(idleSeconds)) s (keep the machine and the server quiet)…")
            if let idle = IdleBaseline.measure(with: meter, seconds: idleSeconds) {
                energyInfo.idleWatts = idle.medianWatts
                energyInfo.idleSeconds = idle.totalSeconds
            }
        } else if meter != nil, let kept = previous?.eval?.energy {
            energyInfo.idleWatts = kept.idleWatts
            energyInfo.idleSeconds = kept.idleSeconds
        }

        var fixture = Fixture(benchmark: set.benchmark, model: options.value(o.fixtureModel) ?? previous?.model ?? model,
                              quantization: quantization, scheme: options.value(o.scheme) ?? previous?.scheme,
                              source: "perwatt eval of \(model) at \(endpoint), \(set.name) (sha256 \(set.sha256.prefix(12))), temperature 0, seed \(settings.seed), max \(settings.maxTokens) tokens")
        var graded = Dictionary((previous?.queries ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var failures: [String: EvalRun.Failure] = [:]
        var run = EvalRun(perwattVersion: PerWattCLI.version, settings: settings,
                          querySet: .init(name: set.name, sha256: set.sha256, count: set.queries.count, about: set.about),
                          energy: energyInfo, tokenCounts: "from the server's usage", startedAt: previous?.eval?.startedAt ?? RunCommand.iso8601(started),
                          durationSeconds: previous?.eval?.durationSeconds ?? 0, complete: false, incompleteReason: nil, failed: [],
                          fingerprint: context.fingerprint())
        let clockStart = POSIX.monotonicSeconds()
        let baseDuration = run.durationSeconds
        func save() -> ExitCode? {
            fixture.queries = set.queries.compactMap { graded[$0.id] }
            run.failed = set.queries.compactMap { failures[$0.id] }
            run.durationSeconds = baseDuration + POSIX.monotonicSeconds() - clockStart
            let done = fixture.queries?.count ?? 0
            run.complete = done == set.queries.count
            run.incompleteReason = run.complete ? nil
                : "\(done) of \(set.queries.count) queries graded, \(run.failed.count) failed" + (interrupted() ? "; interrupted (Ctrl-C)" : "")
            // Over every graded query, this session's and those resumed.
            let missingUsage = (fixture.queries ?? []).filter { $0.promptTokens == nil || $0.outputTokens == nil }.count
            run.tokenCounts = missingUsage == 0 ? "from the server's usage" : "absent for \(missingUsage) queries: the server gave no usage"
            fixture.eval = run
            do {
                try JSON.write(fixture, to: out)
                return nil
            } catch {
                context.stderr.line("perwatt eval: \(error)")
                return .ioError
            }
        }
        if let failure = save() { return failure }

        let todo = set.queries.filter { graded[$0.id] == nil }
        if previous != nil { say("resuming \(out): \(graded.count) graded, \(todo.count) to ask") }
        var consecutiveUnreachable = 0
        var serverGone = false
        for (index, query) in todo.enumerated() {
            if interrupted() { break }
            let outcome = ask(query, client: client, meter: meter, idleWatts: energyInfo.idleWatts, retries: retries,
                              maxTokens: maxTokens ?? query.maxTokens ?? settings.maxTokens, stop: interrupted)
            switch outcome {
            case .answered(let record):
                graded[query.id] = record
                failures[query.id] = nil
                consecutiveUnreachable = 0
                say("[\(index + 1)/\(todo.count)] \(query.id): \(record.correct ? "correct" : "wrong") (\(fixed(record.latencySeconds ?? 0, 2)) s\(record.energy.map { ", \(fixed($0.joules, 2)) J" } ?? ""))")
            case .failed(let failure, let unreachable):
                failures[query.id] = failure
                consecutiveUnreachable = unreachable ? consecutiveUnreachable + 1 : 0
                context.stderr.line("perwatt eval: \(query.id): \(failure.error) (after \(failure.attempts) attempt\(failure.attempts == 1 ? "" : "s"))")
            }
            if let failure = save() { return failure }
            if consecutiveUnreachable >= 3 {
                serverGone = true
                break
            }
        }
        if let failure = save() { return failure }

        if options.has(o.json) {
            context.stdout.line(try JSON.encode(fixture))
        } else {
            context.stdout.write(EvalSummary.render(fixture))
            context.stdout.line("fixture: \(out)")
        }
        if interrupted() { return .interrupted }
        if serverGone {
            context.stderr.line("perwatt eval: stopped: 3 queries in a row could not reach \(endpoint). Check the server, then: perwatt eval --resume \(out)")
            return .unavailable
        }
        return run.failed.isEmpty ? .success : .unavailable
    }

    enum Outcome {
        case answered(Fixture.Query)
        /// `unreachable`: the last attempt could not connect or timed out (the server may be gone).
        case failed(EvalRun.Failure, unreachable: Bool)
    }

    /// Asks one query, retrying up to `retries` times with a growing pause, and grades the answer.
    /// The energy charged is that of the attempt that answered, from the request to its last byte.
    static func ask(_ query: QuerySet.Query, client: CompletionClient, meter: EnergyMeter?, idleWatts: Double?, retries: Int,
                    maxTokens: Int, stop: () -> Bool) -> Outcome {
        var attempt = 0
        var untrustedRetries = 0
        while true {
            attempt += 1
            let mark = meter?.beginWindow()
            let prefill = Mutex<EnergyWindow?>(nil)
            let result = client.complete(query, maxTokens: maxTokens) {
                if let mark, let meter { prefill.withLock { $0 = meter.endWindow(mark) } }
            }
            let window = mark.flatMap { meter?.endWindow($0) }
            switch result {
            case .success(let response):
                if let window, window.untrusted, untrustedRetries < KernelMeasurement.untrustedRetries, !stop() {
                    // Asked again (temperature 0: the same answer): its energy window could not be trusted.
                    untrustedRetries += 1
                    continue
                }
                var record = Fixture.Query(id: query.id, correct: false, promptTokens: response.promptTokens, outputTokens: response.completionTokens)
                let verdict = query.grader.grade(response.text, expected: query.expected)
                record.correct = verdict.correct
                record.extracted = verdict.extracted
                record.answer = response.text
                record.expected = query.expected
                record.grader = query.grader
                record.finishReason = response.finishReason
                record.cachedPromptTokens = response.cachedPromptTokens
                record.attempts = attempt
                record.latencySeconds = response.endedAt - response.sentAt
                record.timeToFirstTokenSeconds = response.firstTokenAt.map { $0 - response.sentAt }
                if let window, let joules = window.basisJoules {
                    let prefillJoules = prefill.withLock { $0 }?.basisJoules
                    record.energy = .init(joules: joules, windowSeconds: window.durationSeconds,
                                          netJoules: idleWatts.map { joules - $0 * window.durationSeconds },
                                          prefillJoules: prefillJoules, decodeJoules: prefillJoules.map { max(0, joules - $0) },
                                          warnings: window.warnings.isEmpty ? nil : window.warnings,
                                          untrusted: window.untrusted ? true : nil)
                }
                return .answered(record)
            case .failure(let failure):
                let unreachable: Bool
                switch failure {
                case .connection, .timeout: unreachable = true
                default: unreachable = false
                }
                if !failure.retryable || attempt > retries || stop() {
                    return .failed(.init(id: query.id, error: failure.description, attempts: attempt), unreachable: unreachable)
                }
                // 0.5 s, 1 s, 2 s, … capped at 8 s: a restarting server gets time to come back.
                _ = POSIX.sleep(seconds: min(8, 0.5 * Double(1 << min(attempt - 1, 4))))
            }
        }
    }

    /// Grades the recorded answers again with the recorded graders (no server, no energy).
    static func regrade(_ path: String, options: ParsedOptions, context: CLIContext) throws -> ExitCode {
        var fixture = try LoadedFixture.load(path).fixture
        guard var run = fixture.eval, var queries = fixture.queries else {
            throw InputError(file: path, field: "eval", message: "is missing: only a fixture written by perwatt eval keeps the answers to grade again")
        }
        var changed: [String] = []
        for index in queries.indices {
            guard let answer = queries[index].answer, let expected = queries[index].expected, let grader = queries[index].grader else { continue }
            let verdict = grader.grade(answer, expected: expected)
            if verdict.correct != queries[index].correct { changed.append("\(queries[index].id): \(queries[index].correct ? "correct" : "wrong") → \(verdict.correct ? "correct" : "wrong")") }
            queries[index].correct = verdict.correct
            queries[index].extracted = verdict.extracted
        }
        fixture.queries = queries
        run.regradedAt = RunCommand.iso8601(Date())
        fixture.eval = run
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
            context.stdout.line("regraded \(queries.count) answers: \(changed.isEmpty ? "no verdict changed" : "\(changed.count) changed")")
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
            table.add([set.name, "\(set.queries.count)", "\(set.defaultMaxTokens)", String(set.sha256.prefix(12)), set.about])
        }
        context.stdout.write(table.render())
        return .success
    }
}
