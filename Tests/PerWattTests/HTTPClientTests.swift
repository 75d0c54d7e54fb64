import Foundation
import PowerProbe
import Synchronization
import Testing

@testable import PerWattCLI
@testable import PerWattCore

/// `perwatt eval` end to end against the stub server, on a fake 50 W energy source.
@Suite struct HTTPClientTests {
    @Test func parsesEndpoints() throws {
        #expect(
            try HTTPClient.target("http://127.0.0.1:8080/v1/") == .init(host: "127.0.0.1", port: 8080, basePath: "/v1"))
        #expect(try HTTPClient.target("http://localhost") == .init(host: "localhost", port: 80, basePath: ""))
        #expect(try HTTPClient.target("http://[::1]:11434/v1") == .init(host: "::1", port: 11434, basePath: "/v1"))
        #expect(throws: InputError.self) { try HTTPClient.target("http://host:99999/v1") }
        #expect(throws: InputError.self) { try HTTPClient.target("ftp://host/v1") }
    }

    /// A response fed one byte at a time: head, chunked body with an extension and a trailer.
    @Test func decodesChunkedBodiesFedByteByByte() throws {
        let response =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n"
            + "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n"
        var parser = HTTPClient.ResponseParser()
        var status = 0
        var body: [UInt8] = []
        var contentType: String?
        for byte in Array(response.utf8) {
            try parser.feed(
                [byte],
                onHead: { code, headers in
                    status = code
                    contentType = headers["content-type"]
                }, onBody: { body += $0 })
        }
        #expect(
            parser.finished && status == 200 && contentType == "text/event-stream"
                && String(decoding: body, as: UTF8.self) == "hello, world")
    }

    @Test func framingErrorsAreNamed() throws {
        var short = HTTPClient.ResponseParser()
        try short.feed(
            Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8), onHead: { _, _ in }, onBody: { _ in })
        #expect(throws: HTTPClient.Failure.self) { try short.end() }
        var cut = HTTPClient.ResponseParser()
        try cut.feed(
            Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel".utf8), onHead: { _, _ in },
            onBody: { _ in })
        #expect { try cut.end() } throws: { "\($0)".contains("stopped before its last chunk") }
        var nothing = HTTPClient.ResponseParser()
        #expect { try nothing.end() } throws: { "\($0)" == "the server closed the connection without a response" }
        var garbage = HTTPClient.ResponseParser()
        #expect {
            try garbage.feed(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8), onHead: { _, _ in }, onBody: { _ in })
        } throws: { "\($0)".contains("status line") }
        var untilClose = HTTPClient.ResponseParser()
        var body: [UInt8] = []
        try untilClose.feed(Array("HTTP/1.0 200 OK\r\n\r\nall of it".utf8), onHead: { _, _ in }, onBody: { body += $0 })
        try untilClose.end()
        #expect(String(decoding: body, as: UTF8.self) == "all of it")
    }
}
