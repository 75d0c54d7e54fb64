import Foundation

/// A client for OpenAI-compatible servers (llama.cpp's llama-server, Ollama, vLLM, LM Studio):
/// `POST {endpoint}/chat/completions` or `/completions`, temperature 0 with the seed and the token
/// limit pinned. Streaming (server-sent events) gives the time of the first token, where the energy of
/// a query is split into prefill and decode.
///
/// Synchronous by design: `perwatt eval` sends one query at a time, so that each request has the
/// machine to itself and its energy window holds nothing else.
package struct CompletionClient: Sendable {
    package enum API: String, Codable, Sendable, CaseIterable {
        case chat, completions
        package var path: String { self == .chat ? "chat/completions" : "completions" }
    }

    package struct Settings: Codable, Sendable, Hashable {
        package var endpoint: String
        package var api: API
        package var model: String
        package var temperature: Double = 0
        package var seed: Int
        package var maxTokens: Int
        package var stream: Bool
        package var timeoutSeconds: Double
        /// Let the server reuse the prompt's cached state across requests (llama-server's
        /// `cache_prompt`). Off by default: a repeated prompt would skip prefill and its energy, so a
        /// second run would not measure what the first did.
        package var promptCache: Bool? = nil
        /// The largest answer accepted, in bytes (`--max-response-bytes`); larger is a failed query.
        package var maxResponseBytes: Int? = nil

        package init(
            endpoint: String, api: API, model: String, temperature: Double = 0, seed: Int, maxTokens: Int, stream: Bool,
            timeoutSeconds: Double, promptCache: Bool? = nil, maxResponseBytes: Int? = nil
        ) {
            self.endpoint = endpoint
            self.api = api
            self.model = model
            self.temperature = temperature
            self.seed = seed
            self.maxTokens = maxTokens
            self.stream = stream
            self.timeoutSeconds = timeoutSeconds
            self.promptCache = promptCache
            self.maxResponseBytes = maxResponseBytes
        }
    }

    /// `--max-response-bytes` when not given: 1 MiB, far more than any graded answer needs.
    package static let defaultMaxResponseBytes = 1 << 20

    package struct Response: Sendable {
        package var text: String
        package var finishReason: String?
        package var promptTokens: Int?
        package var completionTokens: Int?
        /// Prompt tokens the server took from its cache (`usage.prompt_tokens_details.cached_tokens`).
        package var cachedPromptTokens: Int?
        /// Monotonic seconds when the request was sent, the first content arrived (streaming only), and the response ended.
        package var sentAt: Double
        package var firstTokenAt: Double?
        package var endedAt: Double

        package init(
            text: String, finishReason: String? = nil, promptTokens: Int? = nil, completionTokens: Int? = nil,
            cachedPromptTokens: Int? = nil, sentAt: Double, firstTokenAt: Double? = nil, endedAt: Double
        ) {
            self.text = text
            self.finishReason = finishReason
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.cachedPromptTokens = cachedPromptTokens
            self.sentAt = sentAt
            self.firstTokenAt = firstTokenAt
            self.endedAt = endedAt
        }
    }

    package enum Failure: Error, Sendable, CustomStringConvertible {
        /// Could not connect or the connection broke (the server is down, or died mid-answer).
        case connection(String)
        case timeout(Double)
        /// A status other than 200; `body` is the start of what the server said.
        case http(status: Int, body: String)
        /// The response arrived but is not what the API promises.
        case malformed(String)
        /// Ctrl-C while waiting for the answer.
        case interrupted
        /// The answer was larger than `maxResponseBytes`.
        case tooLarge(Int)

        package var description: String {
            switch self {
            case .connection(let message): "connection failed: \(message)"
            case .timeout(let seconds): "no complete answer within \(formatNumber(seconds)) s (--timeout)"
            case .http(let status, let body): "HTTP \(status)\(body.isEmpty ? "" : ": \(body)")"
            case .malformed(let message): "malformed response: \(message)"
            case .interrupted: "interrupted (Ctrl-C) before the answer was complete"
            case .tooLarge(let limit): "the answer exceeded \(limit) bytes (--max-response-bytes); it was abandoned"
            }
        }

        /// Worth another try: the server may recover. A 4xx other than 408/429 is the request's fault.
        package var retryable: Bool {
            switch self {
            case .connection, .timeout, .malformed: true
            case .interrupted, .tooLarge: false
            case .http(let status, _): status >= 500 || status == 408 || status == 429
            }
        }
    }

    package let settings: Settings
    package let target: HTTPClient.Target

    package init(settings: Settings) throws(InputError) {
        self.settings = settings
        target = try HTTPClient.target(settings.endpoint)
    }

    /// The request body for one query.
    package func body(for query: QuerySet.Query, maxTokens: Int) -> [String: Any] {
        var body: [String: Any] = [
            "model": settings.model, "temperature": settings.temperature, "seed": settings.seed,
            "max_tokens": maxTokens, "stream": settings.stream,
        ]
        if settings.stream { body["stream_options"] = ["include_usage": true] }
        // llama-server's extension; other servers ignore the unknown field.
        if settings.promptCache != true { body["cache_prompt"] = false }
        switch settings.api {
        case .chat: body["messages"] = query.chatMessages.map { ["role": $0.role, "content": $0.content] }
        case .completions: body["prompt"] = query.completionPrompt
        }
        return body
    }

    /// Sends one query and waits for the whole answer, at most `timeoutSeconds`. `onFirstToken` runs
    /// the moment the first content arrives in a stream, so the caller can close the prefill energy window.
    package func complete(_ query: QuerySet.Query, maxTokens: Int, onFirstToken: @escaping @Sendable () -> Void = {})
        -> Result<Response, Failure>
    {
        let payload: Data
        do {
            payload = try JSONSerialization.data(
                withJSONObject: body(for: query, maxTokens: maxTokens), options: [.sortedKeys])
        } catch {
            return .failure(.malformed("the request could not be encoded: \(error)"))
        }
        let exchange = Exchange(stream: settings.stream, api: settings.api, onFirstToken: onFirstToken)
        exchange.sentAt = POSIX.monotonicSeconds()
        let deadline = exchange.sentAt + settings.timeoutSeconds
        do {
            try HTTPClient.request(
                target, path: target.basePath + "/" + settings.api.path,
                headers: [
                    ("Content-Type", "application/json"),
                    ("Accept", settings.stream ? "text/event-stream" : "application/json"),
                ],
                body: Array(payload), deadline: deadline,
                maxBodyBytes: settings.maxResponseBytes ?? Self.defaultMaxResponseBytes,
                onHead: { status, _ in exchange.status = status },
                onBody: { exchange.receive(Data($0)) })
        } catch {
            exchange.endedAt = POSIX.monotonicSeconds()
            switch error {
            case .socket(.timeout): return .failure(.timeout(settings.timeoutSeconds))
            case .socket(.interrupted): return .failure(.interrupted)
            case .malformed(let what): return .failure(.malformed(what))
            case .tooLarge(let limit): return .failure(.tooLarge(limit))
            default: return .failure(.connection(error.description))
            }
        }
        exchange.endedAt = POSIX.monotonicSeconds()
        return exchange.result()
    }

    /// One request's state, filled in as the response arrives.
    package final class Exchange: @unchecked Sendable {
        package let stream: Bool
        package let api: API
        package let onFirstToken: @Sendable () -> Void
        package var sentAt = 0.0
        package var status: Int?
        package var data = Data()
        package var firstTokenAt: Double?
        package var endedAt = 0.0
        /// Streaming: the text so far, the bytes of an unfinished line, and what the events said.
        package var text = ""
        package var pending = Data()
        package var finishReason: String?
        package var promptTokens: Int?
        package var completionTokens: Int?
        package var cachedPromptTokens: Int?
        package var sawDone = false
        package var sawEvent = false
        package var eventError: String?

        package init(stream: Bool, api: API, onFirstToken: @escaping @Sendable () -> Void) {
            self.stream = stream
            self.api = api
            self.onFirstToken = onFirstToken
        }

        package func receive(_ chunk: Data) {
            guard stream, status == 200 else {
                data.append(chunk)
                return
            }
            data.append(chunk)
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self).trimmingCharacters(
                    in: .whitespacesAndNewlines)
                pending.removeSubrange(pending.startIndex...newline)
                handleEvent(line)
            }
        }

        /// One server-sent-events line: `data: {json}` or `data: [DONE]`; comments and other fields are skipped.
        package func handleEvent(_ line: String) {
            guard line.hasPrefix("data:"), eventError == nil else { return }
            sawEvent = true
            let payload = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
            if payload == "[DONE]" {
                sawDone = true
                return
            }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] else {
                eventError = "an event is not a JSON object: \(payload.prefix(120))"
                return
            }
            if let error = object["error"] {
                eventError = "the server reported an error mid-stream: \(String(describing: error).prefix(200))"
                return
            }
            absorbUsage(object["usage"])
            guard let choices = object["choices"] as? [[String: Any]], let choice = choices.first else { return }
            let piece: String?
            switch api {
            case .chat: piece = (choice["delta"] as? [String: Any])?["content"] as? String
            case .completions: piece = choice["text"] as? String
            }
            if let piece, !piece.isEmpty {
                if firstTokenAt == nil {
                    firstTokenAt = POSIX.monotonicSeconds()
                    onFirstToken()
                }
                text += piece
            }
            if let reason = choice["finish_reason"] as? String { finishReason = reason }
        }

        package func absorbUsage(_ value: Any?) {
            guard let usage = value as? [String: Any] else { return }
            if let prompt = usage["prompt_tokens"] as? Int { promptTokens = prompt }
            if let completion = usage["completion_tokens"] as? Int { completionTokens = completion }
            if let cached = (usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int {
                cachedPromptTokens = cached
            }
        }

        package func result() -> Result<Response, Failure> {
            guard let status else { return .failure(.connection("no response")) }
            guard status == 200 else {
                let body = String(decoding: data.prefix(300), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
                return .failure(.http(status: status, body: body))
            }
            if stream {
                if !pending.isEmpty {
                    handleEvent(
                        String(decoding: pending, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
                }
                if let eventError { return .failure(.malformed(eventError)) }
                if !sawEvent {
                    // A server that ignores "stream": true answers with one JSON object: take it, without
                    // a time to first token (the fixture then has no prefill/decode split).
                    if case .success(let whole) = parseWhole() { return .success(whole) }
                    let start = String(decoding: data.prefix(120), as: UTF8.self).replacingOccurrences(
                        of: "\n", with: " ")
                    return .failure(
                        .malformed(
                            data.isEmpty
                                ? "an empty body where an event stream was asked for"
                                : "neither a server-sent event stream nor a JSON answer (it starts \"\(shown(start))\")"
                        ))
                }
                // A stream that stops before [DONE] and without a finish reason was cut off.
                guard sawDone || finishReason != nil else {
                    return .failure(
                        .malformed(
                            "the stream ended before its last event (no finish_reason, no [DONE]): the server may have died mid-answer"
                        ))
                }
                return .success(
                    Response(
                        text: text, finishReason: finishReason, promptTokens: promptTokens,
                        completionTokens: completionTokens,
                        cachedPromptTokens: cachedPromptTokens, sentAt: sentAt, firstTokenAt: firstTokenAt,
                        endedAt: endedAt))
            }
            return parseWhole()
        }

        /// A whole (not streamed) answer: one JSON object with choices[0] and usage.
        package func parseWhole() -> Result<Response, Failure> {
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                let start = String(decoding: data.prefix(120), as: UTF8.self)
                return .failure(
                    .malformed(
                        data.isEmpty ? "an empty body" : "the body is not a JSON object (it starts \"\(shown(start))\")"
                    ))
            }
            guard let choices = object["choices"] as? [[String: Any]], let choice = choices.first else {
                return .failure(.malformed("no choices[0] in the response"))
            }
            let text: String?
            switch api {
            case .chat: text = (choice["message"] as? [String: Any])?["content"] as? String
            case .completions: text = choice["text"] as? String
            }
            guard let text else {
                return .failure(.malformed("choices[0] has no \(api == .chat ? "message.content" : "text") string"))
            }
            absorbUsage(object["usage"])
            return .success(
                Response(
                    text: text, finishReason: choice["finish_reason"] as? String, promptTokens: promptTokens,
                    completionTokens: completionTokens, cachedPromptTokens: cachedPromptTokens, sentAt: sentAt,
                    firstTokenAt: nil, endedAt: endedAt))
        }
    }
}
