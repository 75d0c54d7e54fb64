import Foundation
import Testing

@testable import PerWattCLI
@testable import PerWattCore

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

    /// What `perwatt eval` writes reads back, an untrusted query energy included (the hand-written
    /// field list of the old reader refused its flag).
    @Test func everyFieldEvalWritesReadsBack() throws {
        var fixture = try Fixture.parse(Self.perQuery, file: "f.json")
        fixture.queries![0].energy = EnergyRecord(
            durationSeconds: 0.5, joules: 2.5, trusted: false, untrustedReasons: ["intel-rapl:0: sampling-gap"],
            netJoules: 1.5, warnings: ["a sampling gap"])
        fixture.queries![0].answer = "B"
        fixture.queries![0].expected = "B"
        fixture.queries![0].grader = Grader(kind: .choice, options: "ABCD")
        let again = try Fixture.parse(try JSON.encode(fixture), file: "again.json")
        #expect(again == fixture)
        #expect(again.queries![0].energy?.trusted == false)
    }

    /// A fixture written before the energy record was unified (`windowSeconds`, `untrusted`) still reads.
    @Test func anEarlierEvalFixturesQueryEnergyStillReads() throws {
        let text = Self.perQuery.replacingOccurrences(
            of: #""correct": false}"#,
            with:
                #""correct": false, "energy": {"joules": 3, "windowSeconds": 1.5, "netJoules": 1, "untrusted": true}}"#)
        let energy = try #require(try Fixture.parse(text, file: "old.json").queries?[1].energy)
        #expect(energy.joules == 3 && energy.durationSeconds == 1.5 && energy.netJoules == 1 && !energy.trusted)
        do {
            _ = try Fixture.parse(text.replacingOccurrences(of: "windowSeconds", with: "windowSecs"), file: "typo.json")
            Issue.record("an unknown field was accepted")
        } catch let error as InputError {
            #expect(
                error.field == "queries[1].energy.windowSecs" && error.message.contains("not a known field"), "\(error)"
            )
        }
        do {
            _ = try Fixture.parse(text.replacingOccurrences(of: #""windowSeconds": 1.5, "#, with: ""), file: "no.json")
            Issue.record("an energy record without a duration was accepted")
        } catch let error as InputError {
            #expect(
                error.field == "queries[1].energy.durationSeconds" && error.message.contains("is missing"), "\(error)")
        }
    }

    @Test func parsesPerQueryRecordsAndAggregates() throws {
        let fixture = try Fixture.parse(Self.perQuery, file: "f.json")
        #expect(
            fixture.queries?.count == 2 && fixture.queries?[0].promptTokens == 412
                && fixture.queries?[1].promptTokens == nil)
        #expect(fixture.counts == (1, 2) && fixture.accuracy == 0.5 && fixture.precision == .q4_0)
        let aggregate = try Fixture.parse(
            """
            {"schema": "perwatt.fixture/1", "benchmark": "gsm8k", "model": "m", "quantization": "bf16", "source": "paper",
             "aggregate": {"accuracy": 0.683, "n": 1319}}
            """, file: "a.json")
        #expect(aggregate.counts == (901, 1319) && aggregate.accuracy == 0.683)
    }

    /// Each mutation of a valid fixture, and the file:line: field: message it must produce.
    @Test(arguments: [
        (
            "\"schema\": \"perwatt.fixture/1\"", "\"schema\": \"perwatt.fixture/2\"",
            "f.json:2: schema: must be \"perwatt.fixture/1\""
        ),
        (
            "\"quantization\": \"q4_0\"", "\"quantization\": \"q4_K_M\"",
            "f.json:2: quantization: must be one of f32, f16, bf16, q8_0, q4_0"
        ),
        ("\"source\": \"test run\"", "\"source\": \"\"", "f.json:3: source: must not be empty"),
        ("\"source\": \"test run\",", "", "f.json:1: source: is missing"),
        (
            "\"correct\": false", "\"correct\": \"no\"",
            "f.json:6: queries[1].correct: must be true or false, not a string"
        ),
        (
            "\"promptTokens\": 412", "\"promptTokens\": 0",
            "f.json:5: queries[0].promptTokens: must be a whole number ≥ 1, not 0"
        ),
        (
            "\"promptTokens\": 412", "\"promptTokens\": 41.5",
            "f.json:5: queries[0].promptTokens: must be a whole number ≥ 1, not 41.5"
        ),
        (
            "abstract_algebra/1", "abstract_algebra/0",
            "f.json:6: queries[1].id: \"mmlu/abstract_algebra/0\" repeats the id of queries[0]"
        ),
        (
            "\"accuracy\": 0.5", "\"accuracy\": 1.5",
            "f.json:8: aggregate.accuracy: must be a number from 0 to 1, not 1.5"
        ),
        ("\"n\": 2", "\"n\": 3", "f.json:8: aggregate.n: is 3 but there are 2 queries"),
        (
            "\"accuracy\": 0.5", "\"accuracy\": 0.9",
            "f.json:8: aggregate.accuracy: is 0.9 but 0.5 of the queries are correct"
        ),
        (
            "\"source\": \"test run\",", "\"source\": \"test run\", \"sourse\": 1,",
            "f.json:3: sourse: is not a known field"
        ),
        (
            "\"queries\": [", "\"queries\": {\"x\": [",
            "f.json:9: invalid JSON at column 2: unexpected end of input inside an object"
        ),
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
            try Fixture.parse(
                "{\"schema\": \"perwatt.fixture/1\", \"benchmark\": \"b\", \"model\": \"m\", \"quantization\": \"f16\", \"source\": \"s\"}",
                file: "x.json")
        }
    }

    @Test func builtinFixturesParseAndCiteTheirSources() throws {
        let builtins = try BuiltinFixtures.all()
        #expect(builtins.count == BuiltinFixtures.texts.count && builtins.count >= 14)
        for loaded in builtins {
            #expect(loaded.fixture.source.contains("github.com/"), "\(loaded.origin) cites no source")
            #expect(
                ModelSpec.presets.contains { $0.id == loaded.fixture.model },
                "\(loaded.origin): no preset for its model")
            // A quantized fixture whose accuracy comes from another scheme must say so.
            if loaded.fixture.quantization != "bf16" { #expect(loaded.fixture.scheme != nil, "\(loaded.origin)") }
        }
        // The same model at several quantizations, as the quantization suite needs.
        let qwen = builtins.filter { $0.fixture.model == "qwen2-0.5b" }.map(\.fixture.quantization)
        #expect(Set(qwen) == ["bf16", "q8_0", "q4_0"])
    }
}
