import Foundation
import KernelBench
import PowerProbe

/// One `perwatt.result/2` run: machine limits, idle baseline, every kernel verified then measured
/// (once, shared by the workloads that use it), each workload projected from its measured kernels,
/// joined with the fixtures of its model and quantization into scores. The result is saved after
/// every workload, so an interrupted run keeps what finished.
package struct RunSession {
    /// What to measure and how; everything the command line decided.
    package struct Settings {
        package var suite: Suite
        package var workloads: [Workload]
        /// Kernels the suite names directly (measured before the workloads).
        package var suiteKernels: [KernelCase]
        package var fixtures: [LoadedFixture]
        /// Fixture files the user gave: one that scores nothing gets a warning saying why.
        package var givenFixturePaths: [String]
        package var threads: Int
        package var fingerprint: Fingerprint
        /// Measures the f32 FMA peak (FLOP/s) and triad bandwidth (B/s) for (threads, seconds, repetitions).
        package var machineLimits: (Int, Double, Int) -> (peak: Double, bandwidth: Double)
        /// Warnings found before the run (e.g. memory not checked), kept in the result.
        package var warnings: [String]

        package init(
            suite: Suite, workloads: [Workload], suiteKernels: [KernelCase], fixtures: [LoadedFixture],
            givenFixturePaths: [String],
            threads: Int, fingerprint: Fingerprint,
            machineLimits: @escaping (Int, Double, Int) -> (peak: Double, bandwidth: Double),
            warnings: [String]
        ) {
            self.suite = suite
            self.workloads = workloads
            self.suiteKernels = suiteKernels
            self.fixtures = fixtures
            self.givenFixturePaths = givenFixturePaths
            self.threads = threads
            self.fingerprint = fingerprint
            self.machineLimits = machineLimits
            self.warnings = warnings
        }
    }

    /// What the run produced.
    package struct Outcome {
        package var result: RunResult
        /// Kernels that failed verification: never timed, their workloads not scored.
        package var failedKernels: Set<String>
    }

    package let settings: Settings
    /// The energy meter (not yet started), or nil with `noneReason`.
    package let meter: EnergyMeter?
    package let noneReason: String?

    package init(_ settings: Settings, meter: EnergyMeter?, noneReason: String?) {
        self.settings = settings
        self.meter = meter
        self.noneReason = noneReason
    }

    /// Runs the session. `progress` gets one line per step; `save` gets the result after every workload
    /// and at the end (a failure to save ends the run with that error); `interrupted` is polled between
    /// windows.
    package func run(
        started: Date, progress: (String) -> Void, save: (RunResult) throws -> Void,
        interrupted: @escaping () -> Bool
    ) throws -> Outcome {
        let suite = settings.suite
        let clockStart = POSIX.monotonicSeconds()
        meter?.start()
        defer { meter?.stop() }
        OpenBLAS.setThreads(settings.threads)
        var warnings = settings.warnings
        var result = RunResult.begin(
            suite: suite, threads: settings.threads, started: started, fingerprint: settings.fingerprint,
            meter: meter, noneReason: noneReason)
        // One window over the whole run: its total and its power trace (for plots), kept current.
        let runMark = meter?.beginWindow()
        func checkpoint() throws {
            result.durationSeconds = POSIX.monotonicSeconds() - clockStart
            if let runMark, let window = meter?.endWindow(runMark) {
                result.energy.runJoules = window.basisJoules
                result.energy.runAverageWatts = window.averageWatts
                result.energy.trace = window.trace
            }
            result.warnings = warnings
            try save(result)
        }

        if suite.machineLimits {
            progress("measuring machine limits…")
            let (peak, triad) = settings.machineLimits(
                settings.threads, min(suite.minTimeSeconds, 0.5), min(suite.repetitions, 5))
            result.machineLimits = .init(peakF32FlopsPerSecond: peak, triadBytesPerSecond: triad)
        }
        var idleWatts: Double?
        if let meter, suite.idleSeconds > 0, !interrupted() {
            progress("measuring idle power for \(formatNumber(suite.idleSeconds)) s (keep the machine quiet)…")
            if let idle = IdleBaseline.measure(with: meter, seconds: suite.idleSeconds) {
                idleWatts = idle.medianWatts
                result.energy.idle = .init(
                    seconds: idle.totalSeconds, medianWatts: idle.medianWatts, windowWatts: idle.windowWatts)
            } else {
                warnings.append(
                    "the idle baseline could not be measured (a basis counter failed): no net-of-idle figures")
            }
        } else if meter == nil && suite.idleSeconds > 0 {
            warnings.append("no idle baseline: there is no energy source")
        }

        // Measure each distinct kernel once; workloads share them.
        var measured: [KernelCase: KernelSamples] = [:]
        var failedKernels = Set<String>()
        func measure(_ kernel: KernelCase) throws {
            guard measured[kernel] == nil, !failedKernels.contains(kernel.name), !interrupted() else { return }
            progress("  \(kernel.name)…")
            let prepared = try KernelCatalog.prepare(kernel, threads: settings.threads)
            let outcome = try KernelMeasurement.run(
                prepared, minTime: suite.minTimeSeconds, repetitions: suite.repetitions, meter: meter,
                interrupted: interrupted)
            var record = KernelResult(kernel, outcome.verification)
            if !outcome.verification.passed {
                failedKernels.insert(kernel.name)
                warnings.append(
                    "\(kernel.name) FAILED verification (\(outcome.verification)): not timed, its workloads not scored")
            } else if !outcome.interrupted {
                record.record(outcome, kernel: kernel, peakFlopsPerSecond: result.machineLimits?.peakF32FlopsPerSecond)
                record.windows = outcome.windows
                if let reason = record.energyUnavailableReason {
                    warnings.append("\(kernel.name): \(reason); its workloads get no energy scores")
                }
                measured[kernel] = KernelSamples(
                    secondsPerCall: outcome.secondsPerCall, joulesPerCall: outcome.joulesPerCall)
            }
            if !outcome.interrupted { result.kernels.append(record) }
        }

        if !settings.suiteKernels.isEmpty { progress("kernels:") }
        for kernel in settings.suiteKernels { try measure(kernel) }
        let memory = settings.fingerprint.memoryBytes.map { Double($0) }
        for workload in settings.workloads {
            if interrupted() { break }
            let spec = workload.model
            progress(
                "\(spec.id) \(workload.precision.rawValue): \(workload.parts.count) kernels, \(spec.layers) layers")
            for part in workload.parts { try measure(part.kernel) }
            if interrupted() { break }
            var record = RunResult.WorkloadRecord(workload, memoryBytes: memory)
            let time = WorkloadCost.project(workload) { measured[$0].map { Statistics.median($0.secondsPerCall) } }
            let joules = WorkloadCost.project(workload) { measured[$0]?.joulesPerCall.map(Statistics.median) }
            record.prefillSeconds = time?.prefill
            record.decodeSecondsPerToken = time?.decode
            record.prefillJoules = joules?.prefill
            record.decodeJoulesPerToken = joules?.decode
            if time == nil {
                record.notMeasuredReason =
                    "a kernel failed verification: "
                    + workload.parts.map(\.kernel.name).filter(failedKernels.contains).joined(separator: ", ")
            }
            result.workloads.append(record)
            // A fixture with no graded query (an eval that has not answered yet) has no accuracy to score.
            let matching = settings.fixtures.filter {
                $0.fixture.model == spec.id && $0.fixture.precision == workload.precision && $0.fixture.counts.n > 0
            }
            if matching.isEmpty {
                warnings.append(
                    "\(spec.id) \(workload.precision.rawValue): no fixture, so no accuracy scores (time and energy per token are in workloads)"
                )
            }
            if time != nil {
                for fixture in matching {
                    if let score = Scoring.score(
                        workload: workload, samples: measured, fixture: fixture, idleWatts: idleWatts,
                        energyBasis: meter?.plan.basis, energyReason: noneReason)
                    {
                        result.scores.append(score)
                    }
                }
            }
            for fixture in matching where !result.fixtures.contains(where: { $0.origin == fixture.origin }) {
                result.fixtures.append(RunResult.FixtureRecord(fixture))
            }
            try checkpoint()
        }
        // A fixture the user gave that scored nothing is said, not silently dropped.
        for path in settings.givenFixturePaths where !result.fixtures.contains(where: { $0.origin == path }) {
            guard let loaded = settings.fixtures.first(where: { $0.origin == path }) else { continue }
            let f = loaded.fixture
            let why =
                f.counts.n == 0
                ? "it has no graded query yet"
                : f.precision == nil
                    ? "perwatt has no kernels for \(f.quantization)"
                    : "this run has no workload \(f.model) at \(f.quantization) (add --model \(f.model))"
            warnings.append("fixture \(path) (\(f.model), \(f.quantization), \(f.benchmark)) scored nothing: \(why)")
        }
        result.complete = !interrupted()
        result.incompleteReason =
            result.complete
            ? nil : "interrupted (Ctrl-C): \(result.workloads.count) of \(settings.workloads.count) workloads finished"
        try checkpoint()
        return Outcome(result: result, failedKernels: failedKernels)
    }
}
