import Foundation

/// The `eval` section of a fixture written by `perwatt eval`: everything needed to judge, repeat,
/// resume or re-grade the run. Settings are pinned and recorded (temperature 0, seed, token limit).
package struct EvalRun: Codable, Sendable, Hashable {
    package struct QuerySetInfo: Codable, Sendable, Hashable {
        /// `builtin:NAME` or the file path.
        package var name: String
        package var sha256: String
        package var count: Int
        package var about: String
    }

    package struct Energy: Codable, Sendable, Hashable {
        /// e.g. `rapl:package+dram`; absent without an energy source.
        package var basis: String?
        package var source: String?
        /// `energy-counter` or `integrated-power`.
        package var measurement: String?
        package var idleWatts: Double?
        package var idleSeconds: Double?
        package var unavailableReason: String?
    }

    /// A query with no graded answer: what went wrong on its last attempt.
    package struct Failure: Codable, Sendable, Hashable {
        package var id: String
        package var error: String
        package var attempts: Int
    }

    package var tool = "perwatt eval"
    package var perwattVersion: String
    package var settings: CompletionClient.Settings
    package var querySet: QuerySetInfo
    package var energy: Energy
    /// Where token counts come from: the server's `usage`, or why they are absent.
    package var tokenCounts: String
    package var startedAt: String
    package var durationSeconds: Double
    /// Every query of the set has a graded answer.
    package var complete: Bool
    package var incompleteReason: String?
    package var failed: [Failure]
    package var fingerprint: Fingerprint
    /// Set by `--regrade`: when the answers were graded again.
    package var regradedAt: String?
}
