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

/// An `ObjectReader` keyed by a type's own `CodingKeys`, built from the decoder in its `init(from:)`:
/// the field names are written once (the keys serve encoding and decoding alike), a member that is not
/// a key is an error, and every check keeps `ObjectReader`'s file, line and field messages. Only
/// `JSONValueDecoder` (perwatt's one decoding path) can give it the parsed value it reads.
package struct KeyedReader<Key: CodingKey & CaseIterable> {
    package let reader: ObjectReader

    /// - Parameter rejectingUnknown: whether members that are not keys are errors (default true).
    package init(_ decoder: any Decoder, keys: Key.Type, rejectingUnknown: Bool = true) throws {
        guard let source = decoder as? any JSONValueDecoding else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "decode this type with JSONValueDecoder"))
        }
        reader = try ObjectReader(source.jsonValue, file: source.file, path: JSONValueDecoder.fieldPath(source.path))
        if rejectingUnknown { try reader.rejectUnknown(Key.allCases.map(\.stringValue)) }
    }

    package var value: JSONValue { reader.value }
    package func member(_ key: Key) -> JSONValue? { reader.value[key.stringValue] }
    package func has(_ key: Key) -> Bool { reader.has(key.stringValue) }
    package func error(_ key: Key, _ message: String) -> InputError { reader.error(key.stringValue, message) }
    package func field(_ key: Key) -> String { reader.field(key.stringValue) }

    package func string(_ key: Key, required: Bool = true) throws -> String? {
        try reader.string(key.stringValue, required: required)
    }
    package func int(_ key: Key, required: Bool = true, minimum: Int = 1) throws -> Int? {
        try reader.int(key.stringValue, required: required, minimum: minimum)
    }
    package func int(_ key: Key, required: Bool = true, in range: ClosedRange<Int>) throws -> Int? {
        try reader.int(key.stringValue, required: required, in: range)
    }
    package func double(_ key: Key, required: Bool = true, in range: ClosedRange<Double>) throws -> Double? {
        try reader.double(key.stringValue, required: required, in: range)
    }
    package func bool(_ key: Key, required: Bool = true) throws -> Bool? {
        try reader.bool(key.stringValue, required: required)
    }
}

extension JSONValueDecoding {
    /// An error about this decoder's value as a whole (its line, its field path).
    package func error(_ message: String) -> InputError {
        let field = JSONValueDecoder.fieldPath(path)
        return InputError(file: file, line: jsonValue.line, field: field.isEmpty ? nil : field, message: message)
    }
}

extension Decoder {
    /// This decoder as perwatt's own, which the checked `init(from:)`s need.
    package func jsonValueDecoding() throws -> any JSONValueDecoding {
        guard let source = self as? any JSONValueDecoding else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "decode with JSONValueDecoder"))
        }
        return source
    }
}
