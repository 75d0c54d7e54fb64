/// A GGUF whose tokenizer metadata perwatt cannot use: which file, which key, and what is wrong.
public struct TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// `tokenizer.ggml.model` names a tokenizer perwatt does not implement.
        case unsupportedModel
        /// `tokenizer.ggml.pre` names a pre-tokenizer perwatt does not implement (or is missing).
        case unsupportedPreTokenizer
        /// A key the tokenizer needs is absent.
        case missingKey
        /// A key holds the wrong type of value.
        case wrongType
        /// Values that must agree do not: array lengths, duplicate tokens, special tokens out of range.
        case inconsistent
    }

    public var kind: Kind
    /// The GGUF file.
    public var file: String
    /// The metadata key at fault, e.g. `tokenizer.ggml.scores`.
    public var key: String
    /// What is wrong and what to do about it.
    public var message: String

    public var description: String { "\(file): key \(key): \(message)" }
}
