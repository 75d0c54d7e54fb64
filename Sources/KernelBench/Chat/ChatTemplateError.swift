/// Why a chat could not be turned into a prompt. Each message says what failed, where, and the ways
/// out: a template name (`--chat-template NAME`) or a raw prompt (no `--chat`).
public enum ChatTemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A template text that llama.cpp's built-in templates do not recognize (where
    /// `llama_chat_apply_template` returns -1). `source` names where the text came from (a GGUF
    /// path); `templateText` is the text.
    case unknownTemplate(source: String, templateText: String)
    /// A GGUF file without `tokenizer.chat_template`.
    case missingTemplate(file: String)
    /// A GGUF file whose `tokenizer.chat_template` is not a string.
    case templateNotText(file: String, value: String)
    /// A name that is not one of `ChatTemplate.builtinNames`.
    case unknownName(String)
    /// A message with a NUL byte in its role or content: llama.cpp passes messages as C strings and
    /// would silently cut the message there, so there is no llama.cpp rendering to match.
    case nulByte(message: Int, field: String)

    public var description: String {
        switch self {
        case .unknownTemplate(let source, let templateText):
            "\(source): the chat template (\(Self.excerpt(templateText))) is not one of llama.cpp's built-in "
                + "template families, so perwatt cannot format a chat for it; \(Self.waysOut)"
        case .missingTemplate(let file):
            "\(file): the model has no chat template (no tokenizer.chat_template key); \(Self.waysOut)"
        case .templateNotText(let file, let value):
            "\(file): tokenizer.chat_template is not a string but \(value); \(Self.waysOut)"
        case .unknownName(let name):
            "--chat-template \(name): no such template; the names are: "
                + "\(ChatTemplate.builtinNames.joined(separator: ", ")); or run without --chat to give a raw prompt"
        case .nulByte(let message, let field):
            "chat message \(message): its \(field) contains a NUL byte, which llama.cpp's C API would cut the "
                + "message at; remove it"
        }
    }

    private static var waysOut: String {
        "pass --chat-template NAME with one of: \(ChatTemplate.builtinNames.joined(separator: ", ")); "
            + "or run without --chat to give the prompt raw, exactly as the model should see it"
    }

    /// The first line of a template, shortened, so an error shows which template it was.
    private static func excerpt(_ text: String) -> String {
        let firstLine = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: true).first ?? ""
        let limit = 60
        let short = firstLine.count > limit ? firstLine.prefix(limit) + "…" : firstLine
        return "\(text.utf8.count) bytes, starting \"\(short)\""
    }
}
