import Foundation

/// How an answer is judged against the expected one: deterministic rules, no model as judge
/// (DESIGN 10). Every rule is a pure function of (answer, expected), so a fixture's raw answers can be
/// graded again later (`perwatt eval --regrade`) and give the same verdicts.
package struct Grader: Codable, Sendable, Hashable, CustomStringConvertible {
    package enum Kind: String, Codable, Sendable, CaseIterable {
        /// The answer, trimmed of surrounding white space, equals the expected text exactly.
        case exact
        /// Equal after SQuAD-style normalization: lower case, punctuation removed, the articles
        /// a/an/the removed, white space collapsed.
        case normalized
        /// The last number in the answer is within the tolerance of the expected number.
        case numeric
        /// The option letter the answer picks equals the expected letter.
        case choice
        /// The answer matches `pattern` (a regular expression, ICU syntax) anywhere.
        case regex
    }

    package var kind: Kind
    /// numeric: absolute tolerance (default 0).
    package var tolerance: Double?
    /// numeric: relative tolerance, a fraction of |expected| (default 0); the larger of the two wins.
    package var relativeTolerance: Double?
    /// regex: the pattern.
    package var pattern: String?
    /// choice: the valid option letters (default "ABCD").
    package var options: String?

    package enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, tolerance, relativeTolerance, pattern, options
    }

    /// `"numeric"` or `{"kind": "numeric", "tolerance": 0.5}`; null means normalized. Patterns must
    /// compile and option letters be distinct.
    package init(from decoder: any Decoder) throws {
        let source = try decoder.jsonValueDecoding()
        let kinds = Kind.allCases.map(\.rawValue).joined(separator: ", ")
        switch source.jsonValue {
        case .null:
            self.init(kind: .normalized)
        case .string(let name, _):
            guard let kind = Kind(rawValue: name) else {
                throw source.error("must be one of \(kinds), not \"\(shown(name))\"")
            }
            if kind == .regex { throw source.error("regex needs a pattern: {\"kind\": \"regex\", \"pattern\": \"…\"}") }
            self.init(kind: kind)
        default:
            let g = try KeyedReader(decoder, keys: CodingKeys.self)
            let name = try g.string(.kind)!
            guard let kind = Kind(rawValue: name) else {
                throw g.error(.kind, "must be one of \(kinds), not \"\(shown(name))\"")
            }
            self.init(
                kind: kind,
                tolerance: try g.double(.tolerance, required: false, in: 0...Double.greatestFiniteMagnitude),
                relativeTolerance: try g.double(.relativeTolerance, required: false, in: 0...1),
                pattern: try g.string(.pattern, required: kind == .regex),
                options: try g.string(.options, required: false))
            if let pattern {
                do { _ = try NSRegularExpression(pattern: pattern) } catch {
                    throw g.error(.pattern, "is not a valid regular expression (ICU syntax): \(pattern)")
                }
            }
            if let options {
                let letters = options.uppercased()
                guard !letters.isEmpty, letters.allSatisfy({ $0.isASCII && $0.isLetter }),
                    Set(letters).count == letters.count
                else {
                    throw g.error(
                        .options, "must be distinct option letters such as \"ABCD\", not \"\(shown(options))\"")
                }
                self.options = letters
            }
        }
    }

    package init(
        kind: Kind, tolerance: Double? = nil, relativeTolerance: Double? = nil, pattern: String? = nil,
        options: String? = nil
    ) {
        self.kind = kind
        self.tolerance = tolerance
        self.relativeTolerance = relativeTolerance
        self.pattern = pattern
        self.options = options
    }

    package var description: String {
        switch kind {
        case .numeric:
            var parts: [String] = []
            if let tolerance, tolerance > 0 { parts.append("±\(formatNumber(tolerance))") }
            if let relativeTolerance, relativeTolerance > 0 {
                parts.append("±\(formatNumber(relativeTolerance * 100))%")
            }
            return parts.isEmpty ? "numeric (exact)" : "numeric \(parts.joined(separator: " or "))"
        case .regex: return "regex /\(pattern ?? "")/"
        case .choice: return "choice \(options ?? "ABCD")"
        default: return kind.rawValue
        }
    }

    /// The verdict, and what was extracted from the answer (the number or letter), for the audit trail.
    package func grade(_ answer: String, expected: String) -> (correct: Bool, extracted: String?) {
        switch kind {
        case .exact:
            let trimmed = answer.trimmingCharacters(in: .whitespacesAndNewlines)
            return (trimmed == expected.trimmingCharacters(in: .whitespacesAndNewlines), trimmed)
        case .normalized:
            let normal = Grader.normalize(answer)
            return (normal == Grader.normalize(expected), normal)
        case .numeric:
            guard let value = Grader.lastNumber(in: answer), let target = Grader.lastNumber(in: expected) else {
                return (false, nil)
            }
            let allowed = max(tolerance ?? 0, (relativeTolerance ?? 0) * abs(target))
            // A tolerance of 0 still forgives the last bit of a decimal written two ways (0.1 vs 0.10).
            return (abs(value - target) <= allowed + 1e-9 * max(1, abs(target)), formatNumber(value))
        case .choice:
            let letters = options ?? "ABCD"
            guard let picked = Grader.choice(in: answer, letters: letters) else { return (false, nil) }
            return (
                String(picked) == expected.trimmingCharacters(in: .whitespacesAndNewlines).uppercased(), String(picked)
            )
        case .regex:
            guard let pattern, let regex = try? NSRegularExpression(pattern: pattern) else { return (false, nil) }
            let range = NSRange(answer.startIndex..., in: answer)
            guard let match = regex.firstMatch(in: answer, range: range), let matched = Range(match.range, in: answer)
            else { return (false, nil) }
            return (true, String(answer[matched]))
        }
    }

    /// SQuAD's answer normalization: lower case, punctuation dropped, articles dropped, white space collapsed.
    package static func normalize(_ text: String) -> String {
        let lowered = text.lowercased()
        let kept = String(
            lowered.unicodeScalars.map {
                CharacterSet.punctuationCharacters.contains($0) || CharacterSet.symbols.contains($0)
                    ? " " : Character($0)
            })
        return kept.split(whereSeparator: \.isWhitespace).filter { !["a", "an", "the"].contains($0) }.joined(
            separator: " ")
    }

    /// The last number written in `text`: optional sign, digits with optional thousands commas
    /// ("1,234"), optional decimals and exponent. Nil when there is none.
    package static func lastNumber(in text: String) -> Double? {
        let pattern = #"[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-−]?\.\d+"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        let matches = regex.matches(in: text, range: NSRange(text.startIndex..., in: text))
        guard let last = matches.last, let range = Range(last.range, in: text) else { return nil }
        let cleaned = text[range].replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "−", with: "-")
        return Double(cleaned)
    }

    /// The option letter an answer picks, in order of trust: "answer is X" / "Answer: X" / "(X)";
    /// then the answer starting with a lone letter ("B", "B.", "B) Paris"); then the only option
    /// letter standing alone as a word. Nil when none or several letters stand alone.
    package static func choice(in answer: String, letters: String) -> Character? {
        let set = "[" + NSRegularExpression.escapedPattern(for: letters) + "]"
        let patterns = [
            #"(?i:answer)\s*(?:is|:)?\s*[\(\[]?("# + set + #")(?![A-Za-z])"#,
            #"\(("# + set + #")\)"#,
            #"^\s*[\(\[]?("# + set + #")(?![A-Za-z])"#,
        ]
        for pattern in patterns {
            guard let regex = try? NSRegularExpression(pattern: pattern),
                let match = regex.firstMatch(in: answer, range: NSRange(answer.startIndex..., in: answer)),
                let range = Range(match.range(at: 1), in: answer)
            else { continue }
            return answer[range].first
        }
        guard let regex = try? NSRegularExpression(pattern: #"(?<![A-Za-z])("# + set + #")(?![A-Za-z])"#) else {
            return nil
        }
        let found = Set(
            regex.matches(in: answer, range: NSRange(answer.startIndex..., in: answer)).compactMap {
                Range($0.range(at: 1), in: answer).map { answer[$0] }
            })
        return found.count == 1 ? found.first?.first : nil
    }
}
