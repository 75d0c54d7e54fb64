import Foundation

/// A set of queries for `perwatt eval`: what to ask, what the answer must be, and how to judge it.
/// Files are JSON Lines, one query per line (docs/eval.md); the built-in sets are generated here.
package struct QuerySet: Sendable {
    package struct Message: Codable, Sendable, Hashable {
        package var role: String
        package var content: String

        package init(role: String, content: String) {
            self.role = role
            self.content = content
        }

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case role, content
        }

        package init(from decoder: any Decoder) throws {
            let m = try KeyedReader(decoder, keys: CodingKeys.self)
            let role = try m.string(.role)!
            guard ["system", "user", "assistant"].contains(role) else {
                throw m.error(.role, "must be system, user or assistant, not \"\(shown(role))\"")
            }
            self.init(role: role, content: try m.string(.content)!)
        }
    }

    /// One query; encoded, it is one line of the JSONL format.
    package struct Query: Codable, Sendable, Hashable {
        package var id: String
        /// A plain prompt (sent as one user message to chat/completions, as-is to /completions)…
        package var prompt: String?
        /// …or a whole conversation (chat only).
        package var messages: [Message]?
        package var expected: String
        package var grader: Grader
        /// Overrides the run's --max-tokens for this query.
        package var maxTokens: Int?

        /// The conversation sent to /chat/completions.
        package var chatMessages: [Message] { messages ?? [Message(role: "user", content: prompt ?? "")] }
        /// The text sent to /completions: the prompt, or the messages' contents one per line.
        package var completionPrompt: String { prompt ?? (messages ?? []).map(\.content).joined(separator: "\n") }

        package init(
            id: String, prompt: String? = nil, messages: [Message]? = nil, expected: String, grader: Grader,
            maxTokens: Int? = nil
        ) {
            self.id = id
            self.prompt = prompt
            self.messages = messages
            self.expected = expected
            self.grader = grader
            self.maxTokens = maxTokens
        }

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case id, prompt, messages, expected, grader, maxTokens
        }

        /// One line of a query set: exactly one of prompt and messages, an expected answer the grader
        /// can use, and a grader (absent: normalized).
        package init(from decoder: any Decoder) throws {
            let r = try KeyedReader(decoder, keys: CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let prompt = try r.string(.prompt, required: false)
            var messages: [Message]?
            if r.has(.messages) {
                guard let array = r.member(.messages)?.arrayValue, !array.isEmpty else {
                    throw r.error(.messages, "must be a non-empty array of {\"role\", \"content\"} objects")
                }
                messages = try container.decode([Message].self, forKey: .messages)
            }
            guard (prompt == nil) != (messages == nil) else {
                throw InputError(
                    file: r.reader.file, line: r.value.line, field: nil,
                    message: "needs exactly one of \"prompt\" (a string) or \"messages\" (an array)")
            }
            let expected: String
            switch r.member(.expected) {
            case .string(let text, _)?: expected = text
            case .number(_, let text, _)?: expected = text
            case let other?: throw r.error(.expected, "must be a string or a number, not \(other.typeName)")
            case nil: throw r.error(.expected, "is missing: the correct answer is required")
            }
            let grader = try container.decodeIfPresent(Grader.self, forKey: .grader) ?? Grader(kind: .normalized)
            if grader.kind == .numeric && Grader.lastNumber(in: expected) == nil {
                throw r.error(.expected, "is \"\(shown(expected))\", which has no number for the numeric grader")
            }
            if grader.kind == .choice {
                let letters = grader.options ?? "ABCD"
                guard expected.count == 1, letters.contains(expected.uppercased()) else {
                    throw r.error(
                        .expected,
                        "must be one of the option letters \(letters) for the choice grader, not \"\(shown(expected))\""
                    )
                }
            }
            self.init(
                id: try r.string(.id)!, prompt: prompt, messages: messages, expected: expected, grader: grader,
                maxTokens: try r.int(.maxTokens, required: false))
        }
    }

    /// `builtin:NAME` or the file path.
    package var name: String
    /// What the set measures, in a sentence.
    package var about: String
    package var queries: [Query]
    /// Tokens to allow per answer when neither --max-tokens nor the query says.
    package var defaultMaxTokens: Int
    /// SHA-256 of the set's canonical text (the file's bytes; a built-in's generated JSONL).
    package var sha256: String

    /// The benchmark name a fixture gets: the built-in's name or the file's base name.
    package var benchmark: String {
        if name.hasPrefix("builtin:") { return String(name.dropFirst("builtin:".count)) }
        return URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent
    }

    /// Loads `builtin:NAME` or a JSONL file.
    package static func load(_ spec: String) throws -> QuerySet {
        if spec.hasPrefix("builtin:") {
            let name = String(spec.dropFirst("builtin:".count))
            guard let set = BuiltinQuerySets.named(name) else {
                throw InputError(
                    file: spec,
                    message:
                        "is not a built-in query set; the built-in sets are \(BuiltinQuerySets.names.map { "builtin:\($0)" }.joined(separator: ", "))"
                )
            }
            return set
        }
        let text = try InputFile.read(spec)
        return try parse(text, file: spec)
    }

    /// Parses JSON Lines: each non-blank line one query object. Errors name the file, line and field.
    package static func parse(
        _ text: String, file: String, name: String? = nil, about: String? = nil, defaultMaxTokens: Int = 256
    ) throws -> QuerySet {
        var queries: [Query] = []
        var seen: [String: Int] = [:]
        for (lineNumber, json) in try JSONLines.parse(text, file: file, hint: " (each line must be one JSON object)") {
            let query = try JSONValueDecoder(file: file).decode(Query.self, from: json)
            if let first = seen[query.id] {
                throw InputError(
                    file: file, line: json["id"]?.line ?? lineNumber, field: "id",
                    message: "\"\(shown(query.id))\" repeats the id on line \(first); ids must be unique")
            }
            seen[query.id] = lineNumber
            queries.append(query)
        }
        guard !queries.isEmpty else {
            throw InputError(file: file, message: "has no queries; write one JSON object per line")
        }
        return QuerySet(
            name: name ?? file, about: about ?? "queries from \(file)", queries: queries,
            defaultMaxTokens: defaultMaxTokens,
            sha256: SHA256.hex(text))
    }

    /// The set as JSON Lines, in the file format (the built-ins' canonical text, hashed, and what
    /// `perwatt eval --export-queries` prints).
    package var jsonLines: String { Self.jsonLines(queries) }

    package static func jsonLines(_ queries: [Query]) -> String {
        queries.map { (try? JSON.encode($0, pretty: false)) ?? "" }.joined(separator: "\n") + "\n"
    }
}
