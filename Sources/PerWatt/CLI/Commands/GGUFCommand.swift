import Foundation
import KernelBench
import PerWattCore

/// `perwatt gguf info FILE`: what a GGUF model file holds, checked. `perwatt gguf tokenize FILE`: its
/// tokenizer, run on a text (or on token ids, back to text).
enum GGUFCommand: Command {
    static let name = "gguf"
    static let summary = "read a GGUF model file: architecture, tensors by type, tokenizer, memory needed"

    /// Every option of the command, declared once: the parser and the help come from here.
    struct Options: OptionGroup {
        let json = Flag("--json", help: "print one perwatt.gguf/1 (info) or perwatt.tokens/1 (tokenize) object")
        let text = Option<String>.text("--text", "TEXT", help: "tokenize: the text (with --detokenize, the ids)")
        let file = Option<String>.text(
            "--file", "FILE", help: "tokenize: read the text (or the ids) from FILE, its bytes exactly")
        let detokenize = Flag(
            "--detokenize", help: "tokenize: read token ids (separated by spaces or commas) and print their text")
        let noBOS = Flag("--no-bos", help: "tokenize: do not add the BOS (and EOS) tokens the model asks for")
        let parseSpecial = Flag(
            "--parse-special", help: "tokenize: text that spells a control token (<|im_end|>) is that token")
        let noSpecial = Flag(
            "--no-special", help: "tokenize: control tokens have no text in the pieces and detokenized text")
        let type = Option<Precision>.choice(
            "--type", help: "quantize: the type every weight matrix is written at (as llama-quantize --pure)")
        let helpFlag = Flag("--help", help: "show this help")
    }

    static let o = Options()
    static var specs: [OptionSpec] { Options.specs }

    static let help = """
        Usage: perwatt gguf info FILE.gguf [--json]
               perwatt gguf tokenize FILE.gguf (--text TEXT | --file FILE) [--json] [--no-bos] [--parse-special]
               perwatt gguf tokenize FILE.gguf --detokenize (--text IDS | --file FILE) [--json] [--no-special]
               perwatt gguf quantize IN.gguf OUT.gguf --type f32|f16|bf16|q8_0|q4_0|q4_1

        Opens a GGUF file (versions 2 and 3) and checks it whole before saying anything: every metadata
        value, every tensor's type, shape and place in the file. Then prints its architecture and name,
        the parameter count, the tensors by type with their bytes, the context length, the tokenizer
        (model, pre-tokenizer, vocabulary), whether it has a chat template, the perwatt model spec its
        metadata gives (what `perwatt models import FILE.gguf` saves and `perwatt run --model FILE.gguf`
        measures), and the memory it needs (weights plus an f16 KV cache for the whole context) against
        the memory available here. perwatt reads the tensor types f32, f16, bf16, q8_0, q4_0 and q4_1; a
        file with other types is refused by name.

        tokenize reads the file's tokenizer (tokenizer.ggml.*: byte-level BPE "gpt2" with the gpt-2,
        llama3, qwen2 and smollm families of pre-tokenizers, or SentencePiece "llama") and prints the
        token ids of the text as llama.cpp's llama-tokenize --ids does, [1, 2, 3], the same ids. BOS (and
        EOS) are added where the model asks for them, unless --no-bos. Control tokens are split out of
        the text only with --parse-special (llama_tokenize's default is not to; llama-tokenize's is to, so
        llama-tokenize --ids matches tokenize --parse-special). With --json: the ids, each token's text
        (its piece) and the text. --detokenize reads ids, as llama-tokenize prints them or one per line,
        and prints their text exactly (no newline added).

        quantize writes IN's model as a GGUF v3 file with every weight matrix (each 2-D tensor named
        *weight, the token embedding and the output head included) dequantized and quantized to --type
        with ggml's reference quantizers: what `llama-quantize --pure --allow-requantize IN OUT TYPE`
        writes, tensor bytes identical. Norms and biases stay as they are; matrices already at --type are
        copied; the metadata is kept, general.file_type and general.quantization_version set. OUT is
        written atomically (a temporary file renamed over it).

        Options:
        \(Help.options(specs))

        Exit codes: 0 success; 64 usage error (also an id that is not in the vocabulary); 65 the file is
        not a GGUF perwatt can read (the message names the byte offset and the key or tensor), or its
        tokenizer is one perwatt does not implement (the message names the key and value), or --file is
        not UTF-8; 66 a file cannot be read.

        """

    static func run(_ arguments: [String], context: CLIContext) throws -> ExitCode {
        let options = try parseOptions(
            arguments, specs: specs, command: name, stopAtPositional: false, collectPositionals: true)
        if options.has(o.helpFlag) {
            context.stdout.write(help)
            return .success
        }
        if options.positionals.first == "quantize" {
            guard options.positionals.count == 3, let type = try options.value(o.type) else {
                throw UsageError(message: "takes: quantize IN.gguf OUT.gguf --type TYPE", command: name)
            }
            let input = try GGUFFile(path: options.positionals[1])
            let bytes = try GGUFRequantizer.requantize(input, to: type)
            try OutputFile.write(bytes, to: options.positionals[2])
            context.stdout.line(
                "wrote \(options.positionals[2]): \(input.tensors.count) tensors, every weight matrix \(type.rawValue), "
                    + "\(bytesText(UInt64(bytes.count)))")
            return .success
        }
        if options.positionals.first == "tokenize" {
            guard options.positionals.count == 2 else {
                throw UsageError(message: "takes: tokenize FILE.gguf (--text TEXT | --file FILE)", command: name)
            }
            return try tokenize(options.positionals[1], options, context: context)
        }
        guard options.positionals.first == "info", options.positionals.count == 2 else {
            throw UsageError(
                message: "takes: info FILE.gguf, tokenize FILE.gguf, or quantize IN.gguf OUT.gguf --type TYPE",
                command: name)
        }
        let tokenizeOnly =
            [o.detokenize, o.noBOS, o.parseSpecial, o.noSpecial].filter(options.has).map(\.spec.name)
            + [o.text, o.file].filter { options.value($0) != nil }.map(\.spec.name)
        if let option = tokenizeOnly.first {
            throw UsageError(message: "\(option) is an option of tokenize, not of info", command: name)
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

    /// What `tokenize --json` prints.
    struct TokensReport: Encodable {
        var schema = "perwatt.tokens/1"
        var file: String
        var model: String
        var pre: String
        var vocabularySize: Int
        var ids: [Int]
        /// Each token's bytes as text (`llama_token_to_piece`); bytes that are not UTF-8 (part of a
        /// character) appear as U+FFFD.
        var pieces: [String]
        /// The input text, or with --detokenize the ids' text.
        var text: String
    }

    /// `gguf tokenize`: text to ids, or with --detokenize ids to text.
    static func tokenize(_ path: String, _ options: ParsedOptions, context: CLIContext) throws -> ExitCode {
        let input: String
        switch (options.value(o.text), options.value(o.file)) {
        case (let text?, nil): input = text
        case (nil, let file?): input = try InputFile.read(file)
        default: throw UsageError(message: "tokenize takes one of --text TEXT and --file FILE", command: name)
        }
        let tokenizer = try Tokenizer(gguf: try GGUFFile(path: path))
        let special = !options.has(o.noSpecial)
        let ids: [Int]
        let text: String
        if options.has(o.detokenize) {
            ids = try input.split(whereSeparator: { $0 == "," || $0 == "[" || $0 == "]" || $0.isWhitespace }).map {
                guard let id = Int($0), id >= 0, id < tokenizer.vocabularySize else {
                    throw UsageError(
                        message: "--detokenize: '\(shown(String($0)))' is not a token id of this vocabulary "
                            + "(0 to \(tokenizer.vocabularySize - 1))",
                        command: name)
                }
                return id
            }
            text = tokenizer.decode(ids, removeSpecial: false, unparseSpecial: special)
        } else {
            ids = tokenizer.encode(input, addSpecial: !options.has(o.noBOS), parseSpecial: options.has(o.parseSpecial))
            text = input
        }
        if options.has(o.json) {
            let report = TokensReport(
                file: path, model: tokenizer.model, pre: tokenizer.pre, vocabularySize: tokenizer.vocabularySize,
                ids: ids, pieces: ids.map { String(decoding: tokenizer.piece($0, special: special), as: UTF8.self) },
                text: text)
            context.stdout.line(try JSON.encode(report))
        } else if options.has(o.detokenize) {
            context.stdout.write(text)
        } else {
            context.stdout.line("[" + ids.map(String.init).joined(separator: ", ") + "]")
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
