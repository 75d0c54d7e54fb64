import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Typed access to an object's members, with errors that name the file, line and field.
package struct ObjectReader {
    package let value: JSONValue
    package let file: String
    /// Field path of this object ("" at the top).
    package let path: String

    package init(_ value: JSONValue, file: String, path: String = "") throws(InputError) {
        guard case .object = value else {
            throw InputError(
                file: file, line: value.line, field: path.isEmpty ? nil : path,
                message: "must be a JSON object, not \(value.typeName)")
        }
        self.value = value
        self.file = file
        self.path = path
    }

    package func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    package func error(_ key: String, _ message: String) -> InputError {
        InputError(file: file, line: value[key]?.line ?? value.line, field: field(key), message: message)
    }

    package func has(_ key: String) -> Bool {
        if let member = value[key], case .null = member { return false }
        return value[key] != nil
    }

    package func string(_ key: String, required: Bool = true) throws(InputError) -> String? {
        guard let member = value[key], !isNull(member) else {
            if required { throw error(key, "is missing: a string is required") }
            return nil
        }
        guard let text = member.stringValue else { throw error(key, "must be a string, not \(member.typeName)") }
        if required && text.trimmingCharacters(in: .whitespaces).isEmpty { throw error(key, "must not be empty") }
        return text
    }

    package func int(_ key: String, required: Bool = true, minimum: Int = 1) throws(InputError) -> Int? {
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

    /// A whole number within `range` (the same bounds as the command-line flag it mirrors).
    package func int(_ key: String, required: Bool = true, in range: ClosedRange<Int>) throws(InputError) -> Int? {
        guard let member = value[key], !isNull(member) else {
            if required {
                throw error(
                    key, "is missing: a whole number from \(range.lowerBound) to \(range.upperBound) is required")
            }
            return nil
        }
        guard let number = member.intValue, range.contains(number) else {
            let shown = member.doubleValue.map { formatNumber($0) } ?? member.typeName
            throw error(key, "must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(shown)")
        }
        return number
    }

    package func double(_ key: String, required: Bool = true, in range: ClosedRange<Double>) throws(InputError)
        -> Double?
    {
        guard let member = value[key], !isNull(member) else {
            if required {
                throw error(
                    key,
                    "is missing: a number from \(formatNumber(range.lowerBound)) to \(formatNumber(range.upperBound)) is required"
                )
            }
            return nil
        }
        guard let number = member.doubleValue, range.contains(number) else {
            let shown = member.doubleValue.map { formatNumber($0) } ?? member.typeName
            throw error(
                key,
                "must be a number from \(formatNumber(range.lowerBound)) to \(formatNumber(range.upperBound)), not \(shown)"
            )
        }
        return number
    }

    package func bool(_ key: String, required: Bool = true) throws(InputError) -> Bool? {
        guard let member = value[key], !isNull(member) else {
            if required { throw error(key, "is missing: true or false is required") }
            return nil
        }
        guard let flag = member.boolValue else { throw error(key, "must be true or false, not \(member.typeName)") }
        return flag
    }

    /// Rejects members not in `allowed` (a typo would otherwise be ignored silently).
    package func rejectUnknown(_ allowed: [String]) throws(InputError) {
        for (key, member) in value.objectMembers ?? [] where !allowed.contains(key) {
            throw InputError(
                file: file, line: member.line, field: field(key),
                message: "is not a known field; expected one of \(allowed.joined(separator: ", "))")
        }
    }

    private func isNull(_ value: JSONValue) -> Bool {
        if case .null = value { return true }
        return false
    }
}
