import Foundation
import PerWattCore

/// Help texts. Kept next to the commands they describe; docs/cli.md says the same at length.
enum Help {
    static var main: String {
        let extra = [
            ("help", "show help for a command (perwatt help exec)"),
            ("version", "print the version and the CPU target the kernels were built for"),
        ]
        let commands = (CommandRegistry.all.map { ($0.name, $0.summary) } + extra).map { name, summary in
            "  " + name.padding(toLength: 10, withPad: " ", startingAt: 0) + summary
        }
        return """
            perwatt \(PerWattCLI.version): accuracy per joule and per watt, measured on this machine.

            Usage: perwatt <command> [options]

            Commands:
            \(commands.joined(separator: "\n"))

            Exit codes: 0 success, 1 compare found a regression, 3 a kernel failed verification, 64 usage error,
            65 invalid input file, 66 input file not readable, 69 energy source unavailable, 71 not enough memory
            (--force), 74 output not written, 75 eval: queries failed or the server stopped answering (--resume),
            77 energy counters not readable (permissions), 78 CPU lacks the build's instructions, 130 run or eval
            interrupted (partial result kept); exec returns the command's own status (126 not executable, 127 not
            found, 128+N killed by signal N).

            """
    }

    static func forCommand(_ command: String) -> String? { CommandRegistry.named(command)?.help }

    /// One line per option, `--name VALUE` tab help: for shell completion scripts.
    static func optionListing(_ command: String) -> String? {
        CommandRegistry.named(command).map { $0.specs.map { "\($0.name)\t\($0.value ?? "")\t\($0.help)\n" }.joined() }
    }

    static func options(_ specs: [OptionSpec]) -> String {
        let width = specs.map { $0.name.count + ($0.value.map { $0.count + 1 } ?? 0) }.max() ?? 0
        return specs.map { spec in
            let left = spec.name + (spec.value.map { " " + $0 } ?? "")
            return "  " + left.padding(toLength: width + 2, withPad: " ", startingAt: 0) + spec.help
        }.joined(separator: "\n")
    }
}
