/// GPT-2's byte-level alphabet: each byte stands for one printable codepoint, so that any byte string
/// becomes a string of "characters" that BPE merges can work on.
///
/// Source of truth: llama.cpp `src/unicode.cpp` (`unicode_byte_to_utf8_map`,
/// `unicode_utf8_to_byte_map`), after OpenAI's `bytes_to_unicode`.
enum ByteLevel {
    /// The codepoint standing for each byte: printable Latin-1 bytes stand for themselves, the other
    /// 68 for U+0100, U+0101, ... in byte order.
    static let codepointOfByte: [UInt32] = {
        var map = [UInt32](repeating: 0, count: 256)
        var taken = [Bool](repeating: false, count: 256)
        for byte in Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF) {
            map[byte] = UInt32(byte)
            taken[byte] = true
        }
        var next: UInt32 = 256
        for byte in 0..<256 where !taken[byte] {
            map[byte] = next
            next += 1
        }
        return map
    }()

    /// The UTF-8 bytes of each byte's codepoint.
    static let utf8OfByte: [[UInt8]] = codepointOfByte.map { codepoint in
        var bytes: [UInt8] = []
        LlamaUTF8.append(codepoint, to: &bytes)
        return bytes
    }

    /// The byte a codepoint stands for, or nil when it stands for none (`unicode_utf8_to_byte`).
    static func byte(of codepoint: UInt32) -> UInt8? {
        guard codepoint < UInt32(byteOfCodepoint.count) else { return nil }
        let byte = byteOfCodepoint[Int(codepoint)]
        return byte < 0 ? nil : UInt8(byte)
    }

    private static let byteOfCodepoint: [Int16] = {
        var inverse = [Int16](repeating: -1, count: 256 + 68)
        for (byte, codepoint) in codepointOfByte.enumerated() { inverse[Int(codepoint)] = Int16(byte) }
        return inverse
    }()
}
