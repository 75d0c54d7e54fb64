import Foundation

/// A GGUF file that cannot be used: which file, the byte offset where reading stopped, the metadata
/// key or tensor at fault, and what is wrong.
public struct GGUFError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var offset: Int
    /// `key general.alignment` or `tensor blk.0.attn_q.weight`, when the fault is in one.
    public var context: String?
    public var message: String
    /// The file could not be read at all (missing, a folder, unreadable), rather than read and found wrong.
    public var unreadable = false

    public var description: String {
        "\(file): byte \(offset)\(context.map { " (\($0))" } ?? ""): \(message)"
    }
}

/// A metadata value of a GGUF file (the gguf_type enum of gguf.h).
public indirect enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    /// The element type and the elements (an array of arrays has element type `array`).
    case array(GGUFValueType, [GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The value as an integer, when it is one of the integer types (or a whole float).
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: intValue.map(Double.init)
        }
    }

    public var stringValue: String? { if case .string(let text) = self { text } else { nil } }
    public var boolValue: Bool? { if case .bool(let flag) = self { flag } else { nil } }
    public var arrayValue: [GGUFValue]? { if case .array(_, let elements) = self { elements } else { nil } }
}

/// The type ids of GGUF metadata values.
public enum GGUFValueType: UInt32, Sendable, Equatable {
    case uint8 = 0
    case int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64

    /// The fewest bytes one value of this type takes in the file (bounds element counts before any
    /// allocation: a count the remaining bytes cannot hold is refused).
    var minimumBytes: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string: 8
        case .array: 12
        }
    }
}

/// One tensor's description: name, dimensions in ggml's order (`ne[0]` is the row length), type, and
/// where its bytes lie in the data section.
public struct GGUFTensorInfo: Sendable, Equatable {
    public var name: String
    public var dimensions: [Int]
    public var type: GGMLType
    /// Offset from the start of the data section.
    public var offset: Int
    public var byteCount: Int

    public var elementCount: Int { dimensions.reduce(1, *) }
}

/// A GGUF file (versions 2 and 3, little-endian), memory-mapped: the header, every metadata value and
/// every tensor's description are read and checked when it is opened; tensor bytes stay in the mapping
/// until asked for. Every offset and size is checked against the file before it is used, and no
/// allocation is sized by a header field the remaining bytes could not back.
///
/// Source of truth: ggml's `docs/gguf.md` and `gguf.c` (`gguf_init_from_file_impl`).
public struct GGUFFile: Sendable {
    public let path: String
    public let version: UInt32
    /// Metadata in file order.
    public let metadata: [(key: String, value: GGUFValue)]
    public let tensors: [GGUFTensorInfo]
    /// `general.alignment` (default 32): tensor offsets are multiples of it.
    public let alignment: Int
    /// Where the data section begins, in the file.
    public let dataOffset: Int
    private let data: Data

    /// The most metadata entries or tensors a file may declare (llama.cpp's largest models have a few
    /// thousand tensors and under a hundred keys).
    public static let maximumCount = 1 << 20
    /// Dimensions per tensor (GGML_MAX_DIMS).
    public static let maximumDimensions = 4

    /// Opens and checks `path`.
    public init(path: String) throws(GGUFError) {
        func fail(_ message: String) -> GGUFError {
            GGUFError(file: path, offset: 0, context: nil, message: message, unreadable: true)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw fail("no such file")
        }
        guard !isDirectory.boolValue else { throw fail("is a folder, not a GGUF file") }
        let mapped: Data
        do {
            mapped = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw fail("cannot be read (\(error.localizedDescription))")
        }
        try self.init(data: mapped, path: path)
    }

    /// Parses a GGUF image already in memory (`path` names it in errors).
    public init(data: Data, path: String) throws(GGUFError) {
        var cursor = Cursor(data: data, file: path)
        let magic = try cursor.bytes(4, what: "the magic number")
        guard magic == Array("GGUF".utf8) else {
            throw cursor.error(at: 0, "does not start with \"GGUF\": not a GGUF file")
        }
        let version = try cursor.uint32(what: "the version")
        guard version == 2 || version == 3 else {
            let hint = version == 1 ? " (GGUF v1 files predate 2023-08; convert them again)" : ""
            throw cursor.error(at: 4, "is GGUF version \(version); perwatt reads versions 2 and 3\(hint)")
        }
        let tensorCount = try cursor.count(what: "the tensor count", minimumBytes: 32)
        let keyCount = try cursor.count(what: "the metadata count", minimumBytes: 12)
        var metadata: [(key: String, value: GGUFValue)] = []
        var keys = Set<String>()
        for _ in 0..<keyCount {
            let start = cursor.position
            let key = try cursor.string(what: "a metadata key")
            guard keys.insert(key).inserted else {
                throw cursor.error(at: start, context: "key \(key)", "appears twice")
            }
            let rawType = try cursor.uint32(what: "the type of \(key)")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw cursor.error(at: cursor.position - 4, context: "key \(key)", "has unknown value type \(rawType)")
            }
            metadata.append((key, try cursor.value(type, context: "key \(key)", depth: 0)))
        }
        var alignment = 32
        if let entry = metadata.first(where: { $0.key == "general.alignment" }) {
            guard case .uint32(let value) = entry.value, value > 0, value & (value - 1) == 0 else {
                throw cursor.error(
                    at: 0, context: "key general.alignment", "must be a power of two as a uint32, not \(entry.value)")
            }
            alignment = Int(value)
        }
        var infos: [GGUFTensorInfo] = []
        var names = Set<String>()
        for _ in 0..<tensorCount {
            let start = cursor.position
            let name = try cursor.string(what: "a tensor name")
            let context = "tensor \(name)"
            guard names.insert(name).inserted else { throw cursor.error(at: start, context: context, "appears twice") }
            let dimensionCount = Int(try cursor.uint32(what: "the dimension count of \(name)"))
            guard (1...Self.maximumDimensions).contains(dimensionCount) else {
                throw cursor.error(
                    at: cursor.position - 4, context: context,
                    "has \(dimensionCount) dimensions; ggml tensors have 1 to \(Self.maximumDimensions)")
            }
            var dimensions: [Int] = []
            var elements = 1
            for _ in 0..<dimensionCount {
                let raw = try cursor.uint64(what: "a dimension of \(name)")
                guard raw >= 1, raw <= UInt64(Int.max),
                    case (let product, let overflow) = elements.multipliedReportingOverflow(
                        by: Int(raw)), !overflow, product <= Int(Int32.max) * 1024
                else {
                    throw cursor.error(at: cursor.position - 8, context: context, "has an impossible dimension \(raw)")
                }
                elements = product
                dimensions.append(Int(raw))
            }
            let typeStart = cursor.position
            let rawType = try cursor.uint32(what: "the type of \(name)")
            guard let type = GGMLType(rawValue: rawType) else {
                throw cursor.error(at: typeStart, context: context, "has unknown ggml type id \(rawType)")
            }
            guard GGMLType.supported.contains(type) else {
                throw cursor.error(
                    at: typeStart, context: context,
                    "is \(type.name), which perwatt cannot read yet; it reads \(GGMLType.supported.map(\.name).joined(separator: ", "))"
                )
            }
            let (blockSize, bytesPerBlock) = type.layout
            guard dimensions[0] % blockSize == 0 else {
                throw cursor.error(
                    at: start, context: context,
                    "has rows of \(dimensions[0]) values, not a multiple of \(type.name)'s block of \(blockSize)")
            }
            let offsetStart = cursor.position
            let offset = try cursor.uint64(what: "the data offset of \(name)")
            guard offset <= UInt64(data.count), Int(offset) % alignment == 0 else {
                throw cursor.error(
                    at: offsetStart, context: context,
                    "has data offset \(offset), beyond the file or not a multiple of the alignment \(alignment)")
            }
            infos.append(
                GGUFTensorInfo(
                    name: name, dimensions: dimensions, type: type, offset: Int(offset),
                    byteCount: elements / blockSize * bytesPerBlock))
        }
        let dataStart = (cursor.position + alignment - 1) / alignment * alignment
        guard dataStart <= data.count || infos.isEmpty else {
            throw cursor.error(at: cursor.position, "ends before its data section")
        }
        let dataSize = max(0, data.count - dataStart)
        var previousEnd = 0
        var previousName = ""
        for info in infos.sorted(by: { $0.offset < $1.offset }) {
            let context = "tensor \(info.name)"
            guard info.offset >= previousEnd else {
                throw cursor.error(
                    at: dataStart + info.offset, context: context, "overlaps tensor \(previousName) in the data section"
                )
            }
            guard info.byteCount <= dataSize - info.offset else {
                throw cursor.error(
                    at: dataStart + info.offset, context: context,
                    "needs \(info.byteCount) bytes at data offset \(info.offset), but the file has \(dataSize - info.offset) there: truncated"
                )
            }
            previousEnd = info.offset + info.byteCount
            previousName = info.name
        }
        self.path = path
        self.version = version
        self.metadata = metadata
        self.tensors = infos
        self.alignment = alignment
        self.dataOffset = dataStart
        self.data = data
    }

    /// The size of the file in bytes.
    public var byteCount: Int { data.count }

    /// The value of metadata `key`, if present.
    public subscript(key: String) -> GGUFValue? { metadata.first { $0.key == key }?.value }

    public func tensor(named name: String) -> GGUFTensorInfo? { tensors.first { $0.name == name } }

    /// The bytes of a tensor of this file (a slice of the mapping: no copy).
    public func bytes(of tensor: GGUFTensorInfo) -> Data {
        let start = data.startIndex + dataOffset + tensor.offset
        return data[start..<(start + tensor.byteCount)]
    }
}

/// Little-endian reads over the file image, each checked against what is left.
private struct Cursor {
    let data: Data
    let file: String
    var position = 0

    init(data: Data, file: String) {
        self.data = data
        self.file = file
    }

    var remaining: Int { data.count - position }

    func error(at offset: Int, context: String? = nil, _ message: String) -> GGUFError {
        GGUFError(file: file, offset: offset, context: context, message: message)
    }

    mutating func bytes(_ count: Int, what: String) throws(GGUFError) -> [UInt8] {
        guard count <= remaining else {
            throw error(
                at: position, "ends while reading \(what) (\(count) bytes wanted, \(remaining) left): truncated")
        }
        let start = data.startIndex + position
        position += count
        return [UInt8](data[start..<(start + count)])
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type, what: String) throws(GGUFError) -> T {
        let raw = try bytes(MemoryLayout<T>.size, what: what)
        var value: T = 0
        for (index, byte) in raw.enumerated() { value |= T(truncatingIfNeeded: byte) << (8 * index) }
        return value
    }

    mutating func uint32(what: String) throws(GGUFError) -> UInt32 { try integer(UInt32.self, what: what) }
    mutating func uint64(what: String) throws(GGUFError) -> UInt64 { try integer(UInt64.self, what: what) }

    /// A count of items that each take at least `minimumBytes`: refused when the file cannot hold them.
    mutating func count(what: String, minimumBytes: Int) throws(GGUFError) -> Int {
        let start = position
        let raw = try uint64(what: what)
        guard raw <= UInt64(GGUFFile.maximumCount), Int(raw) <= remaining / minimumBytes else {
            throw error(
                at: start, "\(what) is \(raw), more than the \(remaining) bytes left could hold: corrupt or truncated")
        }
        return Int(raw)
    }

    mutating func string(what: String) throws(GGUFError) -> String {
        let start = position
        let length = try uint64(what: "the length of \(what)")
        guard length <= UInt64(remaining) else {
            throw error(at: start, "\(what) claims \(length) bytes, but \(remaining) are left: truncated or corrupt")
        }
        let raw = try bytes(Int(length), what: what)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw error(at: start + 8, "\(what) is not valid UTF-8")
        }
        return text
    }

    mutating func value(_ type: GGUFValueType, context: String, depth: Int) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try integer(UInt8.self, what: context))
        case .int8: return .int8(try integer(Int8.self, what: context))
        case .uint16: return .uint16(try integer(UInt16.self, what: context))
        case .int16: return .int16(try integer(Int16.self, what: context))
        case .uint32: return .uint32(try integer(UInt32.self, what: context))
        case .int32: return .int32(try integer(Int32.self, what: context))
        case .uint64: return .uint64(try integer(UInt64.self, what: context))
        case .int64: return .int64(try integer(Int64.self, what: context))
        case .float32: return .float32(Float(bitPattern: try integer(UInt32.self, what: context)))
        case .float64: return .float64(Double(bitPattern: try integer(UInt64.self, what: context)))
        case .bool:
            let start = position
            let byte = try integer(UInt8.self, what: context)
            guard byte <= 1 else { throw error(at: start, context: context, "holds bool \(byte); must be 0 or 1") }
            return .bool(byte == 1)
        case .string: return .string(try string(what: context))
        case .array:
            guard depth < 8 else { throw error(at: position, context: context, "nests arrays deeper than 8 levels") }
            let typeStart = position
            let rawType = try uint32(what: "the element type of \(context)")
            guard let elementType = GGUFValueType(rawValue: rawType) else {
                throw error(at: typeStart, context: context, "has unknown array element type \(rawType)")
            }
            let count = try self.count(what: "the element count of \(context)", minimumBytes: elementType.minimumBytes)
            var elements: [GGUFValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try value(elementType, context: context, depth: depth + 1)) }
            return .array(elementType, elements)
        }
    }
}
