import Synchronization

/// Where the CLI writes text. The live one writes to a file descriptor; tests capture.
public protocol TextSink: AnyObject, Sendable {
    func write(_ text: String)
    /// Whether this is an interactive terminal (progress and colour only then).
    var isTerminal: Bool { get }
}

/// Writes to a file descriptor (1 or 2), unbuffered so that output interleaves correctly with a child's.
public final class FileDescriptorSink: TextSink {
    package let fd: Int32
    public let isTerminal: Bool

    public init(fd: Int32) {
        self.fd = fd
        self.isTerminal = POSIX.isTerminal(fd)
    }

    public func write(_ text: String) { POSIX.writeAll(fd, text) }
}

/// Everything perwatt itself writes to stderr passes through here: control characters escaped and
/// every line capped (`Message.sanitizedLines`), so no file content, server answer or argument can
/// drive the terminal or flood it. (A measured command's own output goes to the descriptor directly.)
package final class SanitizingSink: TextSink {
    package let inner: any TextSink
    package var isTerminal: Bool { inner.isTerminal }

    package init(_ inner: any TextSink) { self.inner = inner }

    package func write(_ text: String) { inner.write(Message.sanitizedLines(text)) }
}

/// Collects text in memory, for tests.
public final class CapturedSink: TextSink {
    private let buffer = Mutex("")
    public let isTerminal: Bool

    public init(isTerminal: Bool = false) { self.isTerminal = isTerminal }

    public func write(_ text: String) { buffer.withLock { $0 += text } }
    public var text: String { buffer.withLock { $0 } }
}

extension TextSink {
    package func line(_ text: String = "") { write(text + "\n") }
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
package func csvField(_ text: String) -> String {
    text.contains(where: { ",\"\n\r".contains($0) })
        ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
}
