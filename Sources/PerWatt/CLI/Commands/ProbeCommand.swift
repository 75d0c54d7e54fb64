import PerWattCore
import PowerProbe

/// `perwatt probe`: what energy sources this machine has and which basis a measurement would use.
enum ProbeCommand: Command {
    static let name = "probe"
    static let summary = "list every energy source (RAPL, hwmon, NVML), its zones and the basis that would be used"

    /// Every option of the command, declared once: the parser and the help come from here.
    struct Options: OptionGroup {
        let json = Flag("--json", help: "print one JSON object (schema perwatt.probe/1)")
        let watch = Flag("--watch", help: "then print live power per zone every second until Ctrl-C")
        let count = Option<Int>.int("--count", "N", in: 1...Int(Int32.max), help: "with --watch: stop after N lines")
        let ceiling = Option<Double>.number(
            "--ceiling", "WATTS", in: 1...1_000_000, unit: "watts",
            help: "power at which wrap times are stated (default 1000)")
        let helpFlag = Flag("--help", help: "show this help")
        let energy = EnergyOptionGroup()
    }

    static let o = Options()
    static var specs: [OptionSpec] { Options.specs }

    static let help = """
        Usage: perwatt probe [--json] [--watch [--count N]] [--energy SOURCE] [--powercap-root DIR] [--hwmon-root DIR]

        Lists every energy source perwatt can see (RAPL powercap zones, hwmon energy/power sensors,
        NVIDIA GPUs through NVML), each zone's name, domain, counter range, wrap time at a stated power,
        whether it can be read, and the basis a measurement would use. Also prints this machine's fingerprint.

        Options:
        \(Help.options(specs))

        Exit codes: 0 a basis is usable (or energy is none), 69 a source asked for is absent or a present
        one is broken,
        77 counters exist but cannot be read (the message says how to fix it), 64 usage error.

        """

    static func run(_ arguments: [String], context: CLIContext) throws -> ExitCode {
        guard
            let (options, energy) = try parseCommand(
                arguments, specs: specs, command: "probe", help: help,
                stopAtPositional: false, context: context)
        else { return .success }
        let ceiling = try options.value(o.ceiling) ?? 1000
        let count = try options.value(o.count)
        if count != nil && !options.has(o.watch) {
            throw UsageError(message: "--count goes with --watch", command: "probe")
        }
        let environment = context.makeProbeEnvironment(energy.powercapRoot, energy.hwmonRoot)
        let inventory = try EnergyInventory.discover(environment)
        var plan: EnergyPlan?
        var failure: ProbeError?
        do { plan = try inventory.plan(for: energy.selection) } catch let error as ProbeError { failure = error }
        let fingerprint = context.fingerprint()

        if options.has(o.json) {
            let report = ProbeReport(
                inventory: inventory, selection: energy.selection, plan: plan, failure: failure,
                ceilingWatts: ceiling, fingerprint: fingerprint)
            context.stdout.line(try JSON.encode(report, pretty: !options.has(o.watch)))
        } else {
            context.stdout.write(
                render(
                    inventory: inventory, selection: energy.selection, plan: plan,
                    failure: failure, ceiling: ceiling, fingerprint: fingerprint))
        }
        if let failure {
            if !options.has(o.json) { context.stderr.line("perwatt probe: \(failure.explained)") }
            return failure.isPermissionError ? .permissionDenied : .energyUnavailable
        }
        guard options.has(o.watch) else { return .success }
        guard let plan else {
            context.stderr.line(
                "perwatt probe: --watch has nothing to watch: \(energy.selection == .none ? "--energy none" : noneReason(inventory))"
            )
            return .energyUnavailable
        }
        var configuration = MeterConfiguration(intervalSeconds: energy.intervalSeconds, ceilingWatts: ceiling)
        configuration.traceCapacity = 100_000
        return watch(
            plan: plan, configuration: configuration, count: count, json: options.has(o.json), context: context)
    }

    /// Why energy would be `none` under `auto`, one clause per source.
    static func noneReason(_ inventory: EnergyInventory) -> String {
        "no energy source found ("
            + inventory.absenceReasons.map { "\($0.0.rawValue): \($0.1)" }.joined(separator: "; ") + ")"
    }

    static func watch(
        plan: EnergyPlan, configuration: MeterConfiguration, count: Int?, json: Bool,
        context: CLIContext
    ) -> ExitCode {
        let meter: EnergyMeter
        do { meter = try EnergyMeter(plan: plan, configuration: configuration) } catch let error as ProbeError {
            return PerWattCLI.report(error, command: "probe", context: context)
        } catch {
            context.stderr.line("perwatt probe: \(error)")
            return .energyUnavailable
        }
        let restore = POSIX.catchInterrupt()
        defer { restore() }
        let headers = ["t (s)", "basis"] + plan.channels.map { $0.channel.name + ($0.channel.inBasis ? "" : "*") }
        let widths = headers.map { max($0.count, 8) }
        func row(_ cells: [String]) -> String {
            "  "
                + zip(cells, widths).map { String(repeating: " ", count: max(0, $1 - $0.count)) + $0 }.joined(
                    separator: "  ")
        }
        if !json {
            context.stdout.line("\nLive power (W) every second, basis \(plan.basis); * not in basis. Ctrl-C stops.")
            context.stdout.line(row(headers))
        }
        WatchSession(meter: meter, count: count).run { reading in
            if json {
                if let text = try? JSON.encode(reading, pretty: false) { context.stdout.line(text) }
            } else {
                let cells =
                    [fixed(reading.seconds, 1), reading.basisWatts.map { fixed($0, 2) } ?? "n/a"]
                    + reading.orderedChannelWatts.map { $0.map { fixed($0, 2) } ?? "n/a" }
                context.stdout.line(row(cells))
                for warning in reading.warnings { context.stderr.line("perwatt probe: \(warning)") }
            }
        }
        return .success
    }

    static func render(
        inventory: EnergyInventory, selection: EnergySelection, plan: EnergyPlan?, failure: ProbeError?,
        ceiling: Double, fingerprint: Fingerprint
    ) -> String {
        var out = "Machine\n"
        out += FingerprintText.render(fingerprint)
        out += "\nEnergy sources\n"
        let powercap = inventory.powercap
        if !powercap.rootExists || powercap.zones.isEmpty {
            out += "  rapl   \(powercap.noBasisReason ?? "\(powercap.root) has no intel-rapl zones")\n"
        } else {
            out +=
                "  rapl   \(powercap.zones.count) zone(s) under \(powercap.root)\(powercap.basis.map { ", basis \($0)" } ?? "")\n"
        }
        let hwmon = inventory.hwmon
        if hwmon.sensors.isEmpty {
            out += "  hwmon  \(hwmon.noBasisReason ?? "no sensors")\n"
        } else {
            out +=
                "  hwmon  \(hwmon.sensors.count) energy/power sensor(s) under \(hwmon.root)\(hwmon.basis.map { ", basis \($0)" } ?? ", none usable as a basis")\n"
        }
        let nvml = inventory.nvml
        if let reason = nvml.unavailableReason {
            out += "  nvml   \(reason)\n"
        } else {
            out += "  nvml   \(nvml.gpus.count) GPU(s) visible\(nvml.visibilityNote.map { " (\($0))" } ?? "")\n"
        }

        if !powercap.zones.isEmpty {
            out += "\nRAPL zones (\(powercap.root))\n"
            var table = Table(
                ["ZONE", "NAME", "DOMAIN", "RANGE (J)", "WRAP @\(formatNumber(ceiling)) W", "READ", "ROLE"],
                rightAligned: [3, 4])
            for zone in powercap.zones {
                table.add([
                    zone.id, zone.name, zone.domain.description,
                    zone.rangeMicrojoules.map { fixed(Double($0) / 1e6, 2) } ?? "?",
                    zone.rangeMicrojoules.map { durationText(Double($0) / 1e6 / ceiling) } ?? "?",
                    readText(zone.problem), zone.role.description,
                ])
            }
            out += table.render()
        }
        if !hwmon.sensors.isEmpty {
            out += "\nhwmon sensors (\(hwmon.root))\n"
            var table = Table(["SENSOR", "CHIP", "LABEL", "KIND", "READ", "ROLE"])
            for sensor in hwmon.sensors {
                table.add([
                    sensor.id, sensor.chip, sensor.label ?? "-",
                    sensor.kind == .energy ? "energy (µJ)" : "power (µW, integrated)",
                    readText(sensor.problem), sensor.inBasis ? "basis" : (sensor.note ?? "not in basis"),
                ])
            }
            out += table.render()
        }
        if !nvml.gpus.isEmpty {
            out += "\nNVIDIA GPUs (NVML)\n"
            var table = Table(["GPU", "NAME", "UUID", "ENERGY", "READ"])
            for gpu in nvml.gpus {
                table.add([
                    "gpu\(gpu.index)", gpu.name, gpu.uuid,
                    gpu.hasEnergyCounter ? "energy counter (mJ)" : "power (mW, integrated)", readText(gpu.problem),
                ])
            }
            out += table.render()
        }
        // Every zone or sensor that could not be read, with its cause (the full fix text goes to stderr once).
        let problems =
            powercap.zones.compactMap { zone in zone.problem.map { (zone.id, $0) } }
            + hwmon.sensors.compactMap { sensor in sensor.problem.map { (sensor.id, $0) } }
            + nvml.gpus.compactMap { gpu in gpu.problem.map { ("gpu\(gpu.index)", $0) } }
        if !problems.isEmpty {
            out += "\nProblems\n"
            for (id, problem) in problems {
                let first = problem.explained.split(separator: "\n").first.map(String.init) ?? ""
                out += "  \(id): \(first)\n"
            }
        }
        out += "\n"
        if let plan {
            let method = plan.measurement == "integrated-power" ? ", integrated from power readings" : ""
            out += "Basis (--energy \(selection)): \(plan.basis) (source \(plan.source)\(method))\n"
        } else if failure != nil {
            out += "Basis (--energy \(selection)): cannot be measured; see the error below.\n"
        } else if selection == .none {
            out +=
                "Basis: none (--energy none). Time and FLOP figures still work; energy fields are absent, not zero.\n"
        } else {
            out +=
                "Basis: none. No energy source was found; time and FLOP figures still work and energy fields will be absent (not zero).\n"
        }
        return out
    }

    static func readText(_ problem: ProbeError?) -> String {
        guard let problem else { return "ok" }
        switch problem {
        case .permissionDenied: return "denied"
        case .missingFile: return "missing"
        case .malformed, .counterAboveRange: return "garbage"
        case .notRegularFile: return "not a file"
        case .readFailed(_, let errno): return errno.name
        case .sourceUnavailable, .nvml: return "error"
        }
    }
}

/// The fingerprint as aligned text.
enum FingerprintText {
    static func render(_ fingerprint: Fingerprint) -> String {
        var lines: [(String, String)] = []
        lines.append(
            (
                "CPU",
                "\(fingerprint.cpuModel), \(fingerprint.logicalCPUs) logical CPUs, \(fingerprint.architecture)\(fingerprint.virtualized ? ", virtualized" : "")"
            ))
        lines.append(("memory", fingerprint.memoryBytes.map(bytesText) ?? "unknown"))
        lines.append(("kernel", "\(fingerprint.kernel), governor \(fingerprint.governor ?? "not exposed")"))
        let target = fingerprint.buildTarget
        lines.append(
            (
                "kernels",
                "built for \(target.name)"
                    + (target.requiredFlags.isEmpty ? "" : " (\(target.requiredFlags.joined(separator: " ")))")
            ))
        lines.append(
            (
                "BLAS",
                "\(fingerprint.blas.config) [core \(fingerprint.blas.coreName), \(fingerprint.blas.threads) threads, \(fingerprint.blas.parallel)]"
            ))
        let width = lines.map(\.0.count).max() ?? 0
        return lines.map { "  " + $0.0 + String(repeating: " ", count: width - $0.0.count + 2) + $0.1 + "\n" }.joined()
    }
}
