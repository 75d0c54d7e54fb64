import Foundation
import Testing
@testable import PerWattCLI
@testable import PerWattCore

@Suite struct JSONParserTests {
    @Test func valuesCarryTheLineTheyStartOn() throws {
        let json = try JSONParser.parse("{\n  \"a\": 1,\n  \"b\": [true,\n    \"x\\u00e9\\n\"],\n  \"c\": null\n}")
        #expect(json.line == 1 && json["a"]?.line == 2 && json["b"]?.line == 3)
        #expect(json["b"]?.arrayValue?[1].stringValue == "xé\n" && json["b"]?.arrayValue?[1].line == 4)
        #expect(json["a"]?.intValue == 1 && json["c"]?.line == 5)
        #expect(try JSONParser.parse("\"\\ud83d\\ude00\"").stringValue == "😀")
        #expect(try JSONParser.parse("-1.5e3").doubleValue == -1500)
    }

    @Test(arguments: [
        ("{\"a\": 1,}", 1, "expected a member name"),
        ("{\n\"a\": 1\n\"b\": 2}", 3, "expected ',' or '}'"),
        ("[1, 2", 1, "unexpected end of input"),
        ("{\"a\": 1, \"a\": 2}", 1, "appears twice"),
        ("01", 1, "leading zeros"),
        ("\"tab\there\"", 1, "control character"),
        ("{} x", 1, "unexpected text after"),
        ("\n\n  tru", 3, "expected 'true'"),
    ])
    func syntaxErrorsSayWhere(text: String, line: Int, message: String) {
        do {
            _ = try JSONParser.parse(text)
            Issue.record("parsed \(text)")
        } catch {
            #expect(error.line == line && error.message.contains(message), "\(error)")
        }
    }
}

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(String(repeating: "a", count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}

@Suite struct FixtureTests {
    static let perQuery = """
        {
          "schema": "perwatt.fixture/1", "benchmark": "mmlu", "model": "llama-3.1-8b", "quantization": "q4_0",
          "source": "test run",
          "queries": [
            {"id": "mmlu/abstract_algebra/0", "correct": true, "promptTokens": 412, "outputTokens": 1},
            {"id": "mmlu/abstract_algebra/1", "correct": false}
          ],
          "aggregate": {"accuracy": 0.5, "n": 2}
        }
        """

    @Test func parsesPerQueryRecordsAndAggregates() throws {
        let fixture = try Fixture.parse(Self.perQuery, file: "f.json")
        #expect(fixture.queries?.count == 2 && fixture.queries?[0].promptTokens == 412 && fixture.queries?[1].promptTokens == nil)
        #expect(fixture.counts == (1, 2) && fixture.accuracy == 0.5 && fixture.precision == .q4_0)
        let aggregate = try Fixture.parse("""
            {"schema": "perwatt.fixture/1", "benchmark": "gsm8k", "model": "m", "quantization": "bf16", "source": "paper",
             "aggregate": {"accuracy": 0.683, "n": 1319}}
            """, file: "a.json")
        #expect(aggregate.counts == (901, 1319) && aggregate.accuracy == 0.683)
    }

    /// Each mutation of a valid fixture, and the file:line: field: message it must produce.
    @Test(arguments: [
        ("\"schema\": \"perwatt.fixture/1\"", "\"schema\": \"perwatt.fixture/2\"", "f.json:2: schema: must be \"perwatt.fixture/1\""),
        ("\"quantization\": \"q4_0\"", "\"quantization\": \"q4_K_M\"", "f.json:2: quantization: must be one of f32, f16, bf16, q8_0, q4_0"),
        ("\"source\": \"test run\"", "\"source\": \"\"", "f.json:3: source: must not be empty"),
        ("\"source\": \"test run\",", "", "f.json:1: source: is missing"),
        ("\"correct\": false", "\"correct\": \"no\"", "f.json:6: queries[1].correct: must be true or false, not a string"),
        ("\"promptTokens\": 412", "\"promptTokens\": 0", "f.json:5: queries[0].promptTokens: must be a whole number ≥ 1, not 0"),
        ("\"promptTokens\": 412", "\"promptTokens\": 41.5", "f.json:5: queries[0].promptTokens: must be a whole number ≥ 1, not 41.5"),
        ("abstract_algebra/1", "abstract_algebra/0", "f.json:6: queries[1].id: \"mmlu/abstract_algebra/0\" repeats the id of queries[0]"),
        ("\"accuracy\": 0.5", "\"accuracy\": 1.5", "f.json:8: aggregate.accuracy: must be a number from 0 to 1, not 1.5"),
        ("\"n\": 2", "\"n\": 3", "f.json:8: aggregate.n: is 3 but there are 2 queries"),
        ("\"accuracy\": 0.5", "\"accuracy\": 0.9", "f.json:8: aggregate.accuracy: is 0.9 but 0.5 of the queries are correct"),
        ("\"source\": \"test run\",", "\"source\": \"test run\", \"sourse\": 1,", "f.json:3: sourse: is not a known field"),
        ("\"queries\": [", "\"queries\": {\"x\": [", "f.json:9: invalid JSON at column 2: unexpected end of input inside an object"),
    ])
    func validationErrorsNameFileLineAndField(original: String, replacement: String, expected: String) {
        let text = Self.perQuery.replacingOccurrences(of: original, with: replacement)
        #expect(text != Self.perQuery, "mutation did not apply: \(original)")
        do {
            _ = try Fixture.parse(text, file: "f.json")
            Issue.record("accepted: \(replacement)")
        } catch let error as InputError {
            #expect(error.description.hasPrefix(expected), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func needsQueriesOrAnAggregate() {
        #expect(throws: InputError.self) {
            try Fixture.parse("{\"schema\": \"perwatt.fixture/1\", \"benchmark\": \"b\", \"model\": \"m\", \"quantization\": \"f16\", \"source\": \"s\"}",
                              file: "x.json")
        }
    }

    @Test func builtinFixturesParseAndCiteTheirSources() throws {
        let builtins = try BuiltinFixtures.all()
        #expect(builtins.count == BuiltinFixtures.texts.count && builtins.count >= 14)
        for loaded in builtins {
            #expect(loaded.fixture.source.contains("github.com/"), "\(loaded.origin) cites no source")
            #expect(ModelSpec.presets.contains { $0.id == loaded.fixture.model }, "\(loaded.origin): no preset for its model")
            // A quantized fixture whose accuracy comes from another scheme must say so.
            if loaded.fixture.quantization != "bf16" { #expect(loaded.fixture.scheme != nil, "\(loaded.origin)") }
        }
        // The same model at several quantizations, as the quantization suite needs.
        let qwen = builtins.filter { $0.fixture.model == "qwen2-0.5b" }.map(\.fixture.quantization)
        #expect(Set(qwen) == ["bf16", "q8_0", "q4_0"])
    }
}

@Suite struct LMEvalImportTests {
    /// Files shaped as lm-eval 0.4 writes them with --log_samples (one object per line and filter).
    static func write(_ files: [String: String]) throws -> String {
        let directory = TestFiles.path("perwatt-lmeval")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("model__x"), withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return directory.path
    }

    static func sample(_ docID: Int, acc: Double, filter: String = "none") -> String {
        #"{"doc_id": \#(docID), "doc": {"question": "q\#(docID)", "choices": ["a", "b"], "answer": 0}, "target": 0, "arguments": [["q", " a"], ["q", " b"]], "resps": [[["-1.0", "False"]], [["-2.0", "False"]]], "filtered_resps": [["-1.0", "False"], ["-2.0", "False"]], "filter": "\#(filter)", "metrics": ["acc"], "doc_hash": "h", "prompt_hash": "p", "target_hash": "t", "acc": \#(acc)}"#
    }

    @Test func importsPerQuerySamplesAcrossSubtasks() throws {
        let root = try Self.write([
            "model__x/samples_mmlu_anatomy_2024-06-01T10-00-00.000001.jsonl": [Self.sample(0, acc: 1), Self.sample(1, acc: 0)].joined(separator: "\n") + "\n",
            "model__x/samples_mmlu_astronomy_2024-06-01T10-00-00.000001.jsonl": Self.sample(0, acc: 1) + "\n",
            "model__x/results_2024-06-01T10-00-00.000001.json": "{}",
        ])
        let fixture = try LMEvalImport.load(root, options: .init(model: "llama-3.1-8b", quantization: "q8_0"))
        #expect(fixture.benchmark == "mmlu")
        #expect(fixture.queries?.map(\.id) == ["mmlu_anatomy/0", "mmlu_anatomy/1", "mmlu_astronomy/0"])
        #expect(fixture.counts == (2, 3))
        #expect(fixture.source.contains("metric acc"))
        // What the importer writes passes validation.
        _ = try Fixture.parse(try JSON.encode(fixture), file: "imported")
    }

    @Test func severalFiltersNeedAChoiceAndNonBinaryMetricsAreRefused() throws {
        let root = try Self.write([
            "samples_gsm8k_2024-06-01T10-00-00.jsonl": [Self.sample(0, acc: 1, filter: "strict-match"), Self.sample(0, acc: 0, filter: "flexible-extract")]
                .joined(separator: "\n"),
        ])
        let file = root + "/samples_gsm8k_2024-06-01T10-00-00.jsonl"
        #expect { try LMEvalImport.load(file, options: .init(model: "m", quantization: "f16")) } throws: {
            "\($0)".contains("several filters (flexible-extract, strict-match); choose one with --filter")
        }
        let strict = try LMEvalImport.load(file, options: .init(model: "m", quantization: "f16", filter: "strict-match"))
        #expect(strict.counts == (1, 1) && strict.benchmark == "gsm8k")
        let partial = try Self.write(["samples_squad_2024-06-01T10-00-00.jsonl": Self.sample(3, acc: 0.5)])
        #expect { try LMEvalImport.load(partial, options: .init(model: "m", quantization: "f16")) } throws: {
            "\($0)".contains(":1: acc: is 0.5, not 0 or 1")
        }
        let broken = try Self.write(["samples_x_2024-06-01T10-00-00.jsonl": Self.sample(0, acc: 1) + "\n{\"doc\": 1, \"acc\": 1}\n"])
        #expect { try LMEvalImport.load(broken, options: .init(model: "m", quantization: "f16")) } throws: {
            "\($0)".contains(":2: doc_id: is missing")
        }
    }

    @Test func importsAnAggregateFromTheResultsFile() throws {
        let root = try Self.write(["results_2024-06-01T10-00-00.json": """
            {"results": {"arc_easy": {"alias": "arc_easy", "acc,none": 0.8123, "acc_stderr,none": 0.008, "acc_norm,none": 0.77}},
             "n-samples": {"arc_easy": {"original": 2376, "effective": 2376}},
             "config": {"model": "hf", "model_args": "pretrained=x"}, "lm_eval_version": "0.4.3"}
            """])
        let fixture = try LMEvalImport.load(root, options: .init(model: "m", quantization: "bf16"))
        #expect(fixture.aggregate == Fixture.Aggregate(accuracy: 0.8123, n: 2376) && fixture.benchmark == "arc_easy")
        #expect(fixture.source.contains("lm-evaluation-harness 0.4.3") && fixture.source.contains("acc,none"))
        let norm = try LMEvalImport.load(root, options: .init(model: "m", quantization: "bf16", metric: "acc_norm"))
        #expect(norm.aggregate?.accuracy == 0.77)
    }
}
