/// JSON Lines (one JSON value per line) as perwatt reads it everywhere: lines end at LF, a CR
/// before the LF is dropped (files written on Windows), blank lines are skipped, and each line
/// parses with its own line number so that errors point at it.
package enum JSONLines {
    /// The non-blank lines with their 1-based numbers.
    package static func lines(_ text: String) -> [(number: Int, text: Substring)] {
        var result: [(Int, Substring)] = []
        var number = 0
        var start = text.utf8.startIndex
        let utf8 = text.utf8
        while start <= utf8.endIndex {
            number += 1
            let end = utf8[start...].firstIndex(of: UInt8(ascii: "\n")) ?? utf8.endIndex
            var lineEnd = end
            if lineEnd > start, utf8[utf8.index(before: lineEnd)] == UInt8(ascii: "\r") {
                lineEnd = utf8.index(before: lineEnd)
            }
            let line = text[start..<lineEnd]
            if line.contains(where: { !$0.isWhitespace }) { result.append((number, line)) }
            if end == utf8.endIndex { break }
            start = utf8.index(after: end)
        }
        return result
    }

    /// Each non-blank line parsed; a syntax error names the file, the line and the column.
    package static func parse(_ text: String, file: String, hint: String = "") throws(InputError) -> [(
        number: Int, value: JSONValue
    )] {
        var values: [(Int, JSONValue)] = []
        for (number, line) in lines(text) {
            do {
                values.append((number, try JSONParser.parse(String(line), firstLine: number)))
            } catch {
                throw InputError(
                    file: file, line: number, message: "invalid JSON at column \(error.column): \(error.message)\(hint)"
                )
            }
        }
        return values
    }
}
