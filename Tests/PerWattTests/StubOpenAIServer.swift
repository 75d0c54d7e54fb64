import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An OpenAI-compatible server for tests, on a loopback socket: each request is answered by a
/// script, which can answer, stream, wait, fail with a status, send garbage, cut a response short or
/// drop the connection. One connection at a time, one request per connection (`Connection: close`).
final class StubOpenAIServer: @unchecked Sendable {
    enum Action: Sendable {
        /// A chat or completions answer with usage (promptTokens, completionTokens).
        case answer(String, promptTokens: Int? = 7, completionTokens: Int? = 3)
        /// The same answer as server-sent events, one event per piece, `pause` seconds apart.
        case stream([String], pause: Double = 0, promptTokens: Int? = 7, completionTokens: Int? = 3)
        /// An answer whose usage says `cached` of the 7 prompt tokens came from the prompt cache.
        case answerCached(String, cached: Int)
        case status(Int, String)
        /// 200 with a body that is not JSON.
        case garbage
        /// Headers promise more bytes than are sent, then the connection closes.
        case truncated
        /// A stream that stops mid-answer, with no finish reason and no [DONE].
        case cutStream([String])
        /// Closes the connection without a response.
        case drop
        case delay(Double, then: Box)
        /// 200 OK framed by the close, then one space every 20 ms for `seconds` (a body that never ends in time).
        case trickle(seconds: Double)
        /// 200 OK framed by the close, then `bytes` of spaces as fast as the client takes them.
        case flood(bytes: Int)
    }

    /// Indirection for the recursive `delay` case.
    final class Box: Sendable {
        let action: Action
        init(_ action: Action) { self.action = action }
    }

    struct Request: Sendable {
        var path: String
        var bodyData: Data
        var body: [String: Any] { (try? JSONSerialization.jsonObject(with: bodyData)) as? [String: Any] ?? [:] }
        var prompt: String {
            if let messages = body["messages"] as? [[String: Any]] {
                return messages.compactMap { $0["content"] as? String }.joined(separator: "\n")
            }
            return body["prompt"] as? String ?? ""
        }
    }

    let port: UInt16
    private let socket: Int32
    private let script: @Sendable (Request, Int) -> Action
    private let requests = Mutex<[Request]>([])
    private let stopped = Atomic<Bool>(false)
    private let thread: Thread

    /// `script(request, index)` decides each answer; `index` counts requests from 0.
    init(script: @escaping @Sendable (Request, Int) -> Action) throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        socket = fd
        self.script = script
        let box = ServerLoop()
        thread = Thread { box.run?() }
        box.run = { [unowned self] in self.serve() }
        thread.start()
    }

    private final class ServerLoop: @unchecked Sendable { var run: (() -> Void)? }

    var endpoint: String { "http://127.0.0.1:\(port)/v1" }
    var received: [Request] { requests.withLock { $0 } }

    /// Stops accepting; later requests get "connection refused".
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        shutdown(socket, Int32(SHUT_RDWR))
        close(socket)
    }

    deinit { stop() }

    private func serve() {
        while !stopped.load(ordering: .relaxed) {
            let client = accept(socket, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Range<Data.Index>?
        var contentLength = 0
        while true {
            let n = read(client, &buffer, buffer.count)
            if n <= 0 { return }
            data.append(contentsOf: buffer[0..<n])
            if headerEnd == nil, let end = data.range(of: Data("\r\n\r\n".utf8)) {
                headerEnd = end
                let head = String(decoding: data[..<end.lowerBound], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let end = headerEnd, data.count - end.upperBound >= contentLength { break }
        }
        guard let end = headerEnd else { return }
        let head = String(decoding: data[..<end.lowerBound], as: UTF8.self)
        let path = head.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        let request = Request(path: path, bodyData: Data(data[end.upperBound...]))
        let index = requests.withLock { list in
            list.append(request)
            return list.count - 1
        }
        perform(script(request, index), request: request, client: client)
    }

    /// Sends all of `text`; false once the client has gone (no SIGPIPE: MSG_NOSIGNAL).
    @discardableResult
    private func send(_ client: Int32, _ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBufferPointer {
                Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    private func respond(_ client: Int32, status: Int, contentType: String, body: String, declaredLength: Int? = nil) {
        let reason = status == 200 ? "OK" : "Error"
        send(
            client,
            "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(declaredLength ?? body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        )
    }

    private func json(_ object: Any) -> String {
        String(
            decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(),
            as: UTF8.self)
    }

    private func usage(_ prompt: Int?, _ completion: Int?) -> Any? {
        guard let prompt, let completion else { return nil }
        return ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion]
    }

    private func perform(_ action: Action, request: Request, client: Int32) {
        let chat = request.path.hasSuffix("chat/completions")
        switch action {
        case .answer(let text, let prompt, let completion):
            var object: [String: Any] = [
                "id": "stub", "object": chat ? "chat.completion" : "text_completion",
                "choices": [
                    chat
                        ? ["index": 0, "message": ["role": "assistant", "content": text], "finish_reason": "stop"]
                        : ["index": 0, "text": text, "finish_reason": "stop"]
                ],
            ]
            if let usage = usage(prompt, completion) { object["usage"] = usage }
            respond(client, status: 200, contentType: "application/json", body: json(object))
        case .answerCached(let text, let cached):
            let object: [String: Any] = [
                "choices": [["index": 0, "message": ["role": "assistant", "content": text], "finish_reason": "stop"]],
                "usage": [
                    "prompt_tokens": 7, "completion_tokens": 1, "prompt_tokens_details": ["cached_tokens": cached],
                ],
            ]
            respond(client, status: 200, contentType: "application/json", body: json(object))
        case .stream(let pieces, let pause, let prompt, let completion):
            // Chunked transfer coding, one event per chunk, as llama-server sends it.
            func chunk(_ text: String) { send(client, String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n") }
            send(
                client,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            )
            for (index, piece) in pieces.enumerated() {
                if pause > 0 { Thread.sleep(forTimeInterval: pause) }
                let last = index == pieces.count - 1
                let choice: [String: Any] =
                    chat
                    ? ["index": 0, "delta": ["content": piece], "finish_reason": last ? "stop" : NSNull()]
                    : ["index": 0, "text": piece, "finish_reason": last ? "stop" : NSNull()]
                chunk("data: \(json(["choices": [choice]]))\n\n")
            }
            if let usage = usage(prompt, completion) { chunk("data: \(json(["choices": [], "usage": usage]))\n\n") }
            chunk("data: [DONE]\n\n")
            send(client, "0\r\n\r\n")
        case .status(let code, let message):
            respond(
                client, status: code, contentType: "application/json",
                body: json(["error": ["message": message, "code": code]]))
        case .garbage:
            respond(client, status: 200, contentType: "application/json", body: "<html>not json")
        case .truncated:
            respond(
                client, status: 200, contentType: "application/json", body: #"{"choices": [{"message": {"content": "4"#,
                declaredLength: 400)
        case .cutStream(let pieces):
            send(client, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
            for piece in pieces {
                send(
                    client,
                    "data: \(json(["choices": [["index": 0, "delta": ["content": piece], "finish_reason": NSNull()]]]))\n\n"
                )
            }
        case .drop:
            return
        case .trickle(let seconds):
            send(client, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
            let end = Date().addingTimeInterval(seconds)
            while Date() < end, !stopped.load(ordering: .relaxed) {
                guard send(client, " ") else { return }
                Thread.sleep(forTimeInterval: 0.02)
            }
        case .flood(let bytes):
            send(client, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
            let block = String(repeating: " ", count: 65536)
            var sent = 0
            while sent < bytes, send(client, block) { sent += block.utf8.count }
        case .delay(let seconds, let then):
            Thread.sleep(forTimeInterval: seconds)
            perform(then.action, request: request, client: client)
        }
    }
}
