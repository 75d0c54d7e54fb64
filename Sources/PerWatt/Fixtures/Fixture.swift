import KernelBench

/// How accurate a model at a quantization is on a benchmark, and where that comes from
/// (`perwatt.fixture/1`, docs/fixtures.md).
struct Fixture: Codable, Sendable, Hashable {
    struct Query: Codable, Sendable, Hashable {
        var id: String
        var correct: Bool
        var promptTokens: Int?
        var outputTokens: Int?
    }

    struct Aggregate: Codable, Sendable, Hashable {
        var accuracy: Double
        var n: Int
        /// Mean tokens per query, when the source states them.
        var promptTokens: Int?
        var outputTokens: Int?
    }

    var schema = "perwatt.fixture/1"
    var benchmark: String
    var model: String
    /// The precision perwatt measures for this fixture's workload.
    var quantization: String
    /// The quantization method the accuracy was measured with, when it is not exactly
    /// `quantization` (e.g. a published study's 4-bit scheme that perwatt measures as q4_0).
    var scheme: String?
    var source: String
    var queries: [Query]?
    var aggregate: Aggregate?

    var precision: Precision? { Precision(rawValue: quantization) }

    /// Queries answered and answered correctly.
    var counts: (correct: Int, n: Int) {
        if let queries, !queries.isEmpty { return (queries.filter(\.correct).count, queries.count) }
        if let aggregate { return (Int((aggregate.accuracy * Double(aggregate.n)).rounded()), aggregate.n) }
        return (0, 0)
    }

    var accuracy: Double {
        if let queries, !queries.isEmpty { return Double(counts.correct) / Double(queries.count) }
        return aggregate?.accuracy ?? 0
    }

    /// Parses and validates a fixture; every error names the file, line and field.
    static func parse(_ text: String, file: String) throws -> Fixture {
        let json = try InputFile.json(text, file: file)
        let r = try ObjectReader(json, file: file)
        try r.rejectUnknown(["schema", "benchmark", "model", "quantization", "scheme", "source", "queries", "aggregate"])
        let schema = try r.string("schema")!
        guard schema == "perwatt.fixture/1" else { throw r.error("schema", "must be \"perwatt.fixture/1\", not \"\(schema)\"") }
        let quantization = try r.string("quantization")!
        guard Precision(rawValue: quantization) != nil else {
            throw r.error("quantization", "must be one of \(Precision.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(quantization)\" (describe other methods in \"scheme\")")
        }
        var fixture = Fixture(benchmark: try r.string("benchmark")!, model: try r.string("model")!, quantization: quantization,
                              scheme: try r.string("scheme", required: false), source: try r.string("source")!)
        if r.has("queries"), let member = json["queries"] {
            guard let elements = member.arrayValue else { throw r.error("queries", "must be an array of query records, not \(member.typeName)") }
            var seen: [String: Int] = [:]
            var queries: [Query] = []
            for (index, element) in elements.enumerated() {
                let q = try ObjectReader(element, file: file, path: "queries[\(index)]")
                try q.rejectUnknown(["id", "correct", "promptTokens", "outputTokens"])
                let id = try q.string("id")!
                if let first = seen[id] { throw q.error("id", "\"\(id)\" repeats the id of queries[\(first)]; ids must be unique") }
                seen[id] = index
                queries.append(Query(id: id, correct: try q.bool("correct")!, promptTokens: try q.int("promptTokens", required: false),
                                     outputTokens: try q.int("outputTokens", required: false, minimum: 0)))
            }
            guard !queries.isEmpty else { throw r.error("queries", "is empty; give at least one query or use \"aggregate\"") }
            fixture.queries = queries
        }
        if r.has("aggregate") {
            let a = try ObjectReader(json["aggregate"]!, file: file, path: "aggregate")
            try a.rejectUnknown(["accuracy", "n", "promptTokens", "outputTokens"])
            fixture.aggregate = Aggregate(accuracy: try a.double("accuracy", in: 0...1)!, n: try a.int("n")!,
                                          promptTokens: try a.int("promptTokens", required: false),
                                          outputTokens: try a.int("outputTokens", required: false, minimum: 0))
            if let queries = fixture.queries {
                let aggregate = fixture.aggregate!
                if aggregate.n != queries.count {
                    throw a.error("n", "is \(aggregate.n) but there are \(queries.count) queries; make them agree or drop one")
                }
                let correct = Double(queries.filter(\.correct).count) / Double(queries.count)
                if abs(correct - aggregate.accuracy) > 0.5 / Double(queries.count) {
                    throw a.error("accuracy", "is \(formatNumber(aggregate.accuracy)) but \(formatNumber(correct)) of the queries are correct")
                }
            }
        }
        if fixture.queries == nil && fixture.aggregate == nil {
            throw InputError(file: file, line: json.line, message: "needs \"queries\" (per-query records) or \"aggregate\" ({\"accuracy\", \"n\"})")
        }
        return fixture
    }
}
