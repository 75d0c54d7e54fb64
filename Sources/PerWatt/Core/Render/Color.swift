/// `--color auto|always|never` for every command that prints a table (DESIGN 8): colour only on a
/// terminal and never with `NO_COLOR` set (https://no-color.org). Colour is only ever added to words
/// that are already there, so output without it says the same thing.
package enum Color {
    /// always, never, or auto: stdout is a terminal, the text is not going to a file (`toFile`), and
    /// NO_COLOR is unset or empty.
    package enum Choice: String, CaseIterable {
        case auto, always, never

        package func enabled(isTerminal: Bool, toFile: Bool, environment: [String: String]) -> Bool {
            switch self {
            case .always: true
            case .never: false
            case .auto: isTerminal && !toFile && (environment["NO_COLOR"] ?? "").isEmpty
            }
        }
    }

    package static let red = "\u{1B}[1;31m", green = "\u{1B}[32m", yellow = "\u{1B}[33m", reset = "\u{1B}[0m"

    /// ANSI colour on the marker words of rendered text, line by line: a trailing `REGRESSED` (red) or
    /// `improved` (green) verdict, which is the last column so alignment is kept; a leading
    /// `INCOMPLETE:` (red) or `warning:` (yellow); `FAILED verification` anywhere (red).
    package static func paint(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { piece in
            var line = String(piece)
            for (word, code) in [("REGRESSED", red), ("improved", green)]
            where line.hasSuffix(word) && line.count > word.count {
                line = line.dropLast(word.count) + code + word + reset
            }
            for (word, code) in [("INCOMPLETE:", red), ("warning:", yellow)] where line.hasPrefix(word) {
                line = code + word + reset + line.dropFirst(word.count)
            }
            return line.replacingOccurrences(of: "FAILED verification", with: red + "FAILED verification" + reset)
        }.joined(separator: "\n")
    }
}
