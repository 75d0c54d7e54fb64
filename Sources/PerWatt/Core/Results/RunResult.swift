import Foundation
import KernelBench
import PowerProbe

/// `perwatt.result/2`: everything a run measured and scored, comparable across machines through
/// the suite hash, fixture hashes, energy basis and fingerprint (docs/results.md).
package struct RunResult: Codable, Sendable {
    package struct SuiteRecord: Codable, Sendable {
        package var name: String
        package var sha256: String
        package var definition: Suite
    }

    package struct Settings: Codable, Sendable {
        package var threads: Int
        package var minTimeSeconds: Double
        package var repetitions: Int
        package var idleSeconds: Double
    }

    package struct Idle: Codable, Sendable {
        package var seconds: Double
        package var medianWatts: Double
        package var windowWatts: [Double]
    }

    package struct Energy: Codable, Sendable {
        /// `rapl:package+dram`, `nvml:gpu0`, …; nil without a source.
        package var basis: String?
        package var source: String?
        package var measurement: String?
        package var unavailableReason: String?
        package var channels: [String]?
        package var idle: Idle?
        /// Basis energy and average power of the whole run, idle baseline included.
        package var runJoules: Double?
        package var runAverageWatts: Double?
        /// Basis power over the whole run, one point per sampling interval: `seconds` since the run's
        /// energy window began, `watts`.
        package var trace: [TracePoint]?
    }

    package struct Limits: Codable, Sendable {
        package var peakF32FlopsPerSecond: Double
        package var triadBytesPerSecond: Double
    }

    package struct Part: Codable, Sendable {
        package var phase: String
        package var role: String
        package var kernel: String
        package var callsPerLayer: Int?
        package var callsPerPass: Int
    }

    package struct WorkloadRecord: Codable, Sendable {
        package var model: String
        package var modelName: String
        package var quantization: String
        package var layers: Int
        package var parameters: Int
        package var activeParameters: Int
        package var weightBytes: Double
        package var kvCacheBytes: Double
        package var memoryBytes: Double?
        package var fitsInMemory: Bool?
        package var promptTokens: Int
        package var outputTokens: Int
        package var decodeContext: Int
        /// Always true: whole-model figures are projected from one measured layer.
        package var projected: Bool
        package var projection: String
        package var parts: [Part]
        package var prefillFlops: Double
        package var decodeFlopsPerToken: Double
        package var prefillSeconds: Double?
        package var decodeSecondsPerToken: Double?
        package var prefillJoules: Double?
        package var decodeJoulesPerToken: Double?
        /// Set when the workload could not be measured (a kernel failed verification, Ctrl-C).
        package var notMeasuredReason: String?
    }

    package struct FixtureRecord: Codable, Sendable {
        package var origin: String
        package var sha256: String
        package var benchmark: String
        package var model: String
        package var quantization: String
        package var scheme: String?
        package var source: String
        package var n: Int
        package var accuracy: Double
        /// Per-query correctness, by query id (per-query fixtures only): what `perwatt compare`
        /// pairs between two results for McNemar's test.
        package var correctByQuery: [String: Bool]?

        package init(
            origin: String, sha256: String, benchmark: String, model: String, quantization: String,
            scheme: String? = nil, source: String, n: Int, accuracy: Double, correctByQuery: [String: Bool]? = nil
        ) {
            self.origin = origin
            self.sha256 = sha256
            self.benchmark = benchmark
            self.model = model
            self.quantization = quantization
            self.scheme = scheme
            self.source = source
            self.n = n
            self.accuracy = accuracy
            self.correctByQuery = correctByQuery
        }
    }

    package var schema = "perwatt.result/2"
    /// The result schemas this perwatt reads.
    package static let readableSchemas: Set<String> = ["perwatt.result/1", "perwatt.result/2"]
    package var perwattVersion: String
    /// False when Ctrl-C (or an error) stopped the run: what finished is kept.
    package var complete: Bool
    package var incompleteReason: String?
    package var startedAt: String
    package var durationSeconds: Double
    package var suite: SuiteRecord
    package var settings: Settings
    package var fingerprint: Fingerprint
    package var energy: Energy
    package var machineLimits: Limits?
    package var kernels: [KernelResult]
    package var workloads: [WorkloadRecord]
    package var fixtures: [FixtureRecord]
    package var scores: [Score]
    package var warnings: [String]

    /// Reads a result file (for `--reference`).
    package static func load(_ path: String) throws -> RunResult {
        try decode(json: try InputFile.json(try InputFile.read(path), file: path), file: path)
    }

    /// Decodes a result already parsed into `json`.
    package static func decode(json: JSONValue, file path: String) throws -> RunResult {
        // /1 differs only in the layout of kernel windows (now an EnergyRecord), which /1 files simply
        // do not fill: they still compare and report.
        guard let schema = json["schema"]?.stringValue, Self.readableSchemas.contains(schema) else {
            throw InputError(
                file: path, line: json["schema"]?.line ?? json.line, field: "schema",
                message: "must be \"perwatt.result/2\" (or /1): this is not a perwatt run result")
        }
        // One parse: the value the schema was checked on is decoded, with lines in every error.
        return try JSONValueDecoder(file: path).decode(RunResult.self, from: json)
    }
}

extension RunResult {
    /// A result that has measured nothing yet: marked incomplete until the run says otherwise.
    package static func begin(
        suite: Suite, threads: Int, started: Date, fingerprint: Fingerprint, meter: EnergyMeter?,
        noneReason: String?
    ) -> RunResult {
        RunResult(
            perwattVersion: PerWattRelease.version, complete: false,
            incompleteReason: "unfinished: the run stopped (or was still running) before every workload was measured",
            startedAt: ResultFiles.iso8601(started), durationSeconds: 0,
            suite: .init(name: suite.name, sha256: suite.sha256, definition: suite),
            settings: .init(
                threads: threads, minTimeSeconds: suite.minTimeSeconds, repetitions: suite.repetitions,
                idleSeconds: suite.idleSeconds),
            fingerprint: fingerprint,
            energy: .init(
                basis: meter?.plan.basis, source: meter?.plan.source, measurement: meter?.plan.measurement,
                unavailableReason: noneReason, channels: meter?.plan.channels.map(\.channel.id), idle: nil),
            machineLimits: nil, kernels: [], workloads: [], fixtures: [], scores: [], warnings: [])
    }
}

extension RunResult.WorkloadRecord {
    /// A workload's shape and sizes, not yet measured; `memoryBytes` is the machine's, to say whether it fits.
    package init(_ workload: Workload, memoryBytes memory: Double?) {
        let spec = workload.model
        let weights = spec.weightBytes(workload.precision)
        let cache = spec.kvCacheBytes(tokens: workload.promptTokens + workload.outputTokens)
        self.init(
            model: spec.id, modelName: spec.name, quantization: workload.precision.rawValue, layers: spec.layers,
            parameters: spec.parameters, activeParameters: spec.activeParameters, weightBytes: weights,
            kvCacheBytes: cache,
            memoryBytes: memory, fitsInMemory: memory.map { weights + cache <= $0 },
            promptTokens: workload.promptTokens,
            outputTokens: workload.outputTokens, decodeContext: workload.decodeContext, projected: true,
            projection:
                "one layer's kernels measured at full size, × \(spec.layers) layers, + the LM head; elementwise ops (norms, RoPE, activations) not counted",
            parts: workload.parts.map {
                .init(
                    phase: $0.phase.rawValue, role: $0.role, kernel: $0.kernel.name,
                    callsPerLayer: $0.perLayer ? $0.calls : nil,
                    callsPerPass: workload.callsPerPass($0))
            },
            prefillFlops: workload.flops(.prefill), decodeFlopsPerToken: workload.flops(.decode))
    }
}

extension RunResult.FixtureRecord {
    /// What a result keeps of a fixture it scored: its origin and hash, its identity, and per-query verdicts.
    package init(_ loaded: LoadedFixture) {
        let f = loaded.fixture
        self.init(
            origin: loaded.origin, sha256: loaded.sha256, benchmark: f.benchmark, model: f.model,
            quantization: f.quantization, scheme: f.scheme, source: f.source, n: f.counts.n, accuracy: f.accuracy,
            correctByQuery: f.queries.map {
                Dictionary($0.map { ($0.id, $0.correct) }, uniquingKeysWith: { a, _ in a })
            })
    }
}
