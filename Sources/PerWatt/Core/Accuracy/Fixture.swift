import KernelBench

/// How accurate a model at a quantization is on a benchmark, and where that comes from
/// (`perwatt.fixture/1`, docs/fixtures.md).
package struct Fixture: Codable, Sendable, Hashable {
    package struct Query: Codable, Sendable, Hashable {
        package var id: String
        package var correct: Bool
        package var promptTokens: Int?
        package var outputTokens: Int?
        // Written by `perwatt eval`, so each verdict can be audited and graded again:
        /// The model's raw answer.
        package var answer: String?
        package var expected: String?
        package var grader: Grader?
        /// What the grader read in the answer (the number, the letter, the normalized text).
        package var extracted: String?
        package var finishReason: String?
        /// Prompt tokens the server served from its prompt cache (their prefill was not computed).
        package var cachedPromptTokens: Int?
        /// Requests sent for this query (1 without retries).
        package var attempts: Int?
        /// From sending the request to the end of the answer, and to its first token (streaming).
        package var latencySeconds: Double?
        package var timeToFirstTokenSeconds: Double?
        /// Energy inside this query's request window, on the run's basis (gross, net of idle, and split at
        /// the first token when streamed); absent without an energy source.
        package var energy: EnergyRecord?

        package init(id: String, correct: Bool, promptTokens: Int? = nil, outputTokens: Int? = nil) {
            self.id = id
            self.correct = correct
            self.promptTokens = promptTokens
            self.outputTokens = outputTokens
        }

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case id, correct, promptTokens, outputTokens, answer, expected, grader, extracted, finishReason,
                cachedPromptTokens, attempts, latencySeconds, timeToFirstTokenSeconds, energy
        }

        /// One query record: a verdict and its tokens, and the fields `perwatt eval` writes (an answer
        /// must come with what it was graded against, so it can be graded again).
        package init(from decoder: any Decoder) throws {
            let q = try KeyedReader(decoder, keys: CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                id: try q.string(.id)!, correct: try q.bool(.correct)!,
                promptTokens: try q.int(.promptTokens, required: false),
                outputTokens: try q.int(.outputTokens, required: false, minimum: 0))
            answer = try q.string(.answer, required: false)
            expected = try q.string(.expected, required: false)
            grader = try container.decodeIfPresent(Grader.self, forKey: .grader)
            extracted = try q.string(.extracted, required: false)
            finishReason = try q.string(.finishReason, required: false)
            attempts = try q.int(.attempts, required: false)
            cachedPromptTokens = try q.int(.cachedPromptTokens, required: false, minimum: 0)
            latencySeconds = try q.double(.latencySeconds, required: false, in: 0...1e7)
            timeToFirstTokenSeconds = try q.double(.timeToFirstTokenSeconds, required: false, in: 0...1e7)
            energy = try container.decodeIfPresent(EnergyRecord.self, forKey: .energy)
            if answer != nil && (expected == nil || grader == nil) {
                throw q.error(
                    .answer,
                    "comes without \"expected\" and \"grader\", so it cannot be graded again; write all three or none")
            }
        }
    }

    package struct Aggregate: Codable, Sendable, Hashable {
        package var accuracy: Double
        package var n: Int
        /// Mean tokens per query, when the source states them.
        package var promptTokens: Int?
        package var outputTokens: Int?

        package init(accuracy: Double, n: Int, promptTokens: Int? = nil, outputTokens: Int? = nil) {
            self.accuracy = accuracy
            self.n = n
            self.promptTokens = promptTokens
            self.outputTokens = outputTokens
        }

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case accuracy, n, promptTokens, outputTokens
        }

        package init(from decoder: any Decoder) throws {
            let a = try KeyedReader(decoder, keys: CodingKeys.self)
            self.init(
                accuracy: try a.double(.accuracy, in: 0...1)!, n: try a.int(.n)!,
                promptTokens: try a.int(.promptTokens, required: false),
                outputTokens: try a.int(.outputTokens, required: false, minimum: 0))
        }
    }

    package var schema = "perwatt.fixture/1"
    package var benchmark: String
    package var model: String
    /// The precision perwatt measures for this fixture's workload.
    package var quantization: String
    /// The quantization method the accuracy was measured with, when it is not exactly
    /// `quantization` (e.g. a published study's 4-bit scheme that perwatt measures as q4_0).
    package var scheme: String?
    package var source: String
    package var queries: [Query]?
    package var aggregate: Aggregate?
    /// How `perwatt eval` produced this fixture: server, settings, query set, energy basis, failures.
    package var eval: EvalRun?

    package var precision: Precision? { Precision(rawValue: quantization) }

    /// Queries answered and answered correctly.
    package var counts: (correct: Int, n: Int) {
        if let queries, !queries.isEmpty { return (queries.filter(\.correct).count, queries.count) }
        if let aggregate { return (Int((aggregate.accuracy * Double(aggregate.n)).rounded()), aggregate.n) }
        return (0, 0)
    }

    package var accuracy: Double {
        if let queries, !queries.isEmpty { return Double(counts.correct) / Double(queries.count) }
        return aggregate?.accuracy ?? 0
    }

    /// Parses and validates a fixture; every error names the file, line and field.
    package static func parse(_ text: String, file: String) throws -> Fixture {
        try decode(json: try InputFile.json(text, file: file), file: file)
    }

    /// The same, from a value already parsed (callers that looked at its schema first): one parse.
    package static func decode(json: JSONValue, file: String) throws -> Fixture {
        try JSONValueDecoder(file: file).decode(Fixture.self, from: json)
    }

    package enum CodingKeys: String, CodingKey, CaseIterable {
        case schema, benchmark, model, quantization, scheme, source, queries, aggregate, eval
    }

    package init(from decoder: any Decoder) throws {
        let r = try KeyedReader(decoder, keys: CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let schema = try r.string(.schema)!
        guard schema == "perwatt.fixture/1" else {
            throw r.error(.schema, "must be \"perwatt.fixture/1\", not \"\(shown(schema))\"")
        }
        let quantization = try r.string(.quantization)!
        guard Precision(rawValue: quantization) != nil || Self.otherQuantizations.contains(quantization) else {
            throw r.error(
                .quantization,
                "must be one of \(Precision.allCases.map(\.rawValue).joined(separator: ", ")) (measured by perwatt), or of \(Self.otherQuantizations.joined(separator: ", ")) (accepted, not measured), not \"\(shown(quantization))\" (describe other methods in \"scheme\")"
            )
        }
        self.init(
            benchmark: try r.string(.benchmark)!, model: try r.string(.model)!, quantization: quantization,
            scheme: try r.string(.scheme, required: false), source: try r.string(.source)!)
        if r.has(.queries), let member = r.member(.queries) {
            guard let elements = member.arrayValue else {
                throw r.error(.queries, "must be an array of query records, not \(member.typeName)")
            }
            let decoded = try container.decode([Query].self, forKey: .queries)
            var seen: [String: Int] = [:]
            for (index, query) in decoded.enumerated() {
                if let first = seen[query.id] {
                    throw InputError(
                        file: r.reader.file, line: elements[index]["id"]?.line ?? elements[index].line,
                        field: "queries[\(index)].id",
                        message: "\"\(shown(query.id))\" repeats the id of queries[\(first)]; ids must be unique")
                }
                seen[query.id] = index
            }
            guard !decoded.isEmpty || r.has(.eval) else {
                throw r.error(.queries, "is empty; give at least one query or use \"aggregate\"")
            }
            queries = decoded
        }
        if r.has(.aggregate) {
            let aggregate = try container.decode(Aggregate.self, forKey: .aggregate)
            self.aggregate = aggregate
            if let queries {
                let a = try ObjectReader(r.member(.aggregate)!, file: r.reader.file, path: "aggregate")
                if aggregate.n != queries.count {
                    throw a.error(
                        "n", "is \(aggregate.n) but there are \(queries.count) queries; make them agree or drop one")
                }
                let correct = Double(queries.filter(\.correct).count) / Double(queries.count)
                if abs(correct - aggregate.accuracy) > 0.5 / Double(queries.count) {
                    throw a.error(
                        "accuracy",
                        "is \(formatNumber(aggregate.accuracy)) but \(formatNumber(correct)) of the queries are correct"
                    )
                }
            }
        }
        if r.has(.eval) {
            do {
                eval = try container.decode(EvalRun.self, forKey: .eval)
            } catch var error as InputError {
                error.message += " (this section is written by perwatt eval; regenerate it rather than editing)"
                throw error
            }
        }
        if queries == nil && aggregate == nil {
            throw InputError(
                file: r.reader.file, line: r.value.line,
                message: "needs \"queries\" (per-query records) or \"aggregate\" ({\"accuracy\", \"n\"})")
        }
    }

    /// ggml quantization types that a fixture may name although perwatt has no kernels for them: such a
    /// fixture is valid and reported (by `perwatt eval`, `report`, `compare`), but `perwatt run` cannot
    /// project its energy. `unknown` is for a served model whose quantization was not given.
    package static let otherQuantizations = [
        "q5_0", "q5_1", "q8_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q8_k", "iq4_nl", "iq4_xs",
        "f64", "unknown",
    ]

    package init(
        schema: String = "perwatt.fixture/1", benchmark: String, model: String, quantization: String,
        scheme: String? = nil, source: String, queries: [Query]? = nil, aggregate: Aggregate? = nil,
        eval: EvalRun? = nil
    ) {
        self.schema = schema
        self.benchmark = benchmark
        self.model = model
        self.quantization = quantization
        self.scheme = scheme
        self.source = source
        self.queries = queries
        self.aggregate = aggregate
        self.eval = eval
    }
}
