import Foundation

/// An input file perwatt cannot use: which file, which line, which field, what is wrong and, in the
/// message, what would be right. Exit status 65 (66 when the file cannot be read at all).
struct InputError: Error, Sendable, CustomStringConvertible {
    var file: String
    var line: Int?
    /// Dotted path of the field at fault, e.g. `queries[3].correct`.
    var field: String?
    var message: String
    /// The file could not be opened or read (exit 66, not 65).
    var unreadable = false

    var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let field { text += "\(field): " }
        return text + message
    }
}

enum InputFile {
    /// The file's text (UTF-8).
    static func read(_ path: String) throws(InputError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw InputError(file: path, message: exists ? "cannot be read (check its permissions)" : "no such file",
                             unreadable: true)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InputError(file: path, message: "is not UTF-8 text")
        }
        return text
    }

    /// Parses the file's text as one JSON document.
    static func json(_ text: String, file: String) throws(InputError) -> JSONValue {
        do {
            return try JSONParser.parse(text)
        } catch {
            throw InputError(file: file, line: error.line, message: "invalid JSON at column \(error.column): \(error.message)")
        }
    }
}

/// Typed access to an object's members, with errors that name the file, line and field.
struct ObjectReader {
    let value: JSONValue
    let file: String
    /// Field path of this object ("" at the top).
    let path: String

    init(_ value: JSONValue, file: String, path: String = "") throws(InputError) {
        guard case .object = value else {
            throw InputError(file: file, line: value.line, field: path.isEmpty ? nil : path,
                             message: "must be a JSON object, not \(value.typeName)")
        }
        self.value = value
        self.file = file
        self.path = path
    }

    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, _ message: String) -> InputError {
        InputError(file: file, line: value[key]?.line ?? value.line, field: field(key), message: message)
    }

    func has(_ key: String) -> Bool {
        if let member = value[key], case .null = member { return false }
        return value[key] != nil
    }

    func string(_ key: String, required: Bool = true) throws(InputError) -> String? {
        guard let member = value[key], !isNull(member) else {
            if required { throw error(key, "is missing: a string is required") }
            return nil
        }
        guard let text = member.stringValue else { throw error(key, "must be a string, not \(member.typeName)") }
        if required && text.trimmingCharacters(in: .whitespaces).isEmpty { throw error(key, "must not be empty") }
        return text
    }

    func int(_ key: String, required: Bool = true, minimum: Int = 1) throws(InputError) -> Int? {
        guard let member = value[key], !isNull(member) else {
            if required { throw error(key, "is missing: a whole number ≥ \(minimum) is required") }
            return nil
        }
        guard let number = member.intValue, number >= minimum else {
            let shown = member.doubleValue.map { formatNumber($0) } ?? member.typeName
            throw error(key, "must be a whole number ≥ \(minimum), not \(shown)")
        }
        return number
    }

    func double(_ key: String, required: Bool = true, in range: ClosedRange<Double>) throws(InputError) -> Double? {
        guard let member = value[key], !isNull(member) else {
            if required { throw error(key, "is missing: a number from \(formatNumber(range.lowerBound)) to \(formatNumber(range.upperBound)) is required") }
            return nil
        }
        guard let number = member.doubleValue, range.contains(number) else {
            let shown = member.doubleValue.map { formatNumber($0) } ?? member.typeName
            throw error(key, "must be a number from \(formatNumber(range.lowerBound)) to \(formatNumber(range.upperBound)), not \(shown)")
        }
        return number
    }

    func bool(_ key: String, required: Bool = true) throws(InputError) -> Bool? {
        guard let member = value[key], !isNull(member) else {
            if required { throw error(key, "is missing: true or false is required") }
            return nil
        }
        guard let flag = member.boolValue else { throw error(key, "must be true or false, not \(member.typeName)") }
        return flag
    }

    /// Rejects members not in `allowed` (a typo would otherwise be ignored silently).
    func rejectUnknown(_ allowed: [String]) throws(InputError) {
        for (key, member) in value.objectMembers ?? [] where !allowed.contains(key) {
            throw InputError(file: file, line: member.line, field: field(key),
                             message: "is not a known field; expected one of \(allowed.joined(separator: ", "))")
        }
    }

    private func isNull(_ value: JSONValue) -> Bool {
        if case .null = value { return true }
        return false
    }
}
