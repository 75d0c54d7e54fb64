extension ChatTemplate {
    /// The family of a chat template text (a GGUF's `tokenizer.chat_template`) or of a template name;
    /// `nil` where llama.cpp gives `LLM_CHAT_TEMPLATE_UNKNOWN`.
    ///
    /// An exact name (`"chatml"`, …) is accepted first; otherwise the text is searched for each
    /// family's marker strings in llama.cpp's order, byte for byte (no Unicode equivalence).
    ///
    /// The corresponding C++ function is `llm_chat_detect_template` (src/llama-chat.cpp).
    public static func detect(_ templateText: String) -> ChatTemplate? {
        if let named = ChatTemplate(name: templateText) {
            return named
        }
        let text = Array(templateText.utf8)
        func has(_ marker: StaticString) -> Bool { ChatByteText.contains(text, marker) }

        if has("<|im_start|>") {
            // SmolVLM uses <|im_start|> as BOS, but it is not chatml.
            return has("<|im_sep|>") ? .phi4 : has("<end_of_utterance>") ? .smolvlm : .chatml
        } else if ChatByteText.hasPrefix(text, "mistral") || has("[INST]") {
            if has("[SYSTEM_PROMPT]") {
                return .mistralV7
            } else if has("' [INST] ' + system_message") || has("[AVAILABLE_TOOLS]") {
                // The official Mistral 'v1', 'v3' and 'v3-tekken' templates.
                if has(" [INST]") {
                    return .mistralV1
                } else if has("\"[INST]\"") {
                    return .mistralV3Tekken
                }
                return .mistralV3
            } else {
                // Llama 2 and its variants.
                let supportsSystemMessage = has("<<SYS>>")
                let addsBOSInsideHistory = has("bos_token + '[INST]")
                let stripsMessages = has("content.strip()")
                if stripsMessages {
                    return .llama2SysStrip
                } else if addsBOSInsideHistory {
                    return .llama2SysBos
                } else if supportsSystemMessage {
                    return .llama2Sys
                } else {
                    return .llama2
                }
            }
        } else if has("<|assistant|>") && has("<|end|>") {
            return .phi3
        } else if has("[gMASK]<sop>") {
            return .chatglm4
        } else if has("<|assistant|>") && has("<|user|>") {
            if has("<|tool_declare|>") {
                return .exaoneMoE
            }
            return has("</s>") ? .falcon3 : .glmedge
        } else if has("<|{{ item['role'] }}|>") && has("<|begin_of_image|>") {
            return .glmedge
        } else if has("<|user|>") && has("<|endoftext|>") {
            return .zephyr
        } else if has("bos_token + message['role']") {
            return .monarch
        } else if has("<start_of_turn>") {
            return .gemma
        } else if has("'\\n\\nAssistant: ' + eos_token") {
            return .orion  // OrionStarAI/Orion-14B-Chat
        } else if has("GPT4 Correct ") {
            return .openchat  // openchat/openchat-3.5-0106
        } else if has("USER: ") && has("ASSISTANT: ") {
            // eachadea/vicuna-13b-1.1, and the Orca variant.
            return has("SYSTEM: ") ? .vicunaOrca : .vicuna
        } else if has("### Instruction:") && has("<|EOT|>") {
            return .deepseek  // deepseek-ai/deepseek-coder-33b-instruct
        } else if has("<|START_OF_TURN_TOKEN|>") && has("<|USER_TOKEN|>") {
            return .commandR  // CohereForAI/c4ai-command-r-plus
        } else if has("<|start_header_id|>") && has("<|end_header_id|>") {
            return .llama3
        } else if has("[gMASK]sop") {
            return .chatglm3  // chatglm3-6b
        } else if has("<用户>") {
            return .minicpm  // MiniCPM-3B-OpenHermes-2.5-v2-GGUF
        } else if has("'Assistant: ' + message['content'] + eos_token") {
            return .deepseek2
        } else if has("<｜Assistant｜>") && has("<｜User｜>") && has("<｜end▁of▁sentence｜>") {
            return .deepseek3
        } else if has("[|system|]") && has("[|assistant|]") && has("[|endofturn|]") {
            // EXAONE-3.0-7.8B-Instruct, or EXAONE 4 where it has a tool role.
            return has("[|tool|]") ? .exaone4 : .exaone3
        } else if has("rwkv-world") || has("{{- 'User: ' + message['content']|trim + '\\n\\n' -}}") {
            return .rwkvWorld
        } else if has("<|start_of_role|>") {
            if has("<tool_call>") || has("<tools>") {
                return has("g4_default_system_message") ? .granite4_0 : .granite4_1
            }
            return .granite
        } else if has(
            "message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]")
        {
            return .gigachat
        } else if has("<|role_start|>") {
            return .megrez
        } else if has(" Ассистент:") {
            return .yandex
        } else if has("<role>ASSISTANT</role>") && has("'HUMAN'") {
            return .bailing
        } else if has("<role>ASSISTANT</role>") && has("\"HUMAN\"") && has("<think>") {
            return .bailingThink
        } else if has("<role>ASSISTANT</role>") && has("<role>HUMAN</role>") && has("<|role_end|>") {
            return .bailing2
        } else if has("<|header_start|>") && has("<|header_end|>") {
            return .llama4
        } else if has("<|endofuserprompt|>") {
            return .dots1
        } else if has("<|extra_0|>") && has("<|extra_4|>") {
            return .hunyuanMoE
        } else if has("<|start|>") && has("<|channel|>") {
            return .gptOSS
        } else if has("<｜hy_Assistant｜>") && has("<｜hy_begin▁of▁sentence｜>") {
            return .hunyuanVL
        } else if has("<｜hy_Assistant｜>") && has("<｜hy_place▁holder▁no▁3｜>") {
            return .hunyuanDense
        } else if has("<|im_assistant|>assistant<|im_middle|>") {
            return .kimiK2
        } else if has("<seed:bos>") {
            return .seedOSS
        } else if has("'Assistant: '  + message['content'] + '<|separator|>") {
            return .grok2
        } else if has("[unused9]系统：[unused10]") {
            return .panguEmbedded
        } else if has("<|begin|>") && has("<|end|>") && has("<|content|>") {
            return .solarOpen
        }
        return nil
    }

    /// The family of a template text, or an error naming `source` (a GGUF path) and the ways out.
    public static func detected(in templateText: String, source: String) throws(ChatTemplateError) -> ChatTemplate {
        guard let template = detect(templateText) else {
            throw .unknownTemplate(source: source, templateText: templateText)
        }
        return template
    }
}
