import PerWattCore

/// A `perwatt` subcommand: its name and one-line summary (for `perwatt help`), its help text, its
/// declared options, and what it does.
protocol Command: Sendable {
    static var name: String { get }
    static var summary: String { get }
    static var help: String { get }
    static var specs: [OptionSpec] { get }
    static func run(_ arguments: [String], context: CLIContext) throws -> ExitCode
}

/// Every command, in the order `perwatt help` lists them; dispatch and help both read this list.
enum CommandRegistry {
    static let all: [any Command.Type] = [
        ProbeCommand.self, ExecCommand.self, RunCommand.self, EvalCommand.self, ModelsCommand.self,
        FixtureCommand.self, CompareCommand.self, ReportCommand.self, KernelsCommand.self, GGUFCommand.self,
        GenerateCommand.self,
    ]

    static var names: [String] { all.map { $0.name } }

    static func named(_ name: String) -> (any Command.Type)? { all.first { $0.name == name } }
}
