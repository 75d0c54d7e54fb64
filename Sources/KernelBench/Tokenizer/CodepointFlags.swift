/// A codepoint's flags as llama.cpp's pre-tokenizers see them: one Unicode category bit (`\p{N}`,
/// `\p{L}`, ...) from llama.cpp's own table, plus `whitespace` from its own set (which is not Swift's
/// `isWhitespace`: U+0085 and U+00A0 are in, U+180E is out). The empty set is what llama.cpp returns
/// for a position outside the text.
///
/// Source of truth: llama.cpp `src/unicode.h` (`unicode_cpt_flags`) and `src/unicode-data.cpp`
/// (`unicode_ranges_flags`, `unicode_set_whitespace`), copied into `CodepointFlags+Data.swift`.
struct CodepointFlags: OptionSet, Sendable {
    let rawValue: UInt16

    static let undefined = CodepointFlags(rawValue: 0x0001)
    static let number = CodepointFlags(rawValue: 0x0002)
    static let letter = CodepointFlags(rawValue: 0x0004)
    static let separator = CodepointFlags(rawValue: 0x0008)
    static let accentMark = CodepointFlags(rawValue: 0x0010)
    static let punctuation = CodepointFlags(rawValue: 0x0020)
    static let symbol = CodepointFlags(rawValue: 0x0040)
    static let control = CodepointFlags(rawValue: 0x0080)
    static let whitespace = CodepointFlags(rawValue: 0x0100)

    /// The first codepoint past Unicode (llama.cpp's `MAX_CODEPOINTS`).
    static let codepointLimit: UInt32 = 0x11_0000

    /// The flags of `codepoint` (`unicode_cpt_flags_from_cpt`): `undefined` beyond U+10FFFF.
    static func of(_ codepoint: UInt32) -> CodepointFlags {
        if codepoint < 128 { return table.ascii[Int(codepoint)] }
        guard codepoint < codepointLimit else { return .undefined }
        let starts = table.starts
        var low = 0
        var high = starts.count  // the range holding `codepoint` is the last start <= it
        while high - low > 1 {
            let middle = (low + high) / 2
            if starts[middle] <= codepoint { low = middle } else { high = middle }
        }
        var flags = table.flags[low]
        if !flags.isDisjoint(with: [.separator, .control]), whitespaceCodepoints.contains(codepoint) {
            flags.insert(.whitespace)
        }
        return flags
    }

    private struct Table: Sendable {
        var starts: [UInt32] = []
        var flags: [CodepointFlags] = []
        var ascii: [CodepointFlags] = []
    }

    /// `rangesHex` parsed once.
    private static let table: Table = {
        var table = Table()
        var digits: [UInt8] = []
        digits.reserveCapacity(8)
        func value(_ digit: UInt8) -> UInt32 { UInt32(digit <= 0x39 ? digit - 0x30 : digit - 0x41 + 10) }
        for byte in rangesHex.utf8 where byte != 0x0A && byte != 0x20 {
            digits.append(byte)
            guard digits.count == 8 else { continue }
            let start = digits[0..<6].reduce(UInt32(0)) { $0 << 4 | value($1) }
            let flags = digits[6..<8].reduce(UInt32(0)) { $0 << 4 | value($1) }
            table.starts.append(start)
            table.flags.append(CodepointFlags(rawValue: UInt16(flags)))
            digits.removeAll(keepingCapacity: true)
        }
        precondition(table.starts.first == 0 && digits.isEmpty, "CodepointFlags+Data.swift is damaged")
        // `of` looks for whitespace only among separators and control characters.
        for codepoint in whitespaceCodepoints {
            let index = table.starts.lastIndex { $0 <= codepoint }!
            precondition(!table.flags[index].isDisjoint(with: [.separator, .control]), "U+\(codepoint) is whitespace")
        }
        table.ascii = (0..<128).map { codepoint in
            var index = 0
            while index + 1 < table.starts.count && table.starts[index + 1] <= UInt32(codepoint) { index += 1 }
            var flags = table.flags[index]
            if whitespaceCodepoints.contains(UInt32(codepoint)) { flags.insert(.whitespace) }
            return flags
        }
        return table
    }()
}
