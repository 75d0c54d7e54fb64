/// A minimal HTTP/1.1 client for the plain-http servers `perwatt eval` talks to: one POST per
/// connection (`Connection: close`), the response body by Content-Length, chunked transfer coding, or
/// to the end of the stream, handed over as it arrives (server-sent events need that).
///
/// Why not URLSession: on Linux (swift-corelibs-foundation, Swift 6.3) a URLSession transfer kept a
/// dispatch source firing for as long as the server took to answer. Measured with the same 10 queries
/// (`perwatt eval --queries builtin:knowledge --limit 10` against llama-server and SmolLM2-135M on the
/// 2-core development VM, `/usr/bin/time -v`): URLSession took 4.90 s, 0.65 s user + 3.06 s system CPU
/// and 218,930 context switches; this client 0.82 s, 0.06 + 0.04 s and 169. In an energy measurement
/// that load would be charged to every query and would slow the server it competes with; waiting in
/// `poll` costs nothing.
package enum HTTPClient {
    package struct Target: Sendable, Hashable {
        package var host: String
        package var port: UInt16
        /// The URL's path without a trailing slash ("" or "/v1").
        package var basePath: String
    }

    package enum Failure: Error, Sendable, CustomStringConvertible {
        case socket(POSIX.SocketError)
        /// The server closed the connection before the status line.
        case noResponse
        /// The connection ended before the body did.
        case truncated(String)
        /// Not HTTP/1.x as the RFC writes it.
        case malformed(String)
        /// The body grew beyond the limit the caller set (`--max-response-bytes`).
        case tooLarge(Int)

        package var description: String {
            switch self {
            case .socket(let error): error.description
            case .noResponse: "the server closed the connection without a response"
            case .truncated(let what): "the connection closed mid-response (\(what))"
            case .malformed(let what): "not a valid HTTP response: \(what)"
            case .tooLarge(let limit): "the answer exceeded \(limit) bytes (--max-response-bytes)"
            }
        }
    }

    /// Parses `http://host[:port][/path]`; https and other schemes are refused with the reason.
    package static func target(_ url: String) throws(InputError) -> Target {
        let usage = "give the API base of a server on this machine or the local network, e.g. http://127.0.0.1:8080/v1"
        guard url.hasPrefix("http://") else {
            if url.hasPrefix("https://") {
                throw InputError(
                    file: "--endpoint",
                    message:
                        "'\(shown(url))': https is not supported; perwatt eval measures a model served here, over plain http (\(usage))"
                )
            }
            throw InputError(file: "--endpoint", message: "'\(shown(url))' is not an http URL; \(usage)")
        }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        while path.hasSuffix("/") { path.removeLast() }
        var host = String(authority)
        var port: UInt16 = 80
        if authority.hasPrefix("[") {
            // [IPv6]:port
            guard let close = authority.firstIndex(of: "]") else {
                throw InputError(file: "--endpoint", message: "'\(shown(url))': unterminated [IPv6] address; \(usage)")
            }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = UInt16(after.dropFirst()) else {
                    throw InputError(
                        file: "--endpoint", message: "'\(shown(url))': the port is not a number from 1 to 65535")
                }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let value = UInt16(authority[authority.index(after: colon)...]), value > 0 else {
                throw InputError(
                    file: "--endpoint", message: "'\(shown(url))': the port is not a number from 1 to 65535")
            }
            port = value
        }
        guard !host.isEmpty else {
            throw InputError(file: "--endpoint", message: "'\(shown(url))' has no host; \(usage)")
        }
        return Target(host: host, port: port, basePath: path)
    }

    /// Sends `method` (POST with `body`, or GET) to `path` and reads the whole response before
    /// `deadline` (monotonic seconds): `onHead` gets the status and the headers (lower-case names),
    /// `onBody` the decoded body bytes as they arrive.
    /// The whole exchange, connection to last body byte, ends by `deadline` (monotonic seconds), and
    /// the body may not exceed `maxBodyBytes`: memory stays bounded whatever the server sends.
    package static func request(
        _ target: Target, method: String = "POST", path: String, headers: [(String, String)], body: [UInt8],
        deadline: Double,
        maxBodyBytes: Int = 1 << 20,
        onHead: (Int, [String: String]) -> Void, onBody: ([UInt8]) -> Void
    ) throws(Failure) {
        let fd: Int32
        do { fd = try POSIX.connectTCP(host: target.host, port: target.port, deadline: deadline) } catch {
            throw .socket(error)
        }
        defer { POSIX.closeSocket(fd) }
        let hostHeader = target.host.contains(":") ? "[\(target.host)]:\(target.port)" : "\(target.host):\(target.port)"
        var head =
            "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\n\(method == "GET" ? "" : "Content-Length: \(body.count)\r\n")Connection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        do { try POSIX.sendAll(fd, Array(head.utf8) + body, deadline: deadline) } catch { throw .socket(error) }

        var parser = ResponseParser(maxBodyBytes: maxBodyBytes)
        while !parser.finished {
            guard POSIX.monotonicSeconds() < deadline else { throw .socket(.timeout) }
            let bytes: [UInt8]
            do { bytes = try POSIX.receive(fd, deadline: deadline) } catch { throw .socket(error) }
            if bytes.isEmpty {
                try parser.end()
                break
            }
            try parser.feed(bytes, onHead: onHead, onBody: onBody)
        }
    }

    /// Incremental HTTP/1.1 response parsing: status line and headers, then the body framed by
    /// chunked coding, Content-Length, or the end of the connection (RFC 9112 §6.3).
    package struct ResponseParser {
        package enum Framing {
            case length(Int)
            case chunked, untilClose
        }
        package enum ChunkState {
            case data(Int)
            case size, dataEnd, trailers
        }

        /// The most body bytes accepted; more is `Failure.tooLarge`.
        package var maxBodyBytes = Int.max
        package var buffer: [UInt8] = []
        package var headDone = false
        package var framing = Framing.untilClose
        package var chunk = ChunkState.size
        package var received = 0
        package var finished = false
        package var sawAnything = false

        package mutating func feed(_ bytes: [UInt8], onHead: (Int, [String: String]) -> Void, onBody: ([UInt8]) -> Void)
            throws(Failure)
        {
            sawAnything = true
            buffer += bytes
            if !headDone {
                guard let end = Self.find([13, 10, 13, 10], in: buffer) else {
                    if buffer.count > 64 * 1024 { throw .malformed("no end of headers in the first 64 KiB") }
                    return
                }
                let text = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                var lines = text.components(separatedBy: "\r\n")
                let statusLine = lines.removeFirst()
                let parts = statusLine.split(separator: " ", maxSplits: 2)
                guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
                    throw .malformed("the status line is \"\(statusLine.prefix(80))\"")
                }
                if status == 100 { return try feed([], onHead: onHead, onBody: onBody) }
                var fields: [String: String] = [:]
                for line in lines {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                        in: .whitespaces)
                }
                if fields["transfer-encoding"]?.lowercased().contains("chunked") == true {
                    framing = .chunked
                } else if let length = fields["content-length"] {
                    guard let count = Int(length), count >= 0 else {
                        throw .malformed("Content-Length is \"\(shown(length))\"")
                    }
                    framing = .length(count)
                }
                headDone = true
                onHead(status, fields)
                if case .length(0) = framing { finished = true }
            }
            try drainBody(onBody)
        }

        package init(maxBodyBytes: Int = .max) { self.maxBodyBytes = maxBodyBytes }

        /// Refuses body bytes beyond the limit before they are handed on.
        package func admit(_ count: Int) throws(Failure) {
            if count > maxBodyBytes - received { throw .tooLarge(maxBodyBytes) }
        }

        package mutating func drainBody(_ onBody: ([UInt8]) -> Void) throws(Failure) {
            switch framing {
            case .untilClose:
                try admit(buffer.count)
                if !buffer.isEmpty {
                    onBody(buffer)
                    received += buffer.count
                    buffer.removeAll()
                }
            case .length(let total):
                if total > maxBodyBytes { throw .tooLarge(maxBodyBytes) }
                let take = min(buffer.count, total - received)
                if take > 0 {
                    onBody(Array(buffer[0..<take]))
                    received += take
                }
                buffer.removeAll()
                if received >= total { finished = true }
            case .chunked:
                while !finished {
                    switch chunk {
                    case .size:
                        guard let end = Self.find([13, 10], in: buffer) else {
                            if buffer.count > 4096 { throw .malformed("a chunk-size line is longer than 4 KiB") }
                            return
                        }
                        let line = String(decoding: buffer[0..<end], as: UTF8.self)
                        buffer.removeFirst(end + 2)
                        let hex = line.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                        guard let size = Int(hex, radix: 16), size >= 0 else {
                            throw .malformed("a chunk size is \"\(line.prefix(40))\"")
                        }
                        chunk = size == 0 ? .trailers : .data(size)
                    case .data(let left):
                        guard !buffer.isEmpty else { return }
                        let take = min(left, buffer.count)
                        try admit(take)
                        onBody(Array(buffer[0..<take]))
                        received += take
                        buffer.removeFirst(take)
                        chunk = take == left ? .dataEnd : .data(left - take)
                    case .dataEnd:
                        guard buffer.count >= 2 else { return }
                        guard buffer[0] == 13, buffer[1] == 10 else {
                            throw .malformed("a chunk does not end with CRLF")
                        }
                        buffer.removeFirst(2)
                        chunk = .size
                    case .trailers:
                        guard let end = Self.find([13, 10], in: buffer) else {
                            if buffer.count > 64 * 1024 { throw .malformed("a trailer line is longer than 64 KiB") }
                            return
                        }
                        buffer.removeFirst(end + 2)
                        if end == 0 { finished = true }
                    }
                }
            }
        }

        /// The connection ended: fine for a body framed by the close, an error for anything unfinished.
        package mutating func end() throws(Failure) {
            guard headDone else { throw sawAnything ? .malformed("the headers never ended") : .noResponse }
            switch framing {
            case .untilClose: finished = true
            case .length(let total): if received < total { throw .truncated("\(received) of \(total) body bytes") }
            case .chunked:
                if !finished {
                    throw .truncated("the chunked body stopped before its last chunk, after \(received) bytes")
                }
            }
        }

        package static func find(_ pattern: [UInt8], in bytes: [UInt8]) -> Int? {
            guard bytes.count >= pattern.count else { return nil }
            for start in 0...(bytes.count - pattern.count) where bytes[start] == pattern[0] {
                if Array(bytes[start..<(start + pattern.count)]) == pattern { return start }
            }
            return nil
        }
    }
}
