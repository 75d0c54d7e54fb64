/// A candidate merge of two neighbouring pieces (`llm_bigram_spm`); `<` means "is merged first": the
/// higher score of the merged token, then the leftmost.
struct SentencePieceBigram: Comparable {
    var score: Float
    var left: Int32
    var right: Int32
    var size: Int

    static func < (a: Self, b: Self) -> Bool { a.score > b.score || (a.score == b.score && a.left < b.left) }
}

/// SentencePiece-style BPE (Llama 2, Mistral) of one text fragment whose spaces are already U+2581:
/// start from its UTF-8 characters, repeatedly merge the neighbouring pair whose concatenation is the
/// token of highest score; what is left and is no token becomes byte tokens (`<0xXX>`).
///
/// Source of truth: llama.cpp `src/llama-vocab.cpp` (`llm_tokenizer_spm_session`). Its `rev_merge`
/// re-segmentation never applies (a merged piece is always a token, and an unmerged one that is not a
/// token was never recorded there), so a piece is its token or its bytes.
struct SentencePieceSession {
    let vocabulary: Vocabulary
    /// The token for each byte (`byte_to_token`: `<0xXX>`, else the one-byte text), or -1.
    let byteTokens: [Int32]
    private var symbols: [MergeSymbol] = []
    private var queue = BinaryHeap<SentencePieceBigram>()

    init(vocabulary: Vocabulary, byteTokens: [Int32]) {
        self.vocabulary = vocabulary
        self.byteTokens = byteTokens
    }

    mutating func encode(_ text: [UInt8], into output: inout [Int]) {
        text.withUnsafeBufferPointer { encode($0, into: &output) }
    }

    private mutating func encode(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int]) {
        symbols.removeAll(keepingCapacity: true)
        queue.removeAll()
        var offset = 0
        while offset < text.count {
            let length = min(text.count - offset, LlamaUTF8.sequenceLength(text[offset]))
            let index = symbols.count
            symbols.append(
                MergeSymbol(
                    start: offset, length: length, previous: index - 1,
                    next: offset + length == text.count ? -1 : index + 1))
            offset += length
        }
        guard !symbols.isEmpty else { return }
        for index in symbols.indices.dropFirst() { addBigram(text, index - 1, index) }
        while let bigram = queue.pop() {
            let left = Int(bigram.left)
            let right = Int(bigram.right)
            guard symbols[left].length > 0, symbols[right].length > 0,
                symbols[left].length + symbols[right].length == bigram.size
            else { continue }
            symbols[left].length += symbols[right].length
            symbols[right].length = 0
            symbols[left].next = symbols[right].next
            if symbols[right].next >= 0 { symbols[symbols[right].next].previous = left }
            addBigram(text, symbols[left].previous, left)
            addBigram(text, left, symbols[left].next)
        }
        var index = 0
        while index != -1 {
            let symbol = symbols[index]
            let bytes = UnsafeBufferPointer(rebasing: text[symbol.start..<(symbol.start + symbol.length)])
            if let token = vocabulary.token(bytes) {
                output.append(Int(token))
            } else {
                // llama.cpp throws when a byte has no token at all; perwatt leaves the byte out.
                for byte in bytes where byteTokens[Int(byte)] >= 0 { output.append(Int(byteTokens[Int(byte)])) }
            }
            index = symbol.next
        }
    }

    private mutating func addBigram(_ text: UnsafeBufferPointer<UInt8>, _ left: Int, _ right: Int) {
        guard left >= 0, right >= 0 else { return }
        let start = symbols[left].start
        let size = symbols[left].length + symbols[right].length
        guard let token = vocabulary.token(UnsafeBufferPointer(rebasing: text[start..<(start + size)])) else {
            return
        }
        queue.push(
            SentencePieceBigram(
                score: vocabulary.scores[Int(token)], left: Int32(left), right: Int32(right), size: size))
    }
}
