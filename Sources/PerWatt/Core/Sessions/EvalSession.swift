import Foundation
import KernelBench
import PowerProbe
import Synchronization

/// One `perwatt eval` session: the idle baseline, then every query not yet graded asked in turn, each
/// charged the energy inside its own request window and graded; the fixture is saved after every
/// query, so an interrupted session keeps what finished and a resumed one asks only the rest.
package struct EvalSession {
    package struct Settings {
        package var querySet: QuerySet
        package var client: CompletionClient
        /// Further attempts after a retryable failure.
        package var retries: Int
        /// The answer token limit given for this session (else the query's, else the client's).
        package var maxTokens: Int?
        package var idleSeconds: Double
        /// The fixture of the session being resumed: its graded queries are kept.
        package var previous: Fixture?
        /// What the fixture names: the perwatt model id, the quantization, and what was served.
        package var fixtureModel: String
        package var quantization: String
        package var scheme: String?
        package var fingerprint: Fingerprint

        package init(
            querySet: QuerySet, client: CompletionClient, retries: Int, maxTokens: Int?, idleSeconds: Double,
            previous: Fixture?,
            fixtureModel: String, quantization: String, scheme: String?, fingerprint: Fingerprint
        ) {
            self.querySet = querySet
            self.client = client
            self.retries = retries
            self.maxTokens = maxTokens
            self.idleSeconds = idleSeconds
            self.previous = previous
            self.fixtureModel = fixtureModel
            self.quantization = quantization
            self.scheme = scheme
            self.fingerprint = fingerprint
        }
    }

    /// What happened, for progress lines.
    package enum Event {
        case idle(seconds: Double)
        case resuming(graded: Int, toAsk: Int)
        case answered(index: Int, of: Int, Fixture.Query)
        case failed(id: String, EvalRun.Failure)
    }

    package struct Outcome {
        package var fixture: Fixture
        /// Three queries in a row could not reach the server: the session stopped.
        package var serverGone: Bool
    }

    package let settings: Settings
    package let meter: EnergyMeter?
    package let noneReason: String?

    package init(_ settings: Settings, meter: EnergyMeter?, noneReason: String?) {
        self.settings = settings
        self.meter = meter
        self.noneReason = noneReason
    }

    /// Runs the session; `save` gets the fixture after every query (a failure to save ends the session
    /// with that error); `interrupted` is polled between and during queries.
    package func run(
        started: Date, progress: (Event) -> Void, save: (Fixture) throws -> Void,
        interrupted: @escaping () -> Bool
    ) throws -> Outcome {
        let set = settings.querySet
        let completion = settings.client.settings
        let previous = settings.previous
        meter?.start()
        defer { _ = meter?.stop() }

        // Idle power: measured anew (the machine may differ from the first session), else kept from the run resumed.
        var energyInfo = EvalRun.Energy(
            basis: meter?.plan.basis, source: meter?.plan.source, measurement: meter?.plan.measurement,
            unavailableReason: noneReason)
        if let meter, settings.idleSeconds > 0 {
            progress(.idle(seconds: settings.idleSeconds))
            if let idle = IdleBaseline.measure(with: meter, seconds: settings.idleSeconds) {
                energyInfo.idleWatts = idle.medianWatts
                energyInfo.idleSeconds = idle.totalSeconds
            }
        } else if meter != nil, let kept = previous?.eval?.energy {
            energyInfo.idleWatts = kept.idleWatts
            energyInfo.idleSeconds = kept.idleSeconds
        }

        var fixture = Fixture(
            benchmark: set.benchmark, model: settings.fixtureModel, quantization: settings.quantization,
            scheme: settings.scheme,
            source:
                "perwatt eval of \(completion.model) at \(completion.endpoint), \(set.name) (sha256 \(set.sha256.prefix(12))), temperature 0, seed \(completion.seed), max \(completion.maxTokens) tokens"
        )
        var graded = Dictionary((previous?.queries ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var failures: [String: EvalRun.Failure] = [:]
        var run = EvalRun(
            perwattVersion: PerWattRelease.version, settings: completion,
            querySet: .init(name: set.name, sha256: set.sha256, count: set.queries.count, about: set.about),
            energy: energyInfo, tokenCounts: "from the server's usage",
            startedAt: previous?.eval?.startedAt ?? ResultFiles.iso8601(started),
            durationSeconds: previous?.eval?.durationSeconds ?? 0, complete: false, incompleteReason: nil, failed: [],
            fingerprint: settings.fingerprint)
        let clockStart = POSIX.monotonicSeconds()
        let baseDuration = run.durationSeconds
        func checkpoint() throws {
            fixture.queries = set.queries.compactMap { graded[$0.id] }
            run.failed = set.queries.compactMap { failures[$0.id] }
            run.durationSeconds = baseDuration + POSIX.monotonicSeconds() - clockStart
            let done = fixture.queries?.count ?? 0
            run.complete = done == set.queries.count
            run.incompleteReason =
                run.complete
                ? nil
                : "\(done) of \(set.queries.count) queries graded, \(run.failed.count) failed"
                    + (interrupted() ? "; interrupted (Ctrl-C)" : "")
            // Over every graded query, this session's and those resumed.
            let missingUsage = (fixture.queries ?? []).filter { $0.promptTokens == nil || $0.outputTokens == nil }.count
            run.tokenCounts =
                missingUsage == 0
                ? "from the server's usage" : "absent for \(missingUsage) queries: the server gave no usage"
            fixture.eval = run
            try save(fixture)
        }
        try checkpoint()

        let todo = set.queries.filter { graded[$0.id] == nil }
        if previous != nil { progress(.resuming(graded: graded.count, toAsk: todo.count)) }
        var consecutiveUnreachable = 0
        var serverGone = false
        for (index, query) in todo.enumerated() {
            if interrupted() { break }
            let answer = Self.ask(
                query, client: settings.client, meter: meter, idleWatts: energyInfo.idleWatts,
                retries: settings.retries,
                maxTokens: settings.maxTokens ?? query.maxTokens ?? completion.maxTokens, stop: interrupted)
            switch answer {
            case .answered(let record):
                graded[query.id] = record
                failures[query.id] = nil
                consecutiveUnreachable = 0
                progress(.answered(index: index, of: todo.count, record))
            case .failed(let failure, let unreachable):
                failures[query.id] = failure
                consecutiveUnreachable = unreachable ? consecutiveUnreachable + 1 : 0
                progress(.failed(id: query.id, failure))
            }
            try checkpoint()
            if consecutiveUnreachable >= 3 {
                serverGone = true
                break
            }
        }
        try checkpoint()
        return Outcome(fixture: fixture, serverGone: serverGone)
    }

    package enum Answer {
        case answered(Fixture.Query)
        /// `unreachable`: the last attempt could not connect or timed out (the server may be gone).
        case failed(EvalRun.Failure, unreachable: Bool)
    }

    /// Asks one query, retrying up to `retries` times with a growing pause, and grades the answer.
    /// The energy charged is that of the attempt that answered, from the request to its last byte.
    package static func ask(
        _ query: QuerySet.Query, client: CompletionClient, meter: EnergyMeter?, idleWatts: Double?, retries: Int,
        maxTokens: Int, stop: () -> Bool
    ) -> Answer {
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
                var record = Fixture.Query(
                    id: query.id, correct: false, promptTokens: response.promptTokens,
                    outputTokens: response.completionTokens)
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
                    var energy = EnergyRecord(window, channels: .none)
                    if let idleWatts { energy.applyIdle(medianWatts: idleWatts) }
                    energy.prefillJoules = prefill.withLock { $0 }?.basisJoules
                    energy.decodeJoules = energy.prefillJoules.map { max(0, joules - $0) }
                    record.energy = energy
                }
                return .answered(record)
            case .failure(let failure):
                let unreachable: Bool
                switch failure {
                case .connection, .timeout: unreachable = true
                default: unreachable = false
                }
                if !failure.retryable || attempt > retries || stop() {
                    return .failed(
                        .init(id: query.id, error: failure.description, attempts: attempt), unreachable: unreachable)
                }
                // 0.5 s, 1 s, 2 s, … capped at 8 s: a restarting server gets time to come back.
                _ = POSIX.sleep(seconds: min(8, 0.5 * Double(1 << min(attempt - 1, 4))))
            }
        }
    }

    /// Grades the recorded answers again with the recorded graders (no server, no energy).

    /// Grades a fixture's recorded answers again (no server): the fixture with its verdicts updated
    /// and `regradedAt` set, and one line per verdict that changed.
    package static func regrade(_ fixture: Fixture, file: String, at date: Date) throws -> (Fixture, changed: [String])
    {
        var fixture = fixture
        guard var run = fixture.eval, var queries = fixture.queries else {
            throw InputError(
                file: file, field: "eval",
                message: "is missing: only a fixture written by perwatt eval keeps the answers to grade again")
        }
        var changed: [String] = []
        for index in queries.indices {
            guard let answer = queries[index].answer, let expected = queries[index].expected,
                let grader = queries[index].grader
            else { continue }
            let verdict = grader.grade(answer, expected: expected)
            if verdict.correct != queries[index].correct {
                let before = queries[index].correct ? "correct" : "wrong"
                let after = verdict.correct ? "correct" : "wrong"
                changed.append("\(queries[index].id): \(before) → \(after)")
            }
            queries[index].correct = verdict.correct
            queries[index].extracted = verdict.extracted
        }
        fixture.queries = queries
        run.regradedAt = ResultFiles.iso8601(date)
        fixture.eval = run
        return (fixture, changed)
    }
}
