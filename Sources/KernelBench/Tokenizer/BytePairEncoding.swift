/// One piece of a word or text while merging (`llm_symbol`): `length` bytes from `start`, linked to
/// its neighbours; a piece merged into its left neighbour has length 0.
struct MergeSymbol {
    var start: Int
    var length: Int
    var previous: Int
    var next: Int
    /// BPE only: the id of the piece's text as a token or merge half, or -1 (it can merge no further).
    var piece: Int32 = -1
}

/// A candidate merge of two neighbouring pieces (`llm_bigram_bpe`); `<` means "is merged first":
/// the lower rank, then the leftmost.
struct BytePairBigram: Comparable {
    var rank: Int32
    var left: Int32
    var right: Int32
    /// The bytes the two pieces had together when this was queued; if they differ now, it is stale.
    var size: Int

    static func < (a: Self, b: Self) -> Bool { a.rank < b.rank || (a.rank == b.rank && a.left < b.left) }
}

/// Byte-level BPE of one pre-tokenized word: start from its characters, merge the neighbouring pair
/// of lowest rank until none is left, each merge one pop of a priority queue (O(n log n) per word).
///
/// Source of truth: llama.cpp `src/llama-vocab.cpp` (`llm_tokenizer_bpe_session::tokenize`).
struct BytePairSession {
    let vocabulary: Vocabulary
    /// The token of each single byte, or -1: the fallback for a piece that is not a token.
    let byteTokens: [Int32]
    private var symbols: [MergeSymbol] = []
    private var queue = BinaryHeap<BytePairBigram>()

    init(vocabulary: Vocabulary, byteTokens: [Int32]) {
        self.vocabulary = vocabulary
        self.byteTokens = byteTokens
    }

    /// Appends the tokens of `word` (its bytes already mapped to GPT-2's byte-level alphabet).
    mutating func encode(_ word: [UInt8], ignoreMerges: Bool, into output: inout [Int]) {
        word.withUnsafeBufferPointer { encode($0, ignoreMerges: ignoreMerges, into: &output) }
    }

    private mutating func encode(_ word: UnsafeBufferPointer<UInt8>, ignoreMerges: Bool, into output: inout [Int]) {
        // ignore_merges: a word that is a token is that token (what the one-symbol path in llama.cpp
        // amounts to).
        if ignoreMerges, let token = vocabulary.token(word) {
            output.append(Int(token))
            return
        }
        func slice(_ start: Int, _ length: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: word[start..<(start + length)])
        }
        symbols.removeAll(keepingCapacity: true)
        queue.removeAll()
        var offset = 0
        while offset < word.count {
            let length = min(word.count - offset, LlamaUTF8.sequenceLength(word[offset]))
            let index = symbols.count
            symbols.append(
                MergeSymbol(
                    start: offset, length: length, previous: index - 1,
                    next: offset + length == word.count ? -1 : index + 1,
                    piece: vocabulary.piece(slice(offset, length))))
            offset += length
        }
        for index in symbols.indices.dropFirst() { addBigram(index - 1, index) }
        while let bigram = queue.pop() {
            let left = Int(bigram.left)
            let right = Int(bigram.right)
            // Skip a merge whose pieces have changed since it was queued (llama.cpp compares the texts;
            // the left piece keeps its start, so comparing the lengths is the same test).
            guard symbols[left].length > 0, symbols[right].length > 0,
                symbols[left].length + symbols[right].length == bigram.size
            else { continue }
            symbols[left].length += symbols[right].length
            symbols[right].length = 0
            symbols[left].next = symbols[right].next
            if symbols[right].next >= 0 { symbols[symbols[right].next].previous = left }
            symbols[left].piece = vocabulary.piece(slice(symbols[left].start, symbols[left].length))
            addBigram(symbols[left].previous, left)
            addBigram(left, symbols[left].next)
        }
        for symbol in symbols where symbol.length > 0 {
            if symbol.piece >= 0 && Int(symbol.piece) < vocabulary.count {
                output.append(Int(symbol.piece))
            } else {
                // Not a token: its bytes one by one, each if it is a token (llama.cpp drops the others).
                for byte in slice(symbol.start, symbol.length) where byteTokens[Int(byte)] >= 0 {
                    output.append(Int(byteTokens[Int(byte)]))
                }
            }
        }
    }

    private mutating func addBigram(_ left: Int, _ right: Int) {
        guard left >= 0, right >= 0, let rank = vocabulary.rank(symbols[left].piece, symbols[right].piece) else {
            return
        }
        queue.push(
            BytePairBigram(
                rank: rank, left: Int32(left), right: Int32(right), size: symbols[left].length + symbols[right].length))
    }
}
