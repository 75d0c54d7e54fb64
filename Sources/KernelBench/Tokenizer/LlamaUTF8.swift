/// UTF-8 as llama.cpp's tokenizers handle it (`src/unicode.cpp`): symbol lengths from the first byte
/// only, and undecodable bytes turned into U+FFFD one byte at a time.
enum LlamaUTF8 {
    /// The length of the UTF-8 sequence that `firstByte` starts (`unicode_len_utf8`): 1 for ASCII and
    /// for stray continuation bytes, else 2, 3 or 4 from the high bits.
    @inline(__always)
    static func sequenceLength(_ firstByte: UInt8) -> Int {
        switch firstByte >> 4 {
        case 0xC, 0xD: 2
        case 0xE: 3
        case 0xF: 4
        default: 1
        }
    }

    /// The codepoints of `bytes` (`unicode_cpts_from_utf8`): a byte that does not start a complete
    /// sequence becomes U+FFFD and decoding goes on at the next byte. Like llama.cpp, overlong forms and
    /// surrogates are decoded, not refused.
    static func codepoints(_ bytes: some Collection<UInt8>) -> [UInt32] {
        let bytes = Array(bytes)
        var result: [UInt32] = []
        result.reserveCapacity(bytes.count)
        var offset = 0
        let count = bytes.count
        func continuation(_ index: Int) -> Bool { index < count && bytes[index] & 0xC0 == 0x80 }
        while offset < count {
            let first = bytes[offset]
            if first & 0x80 == 0 {
                result.append(UInt32(first))
                offset += 1
            } else if first & 0x40 == 0 {
                result.append(0xFFFD)
                offset += 1
            } else if first & 0x20 == 0 {
                if continuation(offset + 1) {
                    result.append(UInt32(first & 0x1F) << 6 | UInt32(bytes[offset + 1] & 0x3F))
                    offset += 2
                } else {
                    result.append(0xFFFD)
                    offset += 1
                }
            } else if first & 0x10 == 0 {
                if continuation(offset + 1) && continuation(offset + 2) {
                    result.append(
                        UInt32(first & 0x0F) << 12 | UInt32(bytes[offset + 1] & 0x3F) << 6
                            | UInt32(bytes[offset + 2] & 0x3F))
                    offset += 3
                } else {
                    result.append(0xFFFD)
                    offset += 1
                }
            } else if first & 0x08 == 0 {
                if continuation(offset + 1) && continuation(offset + 2) && continuation(offset + 3) {
                    result.append(
                        UInt32(first & 0x07) << 18 | UInt32(bytes[offset + 1] & 0x3F) << 12
                            | UInt32(bytes[offset + 2] & 0x3F) << 6 | UInt32(bytes[offset + 3] & 0x3F))
                    offset += 4
                } else {
                    result.append(0xFFFD)
                    offset += 1
                }
            } else {
                result.append(0xFFFD)
                offset += 1
            }
        }
        return result
    }

    /// Appends the UTF-8 encoding of `codepoint` (`unicode_cpt_to_utf8`; codepoints come from
    /// `codepoints(_:)`, so they are below U+200000 and always encodable in at most four bytes).
    @inline(__always)
    static func append(_ codepoint: UInt32, to bytes: inout [UInt8]) {
        switch codepoint {
        case 0..<0x80:
            bytes.append(UInt8(codepoint))
        case 0x80..<0x800:
            bytes.append(0xC0 | UInt8(codepoint >> 6 & 0x1F))
            bytes.append(0x80 | UInt8(codepoint & 0x3F))
        case 0x800..<0x1_0000:
            bytes.append(0xE0 | UInt8(codepoint >> 12 & 0x0F))
            bytes.append(0x80 | UInt8(codepoint >> 6 & 0x3F))
            bytes.append(0x80 | UInt8(codepoint & 0x3F))
        default:
            bytes.append(0xF0 | UInt8(codepoint >> 18 & 0x07))
            bytes.append(0x80 | UInt8(codepoint >> 12 & 0x3F))
            bytes.append(0x80 | UInt8(codepoint >> 6 & 0x3F))
            bytes.append(0x80 | UInt8(codepoint & 0x3F))
        }
    }
}
