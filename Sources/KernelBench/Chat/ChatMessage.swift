/// One message of a chat: who speaks (`"system"`, `"user"`, `"assistant"`, or a role a template
/// knows, such as `"tool"`) and what they say.
///
/// The source of truth is llama.cpp's `struct llama_chat_message` (include/llama.h): two C strings.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}
