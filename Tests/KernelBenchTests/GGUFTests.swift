import Foundation
import Testing

@testable import KernelBench

/// The GGUF reader against a file written by gguf-py (GGUF/make_gguf.py) and what gguf-py's own
/// reader found in it (GGUF/tiny.json), then against every corruption of that file we can think of.
@Suite struct GGUFTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("GGUF")
    static let path = directory.appendingPathComponent("tiny.gguf").path
    static let image = try! Data(contentsOf: URL(fileURLWithPath: path))
    nonisolated(unsafe) static let expected: [String: Any] = {  // read-only after first use
        let data = try! Data(contentsOf: directory.appendingPathComponent("tiny.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    /// gguf-py's name of a value type.
    static func typeName(_ value: GGUFValue) -> [String] {
        switch value {
        case .uint8: ["UINT8"]
        case .int8: ["INT8"]
        case .uint16: ["UINT16"]
        case .int16: ["INT16"]
        case .uint32: ["UINT32"]
        case .int32: ["INT32"]
        case .float32: ["FLOAT32"]
        case .bool: ["BOOL"]
        case .string: ["STRING"]
        case .uint64: ["UINT64"]
        case .int64: ["INT64"]
        case .float64: ["FLOAT64"]
        case .array(_, let elements):
            ["ARRAY"] + (elements.first.map(typeName) ?? [])
        }
    }

    /// The value as gguf-py's `contents()` gives it (arrays flattened), for comparison with tiny.json.
    static func flattened(_ value: GGUFValue) -> [Any] {
        switch value {
        case .array(_, let elements): elements.flatMap(flattened)
        case .string(let text): [text]
        case .bool(let flag): [flag]
        case .float32(let v): [Double(v)]
        case .float64(let v): [v]
        default: [value.intValue!]
        }
    }

    static func same(_ a: [Any], _ b: Any) -> Bool {
        let b = (b as? [Any]) ?? [b]
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            switch (x, y) {
            case (let x as String, let y as String): if x != y { return false }
            case (let x as Bool, let y as Bool): if x != y { return false }
            case (let x as Int, let y as NSNumber): if x != y.intValue { return false }
            case (let x as Double, let y as NSNumber): if x != y.doubleValue { return false }
            default: return false
            }
        }
        return true
    }

    @Test func readsWhatGGUFPyWrote() throws {
        let file = try GGUFFile(path: Self.path)
        #expect(file.version == 3 && file.alignment == 32 && file.dataOffset == Self.expected["dataOffset"] as? Int)
        let metadata = try #require(Self.expected["metadata"] as? [[String: Any]])
        #expect(file.metadata.map(\.key) == metadata.map { $0["key"] as! String })
        for (entry, reference) in zip(file.metadata, metadata) {
            #expect(Self.typeName(entry.value) == reference["type"] as! [String], "\(entry.key)")
            #expect(Self.same(Self.flattened(entry.value), reference["value"]!), "\(entry.key): \(entry.value)")
        }
        // Nested arrays keep their structure (gguf-py's contents() flattens them).
        #expect(
            file["test.array.nested"]
                == .array(.array, [.array(.int32, [.int32(1), .int32(2)]), .array(.int32, [.int32(3)])]))
        #expect(file["general.architecture"]?.stringValue == "llama" && file["llama.context_length"]?.intValue == 64)
        let tensors = try #require(Self.expected["tensors"] as? [[String: Any]])
        #expect(file.tensors.map(\.name) == tensors.map { $0["name"] as! String })
        for (info, reference) in zip(file.tensors, tensors) {
            #expect(
                info.type.name == reference["type"] as? String && info.type.rawValue == reference["typeID"] as? UInt32)
            #expect(info.dimensions == reference["dims"] as? [Int], "\(info.name)")
            #expect(info.offset == reference["offset"] as? Int && info.byteCount == reference["bytes"] as? Int)
            let hex = file.bytes(of: info).map { String(format: "%02x", $0) }.joined()
            #expect(hex == reference["hex"] as? String, "\(info.name)")
        }
    }

    /// Parses a changed copy of the file.
    static func parse(_ change: (inout [UInt8]) -> Void) -> Result<GGUFFile, GGUFError> {
        var bytes = [UInt8](image)
        change(&bytes)
        do { return .success(try GGUFFile(data: Data(bytes), path: "changed.gguf")) } catch { return .failure(error) }
    }

    /// Where tensor `name`'s description starts (its name's length field) in the file.
    static func tensorInfoOffset(_ name: String) -> Int {
        let needle: [UInt8] = withUnsafeBytes(of: UInt64(name.utf8.count).littleEndian, Array.init) + Array(name.utf8)
        let bytes = [UInt8](image)
        let start = (0...(bytes.count - needle.count)).last { Array(bytes[$0..<($0 + needle.count)]) == needle }!
        return start
    }

    static func write<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { bytes[offset + i] = b } }
    }

    @Test func everyTruncationIsAnErrorNamingWhereItStopped() {
        // gguf-py pads the file after the last tensor; only the padding may be cut.
        let tensors = Self.expected["tensors"] as! [[String: Any]]
        let end =
            (Self.expected["dataOffset"] as! Int) + tensors.map { ($0["offset"] as! Int) + ($0["bytes"] as! Int) }
            .max()!
        #expect(end <= Self.image.count && Self.image.count - end < 32)
        for length in 0..<Self.image.count {
            switch Self.parse({ $0.removeLast($0.count - length) }) {
            case .success: if length < end { Issue.record("a file cut to \(length) of \(end) bytes was accepted") }
            case .failure(let error):
                // Where reading stopped, or where the first tensor that no longer fits should begin.
                #expect(
                    error.offset <= Self.image.count && error.description.hasPrefix("changed.gguf: byte "), "\(error)")
                #expect(
                    error.message.contains("truncated") || error.message.contains("ends before its data section"),
                    "cut to \(length): \(error)")
            }
        }
    }

    @Test func everyByteFlippedInTheHeaderIsReadOrRefusedNeverATrap() {
        for offset in 0..<(Self.expected["dataOffset"] as! Int) {
            for pattern: UInt8 in [0xFF, 0x00, 0x80] {
                // Either the change was harmless (a byte inside a string or a value) or it is a clear error.
                if case .failure(let error) = Self.parse({ $0[offset] = pattern }) {
                    #expect(!error.message.isEmpty && error.file == "changed.gguf")
                }
            }
        }
    }

    @Test(arguments: [
        ("huge tensor count", 8, UInt64.max, "tensor count"),
        ("huge metadata count", 16, UInt64(1) << 40, "metadata count"),
    ])
    func countsTheFileCannotHoldAreRefusedBeforeAnyAllocation(what: String, offset: Int, value: UInt64, named: String) {
        guard case .failure(let error) = Self.parse({ Self.write(value, at: offset, in: &$0) }) else {
            Issue.record("\(what) was accepted")
            return
        }
        #expect(error.message.contains(named) && error.offset == offset, "\(error)")
    }

    @Test func tensorDescriptionsAreChecked() throws {
        // After the name: dimension count (4), two dimensions (16), type (4), offset (8).
        let q8 = Self.tensorInfoOffset("q8_0") + 8 + 4
        let cases: [(String, (inout [UInt8]) -> Void, String)] = [
            ("unknown type", { Self.write(UInt32(99), at: q8 + 4 + 16, in: &$0) }, "unknown ggml type id 99"),
            (
                "unsupported type", { Self.write(UInt32(12), at: q8 + 4 + 16, in: &$0) },
                "is q4_K, which perwatt cannot read yet"
            ),
            ("overlap", { Self.write(UInt64(64), at: q8 + 4 + 16 + 4, in: &$0) }, "overlaps tensor"),
            (
                "misaligned", { Self.write(UInt64(129), at: q8 + 4 + 16 + 4, in: &$0) },
                "not a multiple of the alignment 32"
            ),
            ("beyond the file", { Self.write(UInt64(1) << 50, at: q8 + 4 + 16 + 4, in: &$0) }, "beyond the file"),
            ("five dimensions", { Self.write(UInt32(5), at: q8, in: &$0) }, "has 5 dimensions"),
            ("a zero dimension", { Self.write(UInt64(0), at: q8 + 4, in: &$0) }, "impossible dimension 0"),
            (
                "rows not whole blocks", { Self.write(UInt64(48), at: q8 + 4, in: &$0) },
                "not a multiple of q8_0's block of 32"
            ),
            ("too big for its data", { Self.write(UInt64(64 * 40), at: q8 + 4 + 8, in: &$0) }, "truncated"),
        ]
        for (what, change, message) in cases {
            guard case .failure(let error) = Self.parse(change) else {
                Issue.record("\(what) was accepted")
                continue
            }
            #expect(error.message.contains(message), "\(what): \(error)")
            #expect(error.context == "tensor q8_0" || what == "overlap", "\(what): \(error)")
        }
    }

    @Test func headerFaultsNameThemselves() {
        let cases: [(String, (inout [UInt8]) -> Void, String)] = [
            ("magic", { $0[0] = UInt8(ascii: "X") }, "not a GGUF file"),
            ("version 1", { Self.write(UInt32(1), at: 4, in: &$0) }, "perwatt reads versions 2 and 3"),
            ("version 4", { Self.write(UInt32(4), at: 4, in: &$0) }, "GGUF version 4"),
        ]
        for (what, change, message) in cases {
            guard case .failure(let error) = Self.parse(change) else {
                Issue.record("\(what) was accepted")
                continue
            }
            #expect(error.message.contains(message), "\(what): \(error)")
        }
        #expect(throws: GGUFError.self) { try GGUFFile(path: Self.directory.path) }
        #expect(throws: GGUFError.self) { try GGUFFile(path: Self.directory.path + "/missing.gguf") }
    }

    @Test func typeTableMatchesTheBlockStructs() {
        #expect(GGMLType.q8_0.layout.bytesPerBlock == BlockQ8_0.byteCount)
        #expect(GGMLType.q4_0.layout.bytesPerBlock == BlockQ4_0.byteCount)
        #expect(GGMLType.q4_1.layout == (32, 20) && GGMLType.bf16.layout == (1, 2))
    }
}
