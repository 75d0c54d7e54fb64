/// Token ids back to text (`llama_token_to_piece`, `llama_detokenize`).
extension Tokenizer {
    /// The bytes of one token (`llama_token_to_piece` with lstrip 0): a BPE token's byte-level
    /// characters turned back into bytes, an SPM token with U+2581 as spaces, a byte token as its byte,
    /// a control or unknown token as its text only when `special` is true (else nothing). A user-defined
    /// token is always its text. An id outside the vocabulary has no bytes.
    public func piece(_ token: Int, special: Bool) -> [UInt8] {
        piece(token, special: special, leftStrip: 0)
    }

    /// `token_to_piece`: at most `leftStrip` leading spaces removed.
    func piece(_ token: Int, special: Bool, leftStrip: Int) -> [UInt8] {
        guard token >= 0 && token < vocabulary.count else { return [] }
        let attributes = vocabulary.attributes[token]
        if !special && !attributes.isDisjoint(with: [.unknown, .control]) { return [] }
        let text = Array(vocabulary.text(token))
        var bytes: [UInt8]
        if !attributes.isDisjoint(with: [.unknown, .control, .userDefined]) {
            bytes = text
        } else if attributes.contains(.normal) {
            switch algorithm {
            case .sentencePiece: bytes = Self.unescapingSpaces(text)
            case .bytePairs: bytes = Self.byteLevelDecoded(text)
            }
        } else if attributes.contains(.byte) {
            bytes = [Self.byteValue(text)]
        } else {
            return []
        }
        var stripped = 0
        while stripped < leftStrip && stripped < bytes.count && bytes[stripped] == 0x20 { stripped += 1 }
        if stripped > 0 { bytes.removeFirst(stripped) }
        return bytes
    }

    /// The text of `tokens` (`llama_detokenize`).
    ///
    /// - Parameters:
    ///   - removeSpecial: drop a leading BOS and a trailing EOS where the model adds them.
    ///   - unparseSpecial: control tokens appear as their text (`<|im_end|>`); otherwise they vanish.
    ///
    /// SPM drops the space its encoding put in front; vocabularies llama.cpp marks `clean_spaces` get
    /// its three clean-up passes (" ?" → "?", " ' " → "'", " 's" → "'s" ...). Bytes that are not UTF-8
    /// (a character cut between tokens) become U+FFFD.
    public func decode(_ tokens: [Int], removeSpecial: Bool, unparseSpecial: Bool) -> String {
        String(
            decoding: decodedBytes(tokens, removeSpecial: removeSpecial, unparseSpecial: unparseSpecial), as: UTF8.self)
    }

    /// `llama_vocab::impl::detokenize`, as bytes.
    func decodedBytes(_ tokens: [Int], removeSpecial: Bool, unparseSpecial: Bool) -> [UInt8] {
        var tokens = tokens[...]
        var removeSpace = addSpacePrefix
        if removeSpecial && addBOS, let first = tokens.first, first == bos {
            removeSpace = false
            tokens = tokens.dropFirst()
        }
        if removeSpecial && addEOS, let last = tokens.last, last == eos { tokens = tokens.dropLast() }
        var text: [UInt8] = []
        for token in tokens {
            text.append(contentsOf: piece(token, special: unparseSpecial, leftStrip: removeSpace ? 1 : 0))
            removeSpace = false
        }
        if cleanSpaces { Self.cleanSpaces(&text) }
        return text
    }

    /// `llama_unescape_whitespace`: U+2581 → space.
    static func unescapingSpaces(_ text: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if index + 2 < text.count && text[index] == 0xE2 && text[index + 1] == 0x96 && text[index + 2] == 0x81 {
                result.append(0x20)
                index += 3
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return result
    }

    /// `llama_decode_text`: each codepoint back to the byte it stands for; one that stands for none
    /// becomes `[UNK_BYTE_0x<its UTF-8 in hex><the whole token>]`, as llama.cpp writes it.
    static func byteLevelDecoded(_ text: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        for codepoint in LlamaUTF8.codepoints(text) {
            if let byte = ByteLevel.byte(of: codepoint) {
                result.append(byte)
            } else {
                var utf8: [UInt8] = []
                LlamaUTF8.append(codepoint, to: &utf8)
                result.append(contentsOf: Array("[UNK_BYTE_0x".utf8))
                for byte in utf8 {
                    let hex = Array("0123456789abcdef".utf8)
                    result.append(hex[Int(byte >> 4)])
                    result.append(hex[Int(byte & 15)])
                }
                result.append(contentsOf: text)
                result.append(UInt8(ascii: "]"))
            }
        }
        return result
    }

    /// `token_to_byte`: the hex digits after `<0x` (strtol of two characters).
    static func byteValue(_ text: [UInt8]) -> UInt8 {
        var value = 0
        for byte in text.dropFirst(3).prefix(2) {
            let digit: Int
            switch byte {
            case 0x30...0x39: digit = Int(byte) - 0x30
            case 0x41...0x46: digit = Int(byte) - 0x41 + 10
            case 0x61...0x66: digit = Int(byte) - 0x61 + 10
            default: return UInt8(truncatingIfNeeded: value)
            }
            value = value * 16 + digit
        }
        return UInt8(truncatingIfNeeded: value)
    }

    /// The three `clean_spaces` passes of `llama_vocab::impl::detokenize`, in place, as llama.cpp
    /// writes them (each pass reads the buffer the previous one left).
    static func cleanSpaces(_ text: inout [UInt8]) {
        let space = UInt8(ascii: " ")
        let apostrophe = UInt8(ascii: "'")
        // " ?", " !", " .", " ," lose the space.
        let total1 = text.count
        var total = total1 > 0 ? 1 : 0
        var index = 1
        while index < total1 {
            let x = text[index]
            if text[index - 1] == space && (x == 0x3F || x == 0x21 || x == 0x2E || x == 0x2C) { total -= 1 }
            text[total] = x
            total += 1
            index += 1
        }
        // " ' " becomes "'".
        let total2 = total
        total = total2 > 0 ? 1 : 0
        index = 1
        while index < total2 {
            let x = text[index]
            if x == apostrophe && index + 1 < total2 && text[index - 1] == space && text[index + 1] == space {
                total -= 1
                index += 1
                text[index] = 0
            }
            text[total] = x
            total += 1
            index += 1
        }
        // " 's", " 'm", " 're", " 've" lose the space (" 't", " 'd", " 'll" keep it).
        let total3 = total
        total = total3 > 0 ? 1 : 0
        index = 1
        while index < total3 {
            let x = text[index]
            if text[index - 1] == space && x == apostrophe && index + 1 < total3 {
                let x1 = text[index + 1]
                if x1 == UInt8(ascii: "s") || x1 == UInt8(ascii: "m") {
                    total -= 1
                } else if x1 != UInt8(ascii: "t") && x1 != UInt8(ascii: "d") && index + 2 < total3 {
                    let x2 = text[index + 2]
                    if (x1 == UInt8(ascii: "r") && x2 == UInt8(ascii: "e"))
                        || (x1 == UInt8(ascii: "v") && x2 == UInt8(ascii: "e"))
                    {
                        total -= 1
                    }
                }
            }
            text[total] = x
            total += 1
            index += 1
        }
        text.removeLast(text.count - total)
    }
}
