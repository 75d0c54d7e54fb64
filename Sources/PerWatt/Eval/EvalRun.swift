import Foundation

/// The `eval` section of a fixture written by `perwatt eval`: everything needed to judge, repeat,
/// resume or re-grade the run. Settings are pinned and recorded (temperature 0, seed, token limit).
struct EvalRun: Codable, Sendable, Hashable {
    struct QuerySetInfo: Codable, Sendable, Hashable {
        /// `builtin:NAME` or the file path.
        var name: String
        var sha256: String
        var count: Int
        var about: String
    }

    struct Energy: Codable, Sendable, Hashable {
        /// e.g. `rapl:package+dram`; absent without an energy source.
        var basis: String?
        var source: String?
        /// `energy-counter` or `integrated-power`.
        var measurement: String?
        var idleWatts: Double?
        var idleSeconds: Double?
        var unavailableReason: String?
    }

    /// A query with no graded answer: what went wrong on its last attempt.
    struct Failure: Codable, Sendable, Hashable {
        var id: String
        var error: String
        var attempts: Int
    }

    var tool = "perwatt eval"
    var perwattVersion: String
    var settings: CompletionClient.Settings
    var querySet: QuerySetInfo
    var energy: Energy
    /// Where token counts come from: the server's `usage`, or why they are absent.
    var tokenCounts: String
    var startedAt: String
    var durationSeconds: Double
    /// Every query of the set has a graded answer.
    var complete: Bool
    var incompleteReason: String?
    var failed: [Failure]
    var fingerprint: Fingerprint
    /// Set by `--regrade`: when the answers were graded again.
    var regradedAt: String?

    /// Decodes the `eval` member of a fixture's text; errors name the line and the field path.
    static func parse(_ text: String, file: String) throws -> EvalRun {
        let json = try InputFile.json(text, file: file)
        guard let section = json["eval"] else {
            throw InputError(file: file, line: json.line, field: "eval", message: "is missing")
        }
        do {
            return try JSONValueDecoder(file: file).decode(EvalRun.self, from: section, path: ["eval"])
        } catch var error as InputError {
            error.message += " (this section is written by perwatt eval; regenerate it rather than editing)"
            throw error
        }
    }
}
