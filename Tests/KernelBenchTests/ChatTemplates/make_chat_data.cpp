// Writes chat_data.json: what llama.cpp's built-in (non-jinja) chat template code gives for every
// template family, conversation and add_ass, for template texts and names, and for the test cases
// of llama.cpp's tests/test-chat-template.cpp. Built and run by make_chat_data.sh; see there.
//
// Usage: make_chat_data OUT.json TEMPLATE.jinja...
//
// It calls llama.cpp itself: llm_chat_detect_template and llm_chat_apply_template (src/llama-chat.h,
// the functions behind the public llama_chat_apply_template) and the public llama_chat_apply_template
// and llama_chat_builtin_templates (include/llama.h).

#include "llama-chat.h"
#include "llama.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#define U8C(x) (const char *)(u8##x)

// A JSON string, byte for byte: only '"', '\\' and control bytes are escaped, UTF-8 passes through.
static std::string json_string(const std::string & s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"') {
            out += "\\\"";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (c < 0x20) {
            char buf[8];
            snprintf(buf, sizeof(buf), "\\u%04x", c);
            out += buf;
        } else {
            out += (char) c;
        }
    }
    return out + "\"";
}

struct Message {
    std::string role;
    std::string content;
};

static std::string json_messages(const std::vector<Message> & messages) {
    std::string out = "[";
    for (size_t i = 0; i < messages.size(); i++) {
        out += (i ? ", " : "");
        out += "{\"role\": " + json_string(messages[i].role) + ", \"content\": " + json_string(messages[i].content) + "}";
    }
    return out + "]";
}

static std::vector<const llama_chat_message *> pointers(const std::vector<llama_chat_message> & chat) {
    std::vector<const llama_chat_message *> out;
    for (const auto & m : chat) {
        out.push_back(&m);
    }
    return out;
}

static std::vector<llama_chat_message> c_messages(const std::vector<Message> & messages) {
    std::vector<llama_chat_message> out;
    for (const auto & m : messages) {
        out.push_back({m.role.c_str(), m.content.c_str()});
    }
    return out;
}

// The public entry point, as a program using libllama calls it: size first, then the text.
static std::string public_apply(const std::string & tmpl, const std::vector<Message> & messages, bool add_ass,
                                int32_t & result) {
    auto chat = c_messages(messages);
    result = llama_chat_apply_template(tmpl.c_str(), chat.data(), chat.size(), add_ass, nullptr, 0);
    if (result < 0) {
        return "";
    }
    std::vector<char> buf(result + 1);
    llama_chat_apply_template(tmpl.c_str(), chat.data(), chat.size(), add_ass, buf.data(), buf.size());
    return std::string(buf.data(), result);
}

static std::string read_file(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

static std::string base_name(const std::string & path) {
    size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

int main(int argc, char ** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s OUT.json TEMPLATE.jinja...\n", argv[0]);
        return 2;
    }

    // From tests/test-chat-template.cpp (extracted by make_chat_data.sh): `conversation`,
    // `struct TestCase` and `test_cases`, exactly as llama.cpp's own test declares them.
#include "test_cases.inc"

    // Every family by its index in `enum llm_chat_template`, named where LLM_CHAT_TEMPLATES names it.
    std::vector<const char *> names(llama_chat_builtin_templates(nullptr, 0));
    llama_chat_builtin_templates(names.data(), names.size());
    std::map<int, std::string> name_of;
    for (const char * name : names) {
        name_of[(int) llm_chat_template_from_str(name)] = name;
    }

    std::vector<Message> reference;
    for (const auto & m : conversation) {
        reference.push_back({m.role, m.content});
    }
    std::vector<std::pair<std::string, std::vector<Message>>> conversations = {
        {"test-chat-template", reference},
        // Multi-line content, no system message, several turns, whitespace that trimming families cut
        // (C isspace: space, \t, \n, \v, \f, \r) and non-ASCII text.
        {"multiline", {
            {"user", "Write a haiku\nabout the sea.\n"},
            {"assistant", "  Waves fold into foam,\n\tsalt wind over the dunes\r\nthe tide keeps its time.  \n"},
            {"user", "Now one\n\nabout mountains: ünïcødé 日本 <b>&amp;</b>\v\f"},
            {"assistant", "Stone shoulders\nin snow,\nsilent.\r\n"},
            {"user", " \t Thanks! Last one:\n\n1. short\n2. \"quoted\" \\ backslash\n "},
        }},
        // Roles beyond system/user/assistant, two system messages (one not first), empty and blank
        // content, ending on an assistant message: each family's handling of what it does not expect.
        {"roles", {
            {"user", "What is the weather?"},
            {"system", "  Be brief.\n"},
            {"system", "Use metric units."},
            {"assistant_tool_call", "[{\"name\": \"get_weather\", \"arguments\": {\"location\": \"NYC\"}}]"},
            {"tool_response", "{\"temperature\": 22}"},
            {"tool", "{\"ok\": true}"},
            {"function", "sunny"},
            {"model", ""},
            {"user", "   "},
            {"assistant", " It is 22 °C and sunny. "},
        }},
        {"empty", {}},
    };

    std::string out = "{\n";
    out += "  \"llama_cpp_commit\": " + json_string(LLAMA_CPP_COMMIT) + ",\n";

    out += "  \"builtin_names\": [";
    for (size_t i = 0; i < names.size(); i++) {
        out += (i ? ", " : "") + json_string(names[i]);
    }
    out += "],\n";

    out += "  \"families\": [\n";
    for (int t = 0; t < (int) LLM_CHAT_TEMPLATE_UNKNOWN; t++) {
        out += std::string("    {\"index\": ") + std::to_string(t) + ", \"name\": " +
               (name_of.count(t) ? json_string(name_of[t]) : "null") + "}" +
               (t + 1 < (int) LLM_CHAT_TEMPLATE_UNKNOWN ? ",\n" : "\n");
    }
    out += "  ],\n";

    out += "  \"conversations\": [\n";
    for (size_t c = 0; c < conversations.size(); c++) {
        out += "    {\"name\": " + json_string(conversations[c].first) + ", \"messages\": " +
               json_messages(conversations[c].second) + "}" + (c + 1 < conversations.size() ? ",\n" : "\n");
    }
    out += "  ],\n";

    // Every family x conversation x add_ass, through llm_chat_apply_template itself.
    out += "  \"renderings\": [\n";
    bool first = true;
    for (int t = 0; t <= (int) LLM_CHAT_TEMPLATE_UNKNOWN; t++) {
        for (const auto & conv : conversations) {
            for (bool add_ass : {false, true}) {
                auto chat = c_messages(conv.second);
                std::string dest;
                int32_t res = llm_chat_apply_template((llm_chat_template) t, pointers(chat), dest, add_ass);
                out += std::string(first ? "" : ",\n") + "    {\"family\": " + std::to_string(t) +
                       ", \"conversation\": " + json_string(conv.first) + ", \"add_ass\": " +
                       (add_ass ? "true" : "false") + ", \"result\": " + std::to_string(res) +
                       ", \"output\": " + json_string(res < 0 ? "" : dest) + "}";
                first = false;
            }
        }
    }
    out += "\n  ],\n";

    // Detection: the template files, every built-in name, and a few texts at the edges of the rules.
    std::vector<std::string> probes = {
        "", "INVALID TEMPLATE", "dots1", "CHATML", "chatml ", "mistral", "mistral-v2", "Mistral [INST]",
        "[INST] [SYSTEM_PROMPT]", "<|im_start|>", "<|im_start|><|im_sep|>", "<|im_start|><end_of_utterance>",
        "<|assistant|><|end|>", "<|assistant|><|user|>", "<|assistant|><|user|></s>",
        "<|assistant|><|user|><|tool_declare|>", "<|user|><|endoftext|>", "<|endofuserprompt|>",
        "<role>ASSISTANT</role>\"HUMAN\"<think>", "<role>ASSISTANT</role>'HUMAN'<think>",
        "<role>ASSISTANT</role><role>HUMAN</role><|role_end|>", "<|start_of_role|><tools>",
        "<|start_of_role|><tool_call>g4_default_system_message", "[|system|][|assistant|][|endofturn|][|tool|]",
        // One text per detection rule, in llm_chat_detect_template's order, then a few where order matters.
        "' [INST] ' + system_message", "[AVAILABLE_TOOLS]\"[INST]\"", "[AVAILABLE_TOOLS][INST]", "[INST]<<SYS>>",
        "[INST]bos_token + '[INST]", "[INST]content.strip()", "[gMASK]<sop>",
        "<|{{ item['role'] }}|><|begin_of_image|>", "bos_token + message['role']", "<start_of_turn>",
        "'\\n\\nAssistant: ' + eos_token", "GPT4 Correct ", "USER: ASSISTANT: ", "SYSTEM: USER: ASSISTANT: ",
        "### Instruction:<|EOT|>", "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>", "<|start_header_id|><|end_header_id|>",
        "[gMASK]sop", "<用户>", "'Assistant: ' + message['content'] + eos_token",
        "<｜Assistant｜><｜User｜><｜end▁of▁sentence｜>", "[|system|][|assistant|][|endofturn|]", "{# rwkv-world #}",
        "{{- 'User: ' + message['content']|trim + '\\n\\n' -}}", "<|start_of_role|>",
        "message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]",
        "<|role_start|>", " Ассистент:", "<|header_start|><|header_end|>", "<|extra_0|><|extra_4|>",
        "<|start|><|channel|>", "<｜hy_Assistant｜><｜hy_begin▁of▁sentence｜>",
        "<｜hy_Assistant｜><｜hy_place▁holder▁no▁3｜>", "<|im_assistant|>assistant<|im_middle|>", "<seed:bos>",
        "'Assistant: '  + message['content'] + '<|separator|>", "[unused9]系统：[unused10]",
        "<|begin|><|end|><|content|>", "<|im_start|>[INST]", "<start_of_turn><|start_header_id|><|end_header_id|>",
        "<|assistant|><|end|>[gMASK]<sop>", "<｜Assistant｜><｜User｜>", "Ассистент:", "<|begin|><|content|>",
    };
    out += "  \"detections\": [\n";
    first = true;
    auto detection = [&](const std::string & kind, const std::string & key, const std::string & text) {
        int index = (int) llm_chat_detect_template(text);
        out += std::string(first ? "" : ",\n") + "    {\"kind\": " + json_string(kind) + ", \"key\": " +
               json_string(key) + ", \"family\": " +
               std::to_string(index == (int) LLM_CHAT_TEMPLATE_UNKNOWN ? -1 : index) + "}";
        first = false;
    };
    for (int i = 2; i < argc; i++) {
        detection("file", base_name(argv[i]), read_file(argv[i]));
    }
    for (const char * name : names) {
        detection("text", name, name);
    }
    for (const auto & probe : probes) {
        detection("text", probe, probe);
    }
    out += "\n  ],\n";

    // tests/test-chat-template.cpp's cases through the public API, with add_ass as that test uses it.
    out += "  \"test_cases\": [\n";
    int mismatches = 0;
    for (size_t i = 0; i < test_cases.size(); i++) {
        const auto & tc = test_cases[i];
        std::vector<Message> messages = reference;
        for (const auto & m : tc.extra_conversation) {
            messages.push_back({m.role, m.content});
        }
        int32_t res = 0;
        std::string output = public_apply(tc.template_str, messages, true, res);
        if (output != tc.expected_output) {
            fprintf(stderr, "test case '%s': llama.cpp's output differs from its test's expected_output\n",
                    tc.name.c_str());
            mismatches++;
        }
        int family = (int) llm_chat_detect_template(tc.template_str);
        out += "    {\"name\": " + json_string(tc.name) + ", \"template\": " + json_string(tc.template_str) +
               ", \"extra_messages\": " + json_messages(std::vector<Message>(messages.begin() + reference.size(), messages.end())) +
               ", \"family\": " + std::to_string(family == (int) LLM_CHAT_TEMPLATE_UNKNOWN ? -1 : family) +
               ", \"expected_output\": " + json_string(tc.expected_output) + ", \"output\": " + json_string(output) +
               "}" + (i + 1 < test_cases.size() ? ",\n" : "\n");
    }
    out += "  ]\n}\n";

    FILE * f = fopen(argv[1], "wb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fwrite(out.data(), 1, out.size(), f);
    fclose(f);
    fprintf(stderr, "wrote %s (%d test-case mismatches)\n", argv[1], mismatches);
    return mismatches == 0 ? 0 : 1;
}
