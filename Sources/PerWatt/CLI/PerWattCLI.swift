import Foundation
import KernelBench
import PerWattCore
import PowerProbe

/// Everything the CLI touches outside itself, so tests can run it in-process.
public struct CLIContext: Sendable {
    public var stdout: any TextSink
    public var stderr: any TextSink
    public var environment: [String: String]
    /// Builds the probe environment for the resolved roots (tests inject fake sysfs and NVML here).
    public var makeProbeEnvironment: @Sendable (_ powercapRoot: String, _ hwmonRoot: String) -> ProbeEnvironment
    public var fingerprint: @Sendable () -> Fingerprint
    /// This CPU's /proc/cpuinfo flags (nil where unreadable: then the check is skipped).
    public var hostCPUFlags: @Sendable () -> Set<String>?
    /// Measures the machine's f32 FMA peak (FLOP/s) and triad bandwidth (B/s) for `threads`, within
    /// about `seconds` each (tests inject fixed values: the measurement takes seconds in a debug build).
    public var machineLimits:
        @Sendable (_ threads: Int, _ seconds: Double, _ repetitions: Int) -> (peak: Double, bandwidth: Double) =
            { threads, seconds, repetitions in
                (
                    MachineLimits.peakF32FMA(threads: threads, minimumSeconds: seconds, repetitions: repetitions),
                    MachineLimits.triadBandwidth(threads: threads, minimumSeconds: seconds, repetitions: repetitions)
                )
            }

    /// Memory a run may allocate without swapping (`MemAvailable` of /proc/meminfo); nil where unknown.
    public var availableMemoryBytes: @Sendable () -> UInt64? = {
        (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)).flatMap {
            CPUInfo.meminfoBytes($0, field: "MemAvailable")
        }
    }

    public init(
        stdout: any TextSink, stderr: any TextSink, environment: [String: String],
        makeProbeEnvironment: @escaping @Sendable (String, String) -> ProbeEnvironment,
        fingerprint: @escaping @Sendable () -> Fingerprint,
        hostCPUFlags: @escaping @Sendable () -> Set<String>?
    ) {
        self.stdout = stdout
        self.stderr = stderr
        self.environment = environment
        self.makeProbeEnvironment = makeProbeEnvironment
        self.fingerprint = fingerprint
        self.hostCPUFlags = hostCPUFlags
    }

    /// The real machine.
    public static func live(environment: [String: String]) -> CLIContext {
        let cuda = environment["CUDA_VISIBLE_DEVICES"]
        return CLIContext(
            stdout: FileDescriptorSink(fd: 1), stderr: FileDescriptorSink(fd: 2), environment: environment,
            makeProbeEnvironment: { powercap, hwmon in
                ProbeEnvironment(powercapRoot: powercap, hwmonRoot: hwmon, cudaVisibleDevices: cuda)
            },
            fingerprint: { Fingerprint.collect() },
            hostCPUFlags: { CPUInfo.hostFlags() })
    }
}

/// A command-line mistake: what was wrong, and for which subcommand's help to point at.
struct UsageError: Error {
    var message: String
    var command: String
}

/// The `perwatt` command line.
public enum PerWattCLI {
    /// perwatt's version, in results and `perwatt version`.
    public static let version = PerWattRelease.version

    /// Runs perwatt with `arguments` (without the program name) and returns its exit status.
    public static func run(_ arguments: [String], context: CLIContext) -> ExitCode {
        var context = context
        context.stderr = SanitizingSink(context.stderr)
        if let flags = context.hostCPUFlags() {
            let missing = BuildTarget.current.missingFlags(hostFlags: flags)
            if !missing.isEmpty {
                context.stderr.line(BuildTarget.current.unsupportedMessage(missing: missing))
                return .unsupportedCPU
            }
        }
        guard let command = arguments.first else {
            context.stderr.write(Help.main)
            return .usage
        }
        let rest = Array(arguments.dropFirst())
        do {
            if let entry = CommandRegistry.named(command) { return try entry.run(rest, context: context) }
            switch command {
            case "help", "--help", "-h":
                if rest.first == "--options", rest.count == 2 {
                    guard let listing = Help.optionListing(rest[1]) else {
                        throw UsageError(message: "unknown command '\(shown(rest[1]))'", command: "")
                    }
                    context.stdout.write(listing)
                    return .success
                }
                if let topic = rest.first, let text = Help.forCommand(topic) {
                    context.stdout.write(text)
                } else {
                    context.stdout.write(Help.main)
                }
                return .success
            case "version", "--version":
                context.stdout.line("perwatt \(PerWattCLI.version) (kernels built for \(BuildTarget.current.name))")
                return .success
            default:
                throw UsageError(message: "unknown command '\(shown(command))'", command: "")
            }
        } catch {
            return report(error, command: command, context: context)
        }
    }

    /// The one place an error becomes what the user reads: one sentence per line on stderr, with
    /// control characters escaped and its length capped (`Message.sanitized`), and its exit status.
    static func report(_ error: any Error, command: String, context: CLIContext) -> ExitCode {
        func say(_ text: String) { context.stderr.line(Message.sanitized(text)) }
        switch error {
        case let error as UsageError:
            let help = error.command.isEmpty ? "perwatt --help" : "perwatt \(error.command) --help"
            say("perwatt\(error.command.isEmpty ? "" : " " + error.command): \(error.message)")
            say("Run '\(help)' for usage.")
            return .usage
        case let error as SettingError:
            say("perwatt\(command.isEmpty ? "" : " " + command): \(error.message)")
            say("Run 'perwatt \(command) --help' for usage.")
            return .usage
        case let error as InputError:
            say("perwatt \(command): \(error)")
            return error.unreadable ? .noInput : .dataError
        case let error as OutputError:
            say("perwatt \(command): \(error)")
            return .ioError
        case let error as MemoryError:
            say("perwatt \(command): \(error)")
            return .insufficientMemory
        case let error as GGUFError:
            say("perwatt \(command): \(error)")
            return error.unreadable ? .noInput : .dataError
        case let error as TokenizerError:
            say("perwatt \(command): \(error)")
            return .dataError
        case let error as ModelError:
            say("perwatt \(command): \(error)")
            return .dataError
        case let error as ChatTemplateError:
            say("perwatt \(command): \(error)")
            return .dataError
        case let error as KernelError:
            say("perwatt \(command): \(error)")
            return .dataError
        case let error as ProbeError:
            return report(error, command: command, context: context)
        default:
            say("perwatt: internal error: \(error)")
            return .internalError
        }
    }

    /// Maps a probe error to its exit status and prints it.
    static func report(_ error: ProbeError, command: String, context: CLIContext) -> ExitCode {
        context.stderr.line(Message.sanitized("perwatt \(command): \(error.explained)"))
        switch error {
        case .permissionDenied: return .permissionDenied
        default: return .energyUnavailable
        }
    }
}

/// Parses a subcommand's options; nil when `--help` was asked for and printed.
func parseCommand(
    _ arguments: [String], specs: [OptionSpec], command: String, help: String,
    stopAtPositional: Bool, context: CLIContext
) throws -> (ParsedOptions, EnergyOptions)? {
    let options = try parseOptions(arguments, specs: specs, command: command, stopAtPositional: stopAtPositional)
    if options.has(HelpOption().help) {
        context.stdout.write(help)
        return nil
    }
    return (options, try EnergyOptions(options, environment: context.environment))
}

/// `--energy`, `--powercap-root`, `--hwmon-root`, `--interval`: every command that reads energy.
struct EnergyOptionGroup: OptionGroup {
    let energy = Option<String>.text(
        "--energy", "auto|rapl|hwmon|nvml|none[,…]",
        help: "energy source (default auto: RAPL, else hwmon, else NVML, else none); several are added, labelled")
    let powercapRoot = Option<String>.text(
        "--powercap-root", "DIR",
        help: "powercap tree (default $PERWATT_POWERCAP_ROOT or /sys/class/powercap)")
    let hwmonRoot = Option<String>.text(
        "--hwmon-root", "DIR", help: "hwmon tree (default $PERWATT_HWMON_ROOT or /sys/class/hwmon)")
    let interval = Option<Double>.number(
        "--interval", "MS", in: 1...60_000, unit: "milliseconds",
        help: "sampling interval in milliseconds (default 100; shortened to a quarter of the shortest wrap time)")
}

/// The energy options, resolved against the environment.
struct EnergyOptions {
    var selection: EnergySelection
    var powercapRoot: String
    var hwmonRoot: String
    var intervalSeconds: Double

    init(_ options: ParsedOptions, environment: [String: String]) throws {
        let o = EnergyOptionGroup()
        let text = options.value(o.energy) ?? "auto"
        guard let selection = EnergySelection(parsing: text) else {
            throw UsageError(
                message:
                    "--energy takes auto, none, or a comma-separated list of rapl, hwmon, nvml; not '\(shown(text))'",
                command: options.command)
        }
        self.selection = selection
        powercapRoot =
            options.value(o.powercapRoot) ?? environment["PERWATT_POWERCAP_ROOT"]
            ?? ProbeEnvironment.defaultPowercapRoot
        hwmonRoot = options.value(o.hwmonRoot) ?? environment["PERWATT_HWMON_ROOT"] ?? ProbeEnvironment.defaultHwmonRoot
        intervalSeconds = (try options.value(o.interval) ?? 100) / 1000
    }
}

extension EnergyOptions {
    /// The meter for the selected sources, or nil with the reason there is none. Throws the probe's
    /// error when a source asked for by name is missing or unreadable.
    func makeMeter(context: CLIContext) throws -> (meter: EnergyMeter?, noneReason: String?) {
        let inventory = try EnergyInventory.discover(
            context.makeProbeEnvironment(powercapRoot, hwmonRoot), for: selection)
        guard let plan = try inventory.plan(for: selection) else {
            return (nil, selection == .none ? "--energy none" : ProbeCommand.noneReason(inventory))
        }
        return (try EnergyMeter(plan: plan, configuration: MeterConfiguration(intervalSeconds: intervalSeconds)), nil)
    }
}
