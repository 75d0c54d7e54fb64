import Foundation
import KernelBench
import PerWattCore

/// `perwatt gguf info FILE`: what a GGUF model file holds, checked.
enum GGUFCommand: Command {
    static let name = "gguf"
    static let summary = "read a GGUF model file: architecture, tensors by type, tokenizer, memory needed"

    /// Every option of the command, declared once: the parser and the help come from here.
    struct Options: OptionGroup {
        let json = Flag("--json", help: "print one perwatt.gguf/1 object")
        let helpFlag = Flag("--help", help: "show this help")
    }

    static let o = Options()
    static var specs: [OptionSpec] { Options.specs }

    static let help = """
        Usage: perwatt gguf info FILE.gguf [--json]

        Opens a GGUF file (versions 2 and 3) and checks it whole before saying anything: every metadata
        value, every tensor's type, shape and place in the file. Then prints its architecture and name,
        the parameter count, the tensors by type with their bytes, the context length, the tokenizer
        (model, pre-tokenizer, vocabulary), whether it has a chat template, the perwatt model spec its
        metadata gives (what `perwatt models import FILE.gguf` saves and `perwatt run --model FILE.gguf`
        measures), and the memory it needs (weights plus an f16 KV cache for the whole context) against
        the memory available here. perwatt reads the tensor types f32, f16, bf16, q8_0, q4_0 and q4_1; a
        file with other types is refused by name.

        Options:
        \(Help.options(specs))

        Exit codes: 0 success; 64 usage error; 65 the file is not a GGUF perwatt can read (the message
        names the byte offset and the key or tensor); 66 the file cannot be read.

        """

    static func run(_ arguments: [String], context: CLIContext) throws -> ExitCode {
        let options = try parseOptions(
            arguments, specs: specs, command: name, stopAtPositional: false, collectPositionals: true)
        if options.has(o.helpFlag) {
            context.stdout.write(help)
            return .success
        }
        guard options.positionals.first == "info", options.positionals.count == 2 else {
            throw UsageError(message: "takes: info FILE.gguf", command: name)
        }
        let file = try GGUFFile(path: options.positionals[1])
        let summary = GGUFSummary(file, availableMemoryBytes: context.availableMemoryBytes())
        if options.has(o.json) {
            context.stdout.line(try JSON.encode(summary))
        } else {
            context.stdout.write(render(summary))
        }
        return .success
    }

    static func render(_ s: GGUFSummary) -> String {
        var lines: [(String, String)] = [
            ("file", "\(s.file) (GGUF v\(s.version), \(bytesText(UInt64(s.fileBytes))))"),
            ("architecture", s.architecture ?? "none given"),
            ("name", s.name ?? "none given"),
            ("parameters", "\(s.parameters) in \(s.tensorCount) tensors, \(bytesText(UInt64(s.tensorBytes)))"),
            ("context length", s.contextLength.map(String.init) ?? "not given"),
            (
                "tokenizer",
                "\(s.tokenizerModel ?? "none") (pre-tokenizer \(s.tokenizerPre ?? "default")), "
                    + "\(s.vocabularySize.map(String.init) ?? "no") tokens"
            ),
            ("chat template", s.chatTemplateCharacters.map { "present (\($0) characters)" } ?? "none"),
            ("metadata", "\(s.metadataCount) keys"),
        ]
        if let spec = s.spec {
            lines.append(
                (
                    "model spec",
                    "\(spec.id): \(spec.layers) layers, hidden \(spec.hiddenSize), \(spec.heads) heads / \(spec.kvHeads) KV "
                        + "of \(spec.headDim), FFN \(spec.ffnSize), vocabulary \(spec.vocabularySize), "
                        + (spec.tiedEmbeddings ? "tied output" : "separate output")
                ))
        } else {
            lines.append(("model spec", "none: \(s.specUnavailableReason ?? "unknown")"))
        }
        let fits = s.fitsInMemory.map { $0 ? "fits" : "does NOT fit" } ?? "not checked"
        let available = s.availableMemoryBytes.map { " in the \(bytesText($0)) available" } ?? ""
        lines.append(
            ("memory", "\(bytesText(UInt64(s.memoryBytes))) with a full-context f16 KV cache: \(fits)\(available)"))
        let width = lines.map(\.0.count).max() ?? 0
        var out = lines.map { $0.0.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.1 + "\n" }.joined()
        var table = Table(["TYPE", "TENSORS", "BYTES"], rightAligned: [1, 2])
        for type in s.types { table.add([type.type, String(type.tensors), bytesText(UInt64(type.bytes))]) }
        out += "\n" + table.render()
        return out
    }
}
