import PerWattCore
import PowerProbe

/// `perwatt exec -- COMMAND`: the energy of one whole command, like `perf stat`.
enum ExecCommand: Command {
    static let name = "exec"
    static let summary = "run a command and measure its energy, like perf stat"

    /// Every option of the command, declared once: the parser and the help come from here.
    struct Options: OptionGroup {
        let json = Flag(
            "--json",
            help: "print one JSON object (schema perwatt.exec/2) on stdout; the command's stdout goes to stderr")
        let out = Option<String>.text("--out", "FILE", help: "also write the JSON object to FILE (atomically)")
        let idle = Option<Double>.number(
            "--idle", "SECONDS", in: 0...3600, unit: "seconds",
            help: "measure idle power for this long first and report energy net of it (default 0: skip)")
        let helpFlag = Flag("--help", help: "show this help")
        let energy = EnergyOptionGroup()
    }

    static let o = Options()
    static var specs: [OptionSpec] { Options.specs }

    static let help = """
        Usage: perwatt exec [--json] [--out FILE] [--idle SECONDS] [--energy SOURCE] [--interval MS] -- COMMAND [ARGS...]

        Runs COMMAND without a shell (stdin, stdout and stderr pass through) and measures the energy of
        the whole run from start to exit: duration, energy, average and peak power, per zone and for the
        basis, and net of idle power when --idle is given. The report goes to stderr so the command's own
        output stays clean; --json puts a JSON object on stdout instead. perwatt exits with the command's
        own status. Ctrl-C goes to the command; perwatt reports when it ends.

        Options:
        \(Help.options(specs))

        Exit codes: the command's status (128+N if killed by signal N); 126 not executable; 127 not found;
        64 usage error; 69 energy source asked for is absent or broken; 74 --out not written; 77 counters not
        readable.

        """

    static func run(_ arguments: [String], context: CLIContext) throws -> ExitCode {
        guard
            let (options, energy) = try parseCommand(
                arguments, specs: specs, command: "exec", help: help,
                stopAtPositional: true, context: context)
        else { return .success }
        let idleSeconds = try options.value(o.idle) ?? 0
        let command = options.remainder
        guard !command.isEmpty, !command[0].isEmpty else {
            throw UsageError(
                message: "no command to run; put it after --, e.g. perwatt exec -- sleep 1", command: "exec")
        }
        let json = options.has(o.json)
        let outPath = options.value(o.out)
        if let outPath, outPath.isEmpty { throw UsageError(message: "--out needs a file name", command: "exec") }

        // Resolve the energy plan before starting anything, so a permission problem stops us early.
        let (meter, noneReason) = try energy.makeMeter(context: context)
        if meter == nil && energy.selection == .auto && json {
            // Human mode says it once, in the report; with --json stdout is for JSON, so say it here.
            context.stderr.line("perwatt exec: energy: none: \(noneReason ?? "no source"). Measuring time only.")
        }
        if meter == nil && idleSeconds > 0 {
            context.stderr.line("perwatt exec: --idle ignored: there is no energy source to measure idle power with.")
        }
        let session = ExecSession(
            command: command, stdoutToStderr: json, idleSeconds: idleSeconds,
            requestedIntervalSeconds: energy.intervalSeconds)
        let report: ExecReport
        switch session.run(
            meter: meter, noneReason: noneReason, fingerprint: context.fingerprint(),
            notice: { context.stderr.line("perwatt exec: \($0)") })
        {
        case .success(let finished): report = finished
        case .failure(.notFound(let name)):
            context.stderr.line(
                "perwatt exec: \(name): command not found (searched PATH). Give the full path or check the spelling.")
            return .commandNotFound
        case .failure(.notExecutable(let name, let code)):
            context.stderr.line(
                "perwatt exec: \(name): cannot execute (\(POSIX.describe(code))). Check that it is a program with execute permission."
            )
            return .cannotExecute
        case .failure(.failed(let name, let code)):
            context.stderr.line("perwatt exec: \(name): could not start (\(POSIX.describe(code))).")
            return .cannotExecute
        }
        let status = ExitCode(report.exitStatus)
        let encoded = try JSON.encode(report)
        if let outPath {
            do { try OutputFile.write(encoded + "\n", to: outPath) } catch {
                context.stderr.line("perwatt exec: \(error)")
                if !json { context.stderr.write(render(report)) }
                return .ioError
            }
        }
        if json {
            context.stdout.line(encoded)
        } else {
            context.stderr.write(render(report))
        }
        return status
    }

    /// The human report, written to stderr.
    static func render(_ report: ExecReport) -> String {
        var out = "\n perwatt exec: \(report.command.joined(separator: " "))\n\n"
        var lines: [(String, String)] = []
        let exit =
            report.terminatedBySignal.map { "killed by signal \($0) (status \(report.exitStatus))" }
            ?? "\(report.exitStatus)"
        lines.append(("exit status", exit))
        lines.append(("duration", "\(fixed(report.durationSeconds, 3)) s"))
        if let energy = report.energy {
            let method = energy.measurement == "integrated-power" ? ", integrated from power readings" : ""
            lines.append(("energy basis", "\(energy.basis ?? "?") (source \(energy.source ?? "?")\(method))"))
            if let joules = energy.joules {
                let mark =
                    energy.trusted
                    ? ""
                    : "  UNTRUSTED (\((energy.untrustedReasons ?? []).joined(separator: "; "))): see the warnings below"
                lines.append(("energy", "\(fixed(joules, 3)) J\(mark)"))
                lines.append(("average power", energy.averageWatts.map { "\(fixed($0, 2)) W" } ?? "n/a"))
                lines.append(
                    (
                        "peak power",
                        energy.peakWatts.map {
                            "\(fixed($0, 2)) W (highest \(fixed(report.sampler.map { max($0.requestedIntervalSeconds, $0.intervalSeconds) * 1000 } ?? 100, 0)) ms bin)"
                        } ?? "n/a (run shorter than one trace bin)"
                    ))
                if let idle = energy.idle, let net = energy.netJoules, let netWatts = energy.netAverageWatts {
                    lines.append(
                        (
                            "idle power",
                            "\(fixed(idle.medianWatts, 2)) W (median of \(idle.windowWatts.count) window(s) over \(fixed(idle.seconds, 1)) s)"
                        ))
                    lines.append(("net of idle", "\(fixed(net, 3)) J, \(fixed(netWatts, 2)) W"))
                }
            } else {
                lines.append(("energy", "unavailable: \(energy.unavailableReason ?? "unknown")"))
            }
        } else {
            lines.append(("energy", "none (\(report.energyUnavailableReason ?? "no source"))"))
        }
        let width = lines.map(\.0.count).max() ?? 0
        out += lines.map { "   " + $0.0 + String(repeating: " ", count: width - $0.0.count + 3) + $0.1 + "\n" }.joined()
        if let energy = report.energy, let zones = energy.channels, !zones.isEmpty {
            out += "\n"
            var table = Table(
                ["ZONE", "NAME", "ROLE", "ENERGY (J)", "AVG (W)", "WRAPS", "FLAGS"], rightAligned: [3, 4, 5])
            for zone in zones {
                var flags: [String] = []
                if zone.untrusted == true { flags.append("UNTRUSTED") }
                if zone.stale == true { flags.append("stale") }
                if (zone.spans ?? []).contains(where: { $0.kind == .samplingGap }) { flags.append("gap") }
                if zone.error != nil { flags.append("error") }
                table.add([
                    zone.id, zone.name ?? "", zone.inBasis == true ? "basis" : (zone.note ?? "info"),
                    zone.joules.map { fixed($0, 3) } ?? "n/a", zone.averageWatts.map { fixed($0, 2) } ?? "n/a",
                    String(zone.wraps), flags.joined(separator: ","),
                ])
            }
            out += table.render(indent: "   ")
            for warning in energy.warnings ?? [] { out += "   warning: \(warning)\n" }
        }
        if let sampler = report.sampler {
            out +=
                "\n   probe: \(sampler.samples) samples every \(fixed(sampler.intervalSeconds * 1000, 1)) ms, "
                + "\(fixed(sampler.meanReadMicroseconds, 1)) µs per pass, overhead \(fixed(sampler.coreFraction * 100, 3))% of one core\n"
        }
        return out + "\n"
    }
}
