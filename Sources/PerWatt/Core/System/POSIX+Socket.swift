// Linux with glibc only (the sysfs and /proc paths read here are Linux's; Musl is not a target).
import Glibc

/// TCP client sockets for `perwatt eval`'s HTTP client: blocking I/O bounded by `poll` deadlines,
/// so a request that waits on the server costs no CPU here.
extension POSIX {
    package enum SocketError: Error, Equatable, CustomStringConvertible {
        /// The host name could not be resolved. The corresponding C function is `getaddrinfo`.
        case resolve(String, String)
        /// No address accepted the connection; `code` is the last errno.
        case connect(String, Int32)
        case timeout
        /// Ctrl-C arrived (`POSIX.interrupted`) while waiting.
        case interrupted
        case io(String, Int32)

        package var description: String {
            switch self {
            case .resolve(let host, let reason): "cannot resolve \(host): \(reason)"
            case .connect(let address, let code):
                code == ECONNREFUSED
                    ? "connection refused by \(address) (is the server running and listening there?)"
                    : "cannot connect to \(address): \(POSIX.describe(code))"
            case .timeout: "timed out"
            case .interrupted: "interrupted (Ctrl-C)"
            case .io(let step, let code): "\(step) failed: \(POSIX.describe(code))"
            }
        }
    }

    /// Milliseconds left until `deadline` (monotonic seconds), at least 0.
    private static func remainingMilliseconds(_ deadline: Double) -> Int32 {
        Int32(max(0, min(Double(Int32.max), ((deadline - monotonicSeconds()) * 1000).rounded(.up))))
    }

    /// Waits until `fd` is ready for `events` or the deadline passes, in slices of at most 200 ms so
    /// that Ctrl-C (which may be delivered to another thread) stops the wait. The corresponding C
    /// function is `poll`.
    private static func wait(_ fd: Int32, _ events: Int16, until deadline: Double) throws(SocketError) {
        while true {
            if interrupted.load(ordering: .relaxed) { throw .interrupted }
            // Checked before every poll: data that keeps arriving never extends the deadline.
            guard monotonicSeconds() < deadline else { throw .timeout }
            let left = remainingMilliseconds(deadline)
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, min(left, 200))
            if ready > 0 { return }
            if ready == 0 {
                if left <= 200 { throw .timeout }
                continue
            }
            if errno != EINTR { throw .io("poll", errno) }
        }
    }

    /// Connects to `host`:`port` (IPv4 or IPv6, each resolved address in turn) before `deadline`.
    /// Returns a blocking socket. The corresponding C functions are `getaddrinfo`, `socket`, `connect`.
    package static func connectTCP(host: String, port: UInt16, deadline: Double) throws(SocketError) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else { throw .resolve(host, String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = ECONNREFUSED
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            let fd = socket(
                info.pointee.ai_family,
                info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                info.pointee.ai_protocol)
            if fd < 0 {
                lastError = errno
                continue
            }
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
                lastError = errno
                close(fd)
                continue
            }
            do {
                try wait(fd, Int16(POLLOUT), until: deadline)
            } catch {
                close(fd)
                throw error
            }
            var code: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
            if code != 0 {
                lastError = code
                close(fd)
                continue
            }
            // Back to blocking: every read and write below is preceded by a poll with the deadline.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            return fd
        }
        throw .connect("\(host):\(port)", lastError)
    }

    /// Sends all of `bytes` before `deadline`. The corresponding C function is `send`.
    package static func sendAll(_ fd: Int32, _ bytes: [UInt8], deadline: Double) throws(SocketError) {
        var offset = 0
        while offset < bytes.count {
            try wait(fd, Int16(POLLOUT), until: deadline)
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                throw .io("send", errno)
            }
            offset += sent
        }
    }

    /// Reads what has arrived (up to `capacity` bytes), waiting until `deadline`; empty at end of
    /// stream. The corresponding C function is `recv`.
    package static func receive(_ fd: Int32, capacity: Int = 65536, deadline: Double) throws(SocketError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: capacity)
        while true {
            try wait(fd, Int16(POLLIN), until: deadline)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count >= 0 { return Array(buffer[0..<count]) }
            if errno == EINTR { continue }
            throw .io("recv", errno)
        }
    }

    /// Closes a socket. The corresponding C function is `close`.
    package static func closeSocket(_ fd: Int32) { close(fd) }
}
