import Foundation
import KernelBench
import PowerProbe

/// `perwatt.result/1`: everything a run measured and scored, comparable across machines through
/// the suite hash, fixture hashes, energy basis and fingerprint (docs/results.md).
struct RunResult: Codable, Sendable {
    struct SuiteRecord: Codable, Sendable {
        var name: String
        var sha256: String
        var definition: Suite
    }

    struct Settings: Codable, Sendable {
        var threads: Int
        var minTimeSeconds: Double
        var repetitions: Int
        var idleSeconds: Double
    }

    struct Idle: Codable, Sendable {
        var seconds: Double
        var medianWatts: Double
        var windowWatts: [Double]
    }

    struct Energy: Codable, Sendable {
        /// `rapl:package+dram`, `nvml:gpu0`, …; nil without a source.
        var basis: String?
        var source: String?
        var measurement: String?
        var unavailableReason: String?
        var channels: [String]?
        var idle: Idle?
        /// Basis energy and average power of the whole run, idle baseline included.
        var runJoules: Double?
        var runAverageWatts: Double?
        /// Basis power over the whole run, one point per sampling interval: `seconds` since the run's
        /// energy window began, `watts`.
        var trace: [TracePoint]?
    }

    struct Limits: Codable, Sendable {
        var peakF32FlopsPerSecond: Double
        var triadBytesPerSecond: Double
    }

    struct Part: Codable, Sendable {
        var phase: String
        var role: String
        var kernel: String
        var callsPerLayer: Int?
        var callsPerPass: Int
    }

    struct WorkloadRecord: Codable, Sendable {
        var model: String
        var modelName: String
        var quantization: String
        var layers: Int
        var parameters: Int
        var activeParameters: Int
        var weightBytes: Double
        var kvCacheBytes: Double
        var memoryBytes: Double?
        var fitsInMemory: Bool?
        var promptTokens: Int
        var outputTokens: Int
        var decodeContext: Int
        /// Always true: whole-model figures are projected from one measured layer.
        var projected: Bool
        var projection: String
        var parts: [Part]
        var prefillFlops: Double
        var decodeFlopsPerToken: Double
        var prefillSeconds: Double?
        var decodeSecondsPerToken: Double?
        var prefillJoules: Double?
        var decodeJoulesPerToken: Double?
        /// Set when the workload could not be measured (a kernel failed verification, Ctrl-C).
        var notMeasuredReason: String?
    }

    struct FixtureRecord: Codable, Sendable {
        var origin: String
        var sha256: String
        var benchmark: String
        var model: String
        var quantization: String
        var scheme: String?
        var source: String
        var n: Int
        var accuracy: Double
        /// Per-query correctness, by query id (per-query fixtures only): what `perwatt compare`
        /// pairs between two results for McNemar's test.
        var correctByQuery: [String: Bool]?
    }

    var schema = "perwatt.result/1"
    var perwattVersion: String
    /// False when Ctrl-C (or an error) stopped the run: what finished is kept.
    var complete: Bool
    var incompleteReason: String?
    var startedAt: String
    var durationSeconds: Double
    var suite: SuiteRecord
    var settings: Settings
    var fingerprint: Fingerprint
    var energy: Energy
    var machineLimits: Limits?
    var kernels: [KernelResult]
    var workloads: [WorkloadRecord]
    var fixtures: [FixtureRecord]
    var scores: [Score]
    var warnings: [String]

    /// Reads a result file (for `--reference`).
    static func load(_ path: String) throws -> RunResult {
        let text = try InputFile.read(path)
        return try decode(text, json: try InputFile.json(text, file: path), file: path)
    }

    /// Decodes a result from its text, already parsed into `json` for the schema check and line numbers.
    static func decode(_ text: String, json: JSONValue, file path: String) throws -> RunResult {
        guard json["schema"]?.stringValue == "perwatt.result/1" else {
            throw InputError(file: path, line: json["schema"]?.line ?? json.line, field: "schema",
                             message: "must be \"perwatt.result/1\": this is not a perwatt run result")
        }
        do {
            return try JSONDecoder().decode(RunResult.self, from: Data(text.utf8))
        } catch let DecodingError.keyNotFound(key, context) {
            throw InputError(file: path, field: (context.codingPath + [key]).map(\.stringValue).joined(separator: "."), message: "is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            throw InputError(file: path, field: context.codingPath.map(\.stringValue).joined(separator: "."), message: context.debugDescription)
        }
    }
}
