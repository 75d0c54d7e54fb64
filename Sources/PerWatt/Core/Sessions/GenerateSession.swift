import Foundation
import KernelBench
import PowerProbe

/// What `perwatt generate` measured: one greedy continuation of a prompt by a GGUF model on perwatt's
/// own runtime, the prompt phase and the generation phase each in its own energy window.
package struct GenerationReport: Codable, Sendable {
    /// One phase (prompt processing, or token generation).
    package struct Phase: Codable, Sendable {
        package var tokens: Int
        package var durationSeconds: Double
        package var tokensPerSecond: Double?
        /// Absent when there is no energy source (see `energyUnavailableReason`).
        package var energy: EnergyRecord?
        package var joulesPerToken: Double?
    }

    package var schema = "perwatt.generate/1"
    package var perwattVersion = PerWattRelease.version
    package var model: String
    package var architecture: String
    /// The weights' types as loaded (`--quantization` requantizes every matrix to one type).
    package var weightTypes: [String: Int]
    package var requantizedTo: String?
    package var prompt: String
    /// The text the model saw: the prompt, or the chat-formatted prompt with `--chat`.
    package var formattedPrompt: String
    package var chatTemplate: String?
    package var promptTokens: [Int]
    /// The generated text alone.
    package var continuation: String
    /// Its token ids.
    package var tokens: [Int]
    /// `end-of-generation`, `max-tokens` or `context`.
    package var stoppedBy: String
    package var threads: Int
    package var contextSize: Int
    package var prompting: Phase
    package var generation: Phase
    package var energyUnavailableReason: String?
    package var fingerprint: Fingerprint
}

/// `perwatt generate`: load a GGUF model, format and tokenize the prompt, prefill it, then decode
/// greedily; the work runs on KernelBench's runtime, the energy windows are opened here.
package struct GenerateSession {
    package var path: String
    package var prompt: String
    package var chat: Bool
    package var chatTemplate: String?
    package var maxTokens: Int
    package var quantization: Precision?
    package var threads: Int

    package init(
        path: String, prompt: String, chat: Bool, chatTemplate: String?, maxTokens: Int, quantization: Precision?,
        threads: Int
    ) {
        self.path = path
        self.prompt = prompt
        self.chat = chat
        self.chatTemplate = chatTemplate
        self.maxTokens = maxTokens
        self.quantization = quantization
        self.threads = threads
    }

    /// Bytes the weights take once loaded (at `quantization`, or as stored).
    static func weightBytes(_ file: GGUFFile, quantization: Precision?) -> Double {
        file.tensors.reduce(0) { total, tensor in
            guard let target = quantization, tensor.dimensions.count == 2,
                tensor.dimensions[0] % target.blockValues == 0
            else { return total + Double(tensor.byteCount) }
            return total + Double(tensor.elementCount / target.blockValues * target.blockBytes)
        }
    }

    package func run(
        meter: EnergyMeter?, noneReason: String?, fingerprint: Fingerprint, availableMemoryBytes: UInt64?,
        force: Bool, progress: (String) -> Void
    ) throws -> GenerationReport {
        let file = try GGUFFile(path: path)
        let config = try TransformerConfig(gguf: file)
        let tokenizer = try Tokenizer(gguf: file)
        var template: ChatTemplate?
        var formatted = prompt
        if chat {
            let chosen = try chatTemplate.map { name throws(ChatTemplateError) in try ChatTemplate.named(name) }
            let family = try chosen ?? ChatTemplate.fromGGUF(file)
            formatted = try family.render([ChatMessage(role: "user", content: prompt)], addAssistant: true)
            template = family
        }
        // llama.cpp's tokenization of a prompt: special tokens added as the model says and parsed in the text.
        let promptTokens = tokenizer.encode(formatted, addSpecial: true, parseSpecial: true)
        guard !promptTokens.isEmpty else {
            throw InputError(file: path, field: nil, message: "the prompt is empty once tokenized: give some text")
        }
        guard promptTokens.count < config.contextLength else {
            throw InputError(
                file: path, field: "\(config.architecture.rawValue).context_length",
                message: "the prompt is \(promptTokens.count) tokens, the model's context is \(config.contextLength): "
                    + "shorten the prompt")
        }
        let contextSize = min(config.contextLength, promptTokens.count + maxTokens)
        let cacheBytes = Double(2 * config.layers * contextSize * config.kvHeads * config.headDim * 2)
        let needed = Self.weightBytes(file, quantization: quantization) + cacheBytes
        if !force, let available = availableMemoryBytes, needed > Double(available) {
            throw MemoryError(
                what: "model \(URL(fileURLWithPath: path).lastPathComponent) (weights and a \(contextSize)-position "
                    + "KV cache)", neededBytes: needed, availableBytes: available)
        }
        progress(
            "loading \(URL(fileURLWithPath: path).lastPathComponent)"
                + (quantization.map { " (requantizing every matrix to \($0.rawValue))" } ?? ""))
        let weights = try TransformerWeights(gguf: file, config: config, requantize: quantization)
        let model = Transformer(config: config, weights: weights, contextSize: contextSize, threads: threads)

        meter?.start()
        defer { _ = meter?.stop() }
        func record(_ mark: WindowMark?) -> EnergyRecord? {
            mark.flatMap { meter?.endWindow($0) }.map {
                EnergyRecord($0, channels: .readings, describing: true)
            }
        }
        progress("prompt: \(promptTokens.count) tokens")
        let promptMark = meter?.beginWindow()
        let promptStart = POSIX.monotonicSeconds()
        var logits = try model.forward(promptTokens)
        let promptSeconds = POSIX.monotonicSeconds() - promptStart
        let promptEnergy = record(promptMark)

        var tokens: [Int] = []
        var stoppedBy = "max-tokens"
        let generationMark = meter?.beginWindow()
        let generationStart = POSIX.monotonicSeconds()
        while tokens.count < maxTokens {
            let token = Transformer.argmax(logits[...])
            tokens.append(token)
            if tokenizer.isEndOfGeneration(token) {
                stoppedBy = "end-of-generation"
                break
            }
            guard tokens.count < maxTokens else { break }
            guard model.position < contextSize else {
                stoppedBy = "context"
                break
            }
            try model.forward(token: token, into: &logits)
        }
        let generationSeconds = POSIX.monotonicSeconds() - generationStart
        let generationEnergy = record(generationMark)
        // The end-of-generation token is counted as generated (llama.cpp counts it), not printed.
        let printed = stoppedBy == "end-of-generation" ? Array(tokens.dropLast()) : tokens

        func phase(_ count: Int, _ seconds: Double, _ energy: EnergyRecord?) -> GenerationReport.Phase {
            GenerationReport.Phase(
                tokens: count, durationSeconds: seconds, tokensPerSecond: seconds > 0 ? Double(count) / seconds : nil,
                energy: energy,
                joulesPerToken: energy.flatMap { $0.trusted ? $0.joules : nil }.map { $0 / Double(max(1, count)) })
        }
        var types: [String: Int] = [:]
        for matrix in [weights.embedding, weights.output]
            + weights.layers.flatMap({
                [$0.query, $0.key, $0.value, $0.output, $0.gate, $0.up, $0.down]
            })
        {
            types[matrix.precision.rawValue, default: 0] += 1
        }
        if config.tiedEmbeddings { types[weights.embedding.precision.rawValue, default: 0] -= 1 }
        return GenerationReport(
            model: path, architecture: config.architecture.rawValue, weightTypes: types,
            requantizedTo: quantization?.rawValue, prompt: prompt, formattedPrompt: formatted,
            chatTemplate: template?.rawValue, promptTokens: promptTokens,
            continuation: tokenizer.decode(printed, removeSpecial: false, unparseSpecial: false), tokens: tokens,
            stoppedBy: stoppedBy, threads: threads, contextSize: contextSize,
            prompting: phase(promptTokens.count, promptSeconds, promptEnergy),
            generation: phase(tokens.count, generationSeconds, generationEnergy),
            energyUnavailableReason: meter == nil ? (noneReason ?? "no energy source") : nil,
            fingerprint: fingerprint)
    }
}
