import Foundation
import PowerProbe
import Testing

@testable import PerWattCLI
@testable import PerWattCore

@Suite struct QuerySetTests {
    @Test func parsesPromptsMessagesAndGraders() throws {
        let text = """
            {"id": "a", "prompt": "2+2?", "expected": 4, "grader": "numeric"}

            {"id": "b", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}], "expected": "Paris"}
            {"id": "c", "prompt": "Pick", "expected": "b", "grader": {"kind": "choice", "options": "abc"}, "maxTokens": 4}
            {"id": "d", "prompt": "Yes?", "expected": "yes", "grader": {"kind": "regex", "pattern": "^yes"}}
            """
        let set = try QuerySet.parse(text, file: "q.jsonl")
        #expect(set.queries.map(\.id) == ["a", "b", "c", "d"])
        #expect(set.queries[0].expected == "4" && set.queries[0].grader.kind == .numeric)
        #expect(set.queries[1].grader.kind == .normalized && set.queries[1].chatMessages.count == 2)
        #expect(set.queries[1].completionPrompt == "Be brief.\nCapital of France?")
        #expect(set.queries[2].grader.options == "ABC" && set.queries[2].maxTokens == 4)
        // The canonical JSONL reads back as the same queries.
        #expect(try QuerySet.parse(set.jsonLines, file: "x").queries == set.queries)
    }

    @Test(arguments: [
        (
            #"{"id": "a", "prompt": "x", "expected": "1"}"# + "\n" + #"{"id": "a", "prompt": "y", "expected": "2"}"#,
            "q.jsonl:2: id: \"a\" repeats the id on line 1"
        ),
        (#"{"id": "a", "expected": "1"}"#, "q.jsonl:1: needs exactly one of \"prompt\""),
        (
            #"{"id": "a", "prompt": "x", "messages": [{"role": "user", "content": "y"}], "expected": "1"}"#,
            "q.jsonl:1: needs exactly one of"
        ),
        (#"{"id": "a", "prompt": "x"}"#, "q.jsonl:1: expected: is missing"),
        (
            #"{"id": "a", "prompt": "x", "expected": "1", "grader": "fuzzy"}"#,
            "q.jsonl:1: grader: must be one of exact, normalized, numeric, choice, regex"
        ),
        (
            #"{"id": "a", "prompt": "x", "expected": "1", "grader": "regex"}"#,
            "q.jsonl:1: grader: regex needs a pattern"
        ),
        (
            #"{"id": "a", "prompt": "x", "expected": "1", "grader": {"kind": "regex", "pattern": "("}}"#,
            "q.jsonl:1: grader.pattern: is not a valid regular expression"
        ),
        (
            #"{"id": "a", "prompt": "x", "expected": "E", "grader": "choice"}"#,
            "q.jsonl:1: expected: must be one of the option letters ABCD"
        ),
        (
            #"{"id": "a", "prompt": "x", "expected": "many", "grader": "numeric"}"#,
            "q.jsonl:1: expected: is \"many\", which has no number"
        ),
        (
            #"{"id": "a", "prompt": "x", "expected": "1", "temperature": 1}"#,
            "q.jsonl:1: temperature: is not a known field"
        ),
        (
            #"{"id": "a", "messages": [{"role": "robot", "content": "y"}], "expected": "1"}"#,
            "q.jsonl:1: messages[0].role: must be system, user or assistant"
        ),
        ("\n\n" + #"{"id": "a", "prompt": "x", "expected": "1""#, "q.jsonl:3: invalid JSON"),
        ("", "q.jsonl: has no queries"),
    ])
    func errorsSayFileLineAndField(text: String, message: String) {
        #expect { try QuerySet.parse(text, file: "q.jsonl") } throws: { error in
            "\(error)".hasPrefix(message)
                || {
                    print("got: \(error)")
                    return false
                }()
        }
    }

    /// The built-in sets are generated, so check them against independent arithmetic.
    @Test func builtinSetsAreRightAndStable() throws {
        let arithmetic = BuiltinQuerySets.arithmetic
        #expect(arithmetic.queries.count == 100)
        for query in arithmetic.queries {
            let parts = query.prompt!.dropFirst("What is ".count).split(separator: "?")[0].split(separator: " ")
            let (a, b) = (Int(parts[0])!, Int(parts[2])!)
            let value = parts[1] == "+" ? a + b : parts[1] == "-" ? a - b : a * b
            #expect(query.expected == String(value), "\(query.prompt!)")
        }
        let units = BuiltinQuerySets.units
        #expect(units.queries.count == 60 && Set(units.queries.map(\.id)).count == 60)
        let celsius = try #require(units.queries.first { $0.id == "units/c-f/25" })
        #expect(
            celsius.expected == "77" && celsius.prompt!.hasPrefix("Convert 25 degrees Celsius to degrees Fahrenheit"))
        let miles = try #require(units.queries.first { $0.id == "units/mi-km/26" })
        #expect(miles.expected == "41.8429")
        let knowledge = BuiltinQuerySets.knowledge
        #expect(knowledge.queries.count == 40)
        for query in knowledge.queries {
            // The expected letter's option is the first listed answer of the item (Paris for France…): check a few by text.
            let lines = query.prompt!.split(separator: "\n")
            #expect(lines.count == 6 && lines[1].hasPrefix("A. ") && lines[4].hasPrefix("D. "))
        }
        let france = try #require(knowledge.queries.first { $0.prompt!.hasPrefix("What is the capital of France?") })
        #expect(france.prompt!.contains("\(france.expected). Paris"))
        #expect(Set(knowledge.queries.map(\.expected)).count == 4, "the shuffle should put answers under every letter")
        // Generated the same way every time: the hashes are pinned, and a change to a set must change its name.
        #expect(QuerySet.jsonLines(arithmetic.queries).hasPrefix(#"{"expected":""#))
        #expect(
            BuiltinQuerySets.all.map { String($0.sha256.prefix(12)) } == [
                "11854def2451", "9e9060f44b91", "a4c3c8a9f521",
            ])
        // The hash is of the set's content: one changed expected answer changes it.
        var changed = arithmetic
        changed.queries[0].expected += "0"
        let reparsed = try QuerySet.parse(QuerySet.jsonLines(changed.queries), file: "changed")
        #expect(reparsed.sha256 != arithmetic.sha256 && reparsed.queries.count == arithmetic.queries.count)
    }
}
