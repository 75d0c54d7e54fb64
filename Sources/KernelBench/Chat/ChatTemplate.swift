/// A chat prompt format, as llama.cpp's built-in (non-Jinja) chat template support knows it.
///
/// The cases are those of `enum llm_chat_template` in llama.cpp's src/llama-chat.h, in its order
/// (`LLM_CHAT_TEMPLATE_UNKNOWN` is `nil` here); the raw values are the names `LLM_CHAT_TEMPLATES`
/// gives them in src/llama-chat.cpp, which is what `--chat-template NAME` takes. One family has no
/// name there: `dots1` (dots.llm1) is only ever detected from a template's text, so
/// `ChatTemplate(name: "dots1")` is `nil` as in llama.cpp, and it is not in `builtinNames`.
///
/// Find the family with `detect(_:)` (a template text or a name) or `fromGGUF(_:)`, then `render`.
/// Nothing here interprets Jinja: llama.cpp recognizes a template by marker strings and formats the
/// chat with hand-written code per family, and so does this port.
public enum ChatTemplate: String, Sendable, CaseIterable {
    case chatml = "chatml"
    case llama2 = "llama2"
    case llama2Sys = "llama2-sys"
    case llama2SysBos = "llama2-sys-bos"
    case llama2SysStrip = "llama2-sys-strip"
    case mistralV1 = "mistral-v1"
    case mistralV3 = "mistral-v3"
    case mistralV3Tekken = "mistral-v3-tekken"
    case mistralV7 = "mistral-v7"
    case mistralV7Tekken = "mistral-v7-tekken"
    case phi3 = "phi3"
    case phi4 = "phi4"
    case falcon3 = "falcon3"
    case zephyr = "zephyr"
    case monarch = "monarch"
    case gemma = "gemma"
    case orion = "orion"
    case openchat = "openchat"
    case vicuna = "vicuna"
    case vicunaOrca = "vicuna-orca"
    case deepseek = "deepseek"
    case deepseek2 = "deepseek2"
    case deepseek3 = "deepseek3"
    case deepseekOCR = "deepseek-ocr"
    case commandR = "command-r"
    case llama3 = "llama3"
    case chatglm3 = "chatglm3"
    case chatglm4 = "chatglm4"
    case glmedge = "glmedge"
    case minicpm = "minicpm"
    case exaone3 = "exaone3"
    case exaone4 = "exaone4"
    case exaoneMoE = "exaone-moe"
    case rwkvWorld = "rwkv-world"
    /// IBM Granite 3.x (`LLM_CHAT_TEMPLATE_GRANITE_3_X`).
    case granite = "granite"
    case granite4_0 = "granite-4.0"
    case granite4_1 = "granite-4.1"
    case gigachat = "gigachat"
    case megrez = "megrez"
    case yandex = "yandex"
    case bailing = "bailing"
    case bailingThink = "bailing-think"
    case bailing2 = "bailing2"
    case llama4 = "llama4"
    case smolvlm = "smolvlm"
    /// dots.llm1 (`LLM_CHAT_TEMPLATE_DOTS1`): detected from a template text only, llama.cpp names it nowhere.
    case dots1 = "dots1"
    case hunyuanMoE = "hunyuan-moe"
    /// OpenAI gpt-oss, the Harmony format (`LLM_CHAT_TEMPLATE_OPENAI_MOE`).
    case gptOSS = "gpt-oss"
    case hunyuanDense = "hunyuan-dense"
    case hunyuanVL = "hunyuan-vl"
    case kimiK2 = "kimi-k2"
    case seedOSS = "seed_oss"
    case grok2 = "grok-2"
    case panguEmbedded = "pangu-embedded"
    case solarOpen = "solar-open"

    /// The family llama.cpp's `LLM_CHAT_TEMPLATES` gives this name, compared byte for byte; `nil` for
    /// any other text (`"dots1"` included).
    ///
    /// The corresponding C++ function is `llm_chat_template_from_str`.
    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.hasName && $0.rawValue.utf8.elementsEqual(name.utf8) })
        else { return nil }
        self = found
    }

    /// Whether llama.cpp names this family (all but `dots1`).
    public var hasName: Bool { self != .dots1 }

    /// The names `--chat-template` accepts, in llama.cpp's order (`LLM_CHAT_TEMPLATES` is a
    /// `std::map`, so byte order).
    ///
    /// The corresponding C function is `llama_chat_builtin_templates`.
    public static let builtinNames: [String] =
        allCases.filter(\.hasName).map(\.rawValue).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }

    /// The family of `name`, or an error that lists the names and the ways out.
    public static func named(_ name: String) throws(ChatTemplateError) -> ChatTemplate {
        guard let template = ChatTemplate(name: name) else { throw .unknownName(name) }
        return template
    }
}
