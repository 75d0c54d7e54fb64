import Foundation
import KernelBench
import PerWattCore
import PowerProbe

/// `perwatt run`: measure a suite's workloads, join them with accuracy fixtures, and score
/// accuracy per joule and per watt.
enum RunCommand: Command {
    static let name = "run"
    static let summary = "measure model workloads and score accuracy per joule and per watt (the main job)"

    /// Every option of the command, declared once: the parser and the help come from here.
    struct Options: OptionGroup {
        let suite = Option<String>.text(
            "--suite", "NAME|FILE", help: "workstation (default), quick, quantization, or a perwatt.suite/1 file")
        let model = Option<String>.text(
            "--model", "ID[,…]",
            help: "measure these models (ids from perwatt models, or spec/config.json paths) instead of the suite's")
        let quantization = Option<String>.text(
            "--quantization", "LIST", help: "only these quantizations (with --model: these for each model)")
        let fixture = Option<String>.text(
            "--fixture", "FILE[,…]", help: "accuracy fixtures (perwatt.fixture/1) beside the built-in ones")
        let promptTokens = Option<Int>.int(
            "--prompt-tokens", "N", in: Suite.Limits.promptTokens,
            help: "prompt tokens per query where a fixture gives none (default: the suite's)")
        let outputTokens = Option<Int>.int(
            "--output-tokens", "N", in: Suite.Limits.outputTokens,
            help: "output tokens per query where a fixture gives none (default: the suite's)")
        let idle = Option<Double>.number(
            "--idle", "S", in: Suite.Limits.idleSeconds, unit: "seconds",
            help: "idle baseline seconds before the workloads (default: the suite's; 0 skips)")
        let minTime = Option<Double>.number(
            "--min-time", "S", in: Suite.Limits.minTimeSeconds, unit: "seconds",
            help: "each window repeats a kernel for at least S seconds (default: the suite's)")
        let repetitions = Option<Int>.int(
            "--repetitions", "N", in: Suite.Limits.repetitions, help: "windows per kernel (default: the suite's)")
        let threads = Option<Int>.int("--threads", "N", in: 1...1024, help: "worker threads (default: all online CPUs)")
        let out = Option<String>.text(
            "--out", "FILE", help: "result file (default perwatt-results/<suite>-<UTC time>.json)")
        let json = Flag("--json", help: "print the perwatt.result/2 object instead of the table")
        let reference = Option<String>.text(
            "--reference", "FILE", help: "also print each score as a ratio to this result of the same suite")
        let quiet = Flag("--quiet", help: "no progress on stderr")
        let force = Flag("--force", help: "run even when a kernel is estimated to need more memory than is available")
        let dryRun = Flag(
            "--dry-run",
            help: "check the suite, models, fixtures and memory, print what would be measured, measure nothing")
        let color = ColorOption.declaration
        let listSuites = Flag(
            "--list-suites", help: "print the built-in suites (with --json, their perwatt.suite/1 definitions) and exit"
        )
        let helpFlag = Flag("--help", help: "show this help")
        let energy = EnergyOptionGroup()
    }

    static let o = Options()
    static var specs: [OptionSpec] { Options.specs }

    static let help = """
        Usage: perwatt run [--suite NAME|FILE] [--model ID,…] [--quantization LIST] [--fixture FILE,…] [--energy SOURCE]
                           [--idle S] [--min-time S] [--repetitions N] [--threads N] [--out FILE] [--json]
                           [--reference FILE] [--quiet] [--color auto|always|never]

        For each workload (model × quantization) of the suite: builds one real-shaped layer at that
        precision with random weights, verifies each kernel against its reference, measures prefill and
        one decode step kernel by kernel (time, and energy when a source exists), and projects the whole
        model from the measured layer × its layer count plus the LM head (labelled projected). Then joins
        each workload with the accuracy fixtures of that model and quantization (built-in ones cite their
        source) into scores: accuracy (Wilson 95%), J and W per query (gross, and net of idle), IPJ =
        accuracy / mean J per query, IPW = accuracy / mean W per query, tokens/s, tokens/J, GFLOP/J, with
        bootstrap 95% intervals over repetitions and queries. Without an energy source, the time figures
        still come out and the energy ones are absent, with the reason.

        The result (perwatt.result/2) is written atomically, after every workload; Ctrl-C stops the run,
        keeps what finished (marked incomplete) and exits 130.

        Options:
        \(Help.options(specs))

        Exit codes: 0 success; 3 a kernel failed verification (its workloads are not scored); 64 usage
        error; 65 invalid fixture, suite, model or reference file; 66 a file cannot be read; 69/77 energy
        source problems; 71 a kernel would need more memory than is available (--force tries anyway);
        74 the result cannot be written; 130 interrupted.

        """

    static func run(_ arguments: [String], context: CLIContext) throws -> ExitCode {
        guard
            let (options, energy) = try parseCommand(
                arguments, specs: specs, command: "run", help: help,
                stopAtPositional: false, context: context)
        else { return .success }
        if options.has(o.listSuites) {
            if options.has(o.json) {
                context.stdout.line(try JSON.encode(Suite.builtins))
            } else {
                for suite in Suite.builtins {
                    context.stdout.line(
                        "\(suite.name.padding(toLength: 13, withPad: " ", startingAt: 0)) \(suite.description)")
                    context.stdout.line(
                        String(repeating: " ", count: 14)
                            + suite.workloads.map { "\($0.model) \($0.quantization)" }.joined(separator: ", "))
                }
            }
            return .success
        }
        let started = Date()
        // Models resolved once each (a resolve reads the saved specs), for the suite's check and the workloads.
        var models: [String: ModelSpec] = [:]
        func model(_ id: String) throws -> ModelSpec {
            if let known = models[id] { return known }
            guard let spec = try ModelRegistry.resolve(id, environment: context.environment) else {
                let ids = ModelRegistry.all(context.environment).map(\.id)
                throw UsageError(
                    message:
                        "unknown model '\(shown(id))'; known: \(ids.joined(separator: ", ")) (or give a spec or config.json path)",
                    command: "run")
            }
            // Also under its own id: the suite's entries name models by id, never by path, so a
            // suite (and its hash) does not depend on where a spec file lies.
            models[id] = spec
            models[spec.id] = spec
            return spec
        }
        var suite = try Suite.resolve(options.value(o.suite) ?? "workstation") { (try? model($0)) != nil }
        let threads = try options.value(o.threads) ?? ProcessInfo.processInfo.activeProcessorCount
        suite.minTimeSeconds = try options.value(o.minTime) ?? suite.minTimeSeconds
        suite.repetitions = try options.value(o.repetitions) ?? suite.repetitions
        suite.idleSeconds = try options.value(o.idle) ?? suite.idleSeconds
        suite.promptTokens = try options.value(o.promptTokens) ?? suite.promptTokens
        suite.outputTokens = try options.value(o.outputTokens) ?? suite.outputTokens

        // Fixtures: built-in, then files.
        var fixtures = try BuiltinFixtures.all()
        for path in options.list(o.fixture) { fixtures.append(try LoadedFixture.load(path)) }

        // Workloads: the suite's, or --model × (--quantization, or each model's fixture quantizations).
        var quantizations: [Precision]?
        if options.value(o.quantization) != nil {
            quantizations = try options.list(o.quantization).map { text in
                guard let precision = Precision(rawValue: text) else {
                    throw UsageError(
                        message:
                            "--quantization takes a list of \(Precision.allCases.map(\.rawValue).joined(separator: ", ")); '\(shown(text))' is not one",
                        command: "run")
                }
                return precision
            }
        }
        let requested = options.list(o.model)
        if !requested.isEmpty {
            var entries: [Suite.Entry] = []
            for id in requested {
                let spec = try model(id)
                let own = fixtures.filter { $0.fixture.model == spec.id }.compactMap(\.fixture.precision)
                let chosen = quantizations ?? Precision.allCases.filter(own.contains)
                guard !chosen.isEmpty else {
                    let unmeasurable = Set(
                        fixtures.filter { $0.fixture.model == spec.id && $0.fixture.precision == nil }.map(
                            \.fixture.quantization))
                    if !unmeasurable.isEmpty {
                        throw UsageError(
                            message:
                                "the fixtures for model '\(shown(spec.id))' are at \(unmeasurable.sorted().joined(separator: ", ")), which perwatt has no kernels for; measure a related precision with --quantization (e.g. q4_0), with a fixture tagged so (perwatt eval --quantization q4_0 --scheme \"GGUF Q4_1\")",
                            command: "run")
                    }
                    throw UsageError(
                        message:
                            "no fixture names model '\(shown(spec.id))'; give --quantization to measure it without accuracy, or --fixture",
                        command: "run")
                }
                entries += chosen.map { Suite.Entry(model: spec.id, quantization: $0.rawValue) }
            }
            suite.workloads = entries
            suite.kernels = []
            suite.name += "+models"
        } else if let quantizations {
            suite.workloads = suite.workloads.filter { quantizations.map(\.rawValue).contains($0.quantization) }
        }
        guard !suite.workloads.isEmpty else {
            throw UsageError(message: "no workload left to measure (check --quantization)", command: "run")
        }
        var workloads: [Workload] = []
        for entry in suite.workloads {
            let spec = try model(entry.model)
            guard let precision = Precision(rawValue: entry.quantization) else {
                throw UsageError(
                    message: "unknown quantization '\(shown(entry.quantization))' in suite \(suite.name)",
                    command: "run")
            }
            workloads.append(
                try Workload(
                    model: spec, precision: precision, promptTokens: suite.promptTokens,
                    outputTokens: suite.outputTokens))
        }
        let catalog = KernelCatalog.standard()
        let suiteKernels = try suite.kernels.map { name in
            guard let kernel = catalog.first(where: { $0.name == name }) else {
                throw UsageError(
                    message:
                        "suite \(suite.name) names kernel '\(shown(name))', which perwatt kernels --list does not have",
                    command: "run")
            }
            return kernel
        }
        let color = try ColorOption.enabled(options, context: context, command: "run", toFile: false)
        let reference = try options.value(o.reference).map(RunResult.load)
        if let reference, reference.suite.sha256 != suite.sha256 {
            throw InputError(
                file: options.value(o.reference)!, field: "suite.sha256",
                message:
                    "is \(reference.suite.sha256.prefix(12)) (suite \(reference.suite.name)), but this run's suite \(suite.name) is \(suite.sha256.prefix(12)): results of different suites are not compared; run the same suite"
            )
        }

        // Sizes next: refuse, with the figures, a kernel that would not fit in the memory available.
        let memoryWarning = try MemoryCheck.check(
            suiteKernels + workloads.flatMap { $0.parts.map(\.kernel) }, threads: threads,
            force: options.has(o.force), availableBytes: context.availableMemoryBytes())

        // Energy first, so a permission problem stops us before minutes of measurement.
        let (meter, noneReason) = try energy.makeMeter(context: context)
        if options.has(o.dryRun) {
            let kernels = Set(suiteKernels + workloads.flatMap { $0.parts.map(\.kernel) })
            let largest = kernels.map { $0.estimatedPeakBytes(threads: threads) }.max() ?? 0
            context.stdout.line(
                "suite \(suite.name) (sha256 \(suite.sha256.prefix(12))): \(workloads.count) workloads, \(kernels.count) distinct kernels, "
                    + "largest needs about \(bytesText(UInt64(largest))); nothing measured (--dry-run)")
            for workload in workloads {
                context.stdout.line(
                    "  \(workload.model.id) \(workload.precision.rawValue): \(workload.parts.count) kernels × \(workload.model.layers) layers"
                )
            }
            if let meter {
                context.stdout.line(
                    "energy: \(meter.plan.basis) (source \(meter.plan.source)), \(meter.plan.channels.count) channels read"
                )
            } else {
                context.stdout.line("energy: none (\(noneReason ?? "--energy none"))")
            }
            if let memoryWarning { context.stderr.line("perwatt run: warning: \(memoryWarning)") }
            return .success
        }

        let out = options.value(o.out) ?? ResultFiles.defaultPath(name: suite.name, started: started)
        if out.isEmpty { throw UsageError(message: "--out needs a file name", command: "run") }
        let progress = !options.has(o.quiet) && context.stderr.isTerminal
        let settings = RunSession.Settings(
            suite: suite, workloads: workloads, suiteKernels: suiteKernels, fixtures: fixtures,
            givenFixturePaths: options.list(o.fixture),
            threads: threads, fingerprint: context.fingerprint(), machineLimits: context.machineLimits,
            warnings: memoryWarning.map { [$0] } ?? [])
        let restoreInterrupt = POSIX.catchInterrupt()
        defer { restoreInterrupt() }
        let outcome = try RunSession(settings, meter: meter, noneReason: noneReason).run(
            started: started, progress: { if progress { context.stderr.line($0) } },
            save: { try JSON.write($0, to: out) },
            interrupted: { POSIX.interrupted.load(ordering: .relaxed) })
        let result = outcome.result

        if options.has(o.json) {
            context.stdout.line(try JSON.encode(result))
        } else {
            let report = RunReport.render(result, reference: reference)
            context.stdout.write(color ? Color.paint(report) : report)
            context.stdout.line("result: \(out)")
        }
        if !result.complete { return .interrupted }
        return outcome.failedKernels.isEmpty ? .success : .verificationFailed
    }
}
