import Foundation
import KernelBench
import PerWattCore
import PowerProbe

/// `perwatt generate FILE.gguf --prompt TEXT`: the greedy continuation of a prompt on perwatt's own
/// transformer runtime, with prompt and generation speed and, when a source exists, their energy.
enum GenerateCommand: Command {
    static let name = "generate"
    static let summary = "run a GGUF model on perwatt's own kernels: greedy continuation, tok/s and joules"

    /// Every option of the command, declared once: the parser and the help come from here.
    struct Options: OptionGroup {
        let prompt = Option<String>.text("--prompt", "TEXT", help: "the prompt (required)")
        let chat = Flag("--chat", help: "format the prompt as one user turn with the model's chat template")
        let chatTemplate = Option<String>.text(
            "--chat-template", "NAME", help: "use llama.cpp's built-in template NAME (implies --chat)")
        let maxTokens = Option<Int>.int(
            "--max-tokens", "N", in: 1...1_000_000, help: "generate at most N tokens (default 64)")
        let quantization = Option<Precision>.choice(
            "--quantization",
            help: "requantize every weight matrix to this type first (as llama-quantize --pure); default: as stored")
        let threads = Option<Int>.int("--threads", "N", in: 1...1024, help: "worker threads (default: all online CPUs)")
        let json = Flag("--json", help: "print one perwatt.generate/1 object on stdout")
        let force = Flag("--force", help: "load even if the model seems not to fit in the memory available")
        let helpFlag = Flag("--help", help: "show this help")
        let energy = EnergyOptionGroup()
    }

    static let o = Options()
    static var specs: [OptionSpec] { Options.specs }

    static let help = """
        Usage: perwatt generate FILE.gguf --prompt TEXT [--chat | --chat-template NAME] [--max-tokens N]
                                [--quantization f32|f16|bf16|q8_0|q4_0|q4_1] [--threads N] [--json]
                                [--energy SOURCE]

        Loads a llama, qwen2 or qwen3 GGUF model (tensor types f32, f16, bf16, q8_0, q4_0, q4_1), tokenizes the
        prompt with the model's own tokenizer (special tokens parsed, BOS added as the model says), runs it
        through perwatt's transformer on KernelBench's verified kernels, and decodes greedily (the largest
        logit, as llama.cpp at temperature 0) until an end-of-generation token or --max-tokens. Prints the
        continuation, then prompt and generation tokens per second and, when an energy source exists, the
        joules of each phase (each phase is one energy window). The arithmetic follows llama.cpp's CPU
        backend on x86 (AVX2) so that continuations agree with llama.cpp token for token.

        --chat formats the prompt as one user message with the chat template the file's
        tokenizer.chat_template is recognized as (the way llama.cpp's built-in templates detect it);
        --chat-template NAME picks one of llama.cpp's template names instead.

        Options:
        \(Help.options(specs))

        Exit codes: 0 success; 64 usage error; 65 a file or prompt perwatt cannot run (unsupported
        architecture, tensor type, tokenizer or template, prompt longer than the context); 66 the file cannot
        be read; 69 energy source asked for is absent or broken; 71 not enough memory; 77 counters not readable.

        """

    static func run(_ arguments: [String], context: CLIContext) throws -> ExitCode {
        let options = try parseOptions(
            arguments, specs: specs, command: name, stopAtPositional: false, collectPositionals: true)
        if options.has(o.helpFlag) {
            context.stdout.write(help)
            return .success
        }
        let energy = try EnergyOptions(options, environment: context.environment)
        guard options.positionals.count == 1 else {
            throw UsageError(message: "takes one model file: perwatt generate FILE.gguf --prompt TEXT", command: name)
        }
        guard let prompt = options.value(o.prompt) else {
            throw UsageError(message: "--prompt TEXT is required", command: name)
        }
        let template = options.value(o.chatTemplate)
        if let template, ChatTemplate(name: template) == nil {
            throw UsageError(
                message: "--chat-template \(shown(template)) is not one of llama.cpp's templates: "
                    + ChatTemplate.builtinNames.joined(separator: ", "), command: name)
        }
        let session = GenerateSession(
            path: options.positionals[0], prompt: prompt, chat: options.has(o.chat) || template != nil,
            chatTemplate: template, maxTokens: try options.value(o.maxTokens) ?? 64,
            quantization: try options.value(o.quantization),
            threads: try options.value(o.threads) ?? ProcessInfo.processInfo.activeProcessorCount)
        let (meter, noneReason) = try energy.makeMeter(context: context)
        let json = options.has(o.json)
        let report = try session.run(
            meter: meter, noneReason: noneReason, fingerprint: context.fingerprint(),
            availableMemoryBytes: context.availableMemoryBytes(), force: options.has(o.force)
        ) { message in
            if !json { context.stderr.line("perwatt generate: \(message)") }
        }
        if json {
            context.stdout.line(try JSON.encode(report))
        } else {
            context.stdout.write(render(report))
        }
        return .success
    }

    static func render(_ r: GenerationReport) -> String {
        func phase(_ p: GenerationReport.Phase) -> String {
            var text = "\(p.tokens) tokens in \(fixed(p.durationSeconds, 3)) s"
            if let rate = p.tokensPerSecond { text += " (\(fixed(rate, 1)) tok/s)" }
            if let energy = p.energy {
                if let joules = energy.joules, energy.trusted {
                    text += ", \(fixed(joules, 3)) J [\(energy.basis ?? "?")]"
                    if let perToken = p.joulesPerToken { text += ", \(fixed(perToken, 4)) J/token" }
                } else {
                    text +=
                        ", energy untrusted or unreadable: \((energy.untrustedReasons ?? []).joined(separator: "; "))"
                }
            }
            return text
        }
        var text = r.continuation + "\n\n"
        let types = r.weightTypes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        let lines: [(String, String)] = [
            (
                "model",
                "\(r.model) (\(r.architecture); matrices \(types)\(r.requantizedTo.map { ", requantized to \($0)" } ?? ""))"
            ),
            ("chat template", r.chatTemplate ?? "none (raw prompt)"),
            ("prompt", phase(r.prompting)),
            ("generation", phase(r.generation) + ", stopped by \(r.stoppedBy)"),
            ("threads", "\(r.threads)"),
            ("energy", r.energyUnavailableReason.map { "none (\($0))" } ?? "measured per phase (basis above)"),
        ]
        let width = lines.map(\.0.count).max() ?? 0
        for (key, value) in lines {
            text += key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value + "\n"
        }
        return text
    }
}
