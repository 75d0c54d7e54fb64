import Foundation
import KernelBench

/// What `perwatt run` measures (`perwatt.suite/1`): workloads as explicit (model, quantization)
/// pairs, their token shape, and the measurement settings. Built-in suites are compiled in; the
/// same JSON loads from a file (Benchmarks/suites/ holds copies of the built-in ones).
package struct Suite: Codable, Sendable, Hashable {
    package struct Entry: Codable, Sendable, Hashable {
        package var model: String
        package var quantization: String

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case model, quantization
        }

        /// A (model, quantization) pair; the quantization must be one perwatt has kernels for.
        package init(from decoder: any Decoder) throws {
            let r = try KeyedReader(decoder, keys: CodingKeys.self)
            let quantization = try r.string(.quantization)!
            guard Precision(rawValue: quantization) != nil else {
                throw r.error(
                    .quantization,
                    "must be one of \(Precision.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(shown(quantization))\""
                )
            }
            self.init(model: try r.string(.model)!, quantization: quantization)
        }

        package init(model: String, quantization: String) {
            self.model = model
            self.quantization = quantization
        }
    }

    package var schema = "perwatt.suite/1"
    package var name: String
    package var description: String
    package var workloads: [Entry]
    /// Token shape of a query when a fixture does not give one; prefill is measured at `promptTokens`.
    package var promptTokens: Int
    package var outputTokens: Int
    /// Kernel cases (names from `perwatt kernels --list`) measured beside the workloads.
    package var kernels: [String]
    /// Measure the machine's f32 FMA peak and triad bandwidth.
    package var machineLimits: Bool
    package var minTimeSeconds: Double
    package var repetitions: Int
    package var idleSeconds: Double

    /// SHA-256 of what the suite measures (workloads, token shape, kernels, limits) as canonical JSON
    /// (sorted keys, no whitespace): results compare only within a hash. Settings that change only
    /// the noise (min time, repetitions, idle seconds) and the description are left out.
    package var sha256: String {
        struct Content: Encodable {
            package var schema: String, workloads: [Entry], promptTokens: Int, outputTokens: Int, kernels: [String],
                machineLimits: Bool
        }
        let content = Content(
            schema: schema, workloads: workloads, promptTokens: promptTokens, outputTokens: outputTokens,
            kernels: kernels, machineLimits: machineLimits)
        return SHA256.hex((try? JSON.encode(content, pretty: false)) ?? name)
    }

    /// The range of each setting: the same for a suite file and for the `perwatt run` flag that
    /// overrides it (docs/cli.md).
    package enum Limits {
        package static let promptTokens = 1...1_000_000
        package static let outputTokens = 0...1_000_000
        package static let repetitions = 1...1000
        package static let minTimeSeconds = 0.001...600.0
        package static let idleSeconds = 0.0...3600.0
        package static let workloads = 1...10_000
        package static let kernels = 0...10_000
    }

    package static let builtins: [Suite] = [
        Suite(
            name: "workstation",
            description:
                "Machine limits, key kernels per precision, and small models at bf16, q8_0 and q4_0 with published MMLU fixtures (about 3 minutes on 2 cores)",
            workloads: [
                Entry(model: "qwen2-0.5b", quantization: "bf16"), Entry(model: "qwen2-0.5b", quantization: "q8_0"),
                Entry(model: "qwen2-0.5b", quantization: "q4_0"), Entry(model: "qwen2-1.5b", quantization: "bf16"),
                Entry(model: "qwen2-1.5b", quantization: "q8_0"), Entry(model: "qwen2-1.5b", quantization: "q4_0"),
                Entry(model: "llama-3.2-1b", quantization: "bf16"), Entry(model: "llama-3.2-1b", quantization: "q4_0"),
            ],
            promptTokens: 256, outputTokens: 1,
            kernels: [
                "gemv.f32.1x4096x4096", "gemv.bf16.1x4096x4096", "gemv.q8_0.1x4096x4096", "gemv.q4_0.1x4096x4096",
                "gemm.f32.512x512x512", "attention.decode.f32.t1.l4096.h32.kv8.d128",
            ],
            machineLimits: true, minTimeSeconds: 0.25, repetitions: 5, idleSeconds: 5),
        Suite(
            name: "quick",
            description: "Smoke test for CI: one small model at q8_0 and q4_0, short windows (under 30 seconds)",
            workloads: [
                Entry(model: "qwen2-0.5b", quantization: "q8_0"), Entry(model: "qwen2-0.5b", quantization: "q4_0"),
            ],
            promptTokens: 32, outputTokens: 1, kernels: [], machineLimits: false, minTimeSeconds: 0.05, repetitions: 3,
            idleSeconds: 0),
        Suite(
            name: "quantization",
            description:
                "One model family at every quantization with a published fixture: Qwen2 0.5B, 1.5B and 7B at bf16, q8_0 and q4_0",
            workloads: ["qwen2-0.5b", "qwen2-1.5b", "qwen2-7b"].flatMap { model in
                ["bf16", "q8_0", "q4_0"].map { Entry(model: model, quantization: $0) }
            },
            promptTokens: 256, outputTokens: 1, kernels: [], machineLimits: true, minTimeSeconds: 0.25, repetitions: 5,
            idleSeconds: 5),
    ]

    /// A built-in suite by name, or a suite file by path; `isKnownModel` says which model ids exist.
    package static func resolve(_ nameOrPath: String, isKnownModel: (String) -> Bool) throws -> Suite {
        if let suite = builtins.first(where: { $0.name == nameOrPath }) { return suite }
        guard nameOrPath.hasSuffix(".json") || nameOrPath.contains("/") else {
            throw SettingError(
                setting: "--suite",
                message:
                    "--suite takes \(builtins.map(\.name).joined(separator: ", ")) or the path of a perwatt.suite/1 file; not '\(shown(nameOrPath))'"
            )
        }
        return try load(nameOrPath, isKnownModel: isKnownModel)
    }

    package enum CodingKeys: String, CodingKey, CaseIterable {
        case schema, name, description, workloads, promptTokens, outputTokens, kernels, machineLimits, minTimeSeconds,
            repetitions, idleSeconds
    }

    /// Reads a perwatt.suite/1 file through `JSONValueDecoder`: every field checked with the bounds of
    /// its flag (`init(from:)`), then every model and kernel named checked to exist here; errors name
    /// the file, line and field (exit 65).
    package static func load(_ path: String, isKnownModel: (String) -> Bool) throws -> Suite {
        let json = try InputFile.json(try InputFile.read(path), file: path)
        let suite = try JSONValueDecoder(file: path).decode(Suite.self, from: json)
        // Checked here, not in init(from:): a result keeps its suite's name with "+models" appended.
        guard suite.name.count <= 100 else {
            throw InputError(
                file: path, line: json["name"]?.line ?? json.line, field: "name",
                message: "must be at most 100 characters, not \(suite.name.count)")
        }
        let elements = json["workloads"]?.arrayValue ?? []
        for (index, entry) in suite.workloads.enumerated() where !isKnownModel(entry.model) {
            throw InputError(
                file: path, line: elements[index]["model"]?.line ?? json.line, field: "workloads[\(index)].model",
                message:
                    "\"\(shown(entry.model))\" is not a model perwatt knows; see perwatt models (or import it with perwatt models import)"
            )
        }
        let catalog = Set(KernelCatalog.standard().map(\.name))
        let kernelElements = json["kernels"]?.arrayValue ?? []
        for (index, name) in suite.kernels.enumerated() where !catalog.contains(name) {
            throw InputError(
                file: path, line: kernelElements[index].line, field: "kernels[\(index)]",
                message: "\"\(shown(name))\" is not a kernel case perwatt has; see perwatt kernels --list")
        }
        return suite
    }

    /// Every field checked with the bounds of the flag it mirrors (`Limits`), unknown fields refused.
    package init(from decoder: any Decoder) throws {
        let r = try KeyedReader(decoder, keys: CodingKeys.self)
        let schema = try r.string(.schema)!
        guard schema == "perwatt.suite/1" else {
            throw r.error(.schema, "must be \"perwatt.suite/1\", not \"\(shown(schema))\"")
        }
        guard let list = r.member(.workloads)?.arrayValue else {
            throw r.error(.workloads, "must be an array of {\"model\", \"quantization\"}")
        }
        guard Limits.workloads.contains(list.count) else {
            throw r.error(
                .workloads,
                "must hold from \(Limits.workloads.lowerBound) to \(Limits.workloads.upperBound) entries, not \(list.count)"
            )
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let entries = try container.decode([Entry].self, forKey: .workloads)
        var kernels: [String] = []
        if let member = r.member(.kernels) {
            guard let elements = member.arrayValue, Limits.kernels.contains(elements.count) else {
                throw r.error(
                    .kernels,
                    "must be an array of at most \(Limits.kernels.upperBound) kernel case names (see perwatt kernels --list)"
                )
            }
            for (index, element) in elements.enumerated() {
                guard let name = element.stringValue else {
                    throw InputError(
                        file: r.reader.file, line: element.line, field: "kernels[\(index)]",
                        message: "must be a kernel case name, not \(element.typeName)")
                }
                kernels.append(name)
            }
        }
        let name = try r.string(.name)!
        self.init(
            name: name, description: try r.string(.description, required: false) ?? "", workloads: entries,
            promptTokens: try r.int(.promptTokens, in: Limits.promptTokens)!,
            outputTokens: try r.int(.outputTokens, in: Limits.outputTokens)!, kernels: kernels,
            machineLimits: try r.bool(.machineLimits, required: false) ?? false,
            minTimeSeconds: try r.double(.minTimeSeconds, required: false, in: Limits.minTimeSeconds) ?? 1,
            repetitions: try r.int(.repetitions, required: false, in: Limits.repetitions) ?? 5,
            idleSeconds: try r.double(.idleSeconds, required: false, in: Limits.idleSeconds) ?? 5)
    }

    package init(
        schema: String = "perwatt.suite/1", name: String, description: String, workloads: [Entry], promptTokens: Int,
        outputTokens: Int, kernels: [String], machineLimits: Bool, minTimeSeconds: Double, repetitions: Int,
        idleSeconds: Double
    ) {
        self.schema = schema
        self.name = name
        self.description = description
        self.workloads = workloads
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.kernels = kernels
        self.machineLimits = machineLimits
        self.minTimeSeconds = minTimeSeconds
        self.repetitions = repetitions
        self.idleSeconds = idleSeconds
    }
}
