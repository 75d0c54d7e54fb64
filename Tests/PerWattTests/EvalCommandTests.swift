import Foundation
import PowerProbe
import Synchronization
import Testing

@testable import PerWattCLI
@testable import PerWattCore

@Suite(.serialized) struct EvalCommandTests {
    /// Answers an arithmetic prompt: right for most, wrong where `wrong` says (by request index).
    static func arithmetic(_ request: StubOpenAIServer.Request) -> String {
        let parts = request.prompt.dropFirst("What is ".count).split(separator: "?")[0].split(separator: " ")
        guard parts.count == 3, let a = Int(parts[0]), let b = Int(parts[2]) else { return "?" }
        return String(parts[1] == "+" ? a + b : parts[1] == "-" ? a - b : a * b)
    }

    static func load(_ path: String) throws -> Fixture {
        try Fixture.parse(String(contentsOfFile: path, encoding: .utf8), file: path)
    }

    @Test func gradesEveryAnswerAndChargesEachItsOwnWindow() throws {
        // Streamed in 3 pieces 50 ms apart, so the first token comes well before the end; every 4th answer is wrong.
        let server = try StubOpenAIServer { request, index in
            let right = Self.arithmetic(request)
            return .delay(
                0.05,
                then: .init(
                    .stream(
                        index % 4 == 3 ? ["1", "2", "3"] : ["The answer", " is ", right], pause: 0.05,
                        promptTokens: 20, completionTokens: 5)))
        }
        let out = RunCommandTests.temporary("eval.json")
        let result = CLIHarness.run(
            [
                "eval", "--endpoint", server.endpoint, "--model", "stub", "--queries", "builtin:arithmetic", "--limit",
                "8",
                "--out", out, "--powercap-root", "/pc", "--idle", "0.3", "--interval", "10", "--seed", "7",
            ],
            sysfs: RunCommandTests.fiftyWatts())
        #expect(result.status == .success, "\(result.stderr)")
        let fixture = try Self.load(out)
        let queries = try #require(fixture.queries)
        #expect(
            queries.count == 8 && fixture.counts.correct == 6 && fixture.benchmark == "arithmetic"
                && fixture.quantization == "unknown")
        #expect(queries.map(\.correct) == [true, true, true, false, true, true, true, false])
        for query in queries {
            let energy = try #require(query.energy)
            let joules = try #require(energy.joules)
            #expect(energy.trusted && energy.channels == nil, "a query's record is the summary on the run's basis")
            // 50 W: the window's joules are 50 × its length (to 1%: a thread preempted between reading the
            // clock and the counter skews the two on a loaded machine), and the split adds up exactly.
            #expect(abs(joules - 50 * energy.durationSeconds) < 0.01 * joules, "\(energy)")
            #expect(abs((energy.prefillJoules ?? -1) + (energy.decodeJoules ?? -1) - joules) < 1e-6)
            // The first piece comes after 100 ms (delay + pause): prefill is 50 W × the time to first token,
            // whatever the machine's load did to when it arrived. The slack (10% + 5 ms) is for a thread
            // preempted between the clock and the counter reads; a prefill read at the end of the answer
            // instead would be twice as large and fail.
            let prefill = try #require(energy.prefillJoules)
            let firstToken = try #require(query.timeToFirstTokenSeconds)
            #expect(
                prefill > 50 * 0.09 && abs(prefill - 50 * firstToken) < 0.1 * prefill + 0.25,
                "\(energy) ttft \(firstToken)")
            // Idle is the same 50 W: net energy is close to zero.
            #expect(abs(energy.netJoules ?? 99) < 0.05 * joules)
            let latency = try #require(query.latencySeconds)
            let first = try #require(query.timeToFirstTokenSeconds)
            // The energy window holds the whole request (it opens before the request is sent and closes after
            // the last byte) and little else; the slack allows for a loaded test machine.
            #expect(latency >= 0.2 && first >= 0.09 && first < latency)
            #expect(
                energy.durationSeconds >= latency - 1e-3 && energy.durationSeconds - latency < 0.25,
                "\(energy.durationSeconds) vs \(latency)")
            #expect(
                query.promptTokens == 20 && query.outputTokens == 5 && query.attempts == 1
                    && query.finishReason == "stop")
            #expect(query.grader?.kind == .numeric && query.answer != nil && query.expected != nil)
        }
        let eval = try #require(fixture.eval)
        #expect(
            eval.complete && eval.failed.isEmpty && eval.settings.seed == 7 && eval.settings.maxTokens == 16
                && eval.settings.stream)
        #expect(eval.energy.basis == "rapl:package" && abs((eval.energy.idleWatts ?? 0) - 50) < 2.5)
        #expect(eval.querySet.sha256 == BuiltinQuerySets.arithmetic.sha256 && eval.querySet.count == 8)
        // Requests carry the pinned settings.
        let body = try #require(server.received.first?.body)
        #expect(
            body["temperature"] as? Double == 0 && body["seed"] as? Int == 7 && body["max_tokens"] as? Int == 16
                && body["model"] as? String == "stub")
        #expect(body["stream"] as? Bool == true && server.received.first?.path == "/v1/chat/completions")
        // The summary: accuracy with its interval, and IPJ = accuracy / mean J.
        #expect(
            result.stdout.contains("accuracy [95%]") && result.stdout.contains("(6/8, Wilson)")
                && result.stdout.contains("IPJ [95%]"))
        let scores = EvalScores(fixture)
        let meanJoules = queries.map { $0.energy!.joules! }.reduce(0, +) / 8
        #expect(
            abs(scores.ipj!.value - 0.75 / meanJoules) < 1e-12 && scores.ipj!.low <= scores.ipj!.value
                && scores.ipj!.high >= scores.ipj!.value)
        #expect(abs(scores.tokensPerJoule!.value - 25 * 8 / (meanJoules * 8)) < 1e-9)
        // The fixture is a valid input for the fixture tools.
        #expect(CLIHarness.run(["fixture", "validate", out]).status == .success)
    }

    /// Net energy is the window's gross energy less idle power × the window's length: at 50 W with an
    /// idle of 20 W, 30 W × the window.
    @Test func netEnergyIsGrossLessIdleOverTheWindow() throws {
        let server = try StubOpenAIServer { _, _ in .delay(0.1, then: .init(.answer("4"))) }
        let (context, _, _) = CLIHarness.context(sysfs: RunCommandTests.fiftyWatts())
        let options = try parseOptions(
            ["--powercap-root", "/pc"], specs: EnergyOptionGroup.specs, command: "eval", stopAtPositional: false)
        let meter = try #require(try EnergyOptions(options, environment: [:]).makeMeter(context: context).meter)
        meter.start()
        defer { _ = meter.stop() }
        let client = try CompletionClient(
            settings: .init(
                endpoint: server.endpoint, api: .chat, model: "m", seed: 0, maxTokens: 4, stream: false,
                timeoutSeconds: 5))
        let query = QuerySet.Query(id: "q", prompt: "2 + 2?", expected: "4", grader: Grader(kind: .numeric))
        guard
            case .answered(let record) = EvalSession.ask(
                query, client: client, meter: meter, idleWatts: 20, retries: 0, maxTokens: 4,
                stop: { false })
        else {
            Issue.record("the query was not answered")
            return
        }
        let energy = try #require(record.energy)
        let joules = try #require(energy.joules)
        #expect(energy.durationSeconds >= 0.1 && abs(joules - 50 * energy.durationSeconds) < 0.01 * joules)
        #expect(abs((energy.netJoules ?? 0) - 30 * energy.durationSeconds) < 0.01 * joules)
        // Not streamed: no first token, so no split.
        #expect(record.correct && energy.prefillJoules == nil && record.timeToFirstTokenSeconds == nil)
    }

    @Test func withoutEnergyTimeStillCountsAndEnergyIsAbsent() throws {
        let server = try StubOpenAIServer { request, _ in
            .answer(Self.arithmetic(request), promptTokens: nil, completionTokens: nil)
        }
        let out = RunCommandTests.temporary("eval-none.json")
        let result = CLIHarness.run([
            "eval", "--endpoint", server.endpoint, "--model", "m", "--queries", "builtin:arithmetic", "--limit", "3",
            "--out", out, "--energy", "none", "--no-stream", "--api", "completions",
        ])
        #expect(result.status == .success, "\(result.stderr)")
        let fixture = try Self.load(out)
        #expect(
            fixture.queries?.allSatisfy {
                $0.energy == nil && $0.correct && $0.latencySeconds != nil && $0.timeToFirstTokenSeconds == nil
            } == true)
        #expect(fixture.eval?.tokenCounts == "absent for 3 queries: the server gave no usage")
        #expect(
            server.received.first?.path == "/v1/completions" && server.received.first?.body["prompt"] as? String != nil)
        #expect(result.stdout.contains("energy: none (--energy none)") && !result.stdout.contains("IPJ [95%]"))
    }

    @Test func failuresAreRecordedRetriedAndResumed() throws {
        // Per request index: 0 → 500 then (1) answer; 2 → 404 (not retried); 3,4,5 → garbage ×3 (fails after 2 retries);
        // 6 → truncated, 7 → answer; 8 → cut stream ×3; then a dropped connection, then an answer.
        let server = try StubOpenAIServer { request, index in
            switch index {
            case 0: return .status(500, "overloaded")
            case 2: return .status(404, "no such model")
            case 3, 4, 5: return .garbage
            case 6: return .truncated
            case 8, 9, 10: return .cutStream(["4"])
            case 11: return .drop
            default: return .stream([Self.arithmetic(request)])
            }
        }
        let out = RunCommandTests.temporary("eval-fail.json")
        let first = CLIHarness.run([
            "eval", "--endpoint", server.endpoint, "--model", "m", "--queries", "builtin:arithmetic", "--limit", "6",
            "--out", out, "--energy", "none", "--retries", "2", "--timeout", "5",
        ])
        #expect(first.status == .unavailable, "\(first.stderr)")
        let partial = try Self.load(out)
        let eval = try #require(partial.eval)
        #expect(!eval.complete && eval.incompleteReason?.hasPrefix("3 of 6 queries graded, 3 failed") == true)
        #expect(partial.queries?.map(\.id) == ["arithmetic/0", "arithmetic/3", "arithmetic/5"])
        #expect(partial.queries?.map(\.attempts) == [2, 2, 2])
        let failures = Dictionary(uniqueKeysWithValues: eval.failed.map { ($0.id, $0) })
        #expect(
            failures["arithmetic/1"]?.error.hasPrefix("HTTP 404") == true && failures["arithmetic/1"]?.attempts == 1)
        #expect(
            failures["arithmetic/2"]?.error.hasPrefix(
                "malformed response: neither a server-sent event stream nor a JSON answer (it starts \"<html>not json\")"
            ) == true && failures["arithmetic/2"]?.attempts == 3)
        #expect(failures["arithmetic/4"]?.error.contains("stream ended before its last event") == true)
        #expect(first.stderr.contains("arithmetic/1: HTTP 404"))
        // Accuracy counts only graded answers.
        #expect(partial.counts == (3, 3))

        // --resume asks only what is missing, with the recorded settings.
        let before = server.received.count
        let resumed = CLIHarness.run(["eval", "--resume", out, "--energy", "none"])
        #expect(resumed.status == .success, "\(resumed.stderr)")
        #expect(server.received.count - before == 3)
        let done = try Self.load(out)
        #expect(
            done.eval?.complete == true && done.eval?.failed.isEmpty == true && done.queries?.count == 6
                && done.counts.correct == 6)
        #expect(done.queries?.map(\.id) == (0..<6).map { "arithmetic/\($0)" })
        // Resuming with other settings is refused.
        #expect(CLIHarness.run(["eval", "--resume", out, "--energy", "none", "--seed", "3"]).status == .usage)
    }

    @Test func aServerThatDiesMidRunLeavesAValidPartialFileThatResumeCompletes() throws {
        // The server answers 3 queries, then dies (drops the 4th request and stops listening).
        let holder = Mutex<StubOpenAIServer?>(nil)
        let server = try StubOpenAIServer { request, index in
            if index < 3 { return .answer(Self.arithmetic(request)) }
            holder.withLock { $0?.stop() }
            return .drop
        }
        holder.withLock { $0 = server }
        let out = RunCommandTests.temporary("eval-dies.json")
        let died = CLIHarness.run([
            "eval", "--endpoint", server.endpoint, "--model", "m", "--queries", "builtin:arithmetic", "--limit", "10",
            "--out", out, "--energy", "none", "--retries", "0",
        ])
        #expect(died.status == .unavailable)
        #expect(
            died.stderr.contains("stopped: 3 queries in a row could not reach")
                && died.stderr.contains("perwatt eval --resume \(out)"))
        let partial = try Self.load(out)
        #expect(partial.queries?.count == 3 && partial.eval?.failed.count == 3 && partial.eval?.complete == false)
        #expect(
            partial.eval?.failed.allSatisfy { $0.error.hasPrefix("connection failed") } == true,
            "\(partial.eval?.failed ?? [])")
        // A new server (another port): resume there; the 7 missing queries are asked and the run completes.
        let revived = try StubOpenAIServer { request, _ in .answer(Self.arithmetic(request)) }
        let resumed = CLIHarness.run(["eval", "--resume", out, "--endpoint", revived.endpoint, "--energy", "none"])
        #expect(resumed.status == .success, "\(resumed.stderr)")
        #expect(revived.received.count == 7)
        let done = try Self.load(out)
        #expect(
            done.eval?.complete == true && done.queries?.count == 10 && done.counts.correct == 10
                && done.eval?.settings.endpoint == revived.endpoint)
    }

    @Test func promptCacheIsOffUnlessAskedAndCachedTokensAreReported() throws {
        let server = try StubOpenAIServer { request, index in
            .answerCached(Self.arithmetic(request), cached: index == 0 ? 0 : 6)
        }
        let out = RunCommandTests.temporary("eval-cache.json")
        let result = CLIHarness.run([
            "eval", "--endpoint", server.endpoint, "--model", "m", "--queries", "builtin:arithmetic", "--limit", "2",
            "--out", out, "--energy", "none",
        ])
        #expect(result.status == .success)
        #expect(server.received.allSatisfy { $0.body["cache_prompt"] as? Bool == false })
        #expect(try Self.load(out).queries?.map(\.cachedPromptTokens) == [0, 6])
        #expect(result.stdout.contains("warning: 6 of 14 prompt tokens came from the server's prompt cache"))
        let cached = try StubOpenAIServer { request, _ in .answer(Self.arithmetic(request)) }
        _ = CLIHarness.run([
            "eval", "--endpoint", cached.endpoint, "--model", "m", "--queries", "builtin:arithmetic", "--limit", "1",
            "--out", out, "--energy", "none", "--prompt-cache",
        ])
        #expect(cached.received.first?.body["cache_prompt"] == nil)
    }

    @Test func aSlowServerTimesOut() throws {
        let server = try StubOpenAIServer { request, _ in .delay(1.5, then: .init(.answer(Self.arithmetic(request)))) }
        let out = RunCommandTests.temporary("eval-slow.json")
        let result = CLIHarness.run([
            "eval", "--endpoint", server.endpoint, "--model", "m", "--queries", "builtin:arithmetic", "--limit", "1",
            "--out", out, "--energy", "none", "--retries", "0", "--timeout", "0.3",
        ])
        #expect(result.status == .unavailable)
        let failed = try Self.load(out).eval?.failed
        #expect(
            failed?.first?.error.hasPrefix("no complete answer within 0.3 s") == true,
            "\(String(describing: failed)) \(result.stderr)")
    }

    @Test func regradeJudgesTheRecordedAnswersAgain() throws {
        let server = try StubOpenAIServer { _, _ in .answer("The answer is B") }
        let out = RunCommandTests.temporary("eval-regrade.json")
        #expect(
            CLIHarness.run([
                "eval", "--endpoint", server.endpoint, "--model", "m", "--queries", "builtin:knowledge", "--limit", "6",
                "--out", out, "--energy", "none",
            ]).status == .success)
        let fixture = try Self.load(out)
        let expectedB = fixture.queries!.filter { $0.expected == "B" }.count
        #expect(fixture.counts.correct == expectedB)
        // Change the recorded grader of every query to a regex that accepts any answer mentioning B: all correct.
        var text = try String(contentsOfFile: out, encoding: .utf8)
        text = text.replacingOccurrences(of: #""kind" : "choice""#, with: #""kind" : "regex", "pattern" : "B""#)
        try text.write(toFile: out, atomically: true, encoding: .utf8)
        let regraded = CLIHarness.run(["eval", "--regrade", out])
        #expect(regraded.status == .success, "\(regraded.stderr)")
        #expect(regraded.stdout.contains("regraded 6 answers: \(6 - expectedB) changed"))
        let after = try Self.load(out)
        #expect(after.counts.correct == 6 && after.eval?.regradedAt != nil)
    }

    /// The fixture feeds `perwatt run --fixture` (projected IPJ at its accuracy and token counts) and
    /// `perwatt report`, which shows the measured IPJ beside the projected one.
    @Test func reportShowsMeasuredBesideProjected() throws {
        let server = try StubOpenAIServer { request, _ in
            .delay(0.02, then: .init(.stream([Self.arithmetic(request)], promptTokens: 12, completionTokens: 2)))
        }
        let eval = RunCommandTests.temporary("eval-tiny.json")
        #expect(
            CLIHarness.run(
                [
                    "eval", "--endpoint", server.endpoint, "--model", "m", "--queries", "builtin:arithmetic", "--limit",
                    "5",
                    "--fixture-model", "tiny", "--quantization", "q4_0", "--out", eval, "--powercap-root", "/pc",
                    "--idle", "0",
                ],
                sysfs: RunCommandTests.fiftyWatts()
            ).status == .success)
        let model = RunCommandTests.temporary("tiny.json")
        try String(decoding: try JSONEncoder().encode(tinyModel), as: UTF8.self).write(
            toFile: model, atomically: true, encoding: .utf8)
        let result = RunCommandTests.temporary("run-tiny.json")
        let run = CLIHarness.run(
            [
                "run", "--model", model, "--quantization", "q4_0", "--fixture", eval, "--out", result, "--min-time",
                "0.02",
                "--repetitions", "3", "--idle", "0", "--powercap-root", "/pc",
            ], sysfs: RunCommandTests.fiftyWatts())
        #expect(run.status == .success, "\(run.stderr)")
        let score = try #require(try RunResult.load(result).scores.first)
        // The run scored the eval fixture: its accuracy and its per-query token counts.
        #expect(
            score.accuracy.value == 1 && score.meanPromptTokens == 12 && score.meanOutputTokens == 2 && score.n == 5)

        let text = CLIHarness.run(["report", result, eval])
        #expect(text.status == .success, "\(text.stderr)")
        let line = try #require(
            text.stdout.split(separator: "\n").first {
                $0.contains("tiny") && $0.contains("arithmetic") && $0.hasSuffix("×")
            })
        let measured = EvalScores(try Self.load(eval)).ipj!.value
        #expect(line.hasSuffix(fixed(measured / score.ipj!.value, 2) + "×"), "\(line)")
        #expect(
            text.stdout.contains("Measured by perwatt eval")
                && text.stdout.contains("projected: \(result) (tiny q4_0, per query)"))
        let html = CLIHarness.run(["report", result, eval, "--format", "html"]).stdout
        #expect(
            html.contains("Measured (dot) and projected (ring) energy per query")
                && html.components(separatedBy: "<svg").count - 1 == 6)
        let json = try #require(
            try JSONSerialization.jsonObject(
                with: Data(CLIHarness.run(["report", result, eval, "--format", "json"]).stdout.utf8))
                as? [[String: Any]])
        #expect(json.map { $0["schema"] as? String } == ["perwatt.result/2", "perwatt.fixture/1"])
        let csv = CLIHarness.run(["report", result, eval, "--format", "csv"]).stdout
        #expect(csv.contains("\(eval),eval,tiny,q4_0,arithmetic,ipj,1/J,\(measured),"))
        // An accuracy-only fixture has nothing for report to show.
        let plain = RunCommandTests.temporary("plain.json")
        try
            #"{"schema": "perwatt.fixture/1", "benchmark": "b", "model": "tiny", "quantization": "q4_0", "source": "s", "aggregate": {"accuracy": 0.5, "n": 10}}"#
            .write(toFile: plain, atomically: true, encoding: .utf8)
        let refused = CLIHarness.run(["report", plain])
        #expect(
            refused.status == .dataError
                && refused.stderr.contains("eval: is missing: report shows fixtures that perwatt eval measured"))
    }

    /// Two evals of the same queries: compare pairs them query by query.
    @Test func compareTwoEvalsQueryByQuery() throws {
        func eval(_ name: String, delay: Double, wrongFrom: Int) throws -> String {
            let server = try StubOpenAIServer { request, index in
                .delay(
                    delay,
                    then: .init(
                        .stream(
                            [index >= wrongFrom ? "0" : Self.arithmetic(request)], promptTokens: 12, completionTokens: 2
                        )))
            }
            let out = RunCommandTests.temporary("\(name).json")
            let result = CLIHarness.run(
                [
                    "eval", "--endpoint", server.endpoint, "--model", "m", "--queries", "builtin:arithmetic", "--limit",
                    "20",
                    "--out", out, "--powercap-root", "/pc", "--idle", "0",
                ], sysfs: RunCommandTests.fiftyWatts())
            #expect(result.status == .success, "\(result.stderr)")
            return out
        }
        let base = try eval("cmp-base", delay: 0.02, wrongFrom: 100)
        let same = try eval("cmp-same", delay: 0.02, wrongFrom: 100)
        // Four times slower (so four times the joules at 50 W) and the last 4 answers wrong.
        let slow = try eval("cmp-slow", delay: 0.08, wrongFrom: 16)
        let quiet = CLIHarness.run(["compare", base, same])
        #expect(quiet.status == .success, "\(quiet.stdout)\(quiet.stderr)")
        let flagged = CLIHarness.run(["compare", base, slow, "--format", "json"])
        #expect(flagged.status == .regression, "\(flagged.stderr)")
        let rows = try #require(try parseJSON(flagged.stdout)["rows"] as? [[String: Any]])
        func row(_ metric: String) -> [String: Any]? {
            rows.first { ($0["metric"] as? String)?.hasPrefix(metric) == true }
        }
        for metric in ["energy per query", "latency per query", "IPJ"] {
            #expect(row(metric)?["verdict"] as? String == "regressed", "\(metric): \(String(describing: row(metric)))")
        }
        // 4 of 20 lost, none gained: McNemar p = 2·2⁻⁴ = 0.125, not significant: the accuracy row does not fail the build.
        let accuracy = try #require(row("accuracy"))
        #expect(
            accuracy["metric"] as? String == "accuracy (same 20 queries)"
                && abs((accuracy["p"] as? Double ?? 0) - 0.125) < 1e-12)
        #expect(accuracy["verdict"] as? String != "regressed")
        let energy = try #require(row("energy per query")?["ratio"] as? [String: Any])
        #expect((energy["value"] as? Double ?? 0) > 2)
        // One of each kind, or a list on one side, is a usage error; a different query set is refused.
        let run = try CompareCommandTests.write(CompareCommandTests.result(times: CompareCommandTests.times))
        #expect(CLIHarness.run(["compare", run, base]).status == .usage)
        #expect(CLIHarness.run(["compare", "\(base),\(same)", slow]).status == .usage)
        var other = try String(contentsOfFile: same, encoding: .utf8)
        other = other.replacingOccurrences(
            of: BuiltinQuerySets.arithmetic.sha256, with: String(repeating: "0", count: 64))
        let otherPath = RunCommandTests.temporary("cmp-other.json")
        try other.write(toFile: otherPath, atomically: true, encoding: .utf8)
        let refused = CLIHarness.run(["compare", base, otherPath])
        #expect(refused.status == .dataError && refused.stderr.contains("query set:"))
        #expect(CLIHarness.run(["compare", base, otherPath, "--allow-mismatch"]).status == .success)
    }

    /// A fixture that cannot join a workload is said, not dropped silently.
    @Test func runSaysWhyAFixtureScoredNothing() throws {
        let model = RunCommandTests.temporary("tiny.json")
        try String(decoding: try JSONEncoder().encode(tinyModel), as: UTF8.self).write(
            toFile: model, atomically: true, encoding: .utf8)
        func fixture(_ quantization: String) throws -> String {
            let path = RunCommandTests.temporary("\(quantization).json")
            try
                #"{"schema": "perwatt.fixture/1", "benchmark": "b", "model": "tiny", "quantization": "\#(quantization)", "source": "s", "aggregate": {"accuracy": 0.5, "n": 10}}"#
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let q50 = try fixture("q5_0")
        let refused = CLIHarness.run(["run", "--model", model, "--fixture", q50, "--energy", "none"])
        #expect(refused.status == .usage && refused.stderr.contains("are at q5_0, which perwatt has no kernels for"))
        let q40 = try fixture("q4_0")
        let out = RunCommandTests.temporary("unjoined.json")
        let run = CLIHarness.run([
            "run", "--model", model, "--quantization", "q8_0", "--fixture", "\(q40),\(q50)", "--energy", "none",
            "--min-time", "0.01", "--repetitions", "3", "--out", out,
        ])
        #expect(run.status == .success, "\(run.stderr)")
        #expect(
            run.stdout.contains(
                "warning: fixture \(q40) (tiny, q4_0, b) scored nothing: this run has no workload tiny at q4_0"))
        #expect(
            run.stdout.contains(
                "warning: fixture \(q50) (tiny, q5_0, b) scored nothing: perwatt has no kernels for q5_0"))
        // An eval that has graded nothing yet is not scored as accuracy 0.
        let empty = RunCommandTests.temporary("empty.json")
        try
            #"{"schema": "perwatt.fixture/1", "benchmark": "b", "model": "tiny", "quantization": "q8_0", "source": "s", "queries": [], "eval": \#(try JSON.encode(EvalRun(perwattVersion: "t", settings: .init(endpoint: "http://x/v1", api: .chat, model: "m", seed: 0, maxTokens: 1, stream: true, timeoutSeconds: 1), querySet: .init(name: "q", sha256: "0", count: 1, about: "a"), energy: .init(), tokenCounts: "t", startedAt: "now", durationSeconds: 0, complete: false, failed: [], fingerprint: .test)))}"#
            .write(toFile: empty, atomically: true, encoding: .utf8)
        let unscored = CLIHarness.run([
            "run", "--model", model, "--quantization", "q8_0", "--fixture", empty, "--energy", "none",
            "--min-time", "0.01", "--repetitions", "3", "--out", out,
        ])
        #expect(unscored.status == .success, "\(unscored.stderr)")
        #expect(
            try RunResult.load(out).scores.isEmpty
                && unscored.stdout.contains("scored nothing: it has no graded query yet"))
    }

    @Test func badInputIsAClearError() throws {
        #expect(
            CLIHarness.run(["eval", "--model", "m", "--queries", "builtin:units"]).stderr.contains(
                "--endpoint URL is required"))
        let notURL = CLIHarness.run([
            "eval", "--endpoint", "localhost:8080", "--model", "m", "--queries", "builtin:units", "--energy", "none",
        ])
        #expect(notURL.status == .dataError && notURL.stderr.contains("is not an http URL"))
        let https = CLIHarness.run([
            "eval", "--endpoint", "https://api.example.com/v1", "--model", "m", "--queries", "builtin:units",
            "--energy", "none",
        ])
        #expect(https.status == .dataError && https.stderr.contains("https is not supported"))
        // Nothing listening: every attempt is refused, the run stops after 3 queries, and says how to go on.
        let refused = CLIHarness.run([
            "eval", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m", "--queries", "builtin:units", "--energy",
            "none",
            "--retries", "0", "--out", RunCommandTests.temporary("refused.json"),
        ])
        #expect(
            refused.status == .unavailable
                && refused.stderr.contains("connection refused by 127.0.0.1:9 (is the server running"))
        let unknownSet = CLIHarness.run([
            "eval", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m", "--queries", "builtin:trivia", "--energy",
            "none",
        ])
        #expect(
            unknownSet.status == .dataError
                && unknownSet.stderr.contains("builtin:arithmetic, builtin:units, builtin:knowledge"))
        let quant = CLIHarness.run([
            "eval", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m", "--queries", "builtin:units",
            "--quantization", "q3",
        ])
        #expect(quant.status == .usage)
        #expect(CLIHarness.run(["eval", "--list"]).stdout.contains("builtin:knowledge"))
        let jsonl = CLIHarness.run(["eval", "--list", "--json", "--queries", "builtin:units"]).stdout
        #expect(try QuerySet.parse(jsonl, file: "x").sha256 == BuiltinQuerySets.units.sha256)
    }
}
