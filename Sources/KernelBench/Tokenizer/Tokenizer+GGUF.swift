/// Reading the tokenizer from a GGUF's metadata, in the order and with the defaults of llama.cpp's
/// `llama_vocab::impl::load` (`src/llama-vocab.cpp`).
extension Tokenizer {
    /// Reads the tokenizer of `gguf`.
    ///
    /// Throws `TokenizerError` when the model or pre-tokenizer is one perwatt does not implement, a
    /// key is missing or of the wrong type, or arrays that must agree do not (tokens, scores and token
    /// types of different lengths, a token twice, BOS asked for but absent).
    public init(gguf: GGUFFile) throws(TokenizerError) {
        let reader = MetadataReader(file: gguf)
        let model = try reader.string(Keys.model) ?? ""
        guard reader.present(Keys.model) else {
            throw reader.error(
                .missingKey, Keys.model,
                "is missing: the file has no tokenizer; use a GGUF converted with its tokenizer (llama.cpp's convert_hf_to_gguf.py writes it)"
            )
        }
        let preName = try reader.string(Keys.pre)

        // Per-type defaults (llama.cpp's `special_*_id` and flags before the keys override them).
        var bos: Int32? = nil
        var eos: Int32? = nil
        var addSpacePrefix: Bool
        var addBOS = false
        var addEOS = false
        var cleanSpaces: Bool
        let algorithm: Algorithm
        switch model {
        case "llama":
            algorithm = .sentencePiece
            (bos, eos) = (1, 2)
            addSpacePrefix = true
            cleanSpaces = false
            addBOS = true
        case "gpt2":
            guard let preName, !preName.isEmpty else {
                throw reader.error(
                    .unsupportedPreTokenizer, Keys.pre,
                    "is missing: llama.cpp would fall back to its 'default' pre-tokenizer (and warn that generation quality "
                        + "degrades), which perwatt does not implement; convert the model again with a current "
                        + "convert_hf_to_gguf.py, or set the key with gguf-py's gguf_set_metadata")
            }
            guard let preTokenizer = PreTokenizer.known[preName] else {
                throw reader.error(
                    .unsupportedPreTokenizer, Keys.pre,
                    "is \"\(preName)\", which perwatt does not implement; it reads "
                        + Tokenizer.supportedPreTokenizers.joined(separator: ", "))
            }
            algorithm = .bytePairs(preTokenizer)
            (bos, eos) = preTokenizer.noDefaultBOS ? (nil, 11) : (11, 11)
            addSpacePrefix = false
            cleanSpaces = preTokenizer.cleanSpaces
            addBOS = preTokenizer.addBOS
        default:
            throw reader.error(
                .unsupportedModel, Keys.model,
                "is \"\(model)\"; perwatt tokenizes \"gpt2\" (byte-level BPE) and \"llama\" (SentencePiece) "
                    + "vocabularies; use a model with one of those, or llama.cpp for this one")
        }
        if let flag = try reader.bool(Keys.addSpacePrefix) { addSpacePrefix = flag }

        var vocabulary = try Self.readVocabulary(reader, algorithm: algorithm)
        let count = vocabulary.count
        let byteTokens = Self.byteTokens(vocabulary, algorithm: algorithm)

        // Special token ids: a default beyond the vocabulary is dropped; a key beyond it is ignored.
        func special(_ key: String, _ fallback: Int32?) throws(TokenizerError) -> Int32? {
            var id = fallback.flatMap { Int($0) < count ? $0 : nil }
            if let value = try reader.integer(key), value >= 0, value < count { id = Int32(value) }
            return id
        }
        bos = try special(Keys.bos, bos)
        eos = try special(Keys.eos, eos)
        var eot = try special(Keys.eot, nil)
        var eom = try special(Keys.eom, nil)
        var fimPre = try special(Keys.fimPre, nil)
        fimPre = try special(Keys.prefix, fimPre)
        var fimSuffix = try special(Keys.fimSuffix, nil)
        fimSuffix = try special(Keys.suffix, fimSuffix)
        var fimMiddle = try special(Keys.fimMiddle, nil)
        fimMiddle = try special(Keys.middle, fimMiddle)
        var fimPad = try special(Keys.fimPad, nil)
        var fimRepo = try special(Keys.fimRepo, nil)
        var fimSeparator = try special(Keys.fimSeparator, nil)

        if let flag = try reader.bool(Keys.addBOS) { addBOS = flag }
        if let flag = try reader.bool(Keys.addEOS) { addEOS = flag }

        // Tokens llama.cpp recognizes by their text. It takes the first match in hash-table order, which
        // differs between C++ standard libraries; perwatt takes the first in its lists' order.
        func detect(_ id: inout Int32?, _ texts: [String]) {
            guard id == nil else { return }
            for text in texts {
                guard let token = vocabulary.token(text) else { continue }
                id = token
                vocabulary.attributes[Int(token)].insert(.control)
                return
            }
        }
        detect(&eot, SpecialTexts.endOfTurn)
        detect(&eom, ["<|eom_id|>"])
        detect(&fimPre, SpecialTexts.fimPrefix)
        detect(&fimSuffix, SpecialTexts.fimSuffix)
        detect(&fimMiddle, SpecialTexts.fimMiddle)
        detect(&fimPad, SpecialTexts.fimPad)
        detect(&fimRepo, SpecialTexts.fimRepo)
        detect(&fimSeparator, ["<|file_sep|>"])

        // Control tokens named "unused" are unused.
        let unusedWord = Array("unused".utf8)
        for id in 0..<count where vocabulary.attributes[id].contains(.control) {
            let text = vocabulary.text(id).prefix { $0 != 0 }  // strstr stops at a NUL
            if Self.find(unusedWord, in: Array(text), from: 0, to: text.count) != nil {
                vocabulary.attributes[id].insert(.unused)
            }
        }

        var endOfGeneration = Set([fimPad, fimRepo, fimSeparator].compactMap { $0.map(Int.init) })
        for text in SpecialTexts.endOfGeneration {
            guard let token = vocabulary.token(text) else { continue }
            endOfGeneration.insert(Int(token))
            vocabulary.attributes[Int(token)].insert(.control)
        }
        // gpt-oss: always rendered.
        for text in ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"] {
            if let token = vocabulary.token(text) { vocabulary.attributes[Int(token)] = .userDefined }
        }
        for id in [eos, eot, eom] { if let id { endOfGeneration.insert(Int(id)) } }
        // o200k_harmony and solar-open: "<|end|>" ends a message, not the generation.
        let eogTexts = Dictionary(
            endOfGeneration.map { (String(decoding: vocabulary.text($0), as: UTF8.self), $0) },
            uniquingKeysWith: min)
        let hasCall = eogTexts["<|call|>"] != nil || eogTexts["<|calls|>"] != nil
        if let end = eogTexts["<|end|>"], hasCall, eogTexts["<|return|>"] != nil || eogTexts["<|flush|>"] != nil {
            endOfGeneration.remove(end)
            vocabulary.attributes[end] = .userDefined
        }
        // Gemma 4 and PLaMo: "</s>" is a normal token.
        if let plain = eogTexts["</s>"], eogTexts["<|tool_response>"] != nil || eogTexts["<|plamo:eos|>"] != nil {
            endOfGeneration.remove(plain)
            vocabulary.attributes[plain] = .normal
        }

        let specialMask: TokenAttributes = [.control, .userDefined, .unknown]
        // Sorted by length, longest first; llama.cpp's std::sort leaves equal lengths in no particular
        // order, perwatt keeps them by id.
        let specialIDs = (0..<Int32(count)).filter { !vocabulary.attributes[Int($0)].isDisjoint(with: specialMask) }
            .sorted { a, b in
                let (lengthA, lengthB) = (vocabulary.text(Int(a)).count, vocabulary.text(Int(b)).count)
                return lengthA != lengthB ? lengthA > lengthB : a < b
            }

        // Per-model attributes llama.cpp sets by name.
        // std::tolower byte by byte: ASCII only.
        let name = String(
            decoding: (try reader.string(Keys.name) ?? "").utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 },
            as: UTF8.self)
        let architecture = try reader.string(Keys.architecture) ?? ""
        let rawPre = preName ?? ""
        if ["jina-v2-de", "jina-v2-es", "jina-v2-code"].contains(where: rawPre.contains)
            || ["nomic-bert-moe", "jina-bert-v3"].contains(where: architecture.contains)
        {
            if let mask = vocabulary.token("<mask>") { vocabulary.attributes[Int(mask)].insert(.leftStrip) }
        } else if ["phi-3", "phi3"].contains(where: name.contains) {
            for id in specialIDs { vocabulary.attributes[Int(id)].insert(.rightStrip) }
            if let token = vocabulary.token("</s>") { vocabulary.attributes[Int(token)].insert(.rightStrip) }
            for text in ["<unk>", "<s>", "<|endoftext|>"] {
                if let token = vocabulary.token(text) { vocabulary.attributes[Int(token)].remove(.rightStrip) }
            }
        } else if name.contains("modern-bert") {
            if let mask = vocabulary.token("[MASK]") { vocabulary.attributes[Int(mask)].insert(.leftStrip) }
        }

        // llama.cpp asserts at tokenization time; perwatt refuses the file up front.
        if addBOS && bos == nil {
            throw reader.error(
                .inconsistent, Keys.addBOS,
                "asks for a BOS token, but the vocabulary has none (\(Keys.bos) is missing or beyond the "
                    + "\(count) tokens); set \(Keys.bos) or \(Keys.addBOS) = false")
        }
        if addEOS && eos == nil {
            throw reader.error(
                .inconsistent, Keys.addEOS,
                "asks for an EOS token, but the vocabulary has none (\(Keys.eos) is missing or beyond the "
                    + "\(count) tokens); set \(Keys.eos) or \(Keys.addEOS) = false")
        }

        self.model = model
        self.pre = preName ?? "default"
        self.algorithm = algorithm
        self.vocabulary = vocabulary
        self.byteTokens = byteTokens
        self.specialTokens = specialIDs.map {
            SpecialToken(id: $0, text: Array(vocabulary.text(Int($0))), attributes: vocabulary.attributes[Int($0)])
        }
        self.bos = bos.map(Int.init)
        self.eos = eos.map(Int.init)
        self.eot = eot.map(Int.init)
        self.endOfGeneration = endOfGeneration
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.cleanSpaces = cleanSpaces
    }

    /// Tokens, scores, token types and (BPE) merges, each checked against the others.
    private static func readVocabulary(
        _ reader: MetadataReader, algorithm: Algorithm
    ) throws(TokenizerError) -> Vocabulary {
        guard let tokenValues = try reader.array(Keys.tokens, of: [.string]) else {
            throw reader.error(.missingKey, Keys.tokens, "is missing: the file has no vocabulary")
        }
        let count = tokenValues.count
        guard count > 0, count < Int(Int32.max) else {
            throw reader.error(.inconsistent, Keys.tokens, "holds \(count) tokens; a vocabulary has 1 to 2³¹ − 2")
        }
        var scores = [Float](repeating: 0, count: count)
        if let values = try reader.array(Keys.scores, of: [.float32, .int32]) {
            guard values.count == count else {
                throw reader.error(
                    .inconsistent, Keys.scores,
                    "holds \(values.count) scores for \(count) tokens; the file is damaged or was edited by hand: convert it again"
                )
            }
            for (index, value) in values.enumerated() { scores[index] = Float(value.doubleValue ?? 0) }
            // A NaN score has no place in the merge order (SentencePiece compares scores): refuse it.
            if let bad = scores.firstIndex(where: \.isNaN) {
                throw reader.error(
                    .inconsistent, Keys.scores, "holds NaN for token \(bad); the file is damaged: convert it again")
            }
        }
        var attributes = [TokenAttributes](repeating: .normal, count: count)
        if let values = try reader.array(Keys.tokenType, of: [.int32]) {
            guard values.count == count else {
                throw reader.error(
                    .inconsistent, Keys.tokenType,
                    "holds \(values.count) token types for \(count) tokens; the file is damaged or was edited by hand: convert it again"
                )
            }
            for (index, value) in values.enumerated() {
                attributes[index] = TokenAttributes(tokenType: value.intValue!)
            }
        }
        var strings = ByteStringTable(capacity: count)
        for (index, value) in tokenValues.enumerated() {
            var text = Array(value.stringValue!.utf8)
            if text.isEmpty { text = Array("[EMPTY_\(index)]".utf8) }  // as llama.cpp names an empty token
            let (id, inserted) = strings.insert(text)
            guard inserted else {
                throw reader.error(
                    .inconsistent, Keys.tokens,
                    "holds \"\(String(decoding: text, as: UTF8.self))\" twice (tokens \(id) and \(index)); "
                        + "llama.cpp refuses such a vocabulary too: convert the model again")
            }
        }
        var vocabulary = Vocabulary(strings: strings, count: count, scores: scores, attributes: attributes)
        guard case .bytePairs = algorithm else { return vocabulary }
        guard let merges = try reader.array(Keys.merges, of: [.string]) else {
            throw reader.error(
                .missingKey, Keys.merges, "is missing: a gpt2 (BPE) tokenizer needs its merges; convert the model again"
            )
        }
        var ranks: [UInt64: Int32] = [:]
        ranks.reserveCapacity(merges.count)
        for (rank, value) in merges.enumerated() {
            let merge = Array(value.stringValue!.utf8)
            // "first second", split at the first space after the first byte (a merge without one is the
            // pair ("", ""), which no piece matches).
            guard merge.count > 1, let space = merge[1...].firstIndex(of: 0x20) else { continue }
            let first = merge[..<space]
            let second = merge[(space + 1)...]
            guard !second.isEmpty, rank < Int(Int32.max) else { continue }
            let key = Vocabulary.key(vocabulary.strings.insert(first).id, vocabulary.strings.insert(second).id)
            if ranks[key] == nil { ranks[key] = Int32(rank) }
        }
        vocabulary.ranks = ranks
        return vocabulary
    }

    /// The byte-fallback token of each byte: BPE looks up the one-byte text; SPM `<0xXX>` first
    /// (`byte_to_token`).
    private static func byteTokens(_ vocabulary: Vocabulary, algorithm: Algorithm) -> [Int32] {
        let hex = Array("0123456789ABCDEF".utf8)
        return (0..<256).map { byte -> Int32 in
            if case .sentencePiece = algorithm,
                let token = vocabulary.token([0x3C, 0x30, 0x78, hex[byte >> 4], hex[byte & 15], 0x3E])
            {
                return token
            }
            return vocabulary.token([UInt8(byte)]) ?? -1
        }
    }
}

/// The metadata keys the tokenizer reads (llama.cpp `src/llama-arch.cpp`, `LLM_KV_TOKENIZER_*`).
enum Keys {
    static let model = "tokenizer.ggml.model"
    static let pre = "tokenizer.ggml.pre"
    static let tokens = "tokenizer.ggml.tokens"
    static let tokenType = "tokenizer.ggml.token_type"
    static let scores = "tokenizer.ggml.scores"
    static let merges = "tokenizer.ggml.merges"
    static let bos = "tokenizer.ggml.bos_token_id"
    static let eos = "tokenizer.ggml.eos_token_id"
    static let eot = "tokenizer.ggml.eot_token_id"
    static let eom = "tokenizer.ggml.eom_token_id"
    static let fimPre = "tokenizer.ggml.fim_pre_token_id"
    static let fimSuffix = "tokenizer.ggml.fim_suf_token_id"
    static let fimMiddle = "tokenizer.ggml.fim_mid_token_id"
    static let fimPad = "tokenizer.ggml.fim_pad_token_id"
    static let fimRepo = "tokenizer.ggml.fim_rep_token_id"
    static let fimSeparator = "tokenizer.ggml.fim_sep_token_id"
    static let prefix = "tokenizer.ggml.prefix_token_id"
    static let suffix = "tokenizer.ggml.suffix_token_id"
    static let middle = "tokenizer.ggml.middle_token_id"
    static let addBOS = "tokenizer.ggml.add_bos_token"
    static let addEOS = "tokenizer.ggml.add_eos_token"
    static let addSpacePrefix = "tokenizer.ggml.add_space_prefix"
    static let name = "general.name"
    static let architecture = "general.architecture"
}

/// Token texts llama.cpp gives a role by name, in its order.
enum SpecialTexts {
    static let endOfTurn = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>",
        "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ]
    static let fimPrefix = [
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>",
        "<|prefix|>",
    ]
    static let fimSuffix = [
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>",
        "<|suffix|>",
    ]
    static let fimMiddle = [
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>",
        "<|middle|>",
    ]
    static let fimPad = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]
    static let fimRepo = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]
    static let endOfGeneration = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ]
}

/// Typed reads of metadata keys: absent is nil, present with the wrong type is an error naming both.
struct MetadataReader {
    let file: GGUFFile

    func error(_ kind: TokenizerError.Kind, _ key: String, _ message: String) -> TokenizerError {
        TokenizerError(kind: kind, file: file.path, key: key, message: message)
    }

    func present(_ key: String) -> Bool { file[key] != nil }

    private func wrongType(_ key: String, _ value: GGUFValue, expected: String) -> TokenizerError {
        error(
            .wrongType, key,
            "holds \(Self.describe(value)), expected \(expected); the file is damaged: convert it again")
    }

    static func describe(_ value: GGUFValue) -> String {
        switch value {
        case .array(let type, let elements): "an array of \(elements.count) \(type)"
        case .string: "a string"
        case .bool: "a bool"
        default: "the number \(value.doubleValue.map { "\($0)" } ?? "?")"
        }
    }

    func string(_ key: String) throws(TokenizerError) -> String? {
        guard let value = file[key] else { return nil }
        guard let text = value.stringValue else { throw wrongType(key, value, expected: "a string") }
        return text
    }

    func bool(_ key: String) throws(TokenizerError) -> Bool? {
        guard let value = file[key] else { return nil }
        guard let flag = value.boolValue else { throw wrongType(key, value, expected: "a bool") }
        return flag
    }

    /// An integer of any width (llama.cpp wants uint32 for token ids; converters write that).
    func integer(_ key: String) throws(TokenizerError) -> Int? {
        guard let value = file[key] else { return nil }
        guard let number = value.intValue else { throw wrongType(key, value, expected: "an integer") }
        return number
    }

    func array(_ key: String, of types: [GGUFValueType]) throws(TokenizerError) -> [GGUFValue]? {
        guard let value = file[key] else { return nil }
        guard case .array(let type, let elements) = value, types.contains(type) else {
            throw wrongType(key, value, expected: "an array of " + types.map { "\($0)" }.joined(separator: " or "))
        }
        return elements
    }
}
