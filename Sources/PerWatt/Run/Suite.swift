import Foundation
import KernelBench

/// What `perwatt run` measures (`perwatt.suite/1`): workloads as explicit (model, quantization)
/// pairs, their token shape, and the measurement settings. Built-in suites are compiled in; the
/// same JSON loads from a file (Benchmarks/suites/ holds copies of the built-in ones).
struct Suite: Codable, Sendable, Hashable {
    struct Entry: Codable, Sendable, Hashable {
        var model: String
        var quantization: String
    }

    var schema = "perwatt.suite/1"
    var name: String
    var description: String
    var workloads: [Entry]
    /// Token shape of a query when a fixture does not give one; prefill is measured at `promptTokens`.
    var promptTokens: Int
    var outputTokens: Int
    /// Kernel cases (names from `perwatt kernels --list`) measured beside the workloads.
    var kernels: [String]
    /// Measure the machine's f32 FMA peak and triad bandwidth.
    var machineLimits: Bool
    var minTimeSeconds: Double
    var repetitions: Int
    var idleSeconds: Double

    /// SHA-256 of what the suite measures (workloads, token shape, kernels, limits) as canonical JSON
    /// (sorted keys, no whitespace): results compare only within a hash. Settings that change only
    /// the noise (min time, repetitions, idle seconds) and the description are left out.
    var sha256: String {
        struct Content: Encodable {
            var schema: String, workloads: [Entry], promptTokens: Int, outputTokens: Int, kernels: [String], machineLimits: Bool
        }
        let content = Content(schema: schema, workloads: workloads, promptTokens: promptTokens, outputTokens: outputTokens,
                              kernels: kernels, machineLimits: machineLimits)
        return SHA256.hex((try? JSON.encode(content, pretty: false)) ?? name)
    }

    static let builtins: [Suite] = [
        Suite(name: "workstation",
              description: "Machine limits, key kernels per precision, and small models at bf16, q8_0 and q4_0 with published MMLU fixtures (about 3 minutes on 2 cores)",
              workloads: [Entry(model: "qwen2-0.5b", quantization: "bf16"), Entry(model: "qwen2-0.5b", quantization: "q8_0"),
                          Entry(model: "qwen2-0.5b", quantization: "q4_0"), Entry(model: "qwen2-1.5b", quantization: "bf16"),
                          Entry(model: "qwen2-1.5b", quantization: "q8_0"), Entry(model: "qwen2-1.5b", quantization: "q4_0"),
                          Entry(model: "llama-3.2-1b", quantization: "bf16"), Entry(model: "llama-3.2-1b", quantization: "q4_0")],
              promptTokens: 256, outputTokens: 1,
              kernels: ["gemv.f32.1x4096x4096", "gemv.bf16.1x4096x4096", "gemv.q8_0.1x4096x4096", "gemv.q4_0.1x4096x4096",
                        "gemm.f32.512x512x512", "attention.decode.f32.t1.l4096.h32.kv8.d128"],
              machineLimits: true, minTimeSeconds: 0.25, repetitions: 5, idleSeconds: 5),
        Suite(name: "quick",
              description: "Smoke test for CI: one small model at q8_0 and q4_0, short windows (under 30 seconds)",
              workloads: [Entry(model: "qwen2-0.5b", quantization: "q8_0"), Entry(model: "qwen2-0.5b", quantization: "q4_0")],
              promptTokens: 32, outputTokens: 1, kernels: [], machineLimits: false, minTimeSeconds: 0.05, repetitions: 3,
              idleSeconds: 0),
        Suite(name: "quantization",
              description: "One model family at every quantization with a published fixture: Qwen2 0.5B, 1.5B and 7B at bf16, q8_0 and q4_0",
              workloads: ["qwen2-0.5b", "qwen2-1.5b", "qwen2-7b"].flatMap { model in
                  ["bf16", "q8_0", "q4_0"].map { Entry(model: model, quantization: $0) }
              },
              promptTokens: 256, outputTokens: 1, kernels: [], machineLimits: true, minTimeSeconds: 0.25, repetitions: 5,
              idleSeconds: 5),
    ]

    /// A built-in suite by name, or a suite file by path.
    static func resolve(_ nameOrPath: String) throws -> Suite {
        if let suite = builtins.first(where: { $0.name == nameOrPath }) { return suite }
        guard nameOrPath.hasSuffix(".json") || nameOrPath.contains("/") else {
            throw UsageError(message: "--suite takes \(builtins.map(\.name).joined(separator: ", ")) or the path of a perwatt.suite/1 file; not '\(nameOrPath)'",
                             command: "run")
        }
        return try load(nameOrPath)
    }

    static func load(_ path: String) throws -> Suite {
        let json = try InputFile.json(try InputFile.read(path), file: path)
        let r = try ObjectReader(json, file: path)
        try r.rejectUnknown(["schema", "name", "description", "workloads", "promptTokens", "outputTokens", "kernels", "machineLimits",
                             "minTimeSeconds", "repetitions", "idleSeconds"])
        let schema = try r.string("schema")!
        guard schema == "perwatt.suite/1" else { throw r.error("schema", "must be \"perwatt.suite/1\", not \"\(schema)\"") }
        guard let list = json["workloads"]?.arrayValue else { throw r.error("workloads", "must be an array of {\"model\", \"quantization\"}") }
        var entries: [Entry] = []
        for (index, element) in list.enumerated() {
            let e = try ObjectReader(element, file: path, path: "workloads[\(index)]")
            try e.rejectUnknown(["model", "quantization"])
            let quantization = try e.string("quantization")!
            guard Precision(rawValue: quantization) != nil else {
                throw e.error("quantization", "must be one of \(Precision.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(quantization)\"")
            }
            entries.append(Entry(model: try e.string("model")!, quantization: quantization))
        }
        var kernels: [String] = []
        if let member = json["kernels"] {
            guard let names = member.arrayValue?.compactMap(\.stringValue), names.count == member.arrayValue?.count else {
                throw r.error("kernels", "must be an array of kernel case names (see perwatt kernels --list)")
            }
            kernels = names
        }
        return Suite(name: try r.string("name")!, description: try r.string("description", required: false) ?? "", workloads: entries,
                     promptTokens: try r.int("promptTokens")!, outputTokens: try r.int("outputTokens", minimum: 0)!, kernels: kernels,
                     machineLimits: try r.bool("machineLimits", required: false) ?? false,
                     minTimeSeconds: try r.double("minTimeSeconds", required: false, in: 0.001...600) ?? 1,
                     repetitions: try r.int("repetitions", required: false) ?? 5,
                     idleSeconds: try r.double("idleSeconds", required: false, in: 0...3600) ?? 5)
    }
}
