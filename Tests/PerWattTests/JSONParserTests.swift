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
