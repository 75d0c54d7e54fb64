import Foundation

/// The tokenizer of a GGUF model, read from its `tokenizer.ggml.*` metadata: text to the token ids
/// llama.cpp gives, and back.
///
/// Reads byte-level BPE models (`tokenizer.ggml.model` = `gpt2`, with the pre-tokenizers listed in
/// `supportedPreTokenizers`) and SentencePiece models (`llama`: Llama 2, Mistral). Special tokens
/// (control, user-defined) are split out of the text first, as llama.cpp does.
///
/// Source of truth: llama.cpp `src/llama-vocab.cpp` and `src/unicode.cpp` (as vendored by
/// llama-cpp-python 0.3.36); checked against llama.cpp's own test cases
/// (`Tests/KernelBenchTests/Tokenizer`).
public struct Tokenizer: Sendable {
    /// `tokenizer.ggml.model`: `gpt2` or `llama`.
    public let model: String
    /// `tokenizer.ggml.pre`, or `default` when the file names none.
    public let pre: String
    /// llama.cpp's BOS, EOS and EOT tokens (`llama_vocab_bos` ...), if the vocabulary has them.
    public let bos: Int?
    public let eos: Int?
    public let eot: Int?
    /// Whether `encode(_:addSpecial:parseSpecial:)` with `addSpecial` puts BOS first / EOS last: the
    /// model's `tokenizer.ggml.add_bos_token` / `add_eos_token`, or llama.cpp's default for its type.
    public let addBOS: Bool
    public let addEOS: Bool

    /// The names perwatt reads in `tokenizer.ggml.model`.
    public static let supportedModels = ["gpt2", "llama"]
    /// The names perwatt reads in `tokenizer.ggml.pre` for `gpt2` models (llama.cpp's aliases of the
    /// gpt-2, llama3, qwen2 and smollm pre-tokenizers).
    public static var supportedPreTokenizers: [String] { PreTokenizer.known.keys.sorted() }

    enum Algorithm: Sendable {
        case bytePairs(PreTokenizer)
        case sentencePiece
    }

    let algorithm: Algorithm
    let vocabulary: Vocabulary
    /// The token of each byte for byte fallback (BPE: its one-byte text; SPM: `<0xXX>`), or -1.
    let byteTokens: [Int32]
    /// Control, user-defined and unknown tokens, longest text first (`cache_special_tokens`).
    let specialTokens: [SpecialToken]

    struct SpecialToken: Sendable {
        var id: Int32
        var text: [UInt8]
        var attributes: TokenAttributes
    }
    /// llama.cpp's end-of-generation set (`special_eog_ids`).
    let endOfGeneration: Set<Int>
    /// SPM: a space before the first text fragment, and decoding drops it (`add_space_prefix`).
    let addSpacePrefix: Bool
    /// Decoding tidies spaces before punctuation and in contractions (`clean_spaces`).
    let cleanSpaces: Bool

    /// The number of tokens.
    public var vocabularySize: Int { vocabulary.count }

    /// Whether generation stops at `token` (`llama_vocab_is_eog`).
    public func isEndOfGeneration(_ token: Int) -> Bool { endOfGeneration.contains(token) }

    /// The token ids of `text` (`llama_tokenize`).
    ///
    /// - Parameters:
    ///   - addSpecial: put BOS first and EOS last where the model asks for them (`addBOS`, `addEOS`).
    ///   - parseSpecial: text that spells a control token (`<|im_end|>`) is that token; otherwise it
    ///     is ordinary text. User-defined tokens are split out either way, as in llama.cpp.
    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int] {
        let bytes = Array(text.utf8)
        let fragments = partition(bytes, parseSpecial: parseSpecial)
        var output: [Int] = []
        output.reserveCapacity(bytes.count / 3 + 2)
        if addSpecial && addBOS, let bos { output.append(bos) }
        switch algorithm {
        case .sentencePiece:
            var session = SentencePieceSession(vocabulary: vocabulary, byteTokens: byteTokens)
            var previousIsSpecial = true  // the first fragment gets the space prefix too
            for fragment in fragments {
                switch fragment {
                case .token(let token):
                    output.append(Int(token))
                    previousIsSpecial = true
                case .text(let range):
                    var escaped: [UInt8] = []
                    escaped.reserveCapacity(range.count + 3)
                    if addSpacePrefix && previousIsSpecial { escaped.append(contentsOf: Self.escapedSpace) }
                    for byte in bytes[range] {
                        if byte == 0x20 { escaped.append(contentsOf: Self.escapedSpace) } else { escaped.append(byte) }
                    }
                    session.encode(escaped, into: &output)
                    previousIsSpecial = false
                }
            }
        case .bytePairs(let preTokenizer):
            var session = BytePairSession(vocabulary: vocabulary, byteTokens: byteTokens)
            var word: [UInt8] = []
            var utf8: [UInt8] = []
            for fragment in fragments {
                switch fragment {
                case .token(let token):
                    output.append(Int(token))
                case .text(let range):
                    let codepoints = LlamaUTF8.codepoints(bytes[range])
                    var start = 0
                    for length in preTokenizer.words(codepoints) {
                        // unicode_byte_encoding_process: the word's UTF-8, each byte as its GPT-2 character
                        word.removeAll(keepingCapacity: true)
                        utf8.removeAll(keepingCapacity: true)
                        for codepoint in codepoints[start..<(start + length)] {
                            LlamaUTF8.append(codepoint, to: &utf8)
                        }
                        for byte in utf8 { word.append(contentsOf: ByteLevel.utf8OfByte[Int(byte)]) }
                        session.encode(word, ignoreMerges: preTokenizer.ignoreMerges, into: &output)
                        start += length
                    }
                }
            }
        }
        if addSpecial && addEOS, let eos { output.append(eos) }
        return output
    }

    /// U+2581 LOWER ONE EIGHTH BLOCK, which SentencePiece vocabularies write for a space.
    static let escapedSpace: [UInt8] = [0xE2, 0x96, 0x81]

    enum Fragment: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    /// `text` cut around the special tokens it contains, longest token first, each occurrence found
    /// left to right (`tokenizer_st_partition`). Without `parseSpecial`, control and unknown tokens are
    /// not looked for. A token marked lstrip/rstrip takes the ASCII whitespace beside it along.
    func partition(_ text: [UInt8], parseSpecial: Bool) -> [Fragment] {
        guard !text.isEmpty else { return [] }
        var fragments: [Fragment] = [.text(0..<text.count)]
        // Longest first: those longer than the whole text cannot occur in it.
        var low = 0
        var high = specialTokens.count
        while low < high {
            let middle = (low + high) / 2
            if specialTokens[middle].text.count > text.count { low = middle + 1 } else { high = middle }
        }
        for index in low..<specialTokens.count {
            let attributes = specialTokens[index].attributes
            if !parseSpecial && !attributes.isDisjoint(with: [.control, .unknown]) { continue }
            let needle = specialTokens[index].text
            var rebuilt: [Fragment] = []
            var matched = false
            for (position, fragment) in fragments.enumerated() {
                guard case .text(let range) = fragment,
                    var match = Self.find(needle, in: text, from: range.lowerBound, to: range.upperBound)
                else {
                    if matched { rebuilt.append(fragment) }
                    continue
                }
                if !matched {
                    rebuilt.append(contentsOf: fragments[..<position])
                    matched = true
                }
                var start = range.lowerBound
                let end = range.upperBound
                while true {
                    var leftEnd = match
                    if attributes.contains(.leftStrip) {
                        while leftEnd > start && Self.isSpace(text[leftEnd - 1]) { leftEnd -= 1 }
                    }
                    if leftEnd > start { rebuilt.append(.text(start..<leftEnd)) }
                    rebuilt.append(.token(specialTokens[index].id))
                    start = match + needle.count
                    if attributes.contains(.rightStrip) {
                        while start < end && Self.isSpace(text[start]) { start += 1 }
                    }
                    guard let next = Self.find(needle, in: text, from: start, to: end) else { break }
                    match = next
                }
                if start < end { rebuilt.append(.text(start..<end)) }
            }
            if matched { fragments = rebuilt }
        }
        return fragments
    }

    /// C's `isspace` in the C locale (what llama.cpp strips beside lstrip/rstrip tokens).
    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }

    /// The first occurrence of `needle` in `haystack[from..<to]` (memchr for its first byte).
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int, to: Int) -> Int? {
        let count = needle.count
        guard count > 0, to - from >= count else { return nil }
        return haystack.withUnsafeBufferPointer { text in
            needle.withUnsafeBufferPointer { pattern in
                let base = text.baseAddress!
                let first = Int32(pattern[0])
                var index = from
                let last = to - count
                while index <= last {
                    guard let found = memchr(base + index, first, last - index + 1) else { return nil }
                    index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if memcmp(base + index, pattern.baseAddress!, count) == 0 { return index }
                    index += 1
                }
                return nil
            }
        }
    }
}
