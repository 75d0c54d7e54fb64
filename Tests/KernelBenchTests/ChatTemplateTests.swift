import Foundation
import Testing

@testable import KernelBench

/// What llama.cpp itself gave (ChatTemplates/chat_data.json, written by make_chat_data.sh from
/// libllama's llm_chat_detect_template / llm_chat_apply_template / llama_chat_apply_template).
private struct LlamaChatData: Decodable {
    struct Family: Decodable {
        let index: Int
        let name: String?
    }
    struct Message: Decodable {
        let role: String
        let content: String
        var chat: ChatMessage { ChatMessage(role: role, content: content) }
    }
    struct Conversation: Decodable {
        let name: String
        let messages: [Message]
    }
    struct Rendering: Decodable {
        let family: Int
        let conversation: String
        let addAss: Bool
        let result: Int
        let output: String
    }
    struct Detection: Decodable {
        let kind: String
        let key: String
        /// The `enum llm_chat_template` index; -1 for LLM_CHAT_TEMPLATE_UNKNOWN.
        let family: Int
    }
    struct TestCase: Decodable {
        let name: String
        let template: String
        let extraMessages: [Message]
        let family: Int
        let expectedOutput: String
        let output: String
    }

    let llamaCppCommit: String
    let builtinNames: [String]
    let families: [Family]
    let conversations: [Conversation]
    let renderings: [Rendering]
    let detections: [Detection]
    let testCases: [TestCase]
}

/// llama.cpp's built-in (non-Jinja) chat templates, ported: the family table, detection of every
/// template file copied from llama.cpp's models/templates and of every name, and rendering of every
/// family × conversation × add_ass, all byte for byte against llama.cpp's own output.
@Suite struct ChatTemplateTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("ChatTemplates")
    fileprivate static let llama: LlamaChatData = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("chat_data.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(LlamaChatData.self, from: data)
    }()
    static let templateFiles: [String] = try! FileManager.default.contentsOfDirectory(atPath: directory.path)
        .filter { $0.hasSuffix(".jinja") }.sorted()

    static func template(index: Int) -> ChatTemplate? { index < 0 ? nil : ChatTemplate.allCases[index] }

    static func text(ofTemplateFile name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    /// Byte equality (Swift's `==` on strings is Unicode canonical equivalence, too lenient here).
    static func sameBytes(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

    @Test func familiesAreLlamaCppsEnumInItsOrderWithItsNames() {
        #expect(Self.llama.families.count == ChatTemplate.allCases.count)
        for family in Self.llama.families {
            let template = ChatTemplate.allCases[family.index]
            if let name = family.name {
                #expect(template.rawValue == name && template.hasName && ChatTemplate(name: name) == template)
            } else {
                // LLM_CHAT_TEMPLATE_DOTS1: in the enum, not in LLM_CHAT_TEMPLATES.
                #expect(template == .dots1 && !template.hasName && ChatTemplate(name: template.rawValue) == nil)
            }
        }
        #expect(ChatTemplate.builtinNames == Self.llama.builtinNames)
    }

    @Test(arguments: ChatTemplate.allCases)
    func rendersAsLlamaCppDoes(_ template: ChatTemplate) throws {
        let index = ChatTemplate.allCases.firstIndex(of: template)!
        var compared = 0
        for conversation in Self.llama.conversations {
            for addAss in [false, true] {
                let expected = try #require(
                    Self.llama.renderings.first {
                        $0.family == index && $0.conversation == conversation.name && $0.addAss == addAss
                    })
                #expect(expected.result == expected.output.utf8.count)
                let output = try template.render(conversation.messages.map(\.chat), addAssistant: addAss)
                let context = "\(template.rawValue), \(conversation.name), add_ass \(addAss)"
                #expect(
                    Self.sameBytes(output, expected.output),
                    "\(context):\nllama.cpp \(expected.output.debugDescription)\nperwatt   \(output.debugDescription)"
                )
                compared += 1
            }
        }
        #expect(compared == 2 * Self.llama.conversations.count && compared >= 8)
    }

    @Test func llamaCppRendersNothingForAnUnknownTemplate() {
        let unknown = Self.llama.renderings.filter { $0.family == ChatTemplate.allCases.count }
        #expect(unknown.count == 2 * Self.llama.conversations.count && unknown.allSatisfy { $0.result == -1 })
        #expect(Self.llama.renderings.count == (ChatTemplate.allCases.count + 1) * 2 * Self.llama.conversations.count)
    }

    @Test func everyTemplateFileHasLlamaCppsDetection() {
        let files = Self.llama.detections.filter { $0.kind == "file" }.map(\.key).sorted()
        #expect(files == Self.templateFiles)
        // At least one file per family llama.cpp detects in models/templates, and some it does not.
        #expect(Set(Self.llama.detections.filter { $0.kind == "file" }.map(\.family)).count >= 19)
        #expect(Self.llama.detections.contains { $0.kind == "file" && $0.family == -1 })
    }

    @Test(arguments: templateFiles)
    func detectsTemplateFileAsLlamaCppDoes(_ name: String) throws {
        let expected = try #require(Self.llama.detections.first { $0.kind == "file" && $0.key == name })
        let text = try Self.text(ofTemplateFile: name)
        #expect(ChatTemplate.detect(text) == Self.template(index: expected.family), "\(name)")
    }

    @Test func detectsNamesAndEdgeTextsAsLlamaCppDoes() {
        let texts = Self.llama.detections.filter { $0.kind == "text" }
        #expect(texts.count > Self.llama.builtinNames.count)
        for detection in texts {
            #expect(
                ChatTemplate.detect(detection.key) == Self.template(index: detection.family),
                "\(String(reflecting: detection.key))")
        }
    }

    /// tests/test-chat-template.cpp's own cases: its template texts, its conversation, add_ass true.
    @Test func passesLlamaCppsTestChatTemplateCases() throws {
        let conversation = try #require(Self.llama.conversations.first { $0.name == "test-chat-template" })
        #expect(Self.llama.testCases.count >= 30)
        for testCase in Self.llama.testCases {
            let template = try #require(ChatTemplate.detect(testCase.template), "\(testCase.name)")
            #expect(template == Self.template(index: testCase.family), "\(testCase.name)")
            let messages = (conversation.messages + testCase.extraMessages).map(\.chat)
            let output = try template.render(messages, addAssistant: true)
            #expect(Self.sameBytes(output, testCase.output), "\(testCase.name): \(String(reflecting: output))")
            #expect(Self.sameBytes(testCase.output, testCase.expectedOutput), "\(testCase.name)")
        }
    }

    // MARK: - Errors

    static func expectWaysOut(_ error: ChatTemplateError) {
        let message = error.description
        #expect(message.contains("--chat-template NAME") && message.contains("without --chat"), "\(message)")
        #expect(ChatTemplate.builtinNames.allSatisfy { message.contains($0) }, "\(message)")
    }

    @Test func anUnknownTemplateSaysHowToGoOn() throws {
        let unknown = try #require(Self.llama.detections.first { $0.kind == "file" && $0.family == -1 })
        let text = try Self.text(ofTemplateFile: unknown.key)
        #expect(ChatTemplate.detect(text) == nil)
        let error = try #require(throws: ChatTemplateError.self) {
            try ChatTemplate.detected(in: text, source: "model.gguf")
        }
        #expect(error == .unknownTemplate(source: "model.gguf", templateText: text))
        #expect(error.description.hasPrefix("model.gguf: the chat template ("), "\(error)")
        Self.expectWaysOut(error)
    }

    @Test func anUnknownNameListsTheNames() throws {
        #expect(try ChatTemplate.named("llama3") == .llama3)
        let error = try #require(throws: ChatTemplateError.self) { try ChatTemplate.named("llama-3") }
        #expect(error == .unknownName("llama-3"))
        let message = error.description
        #expect(message.contains("--chat-template llama-3") && message.contains("without --chat"), "\(message)")
        #expect(ChatTemplate.builtinNames.allSatisfy { message.contains($0) } && !message.contains("dots1"))
    }

    @Test func aNulByteCannotBePassedToLlamaCpp() throws {
        let messages = [ChatMessage(role: "user", content: "hi"), ChatMessage(role: "assistant", content: "a\0b")]
        let error = try #require(throws: ChatTemplateError.self) {
            try ChatTemplate.chatml.render(messages, addAssistant: true)
        }
        #expect(error == .nulByte(message: 1, field: "content"))
        #expect(error.description.contains("message 1") && error.description.contains("NUL"))
    }

    // MARK: - GGUF

    /// A GGUF v3 image with no tensors and the given metadata (strings and uint32s only).
    static func gguf(_ metadata: [(String, GGUFValue)]) -> Data {
        var bytes = Array("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        func string(_ s: String) {
            u64(UInt64(s.utf8.count))
            bytes += s.utf8
        }
        u32(3)
        u64(0)
        u64(UInt64(metadata.count))
        for (key, value) in metadata {
            string(key)
            switch value {
            case .string(let text):
                u32(GGUFValueType.string.rawValue)
                string(text)
            case .uint32(let number):
                u32(GGUFValueType.uint32.rawValue)
                u32(number)
            default: fatalError("not used here")
            }
        }
        return Data(bytes)
    }

    @Test func readsTheTemplateOfAGGUF() throws {
        let qwen = try Self.text(ofTemplateFile: "Qwen-Qwen2.5-7B-Instruct.jinja")
        let file = try GGUFFile(
            data: Self.gguf([("general.architecture", .string("qwen2")), ("tokenizer.chat_template", .string(qwen))]),
            path: "qwen.gguf")
        #expect(try ChatTemplate.fromGGUF(file) == .chatml)
    }

    @Test func aGGUFWithoutATemplateSaysHowToGoOn() throws {
        let file = try GGUFFile(data: Self.gguf([("general.architecture", .string("llama"))]), path: "bare.gguf")
        let error = try #require(throws: ChatTemplateError.self) { try ChatTemplate.fromGGUF(file) }
        #expect(error == .missingTemplate(file: "bare.gguf"))
        #expect(error.description.hasPrefix("bare.gguf: ") && error.description.contains("tokenizer.chat_template"))
        Self.expectWaysOut(error)
    }

    @Test func aGGUFWithATemplateThatIsNotTextSaysSo() throws {
        let file = try GGUFFile(data: Self.gguf([("tokenizer.chat_template", .uint32(7))]), path: "odd.gguf")
        let error = try #require(throws: ChatTemplateError.self) { try ChatTemplate.fromGGUF(file) }
        guard case .templateNotText(let path, _) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(path == "odd.gguf" && error.description.contains("not a string"))
        Self.expectWaysOut(error)
    }

    @Test func aGGUFWithAnUnknownTemplateNamesTheFile() throws {
        let unknown = try #require(Self.llama.detections.first { $0.kind == "file" && $0.family == -1 })
        let text = try Self.text(ofTemplateFile: unknown.key)
        let file = try GGUFFile(data: Self.gguf([("tokenizer.chat_template", .string(text))]), path: "new.gguf")
        let error = try #require(throws: ChatTemplateError.self) { try ChatTemplate.fromGGUF(file) }
        #expect(error == .unknownTemplate(source: "new.gguf", templateText: text))
        Self.expectWaysOut(error)
    }
}
