import PerWattCore
import Foundation

/// Help texts. Kept next to the commands they describe; docs/cli.md says the same at length.
enum Help {
    static let main = """
        perwatt \(PerWattCLI.version): accuracy per joule and per watt, measured on this machine.

        Usage: perwatt <command> [options]

        Commands:
          probe     list every energy source (RAPL, hwmon, NVML), its zones and the basis that would be used
          exec      run a command and measure its energy, like perf stat
          run       measure model workloads and score accuracy per joule and per watt (the main job)
          eval      ask a local OpenAI-compatible server a query set; grade, and measure joules per answer
          models    list model specs (parameters, memory per precision); import a Hugging Face config.json
          fixture   validate accuracy fixtures, import lm-evaluation-harness output, list the built-in ones
          compare   compare two run results metric by metric; exit 1 on a regression, never on noise
          report    report results as text, Markdown, JSON, CSV, or an HTML page with plots
          kernels   verify and measure the GEMM/GEMV and attention kernels (with energy when available)
          help      show help for a command (perwatt help exec)
          version   print the version and the CPU target the kernels were built for

        Exit codes: 0 success, 1 compare found a regression, 3 a kernel failed verification, 64 usage error,
        65 invalid input file, 66 input file not readable, 69 energy source unavailable, 74 output not written,
        75 eval: queries failed or the server stopped answering (--resume), 77 energy counters not readable
        (permissions), 78 CPU lacks the build's instructions, 130 run or eval interrupted (partial result kept);
        exec returns the command's own status (126 not executable, 127 not found, 128+N killed by signal N).

        """

    static func forCommand(_ command: String) -> String? {
        switch command {
        case "probe": ProbeCommand.help
        case "exec": ExecCommand.help
        case "kernels": KernelsCommand.help
        case "run": RunCommand.help
        case "models": ModelsCommand.help
        case "fixture": FixtureCommand.help
        case "compare": CompareCommand.help
        case "report": ReportCommand.help
        case "eval": EvalCommand.help
        default: nil
        }
    }

    static func options(_ specs: [OptionSpec]) -> String {
        let width = specs.map { $0.name.count + ($0.value.map { $0.count + 1 } ?? 0) }.max() ?? 0
        return specs.map { spec in
            let left = spec.name + (spec.value.map { " " + $0 } ?? "")
            return "  " + left.padding(toLength: width + 2, withPad: " ", startingAt: 0) + spec.help
        }.joined(separator: "\n")
    }
}
