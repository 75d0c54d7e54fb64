/// How a byte-level BPE model cuts text into words before merging, and the flags llama.cpp sets with
/// it. llama.cpp names dozens of pre-tokenizers (`tokenizer.ggml.pre`); perwatt reads those that come
/// down to one of four splits, each a port of llama.cpp's code for that regex.
///
/// Source of truth: llama.cpp `src/llama-vocab.cpp` (`llama_vocab::impl::load`, the `tokenizer_pre`
/// chain, and `llm_tokenizer_bpe`'s `regex_exprs`) and `src/unicode.cpp` (`unicode_regex_split`).
struct PreTokenizer: Sendable, Equatable {
    enum Split: Sendable, Equatable {
        /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`
        /// (`unicode_regex_split_custom_gpt2`).
        case gpt2
        /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
        /// (`unicode_regex_split_custom_llama3`).
        case llama3
        /// The llama3 regex with `\p{N}` for `\p{N}{1,3}` (`unicode_regex_split_custom_qwen2`).
        case qwen2
        /// `\p{N}` (each number codepoint alone, through std::regex on the category-collapsed text),
        /// then the gpt2 split on what is left: llama.cpp's STARCODER/SMOLLM group.
        case digitsThenGPT2
    }

    var split: Split
    /// A word that is itself a token is that token, unmerged (`ignore_merges`).
    var ignoreMerges = false
    var addBOS = false
    /// `clean_spaces` (clean_up_tokenization_spaces): decoding removes spaces before `?!.,` etc.
    var cleanSpaces = true
    /// The pre-tokenizer sets no default BOS id (llama.cpp's chatglm ones).
    var noDefaultBOS = false

    /// The llama.cpp pre-tokenizer names perwatt reads, with what llama.cpp sets for each.
    static let known: [String: PreTokenizer] = {
        var table: [String: PreTokenizer] = [:]
        func add(_ names: [String], _ value: PreTokenizer) { for name in names { table[name] = value } }
        // LLAMA_VOCAB_PRE_TYPE_GPT2 and the types with the same regex (MPT, OLMO, JAIS, TRILLION,
        // GRANITE_DOCLING).
        add(
            [
                "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
                "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "exaone4", "mpt", "olmo", "jais",
            ], PreTokenizer(split: .gpt2))
        add(["trillion", "granite-docling"], PreTokenizer(split: .gpt2, cleanSpaces: false))
        // LLAMA3, and DBRX, SMAUG and CHATGLM4 with the same regex.
        add(
            ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"],
            PreTokenizer(split: .llama3, ignoreMerges: true, addBOS: true))
        add(["dbrx", "smaug-bpe"], PreTokenizer(split: .llama3))
        add(["chatglm-bpe"], PreTokenizer(split: .llama3, noDefaultBOS: true))
        add(["glm4", "glm5"], PreTokenizer(split: .llama3, ignoreMerges: true, noDefaultBOS: true))
        // QWEN2, and STABLELM2, HUNYUAN, SOLAR_OPEN and GROK_2 (whose regex is the same string).
        add(
            ["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2"],
            PreTokenizer(split: .qwen2, cleanSpaces: false))
        add(["stablelm2", "megrez"], PreTokenizer(split: .qwen2))
        // STARCODER, REFACT, COMMAND_R, SMOLLM, CODESHELL, EXAONE, MINERVA, MELLUM2.
        add(
            ["starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"],
            PreTokenizer(split: .digitsThenGPT2))
        add(["command-r", "smollm"], PreTokenizer(split: .digitsThenGPT2, cleanSpaces: false))
        return table
    }()

    /// The words of `codepoints`, as lengths in codepoints (`unicode_regex_split` before byte encoding).
    func words(_ codepoints: [UInt32]) -> [Int] {
        let flags = codepoints.map(CodepointFlags.of)
        let all = [codepoints.count]
        switch split {
        case .gpt2: return Self.splitGPT2(codepoints, flags, all)
        case .llama3: return Self.splitLlama3(codepoints, flags, all, digitRun: 3)
        case .qwen2: return Self.splitLlama3(codepoints, flags, all, digitRun: 1)
        case .digitsThenGPT2: return Self.splitGPT2(codepoints, flags, Self.splitNumbers(flags, all))
        }
    }

    private static let outOfRange: UInt32 = 0xFFFF_FFFF
    private static let apostrophe = UInt32(UInt8(ascii: "'"))
    private static let space = UInt32(UInt8(ascii: " "))
    private static let carriageReturn = UInt32(UInt8(ascii: "\r"))
    private static let newline = UInt32(UInt8(ascii: "\n"))

    /// The lengths of the words of each chunk: the `_add_token` bookkeeping shared by the splitters.
    private struct Words {
        var lengths: [Int] = []
        var previousEnd = 0

        /// Ends a word at `end` (if it is not empty) and returns its length.
        @discardableResult
        mutating func add(upTo end: Int) -> Int {
            let length = end - previousEnd
            if length > 0 { lengths.append(length) }
            previousEnd = end
            return length
        }
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d`, case-sensitive or not: the length of the contraction at `position`, or 0.
    /// (llama.cpp lowers with `unicode_tolower`; only ASCII letters lower to these, so ASCII suffices.)
    @inline(__always)
    private static func contraction(
        at position: Int, end: Int, caseInsensitive: Bool, _ codepoint: (Int) -> UInt32
    ) -> Int {
        guard codepoint(position) == apostrophe, position + 1 < end else { return 0 }
        func lowered(_ value: UInt32) -> UInt32 {
            caseInsensitive && value >= 0x41 && value <= 0x5A ? value + 0x20 : value
        }
        let next = lowered(codepoint(position + 1))
        if next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64 { return 2 }  // s t m d
        guard position + 2 < end else { return 0 }
        let nextNext = lowered(codepoint(position + 2))
        if (next == 0x72 && nextNext == 0x65) || (next == 0x76 && nextNext == 0x65)
            || (next == 0x6C && nextNext == 0x6C)
        {
            return 3  // re ve ll
        }
        return 0
    }

    /// `unicode_regex_split_custom_gpt2`, line for line.
    static func splitGPT2(_ codepoints: [UInt32], _ allFlags: [CodepointFlags], _ offsets: [Int]) -> [Int] {
        var words = Words()
        words.lengths.reserveCapacity(offsets.count)
        var start = 0
        for offset in offsets {
            let first = start
            let end = start + offset
            start = end
            func codepoint(_ position: Int) -> UInt32 {
                first <= position && position < end ? codepoints[position] : outOfRange
            }
            func flags(_ position: Int) -> CodepointFlags {
                first <= position && position < end ? allFlags[position] : []
            }
            words.previousEnd = first
            var position = first
            while position < end {
                let current = codepoint(position)
                let currentFlags = flags(position)
                let contracted = contraction(at: position, end: end, caseInsensitive: false, codepoint)
                if contracted > 0 {
                    position += words.add(upTo: position + contracted)
                    continue
                }
                var flags2 = current == space ? flags(position + 1) : currentFlags
                // <space>?\p{L}+
                if flags2.contains(.letter) {
                    if current == space { position += 1 }
                    while flags2.contains(.letter) {
                        position += 1
                        flags2 = flags(position)
                    }
                    words.add(upTo: position)
                    continue
                }
                // <space>?\p{N}+
                if flags2.contains(.number) {
                    if current == space { position += 1 }
                    while flags2.contains(.number) {
                        position += 1
                        flags2 = flags(position)
                    }
                    words.add(upTo: position)
                    continue
                }
                // <space>?[^\s\p{L}\p{N}]+
                if flags2.isDisjoint(with: [.whitespace, .letter, .number]) && !flags2.isEmpty {
                    if current == space { position += 1 }
                    while flags2.isDisjoint(with: [.whitespace, .letter, .number]) && !flags2.isEmpty {
                        position += 1
                        flags2 = flags(position)
                    }
                    words.add(upTo: position)
                    continue
                }
                var whitespaces = 0
                while flags(position + whitespaces).contains(.whitespace) { whitespaces += 1 }
                // \s+(?!\S)
                if whitespaces > 1 && codepoint(position + whitespaces) != outOfRange {
                    position += whitespaces - 1
                    words.add(upTo: position)
                    continue
                }
                // \s+
                if whitespaces > 0 {
                    position += whitespaces
                    words.add(upTo: position)
                    continue
                }
                // no match
                position += 1
                words.add(upTo: position)
            }
        }
        return words.lengths
    }

    /// `unicode_regex_split_custom_llama3` (`digitRun` 3) and `unicode_regex_split_custom_qwen2`
    /// (`digitRun` 1), line for line.
    static func splitLlama3(
        _ codepoints: [UInt32], _ allFlags: [CodepointFlags], _ offsets: [Int], digitRun: Int
    ) -> [Int] {
        var words = Words()
        words.lengths.reserveCapacity(offsets.count)
        var start = 0
        for offset in offsets {
            let first = start
            let end = start + offset
            start = end
            func codepoint(_ position: Int) -> UInt32 {
                first <= position && position < end ? codepoints[position] : outOfRange
            }
            func flags(_ position: Int) -> CodepointFlags {
                first <= position && position < end ? allFlags[position] : []
            }
            words.previousEnd = first
            var position = first
            while position < end {
                let current = codepoint(position)
                let currentFlags = flags(position)
                // (?i:'s|'t|'re|'ve|'m|'ll|'d)
                let contracted = contraction(at: position, end: end, caseInsensitive: true, codepoint)
                if contracted > 0 {
                    position += words.add(upTo: position + contracted)
                    continue
                }
                // [^\r\n\p{L}\p{N}]?\p{L}+
                if !(current == carriageReturn || current == newline || currentFlags.contains(.number)) {
                    if currentFlags.contains(.letter) || flags(position + 1).contains(.letter) {
                        position += 1
                        while flags(position).contains(.letter) { position += 1 }
                        words.add(upTo: position)
                        continue
                    }
                }
                // \p{N}{1,3} (llama3) or \p{N} (qwen2)
                if currentFlags.contains(.number) {
                    if digitRun == 1 {
                        position += 1
                        words.add(upTo: position)
                        continue
                    }
                    var runStart = position
                    while flags(position).contains(.number) {
                        position += 1
                        if position - runStart >= digitRun {
                            words.add(upTo: position)
                            runStart = position
                        }
                    }
                    words.add(upTo: position)
                    continue
                }
                // <space>?[^\s\p{L}\p{N}]+[\r\n]*  (llama.cpp tests the current flags, not flags2, for
                // being defined here: kept as it is)
                var flags2 = current == space ? flags(position + 1) : currentFlags
                if flags2.isDisjoint(with: [.whitespace, .letter, .number]) && !currentFlags.isEmpty {
                    if current == space { position += 1 }
                    while flags2.isDisjoint(with: [.whitespace, .letter, .number]) && !flags2.isEmpty {
                        position += 1
                        flags2 = flags(position)
                    }
                    var next = codepoint(position)
                    while next == carriageReturn || next == newline {
                        position += 1
                        next = codepoint(position)
                    }
                    words.add(upTo: position)
                    continue
                }
                var whitespaces = 0
                var lastLineEnd = 0
                while flags(position + whitespaces).contains(.whitespace) {
                    let next = codepoint(position + whitespaces)
                    if next == carriageReturn || next == newline { lastLineEnd = position + whitespaces + 1 }
                    whitespaces += 1
                }
                // \s*[\r\n]+
                if lastLineEnd > 0 {
                    position = lastLineEnd
                    words.add(upTo: position)
                    continue
                }
                // \s+(?!\S)
                if whitespaces > 1 && codepoint(position + whitespaces) != outOfRange {
                    position += whitespaces - 1
                    words.add(upTo: position)
                    continue
                }
                // \s+
                if whitespaces > 0 {
                    position += whitespaces
                    words.add(upTo: position)
                    continue
                }
                // no match
                position += 1
                words.add(upTo: position)
            }
        }
        return words.lengths
    }

    /// `\p{N}` through `unicode_regex_split_stl` on the collapsed text: every number codepoint is a
    /// word of its own, and each run between them is one too. (The collapsed text keeps ASCII as it is
    /// and writes 0xD1 for other `\p{N}` codepoints; the collapsed regex is `[\xD1\x30-\x39]`, so it
    /// matches exactly the codepoints whose flags say number.)
    static func splitNumbers(_ allFlags: [CodepointFlags], _ offsets: [Int]) -> [Int] {
        var lengths: [Int] = []
        lengths.reserveCapacity(offsets.count)
        var start = 0
        for offset in offsets {
            var gap = 0
            for position in start..<(start + offset) {
                if allFlags[position].contains(.number) {
                    if gap > 0 { lengths.append(gap) }
                    lengths.append(1)
                    gap = 0
                } else {
                    gap += 1
                }
            }
            if gap > 0 { lengths.append(gap) }
            start += offset
        }
        return lengths
    }
}
