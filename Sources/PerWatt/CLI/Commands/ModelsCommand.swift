import Foundation
import KernelBench
import PerWattCore

/// `perwatt models [--json]` and `perwatt models import FILE [--id ID]`.
enum ModelsCommand: Command {
    static let name = "models"
    static let summary = "list model specs (parameters, memory per precision); import a Hugging Face config.json"

    /// Every option of the command, declared once: the parser and the help come from here.
    struct Options: OptionGroup {
        let json = Flag("--json", help: "print the specs as JSON")
        let id = Option<String>.text(
            "--id", "ID", help: "import: the id to give the model (default: the config file's folder name)")
        let helpFlag = Flag("--help", help: "show this help")
    }

    static let o = Options()
    static var specs: [OptionSpec] { Options.specs }

    static let help = """
        Usage: perwatt models [--json]
               perwatt models import CONFIG.json [--id ID]

        Lists the model specs perwatt knows (built-in presets and imported ones) with parameter counts
        (total and active per token) and the memory their weights need at each precision (every matrix
        at that precision, K rounded up to whole 32-value blocks for q8_0/q4_0; norms in f32).

        `import` reads a Hugging Face config.json (num_hidden_layers, hidden_size, num_attention_heads,
        num_key_value_heads, head_dim, intermediate_size, vocab_size, tie_word_embeddings, and
        num_local_experts / num_experts_per_tok for MoE) or a perwatt.model/1 file, and saves it as a
        perwatt.model/1 file in $PERWATT_MODELS_DIR (default ~/.config/perwatt/models), where perwatt
        models and perwatt run --model find it.

        Options:
        \(Help.options(specs))

        Exit codes: 0 success; 64 usage error; 65 invalid config file; 66 unreadable file; 74 cannot save.

        """

    static func run(_ arguments: [String], context: CLIContext) throws -> ExitCode {
        let options = try parseOptions(
            arguments, specs: specs, command: "models", stopAtPositional: false, collectPositionals: true)
        if options.has(o.helpFlag) {
            context.stdout.write(help)
            return .success
        }
        if let subcommand = options.positionals.first {
            guard subcommand == "import" else {
                throw UsageError(message: "unknown subcommand '\(shown(subcommand))'", command: "models")
            }
            return try importModel(Array(options.positionals.dropFirst()), id: options.value(o.id), context: context)
        }
        let (models, invalid) = ModelRegistry.catalog(context.environment)
        if options.has(o.json) {
            struct Listed: Encodable {
                var spec: ModelSpec
                var parameters: Int
                var activeParameters: Int
                var weightBytes: [String: Double]
            }
            let listed = models.map { spec in
                Listed(
                    spec: spec, parameters: spec.parameters, activeParameters: spec.activeParameters,
                    weightBytes: Dictionary(
                        uniqueKeysWithValues: Precision.allCases.map { ($0.rawValue, spec.weightBytes($0)) }))
            }
            context.stdout.line(try JSON.encode(listed))
            for file in invalid {
                context.stderr.line(
                    Message.sanitized(
                        "perwatt models: warning: \(file.path) is not a valid model spec, skipped: \(file.reason)"))
            }
            return .success
        }
        var table = Table(
            ["ID", "NAME", "PARAMS", "ACTIVE", "LAYERS", "HIDDEN", "HEADS/KV", "FFN", "EXPERTS"]
                + Precision.allCases.map { $0.rawValue.uppercased() },
            rightAligned: Set(2..<(9 + Precision.allCases.count)))
        for spec in models {
            table.add(
                [
                    spec.id, spec.name, count(spec.parameters), count(spec.activeParameters), "\(spec.layers)",
                    "\(spec.hiddenSize)",
                    "\(spec.heads)/\(spec.kvHeads)", "\(spec.ffnSize)",
                    spec.experts.map { "\(spec.activeExperts ?? 0)/\($0)" } ?? "-",
                ]
                    + Precision.allCases.map { bytesText(UInt64(spec.weightBytes($0))) })
        }
        context.stdout.write(table.render())
        context.stdout.line(
            "\nWeights only; add the KV cache (f16: 2 × layers × KV heads × head dim × 2 bytes per token of context).")
        context.stdout.line("Imported models live in \(ModelRegistry.userDirectory(context.environment)).")
        if !invalid.isEmpty {
            context.stdout.line("\nINVALID (skipped; fix or delete the file):")
            for file in invalid { context.stdout.line(Message.sanitized("  \(file.path): \(file.reason)")) }
        }
        return .success
    }

    static func importModel(_ arguments: [String], id: String?, context: CLIContext) throws -> ExitCode {
        guard arguments.count == 1, let path = arguments.first else {
            throw UsageError(message: "import takes one config.json (or perwatt.model/1) file", command: "models")
        }
        let spec = try ModelRegistry.load(path, id: id)
        if let preset = ModelSpec.presets.first(where: { $0.id == spec.id }) {
            throw UsageError(
                message: "'\(shown(spec.id))' is the id of the built-in \(preset.name); choose another with --id",
                command: "models")
        }
        let directory = ModelRegistry.userDirectory(context.environment)
        let file = directory + "/" + spec.id + ".json"
        do {
            try JSON.write(spec, to: file)
        } catch {
            context.stderr.line("perwatt models: \(error)")
            return .ioError
        }
        context.stdout.line(
            "imported \(spec.id): \(count(spec.parameters)) parameters (\(count(spec.activeParameters)) active), \(spec.layers) layers → \(file)"
        )
        return .success
    }

    /// 1.24B, 135M.
    static func count(_ value: Int) -> String {
        let v = Double(value)
        if v >= 1e9 { return fixed(v / 1e9, 2) + "B" }
        if v >= 1e6 { return fixed(v / 1e6, 1) + "M" }
        return "\(value)"
    }
}
