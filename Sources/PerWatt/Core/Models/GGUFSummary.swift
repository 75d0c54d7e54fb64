import Foundation
import KernelBench

/// What `perwatt gguf info` says of a GGUF file (`perwatt.gguf/1`): the model in it, its tensors by
/// type, its tokenizer, and whether it fits in this machine's memory.
package struct GGUFSummary: Encodable {
    package struct TypeCount: Encodable {
        package var type: String
        package var tensors: Int
        package var bytes: Int
    }

    package var schema = "perwatt.gguf/1"
    package var file: String
    package var version: UInt32
    package var fileBytes: Int
    package var architecture: String?
    package var name: String?
    package var parameters: Int
    package var tensorCount: Int
    package var tensorBytes: Int
    package var types: [TypeCount]
    package var contextLength: Int?
    package var tokenizerModel: String?
    package var tokenizerPre: String?
    package var vocabularySize: Int?
    /// Characters of `tokenizer.chat_template`, when the file has one.
    package var chatTemplateCharacters: Int?
    package var metadataCount: Int
    /// The perwatt model spec read from the metadata, or why there is none.
    package var spec: ModelSpec?
    package var specUnavailableReason: String?
    /// Weights (mapped) plus an f16 KV cache for the whole context.
    package var memoryBytes: Double
    package var availableMemoryBytes: UInt64?
    package var fitsInMemory: Bool?

    package init(_ file: GGUFFile, availableMemoryBytes: UInt64?) {
        self.file = file.path
        version = file.version
        fileBytes = file.byteCount
        architecture = file["general.architecture"]?.stringValue
        name = file["general.name"]?.stringValue
        parameters = file.tensors.reduce(0) { $0 + $1.elementCount }
        tensorCount = file.tensors.count
        tensorBytes = file.tensors.reduce(0) { $0 + $1.byteCount }
        var byType: [GGMLType: (Int, Int)] = [:]
        for tensor in file.tensors {
            let (count, bytes) = byType[tensor.type] ?? (0, 0)
            byType[tensor.type] = (count + 1, bytes + tensor.byteCount)
        }
        types = byType.sorted { $0.value.1 > $1.value.1 }.map {
            TypeCount(type: $0.key.name, tensors: $0.value.0, bytes: $0.value.1)
        }
        let context = file["general.architecture"]?.stringValue.flatMap { file["\($0).context_length"]?.intValue }
        contextLength = context
        tokenizerModel = file["tokenizer.ggml.model"]?.stringValue
        tokenizerPre = file["tokenizer.ggml.pre"]?.stringValue
        vocabularySize = file["tokenizer.ggml.tokens"]?.arrayValue?.count
        chatTemplateCharacters = file["tokenizer.chat_template"]?.stringValue?.count
        metadataCount = file.metadata.count
        let base = URL(fileURLWithPath: file.path).deletingPathExtension().lastPathComponent
        var derived: ModelSpec?
        do {
            derived = try ModelSpec(gguf: file, id: ModelSpec.sanitizedID(base.lowercased()))
        } catch let error as InputError {
            specUnavailableReason = (error.field.map { $0 + ": " } ?? "") + error.message
        } catch {
            specUnavailableReason = "\(error)"
        }
        spec = derived
        let weights = file.tensors.reduce(0) { $0 + $1.byteCount }
        let needed = Double(weights) + (derived.map { $0.kvCacheBytes(tokens: context ?? 0) } ?? 0)
        memoryBytes = needed
        self.availableMemoryBytes = availableMemoryBytes
        fitsInMemory = availableMemoryBytes.map { needed <= Double($0) }
    }
}
