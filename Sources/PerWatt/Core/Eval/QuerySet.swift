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
            let r = try ObjectReader(json, file: file)
            try r.rejectUnknown(["id", "prompt", "messages", "expected", "grader", "maxTokens"])
            let id = try r.string("id")!
            if let first = seen[id] {
                throw r.error("id", "\"\(shown(id))\" repeats the id on line \(first); ids must be unique")
            }
            seen[id] = lineNumber
            let prompt = try r.string("prompt", required: false)
            var messages: [Message]?
            if r.has("messages") {
                guard let array = json["messages"]?.arrayValue, !array.isEmpty else {
                    throw r.error("messages", "must be a non-empty array of {\"role\", \"content\"} objects")
                }
                messages = try array.enumerated().map { index, element in
                    let m = try ObjectReader(element, file: file, path: "messages[\(index)]")
                    try m.rejectUnknown(["role", "content"])
                    let role = try m.string("role")!
                    guard ["system", "user", "assistant"].contains(role) else {
                        throw m.error("role", "must be system, user or assistant, not \"\(shown(role))\"")
                    }
                    return Message(role: role, content: try m.string("content")!)
                }
            }
            guard (prompt == nil) != (messages == nil) else {
                throw InputError(
                    file: file, line: lineNumber, field: nil,
                    message: "needs exactly one of \"prompt\" (a string) or \"messages\" (an array)")
            }
            let expected: String
            switch json["expected"] {
            case .string(let text, _)?: expected = text
            case .number(_, let text, _)?: expected = text
            case let other?: throw r.error("expected", "must be a string or a number, not \(other.typeName)")
            case nil: throw r.error("expected", "is missing: the correct answer is required")
            }
            let grader = try parseGrader(json["grader"], reader: r)
            if grader.kind == .numeric && Grader.lastNumber(in: expected) == nil {
                throw r.error("expected", "is \"\(shown(expected))\", which has no number for the numeric grader")
            }
            if grader.kind == .choice {
                let letters = grader.options ?? "ABCD"
                guard expected.count == 1, letters.contains(expected.uppercased()) else {
                    throw r.error(
                        "expected",
                        "must be one of the option letters \(letters) for the choice grader, not \"\(shown(expected))\""
                    )
                }
            }
            queries.append(
                Query(
                    id: id, prompt: prompt, messages: messages, expected: expected, grader: grader,
                    maxTokens: try r.int("maxTokens", required: false)))
        }
        guard !queries.isEmpty else {
            throw InputError(file: file, message: "has no queries; write one JSON object per line")
        }
        return QuerySet(
            name: name ?? file, about: about ?? "queries from \(file)", queries: queries,
            defaultMaxTokens: defaultMaxTokens,
            sha256: SHA256.hex(text))
    }

    /// `"grader": "numeric"` or `{"kind": "numeric", "tolerance": 0.5}`; absent means normalized.
    package static func parseGrader(_ value: JSONValue?, reader r: ObjectReader) throws -> Grader {
        let kinds = Grader.Kind.allCases.map(\.rawValue).joined(separator: ", ")
        switch value {
        case nil, .null?:
            return Grader(kind: .normalized)
        case .string(let name, _)?:
            guard let kind = Grader.Kind(rawValue: name) else {
                throw r.error("grader", "must be one of \(kinds), not \"\(shown(name))\"")
            }
            if kind == .regex {
                throw r.error("grader", "regex needs a pattern: {\"kind\": \"regex\", \"pattern\": \"…\"}")
            }
            return Grader(kind: kind)
        case let object?:
            let g = try ObjectReader(object, file: r.file, path: r.field("grader"))
            try g.rejectUnknown(["kind", "tolerance", "relativeTolerance", "pattern", "options"])
            let name = try g.string("kind")!
            guard let kind = Grader.Kind(rawValue: name) else {
                throw g.error("kind", "must be one of \(kinds), not \"\(shown(name))\"")
            }
            var grader = Grader(
                kind: kind,
                tolerance: try g.double("tolerance", required: false, in: 0...Double.greatestFiniteMagnitude),
                relativeTolerance: try g.double("relativeTolerance", required: false, in: 0...1),
                pattern: try g.string("pattern", required: kind == .regex),
                options: try g.string("options", required: false))
            if let pattern = grader.pattern {
                do { _ = try NSRegularExpression(pattern: pattern) } catch {
                    throw g.error("pattern", "is not a valid regular expression (ICU syntax): \(pattern)")
                }
            }
            if let options = grader.options {
                let letters = options.uppercased()
                guard !letters.isEmpty, letters.allSatisfy({ $0.isASCII && $0.isLetter }),
                    Set(letters).count == letters.count
                else {
                    throw g.error(
                        "options", "must be distinct option letters such as \"ABCD\", not \"\(shown(options))\"")
                }
                grader.options = letters
            }
            return grader
        }
    }

    /// The set as JSON Lines, in the file format (the built-ins' canonical text, hashed, and what
    /// `perwatt eval --export-queries` prints).
    package var jsonLines: String { Self.jsonLines(queries) }

    package static func jsonLines(_ queries: [Query]) -> String {
        queries.map { (try? JSON.encode($0, pretty: false)) ?? "" }.joined(separator: "\n") + "\n"
    }

    package init(name: String, about: String, queries: [Query], defaultMaxTokens: Int, sha256: String) {
        self.name = name
        self.about = about
        self.queries = queries
        self.defaultMaxTokens = defaultMaxTokens
        self.sha256 = sha256
    }
}
