/// A `Decoder` over a parsed `JSONValue`: any `Decodable` type reads from perwatt's own parser, and
/// every error is an `InputError` that names the file, the line and the field path
/// (`eval.settings.seed: must be a whole number, not a string`). Numbers decode exactly as their
/// text (integers beyond 2^53 included); unknown members are ignored, as JSONDecoder does.
package struct JSONValueDecoder {
    package let file: String

    package func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, path: [String] = []) throws -> T {
        do {
            return try T(from: ValueDecoder(value: value, path: path, file: file))
        } catch let error as InputError {
            throw error
        } catch let error as DecodingError {
            // A type's own init(from:) may throw DecodingError (e.g. an unknown enum case).
            let (context, message): (DecodingError.Context?, String) =
                switch error {
                case .dataCorrupted(let c): (c, c.debugDescription)
                case .keyNotFound(let key, let c): (c, "\(key.stringValue) is missing")
                case .typeMismatch(_, let c), .valueNotFound(_, let c): (c, c.debugDescription)
                @unknown default: (nil, "\(error)")
                }
            let field = context.map { Self.fieldPath($0.codingPath.map(Self.component)) } ?? Self.fieldPath(path)
            throw InputError(file: file, line: value.line, field: field.isEmpty ? nil : field, message: message)
        }
    }

    package static func component(_ key: any CodingKey) -> String { key.intValue.map { "[\($0)]" } ?? key.stringValue }

    /// `a.b[3].c` from its components.
    package static func fieldPath(_ components: [String]) -> String {
        var text = ""
        for component in components {
            if component.hasPrefix("[") || text.isEmpty { text += component } else { text += "." + component }
        }
        return text
    }
}

/// What a decoder over a parsed `JSONValue` exposes, so that a type's `init(from:)` can check its fields
/// with `ObjectReader`'s messages and lines (`KeyedReader`).
package protocol JSONValueDecoding: Decoder {
    var jsonValue: JSONValue { get }
    var file: String { get }
    /// Field path components of this value (`workloads`, `[3]`, `model`).
    var path: [String] { get }
}

private struct ValueDecoder: JSONValueDecoding {
    var jsonValue: JSONValue { value }
    let value: JSONValue
    let path: [String]
    let file: String
    var codingPath: [any CodingKey] { path.map { PathKey($0) } }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func error(_ message: String, at value: JSONValue? = nil, path: [String]? = nil) -> InputError {
        let field = JSONValueDecoder.fieldPath(path ?? self.path)
        return InputError(
            file: file, line: (value ?? self.value).line, field: field.isEmpty ? nil : field, message: message)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let members = value.objectMembers else { throw error("must be a JSON object, not \(value.typeName)") }
        return KeyedDecodingContainer(KeyedContainer<Key>(decoder: self, members: members))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard let elements = value.arrayValue else { throw error("must be an array, not \(value.typeName)") }
        return UnkeyedContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleContainer(decoder: self) }

    func child(_ value: JSONValue, _ component: String) -> ValueDecoder {
        ValueDecoder(value: value, path: path + [component], file: file)
    }

    // Scalars, shared by the three containers.
    func decodeNil() -> Bool { if case .null = value { true } else { false } }

    func bool() throws -> Bool {
        guard let flag = value.boolValue else { throw error("must be true or false, not \(value.typeName)") }
        return flag
    }

    func string() throws -> String {
        guard let text = value.stringValue else { throw error("must be a string, not \(value.typeName)") }
        return text
    }

    func double() throws -> Double {
        guard let number = value.doubleValue else { throw error("must be a number, not \(value.typeName)") }
        return number
    }

    func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard case .number(_, let text, _) = value else { throw error("must be a whole number, not \(value.typeName)") }
        if let exact = T(text) { return exact }
        if let number = Double(text), number == number.rounded(), let exact = T(exactly: number) { return exact }
        throw error("must be a whole number from \(T.min) to \(T.max), not \(shown(text))")
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is String.Type: return try string() as! T
        case is Bool.Type: return try bool() as! T
        case is Double.Type: return try double() as! T
        case is Float.Type: return Float(try double()) as! T
        case is Int.Type: return try integer(Int.self) as! T
        case is Int32.Type: return try integer(Int32.self) as! T
        case is Int64.Type: return try integer(Int64.self) as! T
        case is UInt64.Type: return try integer(UInt64.self) as! T
        case is UInt32.Type: return try integer(UInt32.self) as! T
        case is UInt16.Type: return try integer(UInt16.self) as! T
        case is UInt8.Type: return try integer(UInt8.self) as! T
        case is UInt.Type: return try integer(UInt.self) as! T
        default: return try T(from: self)
        }
    }
}

private struct PathKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ component: String) {
        stringValue = component
        intValue = component.hasPrefix("[") ? Int(component.dropFirst().dropLast()) : nil
    }
    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { self.init("[\(intValue)]") }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: ValueDecoder
    let members: [(key: String, value: JSONValue)]
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool { members.contains { $0.key == key.stringValue } }

    func member(_ key: Key) throws -> ValueDecoder {
        guard let value = members.first(where: { $0.key == key.stringValue })?.value else {
            throw decoder.error("is missing", path: decoder.path + [key.stringValue])
        }
        return decoder.child(value, key.stringValue)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key).decodeNil() }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let child = try member(key)
        if child.decodeNil(), !(T.self is any ExpressibleByNilLiteral.Type) {
            throw child.error("must not be null")
        }
        return try child.decode(type)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key) else { return nil }
        let child = try member(key)
        return child.decodeNil() ? nil : try child.decode(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try member(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try member(key).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { try member(key) }

    init(decoder: ValueDecoder, members: [(key: String, value: JSONValue)]) {
        self.decoder = decoder
        self.members = members
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: ValueDecoder
    let elements: [JSONValue]
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else { throw decoder.error("has too few elements (\(elements.count))") }
        defer { currentIndex += 1 }
        return decoder.child(elements[currentIndex], "[\(currentIndex)]")
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, case .null = elements[currentIndex] else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(type) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next().unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    func decodeNil() -> Bool { decoder.decodeNil() }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decode(type) }
}
