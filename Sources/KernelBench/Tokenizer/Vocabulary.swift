/// What llama.cpp knows about one token besides its text (`llama_token_attr` in `include/llama.h`).
struct TokenAttributes: OptionSet, Sendable {
    let rawValue: UInt16

    static let unknown = TokenAttributes(rawValue: 1 << 0)
    static let unused = TokenAttributes(rawValue: 1 << 1)
    static let normal = TokenAttributes(rawValue: 1 << 2)
    static let control = TokenAttributes(rawValue: 1 << 3)
    static let userDefined = TokenAttributes(rawValue: 1 << 4)
    static let byte = TokenAttributes(rawValue: 1 << 5)
    static let normalized = TokenAttributes(rawValue: 1 << 6)
    static let leftStrip = TokenAttributes(rawValue: 1 << 7)
    static let rightStrip = TokenAttributes(rawValue: 1 << 8)
    static let singleWord = TokenAttributes(rawValue: 1 << 9)

    /// The attributes of a `tokenizer.ggml.token_type` value (`llama_token_type`): unknown values are
    /// undefined (no attribute), as in llama.cpp.
    init(tokenType: Int) {
        switch tokenType {
        case 1: self = .normal
        case 2: self = .unknown
        case 3: self = .control
        case 4: self = .userDefined
        case 5: self = .unused
        case 6: self = .byte
        default: self = []
        }
    }

    init(rawValue: UInt16) { self.rawValue = rawValue }
}

/// The tokens of a vocabulary: text (UTF-8 bytes), score, attributes, and, for BPE, the merge ranks.
struct Vocabulary: Sendable {
    /// Token texts, token `i` being string `i`. For BPE, the merge halves that are not tokens follow,
    /// so that every string a merge names has an id.
    var strings: ByteStringTable
    /// The number of tokens.
    let count: Int
    var scores: [Float]
    var attributes: [TokenAttributes]
    /// BPE merge ranks by `key(left, right)` of the halves' ids (`bpe_ranks`); the first of duplicate
    /// merges keeps its rank, as `emplace` does.
    var ranks: [UInt64: Int32] = [:]

    /// The text of token `id`.
    func text(_ id: Int) -> ArraySlice<UInt8> { strings[id] }

    /// The token whose text is `bytes` (`text_to_token`).
    @inline(__always)
    func token(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        let id = strings.find(bytes)
        return id >= 0 && Int(id) < count ? id : nil
    }

    func token(_ bytes: [UInt8]) -> Int32? { bytes.withUnsafeBufferPointer { token($0) } }
    func token(_ bytes: ArraySlice<UInt8>) -> Int32? { bytes.withUnsafeBufferPointer { token($0) } }
    func token(_ text: String) -> Int32? { token(Array(text.utf8)) }

    /// The id of a string a merge may name (a token or a merge half), or -1.
    @inline(__always)
    func piece(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32 { strings.find(bytes) }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// The rank of merging pieces `left` and `right`, if a merge names them (`find_bpe_rank`).
    @inline(__always)
    func rank(_ left: Int32, _ right: Int32) -> Int32? {
        guard left >= 0, right >= 0 else { return nil }
        return ranks[Self.key(left, right)]
    }
}
