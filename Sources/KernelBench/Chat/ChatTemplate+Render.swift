extension ChatTemplate {
    /// The prompt llama.cpp builds for `messages` in this family, byte for byte.
    ///
    /// - Parameters:
    ///   - messages: the chat, oldest first. Each family treats roles its own way, as llama.cpp
    ///     does: some drop roles they do not know, some format any non-user message as the
    ///     assistant's, some merge the system message into the first user turn.
    ///   - addAssistant: end with the start of an assistant turn (`add_ass`). Families whose
    ///     llama.cpp code ignores it (Llama 2, Mistral, Orion, MiniCPM, RWKV, Hunyuan, DeepSeek OCR)
    ///     ignore it here too.
    /// - Returns: the prompt text, special tokens spelled out, no BOS added.
    /// - Throws: `ChatTemplateError.nulByte` for a role or content with a NUL byte, which llama.cpp's
    ///   C strings cannot carry.
    ///
    /// The corresponding C++ function is `llm_chat_apply_template` (src/llama-chat.cpp); the code
    /// below follows it family by family, in its order.
    public func render(_ messages: [ChatMessage], addAssistant: Bool) throws(ChatTemplateError) -> String {
        var chat: [ChatBytes] = []
        chat.reserveCapacity(messages.count)
        for (index, message) in messages.enumerated() {
            chat.append(try ChatBytes(message, index: index))
        }
        var ss = PromptStream()
        let addAss = addAssistant
        let trim = ChatByteText.trim
        switch self {
        case .chatml:
            for message in chat {
                ss.write("<|im_start|>", message.role, "\n", message.content, "<|im_end|>\n")
            }
            if addAss { ss.write("<|im_start|>assistant\n") }
        case .mistralV7, .mistralV7Tekken:
            // Official Mistral 'v7' and 'v7-tekken'.
            let trailingSpace = self == .mistralV7 ? " " : ""
            for message in chat {
                if message.roleIs("system") {
                    ss.write("[SYSTEM_PROMPT]", trailingSpace, message.content, "[/SYSTEM_PROMPT]")
                } else if message.roleIs("user") {
                    ss.write("[INST]", trailingSpace, message.content, "[/INST]")
                } else {
                    ss.write(trailingSpace, message.content, "</s>")
                }
            }
        case .mistralV1, .mistralV3, .mistralV3Tekken:
            let leadingSpace = self == .mistralV1 ? " " : ""
            let trailingSpace = self == .mistralV3Tekken ? "" : " "
            let trimAssistantMessage = self == .mistralV3
            var isInsideTurn = false
            for message in chat {
                if !isInsideTurn {
                    ss.write(leadingSpace, "[INST]", trailingSpace)
                    isInsideTurn = true
                }
                if message.roleIs("system") {
                    ss.write(message.content, "\n\n")
                } else if message.roleIs("user") {
                    ss.write(message.content, leadingSpace, "[/INST]")
                } else {
                    ss.write(trailingSpace, trimAssistantMessage ? trim(message.content) : message.content[...], "</s>")
                    isInsideTurn = false
                }
            }
        case .llama2, .llama2Sys, .llama2SysBos, .llama2SysStrip:
            let supportsSystemMessage = self != .llama2
            let addsBOSInsideHistory = self == .llama2SysBos
            let stripsMessages = self == .llama2SysStrip
            var isInsideTurn = true  // no BOS at the start
            ss.write("[INST] ")
            for message in chat {
                let content = stripsMessages ? trim(message.content) : message.content[...]
                if !isInsideTurn {
                    isInsideTurn = true
                    ss.write(addsBOSInsideHistory ? "<s>[INST] " : "[INST] ")
                }
                if message.roleIs("system") {
                    if supportsSystemMessage {
                        ss.write("<<SYS>>\n", content, "\n<</SYS>>\n\n")
                    } else {
                        // Without system message support, it still goes into the first message.
                        ss.write(content, "\n")
                    }
                } else if message.roleIs("user") {
                    ss.write(content, " [/INST]")
                } else {
                    ss.write(content, "</s>")
                    isInsideTurn = false
                }
            }
        case .phi3:
            for message in chat {
                ss.write("<|", message.role, "|>\n", message.content, "<|end|>\n")
            }
            if addAss { ss.write("<|assistant|>\n") }
        case .phi4:
            for message in chat {
                ss.write("<|im_start|>", message.role, "<|im_sep|>", message.content, "<|im_end|>")
            }
            if addAss { ss.write("<|im_start|>assistant<|im_sep|>") }
        case .falcon3:
            for message in chat {
                ss.write("<|", message.role, "|>\n", message.content, "\n")
            }
            if addAss { ss.write("<|assistant|>\n") }
        case .zephyr:
            for message in chat {
                ss.write("<|", message.role, "|>", "\n", message.content, "<|endoftext|>\n")
            }
            if addAss { ss.write("<|assistant|>\n") }
        case .monarch:
            // mlabonne/AlphaMonarch-7B: <s> inside the history, none before the first message.
            for (index, message) in chat.enumerated() {
                ss.write(index == 0 ? "" : "<s>", message.role, "\n", message.content, "</s>\n")
            }
            if addAss { ss.write("<s>assistant\n") }
        case .gemma:
            // google/gemma-7b-it: no system role, so system text joins the next non-model turn.
            var systemPrompt: [UInt8] = []
            for message in chat {
                if message.roleIs("system") {
                    systemPrompt += trim(message.content)
                    continue
                }
                let role = message.roleIs("assistant") ? Array("model".utf8) : message.role
                ss.write("<start_of_turn>", role, "\n")
                if !systemPrompt.isEmpty && role != Array("model".utf8) {
                    ss.write(systemPrompt, "\n\n")
                    systemPrompt = []
                }
                ss.write(trim(message.content), "<end_of_turn>\n")
            }
            if addAss { ss.write("<start_of_turn>model\n") }
        case .orion:
            // OrionStarAI/Orion-14B-Chat: no system role, so system text joins the next user turn.
            var systemPrompt: [UInt8] = []
            for message in chat {
                if message.roleIs("system") {
                    systemPrompt += message.content
                    continue
                } else if message.roleIs("user") {
                    ss.write("Human: ")
                    if !systemPrompt.isEmpty {
                        ss.write(systemPrompt, "\n\n")
                        systemPrompt = []
                    }
                    ss.write(message.content, "\n\nAssistant: </s>")
                } else {
                    ss.write(message.content, "</s>")
                }
            }
        case .openchat:
            // openchat/openchat-3.5-0106.
            for message in chat {
                if message.roleIs("system") {
                    ss.write(message.content, "<|end_of_turn|>")
                } else {
                    var role = message.role
                    if !role.isEmpty { role[0] = ChatByteText.upper(role[0]) }
                    ss.write("GPT4 Correct ", role, ": ", message.content, "<|end_of_turn|>")
                }
            }
            if addAss { ss.write("GPT4 Correct Assistant:") }
        case .vicuna, .vicunaOrca:
            // eachadea/vicuna-13b-1.1, and the Orca variant with a system prefix.
            for message in chat {
                if message.roleIs("system") {
                    if self == .vicunaOrca {
                        ss.write("SYSTEM: ", message.content, "\n")
                    } else {
                        ss.write(message.content, "\n\n")
                    }
                } else if message.roleIs("user") {
                    ss.write("USER: ", message.content, "\n")
                } else if message.roleIs("assistant") {
                    ss.write("ASSISTANT: ", message.content, "</s>\n")
                }
            }
            if addAss { ss.write("ASSISTANT:") }
        case .deepseek:
            // deepseek-ai/deepseek-coder-33b-instruct.
            for message in chat {
                if message.roleIs("system") {
                    ss.write(message.content)
                } else if message.roleIs("user") {
                    ss.write("### Instruction:\n", message.content, "\n")
                } else if message.roleIs("assistant") {
                    ss.write("### Response:\n", message.content, "\n<|EOT|>\n")
                }
            }
            if addAss { ss.write("### Response:\n") }
        case .commandR:
            // CohereForAI/c4ai-command-r-plus.
            ss.turns(
                chat, trimmed: true,
                [
                    ("system", "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>", "<|END_OF_TURN_TOKEN|>"),
                    ("user", "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>", "<|END_OF_TURN_TOKEN|>"),
                    ("assistant", "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>", "<|END_OF_TURN_TOKEN|>"),
                ])
            if addAss { ss.write("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>") }
        case .llama3:
            for message in chat {
                ss.write(
                    "<|start_header_id|>", message.role, "<|end_header_id|>\n\n", trim(message.content), "<|eot_id|>")
            }
            if addAss { ss.write("<|start_header_id|>assistant<|end_header_id|>\n\n") }
        case .chatglm3:
            ss.write("[gMASK]", "sop")
            for message in chat {
                ss.write("<|", message.role, "|>", "\n ", message.content)
            }
            if addAss { ss.write("<|assistant|>") }
        case .chatglm4:
            ss.write("[gMASK]", "<sop>")
            for message in chat {
                ss.write("<|", message.role, "|>", "\n", message.content)
            }
            if addAss { ss.write("<|assistant|>\n") }
        case .glmedge:
            for message in chat {
                ss.write("<|", message.role, "|>", "\n", message.content)
            }
            if addAss { ss.write("<|assistant|>") }
        case .minicpm:
            // MiniCPM-3B-OpenHermes-2.5-v2-GGUF.
            for message in chat {
                if message.roleIs("user") {
                    ss.write("<用户>", trim(message.content), "<AI>")
                } else {
                    ss.write(trim(message.content))
                }
            }
        case .deepseek2:
            for message in chat {
                if message.roleIs("system") {
                    ss.write(message.content, "\n\n")
                } else if message.roleIs("user") {
                    ss.write("User: ", message.content, "\n\n")
                } else if message.roleIs("assistant") {
                    ss.write("Assistant: ", message.content, "<｜end▁of▁sentence｜>")
                }
            }
            if addAss { ss.write("Assistant:") }
        case .deepseek3:
            for message in chat {
                if message.roleIs("system") {
                    ss.write(message.content, "\n\n")
                } else if message.roleIs("user") {
                    ss.write("<｜User｜>", message.content)
                } else if message.roleIs("assistant") {
                    ss.write("<｜Assistant｜>", message.content, "<｜end▁of▁sentence｜>")
                }
            }
            if addAss { ss.write("<｜Assistant｜>") }
        case .deepseekOCR:
            for message in chat {
                ss.write(message.content)  // no template
            }
        case .exaone3:
            // EXAONE-3.0-7.8B-Instruct.
            ss.turns(
                chat, trimmed: true,
                [
                    ("system", "[|system|]", "[|endofturn|]\n"),
                    ("user", "[|user|]", "\n"),
                    ("assistant", "[|assistant|]", "[|endofturn|]\n"),
                ])
            if addAss { ss.write("[|assistant|]") }
        case .exaone4:
            ss.turns(
                chat, trimmed: true,
                [
                    ("system", "[|system|]", "[|endofturn|]\n"),
                    ("user", "[|user|]", "\n"),
                    ("assistant", "[|assistant|]", "[|endofturn|]\n"),
                    ("tool", "[|tool|]", "[|endofturn|]\n"),
                ])
            if addAss { ss.write("[|assistant|]") }
        case .exaoneMoE:
            ss.turns(
                chat, trimmed: true,
                [
                    ("system", "<|system|>\n", "<|endofturn|>\n"),
                    ("user", "<|user|>\n", "<|endofturn|>\n"),
                    ("assistant", "<|assistant|>\n", "<|endofturn|>\n"),
                    ("tool", "<|tool|>\n", "<|endofturn|>\n"),
                ])
            if addAss { ss.write("<|assistant|>\n") }
        case .rwkvWorld:
            // "\n\n" is the model's end of turn; the assistant prefix follows a last user message
            // whatever addAssistant says.
            for (index, message) in chat.enumerated() {
                if message.roleIs("system") {
                    ss.write("System: ", trim(message.content), "\n\n")
                } else if message.roleIs("user") {
                    ss.write("User: ", trim(message.content), "\n\n")
                    if index == chat.count - 1 { ss.write("Assistant:") }
                } else if message.roleIs("assistant") {
                    ss.write("Assistant: ", trim(message.content), "\n\n")
                }
            }
        case .granite:
            // IBM Granite 3.x.
            for message in chat {
                ss.write("<|start_of_role|>", message.role, "<|end_of_role|>")
                if message.roleIs("assistant_tool_call") { ss.write("<|tool_call|>") }
                ss.write(message.content, "<|end_of_text|>\n")
            }
            if addAss { ss.write("<|start_of_role|>assistant<|end_of_role|>") }
        case .granite4_0, .granite4_1:
            // IBM Granite 4.0 and 4.1 (the same code in llama.cpp).
            for message in chat {
                if message.roleIs("assistant_tool_call") {
                    ss.write("<|start_of_role|>assistant<|end_of_role|><|tool_call|>")
                } else {
                    ss.write("<|start_of_role|>", message.role, "<|end_of_role|>")
                }
                ss.write(message.content, "<|end_of_text|>\n")
            }
            if addAss { ss.write("<|start_of_role|>assistant<|end_of_role|>") }
        case .gigachat:
            // Only a first system message counts; later ones, and roles other than user and
            // assistant, are dropped.
            let hasSystem = chat.first?.roleIs("system") ?? false
            if hasSystem {
                ss.write("<s>", chat[0].content, "<|message_sep|>")
            } else {
                ss.write("<s>")
            }
            for message in chat.dropFirst(hasSystem ? 1 : 0) {
                if message.roleIs("user") {
                    ss.write(
                        "user<|role_sep|>", message.content, "<|message_sep|>",
                        "available functions<|role_sep|>[]<|message_sep|>")
                } else if message.roleIs("assistant") {
                    ss.write("assistant<|role_sep|>", message.content, "<|message_sep|>")
                }
            }
            if addAss { ss.write("assistant<|role_sep|>") }
        case .megrez:
            for message in chat {
                ss.write("<|role_start|>", message.role, "<|role_end|>", message.content, "<|turn_end|>")
            }
            if addAss { ss.write("<|role_start|>assistant<|role_end|>") }
        case .yandex:
            // "\n\n" is the model's end of turn; system messages are dropped.
            ss.turns(
                chat, trimmed: false,
                [
                    ("user", " Пользователь: ", "\n\n"),
                    ("assistant", " Ассистент: ", "\n\n"),
                ])
            if addAss { ss.write(" Ассистент:[SEP]") }
        case .bailing, .bailingThink:
            // Ling and Ring: the role upper-cased, "user" as HUMAN.
            for message in chat {
                ss.write("<role>", Self.bailingRole(message), "</role>", message.content)
            }
            if addAss {
                ss.write("<role>ASSISTANT</role>")
                if self == .bailingThink { ss.write("<think>") }
            }
        case .bailing2:
            // Ling 2.0: a default system message when the chat does not start with one.
            let hasSystem = chat.first?.roleIs("system") ?? false
            if !hasSystem {
                ss.write("<role>SYSTEM</role>detailed thinking off<|role_end|>")
            }
            for message in chat {
                ss.write("<role>", Self.bailingRole(message), "</role>", message.content, "<|role_end|>")
            }
            if addAss { ss.write("<role>ASSISTANT</role>") }
        case .llama4:
            for message in chat {
                ss.write("<|header_start|>", message.role, "<|header_end|>\n\n", trim(message.content), "<|eot|>")
            }
            if addAss { ss.write("<|header_start|>assistant<|header_end|>\n\n") }
        case .smolvlm:
            // <|im_start|> is SmolVLM's BOS; the format is not chatml.
            ss.write("<|im_start|>")
            for message in chat {
                if message.roleIs("system") {
                    ss.write(message.content, "\n\n")
                } else if message.roleIs("user") {
                    ss.write("User: ", message.content, "<end_of_utterance>\n")
                } else {
                    ss.write("Assistant: ", message.content, "<end_of_utterance>\n")
                }
            }
            if addAss { ss.write("Assistant:") }
        case .dots1:
            // dots.llm1.inst.
            for message in chat {
                if message.roleIs("system") {
                    ss.write("<|system|>", message.content, "<|endofsystem|>")
                } else if message.roleIs("user") {
                    ss.write("<|userprompt|>", message.content, "<|endofuserprompt|>")
                } else {
                    ss.write("<|response|>", message.content, "<|endofresponse|>")
                }
            }
            if addAss { ss.write("<|response|>") }
        case .hunyuanMoE:
            // tencent/Hunyuan-A13B-Instruct.
            for message in chat {
                if message.roleIs("system") {
                    ss.write("<|startoftext|>", message.content, "<|extra_4|>")
                } else if message.roleIs("assistant") {
                    ss.write(message.content, "<|eos|>")
                } else {
                    ss.write("<|startoftext|>", message.content, "<|extra_0|>")
                }
            }
        case .gptOSS:
            // OpenAI gpt-oss (the Harmony format).
            for message in chat {
                ss.write("<|start|>", message.role, "<|message|>", message.content)
                ss.write(message.roleIs("assistant") ? "<|return|>" : "<|end|>")
            }
            if addAss { ss.write("<|start|>assistant") }
        case .hunyuanDense:
            // tencent/Hunyuan-4B-Instruct: a first system message, then user and assistant turns.
            for (index, message) in chat.enumerated() {
                if index == 0 && message.roleIs("system") {
                    ss.write(message.content, "<｜hy_place▁holder▁no▁3｜>")
                }
                if message.roleIs("assistant") {
                    ss.write("<｜hy_Assistant｜>", message.content, "<｜hy_place▁holder▁no▁2｜>")
                } else if message.roleIs("user") {
                    ss.write("<｜hy_User｜>", message.content, "<｜hy_Assistant｜>")
                }
            }
        case .hunyuanVL:
            // tencent/HunyuanOCR and tencent/HunyuanVL.
            ss.write("<｜hy_begin▁of▁sentence｜>")
            for (index, message) in chat.enumerated() {
                if index == 0 && message.roleIs("system") {
                    ss.write(message.content, "<｜hy_place▁holder▁no▁3｜>")
                    continue
                }
                if message.roleIs("user") {
                    ss.write(message.content, "<｜hy_User｜>")
                } else if message.roleIs("assistant") {
                    ss.write(message.content, "<｜hy_Assistant｜>")
                }
            }
        case .kimiK2:
            // moonshotai/Kimi-K2-Instruct: other roles get no header, only their content.
            for message in chat {
                if message.roleIs("system") {
                    ss.write("<|im_system|>system<|im_middle|>")
                } else if message.roleIs("user") {
                    ss.write("<|im_user|>user<|im_middle|>")
                } else if message.roleIs("assistant") {
                    ss.write("<|im_assistant|>assistant<|im_middle|>")
                } else if message.roleIs("tool") {
                    ss.write("<|im_system|>tool<|im_middle|>")
                }
                ss.write(message.content, "<|im_end|>")
            }
            if addAss { ss.write("<|im_assistant|>assistant<|im_middle|>") }
        case .seedOSS:
            for message in chat {
                let content = message.roleIs("assistant") ? trim(message.content) : message.content[...]
                ss.write("<seed:bos>", message.role, "\n", content, "<seed:eos>")
            }
            if addAss { ss.write("<seed:bos>assistant\n") }
        case .grok2:
            for message in chat {
                if message.roleIs("system") {
                    ss.write("System: ", trim(message.content), "<|separator|>\n\n")
                } else if message.roleIs("user") {
                    ss.write("Human: ", trim(message.content), "<|separator|>\n\n")
                } else if message.roleIs("assistant") {
                    ss.write("Assistant: ", message.content, "<|separator|>\n\n")
                }
            }
            if addAss { ss.write("Assistant:") }
        case .panguEmbedded:
            // [unused9]系统：…[unused10] per message, with an empty system message when the chat
            // does not start with one.
            for (index, message) in chat.enumerated() {
                if index == 0 && !message.roleIs("system") {
                    ss.write("[unused9]系统：[unused10]")
                }
                if message.roleIs("system") {
                    ss.write("[unused9]系统：", message.content, "[unused10]")
                } else if message.roleIs("user") {
                    ss.write("[unused9]用户：", message.content, "[unused10]")
                } else if message.roleIs("assistant") {
                    ss.write("[unused9]助手：", message.content, "[unused10]")
                } else if message.roleIs("tool") {
                    ss.write("[unused9]工具：", message.content, "[unused10]")
                } else if message.roleIs("function") {
                    ss.write("[unused9]方法：", message.content, "[unused10]")
                }
            }
            if addAss { ss.write("[unused9]助手：") }
        case .solarOpen:
            for message in chat {
                ss.write("<|begin|>", message.role, "<|content|>", message.content, "<|end|>")
            }
            if addAss { ss.write("<|begin|>assistant") }
        }
        // Valid UTF-8: the messages were, and every cut (trim) and change (toupper) is at ASCII bytes.
        return String(decoding: ss.bytes, as: UTF8.self)
    }

    /// Bailing's role: "user" is HUMAN, any other role upper-cased (ASCII `toupper`, byte by byte).
    private static func bailingRole(_ message: ChatBytes) -> [UInt8] {
        message.roleIs("user") ? Array("HUMAN".utf8) : message.role.map(ChatByteText.upper)
    }
}

/// A message as llama.cpp sees it: the UTF-8 bytes of its role and content.
private struct ChatBytes {
    let role: [UInt8]
    let content: [UInt8]

    init(_ message: ChatMessage, index: Int) throws(ChatTemplateError) {
        role = Array(message.role.utf8)
        content = Array(message.content.utf8)
        if role.contains(0) { throw .nulByte(message: index, field: "role") }
        if content.contains(0) { throw .nulByte(message: index, field: "content") }
    }

    /// Whether the role is exactly `name` (`std::string == const char *`, byte for byte).
    func roleIs(_ name: StaticString) -> Bool {
        name.withUTF8Buffer { role.elementsEqual($0) }
    }
}

/// The prompt being written. `ss.write(a, b, c)` stands for llama.cpp's `ss << a << b << c`, so
/// each family can be checked against llm_chat_apply_template line by line.
private struct PromptStream {
    var bytes: [UInt8] = []

    mutating func write(_ pieces: any PromptText...) {
        for piece in pieces { piece.append(to: &bytes) }
    }

    /// The families that write each message as prefix + content + suffix by role, in `formats`' order
    /// of precedence, and skip roles they do not list; `trimmed` trims the content first.
    mutating func turns(
        _ chat: [ChatBytes], trimmed: Bool, _ formats: [(role: StaticString, prefix: String, suffix: String)]
    ) {
        for message in chat {
            guard let format = formats.first(where: { message.roleIs($0.role) }) else { continue }
            write(format.prefix, trimmed ? ChatByteText.trim(message.content) : message.content[...], format.suffix)
        }
    }
}

/// Text a prompt is written from: literals (`String`) and message bytes.
private protocol PromptText {
    func append(to bytes: inout [UInt8])
}

extension String: PromptText {
    fileprivate func append(to bytes: inout [UInt8]) { bytes.append(contentsOf: utf8) }
}

extension Array: PromptText where Element == UInt8 {
    fileprivate func append(to bytes: inout [UInt8]) { bytes.append(contentsOf: self) }
}

extension ArraySlice: PromptText where Element == UInt8 {
    fileprivate func append(to bytes: inout [UInt8]) { bytes.append(contentsOf: self) }
}
