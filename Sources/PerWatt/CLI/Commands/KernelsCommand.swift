import Foundation
import KernelBench
import PerWattCore
import PowerProbe

/// `perwatt kernels`: list, verify and measure the kernels, with energy when a source exists.
enum KernelsCommand: Command {
    static let name = "kernels"
    static let summary = "verify and measure the GEMM/GEMV and attention kernels (with energy when available)"

    /// Every option of the command, declared once: the parser and the help come from here.
    struct Options: OptionGroup {
        let list = Flag("--list", help: "list the kernel cases and exit")
        let verifyOnly = Flag(
            "--verify-only", help: "check every variant against its reference on odd sizes; exit 3 on any mismatch")
        let filter = Option<String>.text("--filter", "TEXT", help: "only cases whose name contains TEXT")
        let shape = Option<String>.text(
            "--shape", "MxNxK[,…]",
            help: "measure these shapes (M activation rows, N×K weights) instead of the standard set")
        let attention = Option<String>.text(
            "--attention", "TxLxHxKVxD[,…]",
            help:
                "measure these causal f32 attention shapes (T queries, L keys, H heads, KV heads, head dim) instead of the standard set"
        )
        let precision = Option<String>.text("--precision", "LIST", help: "only these precisions, e.g. f32,q4_0")
        let threads = Option<Int>.int("--threads", "N", in: 1...1024, help: "worker threads (default: all online CPUs)")
        let minTime = Option<Double>.number(
            "--min-time", "S", in: 0.001...600, unit: "seconds",
            help: "each measured window repeats the kernel for at least S seconds (default 1)")
        let repetitions = Option<Int>.int(
            "--repetitions", "N", in: 1...1000, help: "measured windows per case (default 5)")
        let json = Flag("--json", help: "print one perwatt.kernels/1 object")
        let force = Flag("--force", help: "measure even a case estimated to need more memory than is available")
        let helpFlag = Flag("--help", help: "show this help")
        let energy = EnergyOptionGroup()
    }

    static let o = Options()
    static var specs: [OptionSpec] { Options.specs }

    static let help = """
        Usage: perwatt kernels [--list] [--verify-only] [--filter TEXT] [--precision LIST] [--shape MxNxK,…] [--attention TxLxHxKVxD,…]
                               [--threads N]
                               [--min-time S] [--repetitions N] [--json] [--energy SOURCE]

        Verifies each kernel against its reference (a kernel that fails is reported and never timed),
        then measures it: median time per call with its range over the windows, GFLOP/s, GB/s (fewest
        bytes: weights, activations and output once; for attention Q, K, V and output once), % of this
        machine's measured f32 FMA peak, and, when an energy source exists, energy per call, J/GFLOP and
        average power of the basis. The cases are GEMM/GEMV at every precision beside OpenBLAS, and f32
        attention (causal prefill, and GQA decode against a KV cache); attention FLOPs count only the
        attended (causal) pairs.
        The machine's limits (f32 FMA peak, STREAM-like triad bandwidth) are measured first.

        Options:
        \(Help.options(specs))

        Exit codes: 0 success; 3 a kernel failed verification; 64 usage error; 69/77 energy source problems;
        71 a case would need more memory than is available (--force tries anyway).

        """

    static func run(_ arguments: [String], context: CLIContext) throws -> ExitCode {
        guard
            let (options, energy) = try parseCommand(
                arguments, specs: specs, command: "kernels", help: help,
                stopAtPositional: false, context: context)
        else { return .success }
        let threads = try options.value(o.threads) ?? ProcessInfo.processInfo.activeProcessorCount
        let minTime = try options.value(o.minTime) ?? 1
        let repetitions = try options.value(o.repetitions) ?? 5
        var precisions = Set(Precision.allCases)
        if let list = options.value(o.precision) {
            precisions = []
            for part in list.split(separator: ",", omittingEmptySubsequences: false) {
                guard let precision = Precision(rawValue: String(part)) else {
                    throw UsageError(
                        message:
                            "--precision takes a comma-separated list of \(Precision.allCases.map(\.rawValue).joined(separator: ", ")); '\(shown(part))' is not one",
                        command: "kernels")
                }
                precisions.insert(precision)
            }
        }
        let filter = options.value(o.filter)
        let verifyOnly = options.has(o.verifyOnly)
        var catalog = verifyOnly ? KernelCatalog.verification() : KernelCatalog.standard()
        if let text = options.value(o.shape) {
            let shapes = try dimensions(text, option: "--shape", form: "MxNxK", count: 3, example: "e.g. 1x4096x14336")
            catalog = KernelCatalog.shapes(shapes.map { (m: $0.values[0], n: $0.values[1], k: $0.values[2]) })
        }
        if let text = options.value(o.attention) {
            if options.value(o.shape) == nil { catalog = [] }
            let example =
                "e.g. 1x4096x32x8x128 for one decode query against 4096 keys with 32 heads, 8 KV heads and d = 128"
            for (part, v) in try dimensions(text, option: "--attention", form: "TxLxHxKVxD", count: 5, example: example)
            {
                do {
                    catalog.append(
                        KernelCase(
                            attention: try AttentionShape(
                                queries: v[0], keys: v[1], heads: v[2], kvHeads: v[3], headDim: v[4])))
                } catch let error as KernelError {
                    throw UsageError(message: "--attention '\(shown(part))': \(error.description)", command: "kernels")
                }
            }
        }
        let cases =
            catalog
            .filter { precisions.contains($0.precision) && (filter.map($0.name.contains) ?? true) }
        if options.has(o.list) {
            for kernel in cases { context.stdout.line(kernel.name) }
            return .success
        }
        guard !cases.isEmpty else {
            throw UsageError(
                message: "no kernel case matches --filter/--precision (see perwatt kernels --list)", command: "kernels")
        }
        if let warning = try MemoryCheck.check(
            cases, threads: threads, force: options.has(o.force), availableBytes: context.availableMemoryBytes())
        {
            context.stderr.line("perwatt kernels: warning: \(warning)")
        }
        let session = KernelsSession(cases: cases, threads: threads, minTimeSeconds: minTime, repetitions: repetitions)
        if verifyOnly { return try verify(session, json: options.has(o.json), context: context) }

        // Energy first, so a permission problem stops us before minutes of measurement.
        let (meter, noneReason) = try energy.makeMeter(context: context)
        let progress = context.stderr.isTerminal
        let report = try session.run(
            meter: meter, noneReason: noneReason, fingerprint: context.fingerprint(),
            machineLimits: context.machineLimits, progress: { if progress { context.stderr.line($0) } })
        if options.has(o.json) {
            context.stdout.line(try JSON.encode(report))
        } else {
            context.stdout.write(render(report))
        }
        return report.anyFailed ? .verificationFailed : .success
    }

    /// Parses a comma-separated list of `AxBx…` with `count` whole numbers from 1 to 1000000 each.
    static func dimensions(_ text: String, option: String, form: String, count: Int, example: String) throws
        -> [(part: Substring, values: [Int])]
    {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
            let values = part.split(separator: "x", omittingEmptySubsequences: false).compactMap { Int($0) }
            guard values.count == count, part.split(separator: "x", omittingEmptySubsequences: false).count == count,
                values.allSatisfy({ (1...1_000_000).contains($0) })
            else {
                throw UsageError(
                    message:
                        "\(option) takes \(form) with whole numbers from 1 to 1000000, \(example); not '\(shown(part))'",
                    command: "kernels")
            }
            return (part, values)
        }
    }

    static func verify(_ session: KernelsSession, json: Bool, context: CLIContext) throws -> ExitCode {
        let verification = try session.verify()
        if json {
            context.stdout.line(try JSON.encode(verification))
        } else {
            var table = Table(["KERNEL", "MAX ERROR", "RMS ERROR", "OF TOLERANCE", "RESULT"], rightAligned: [1, 2, 3])
            for result in verification.kernels {
                table.add([
                    result.name, String(format: "%.2e", result.maxAbsoluteError),
                    String(format: "%.2e", result.rmsError),
                    String(format: "%.3f", result.worstToleranceRatio), result.verified ? "ok" : "MISMATCH",
                ])
            }
            context.stdout.write(table.render())
            let count = verification.kernels.count
            context.stdout.line(
                verification.failures == 0
                    ? "\nAll \(count) kernels match their references."
                    : "\n\(verification.failures) of \(count) kernels do NOT match their references.")
        }
        return verification.failures == 0 ? .success : .verificationFailed
    }

    static func render(_ report: KernelsReport) -> String {
        var out = String(
            format: "machine limits (measured now, %d threads): f32 FMA peak %.1f GFLOP/s, triad bandwidth %.1f GB/s\n",
            report.threads, (report.peakF32FlopsPerSecond ?? 0) / 1e9, (report.triadBytesPerSecond ?? 0) / 1e9)
        out += "energy: \(report.energyBasis ?? "none (\(report.energyUnavailableReason ?? "no source"))")\n\n"
        var table = Table(
            ["KERNEL", "MEDIAN ms", "RANGE ms", "GFLOP/s", "GB/s", "% PEAK", "J/CALL", "J/GFLOP", "W"],
            rightAligned: [1, 2, 3, 4, 5, 6, 7, 8])
        for result in report.kernels {
            guard result.verified, let median = result.medianSecondsPerCall, let seconds = result.secondsPerCall else {
                table.add([
                    result.name,
                    "FAILED verification (\(String(format: "%.2f", result.worstToleranceRatio))× tolerance): not timed",
                ])
                continue
            }
            let range = "\(fixed((seconds.min() ?? 0) * 1000, 3))–\(fixed((seconds.max() ?? 0) * 1000, 3))"
            table.add([
                result.name, fixed(median * 1000, 3), range, fixed(result.gflopsPerSecond ?? 0, 1),
                fixed(result.gigabytesPerSecond ?? 0, 1),
                fixed(result.percentOfPeak ?? 0, 1),
                result.joulesPerCall.map { String(format: "%.3g", $0) }
                    ?? (result.untrustedWindows != nil ? "UNTRUSTED" : "n/a"),
                result.joulesPerGFLOP.map { String(format: "%.3g", $0) } ?? "n/a",
                result.averageWatts.map { fixed($0, 1) } ?? "n/a",
            ])
        }
        out += table.render()
        for result in report.kernels {
            if let reason = result.energyUnavailableReason { out += "warning: \(result.name): \(reason)\n" }
        }
        return out
    }
}
