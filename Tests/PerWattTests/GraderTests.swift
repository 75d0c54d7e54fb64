import Foundation
import PowerProbe
import Testing

@testable import PerWattCLI
@testable import PerWattCore

@Suite struct GraderTests {
    @Test(arguments: [
        (Grader(kind: .exact), " Paris\n", "Paris", true),
        (Grader(kind: .exact), "paris", "Paris", false),
        (Grader(kind: .normalized), "The Eiffel Tower!", "eiffel tower", true),
        (Grader(kind: .normalized), "An apple, please.", "apple please", true),
        (Grader(kind: .normalized), "Eiffel", "eiffel tower", false),
        (Grader(kind: .numeric), "The answer is 1,234.", "1234", true),
        (Grader(kind: .numeric), "12 + 7 = 19", "19", true),
        (Grader(kind: .numeric), "19 is not 20", "19", false),
        (Grader(kind: .numeric), "−5", "-5", true),
        (Grader(kind: .numeric), "0.10", "0.1", true),
        (Grader(kind: .numeric), "no number", "3", false),
        (Grader(kind: .numeric, tolerance: 0.5), "3.4", "3", true),
        (Grader(kind: .numeric, tolerance: 0.5), "3.6", "3", false),
        (Grader(kind: .numeric, relativeTolerance: 0.01), "16.09", "16.0934", true),
        (Grader(kind: .numeric, relativeTolerance: 0.01), "16.5", "16.0934", false),
        (Grader(kind: .choice), "B", "B", true),
        (Grader(kind: .choice), "B) Paris", "B", true),
        (Grader(kind: .choice), "(C)", "C", true),
        (Grader(kind: .choice), "The answer is D.", "D", true),
        (Grader(kind: .choice), "Answer: a", "A", false),
        (Grader(kind: .choice), "I think it is C, not really B", "C", false),
        (Grader(kind: .choice), "Paris", "B", false),
        (Grader(kind: .regex, pattern: "^(?i)yes\\b"), "Yes, it is.", "yes", true),
        (Grader(kind: .regex, pattern: "^(?i)yes\\b"), "Well, yes", "yes", false),
    ])
    func grades(grader: Grader, answer: String, expected: String, correct: Bool) {
        #expect(grader.grade(answer, expected: expected).correct == correct, "\(grader) on \(answer.debugDescription)")
    }

    @Test func extractsWhatItJudged() {
        #expect(Grader(kind: .numeric).grade("It is 42.", expected: "42").extracted == "42")
        #expect(Grader(kind: .choice).grade("The answer is (B)", expected: "B").extracted == "B")
        #expect(Grader(kind: .normalized).grade("The Cat.", expected: "cat").extracted == "cat")
    }
}
