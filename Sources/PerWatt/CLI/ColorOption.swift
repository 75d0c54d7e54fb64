import PerWattCore

/// `--color auto|always|never`, shared by every command that prints a table.
enum ColorOption {
    static let declaration = Option<String>.text(
        "--color", "auto|always|never",
        help: "colour verdicts and failures (auto: only on a terminal, without --out, and never with NO_COLOR set)")

    /// Whether to colour: `--color`, or auto (stdout a terminal, not `toFile`, NO_COLOR unset or empty).
    static func enabled(_ options: ParsedOptions, context: CLIContext, command: String, toFile: Bool) throws -> Bool {
        let text = options.value(declaration) ?? "auto"
        guard let choice = Color.Choice(rawValue: text) else {
            throw UsageError(message: "--color takes auto, always or never; not '\(shown(text))'", command: command)
        }
        return choice.enabled(isTerminal: context.stdout.isTerminal, toFile: toFile, environment: context.environment)
    }
}
