// Linux with glibc only (the sysfs and /proc paths read here are Linux's; Musl is not a target).
import Glibc
import Synchronization

/// Every libc call the PerWatt target makes goes through here.
package enum POSIX {
    /// Whether `fd` is a terminal. The corresponding C function is `isatty`.
    package static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Writes all of `text`, retrying short writes and EINTR. The corresponding C function is `write`.
    package static func writeAll(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { raw in
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
        bytes.removeAll()
    }

    /// How a child ended.
    package enum Termination: Equatable {
        case exited(Int32)
        case signaled(Int32)

        /// The status a shell would report: the code, or 128 + signal.
        package var shellStatus: Int32 {
            switch self {
            case .exited(let code): code
            case .signaled(let signal): 128 + signal
            }
        }
    }

    package enum SpawnError: Error, Equatable {
        case notFound(String)
        case notExecutable(String, Int32)
        case failed(String, Int32)
    }

    /// Starts `arguments` without a shell (PATH lookup as `execvp`), stdin/stdout/stderr inherited;
    /// with `stdoutToStderr` the child's stdout goes to perwatt's stderr. SIGINT and SIGQUIT are reset
    /// to their defaults in the child and its signal mask is emptied. The corresponding C function is `posix_spawnp`.
    package static func spawn(_ arguments: [String], stdoutToStderr: Bool) -> Result<pid_t, SpawnError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if stdoutToStderr { posix_spawn_file_actions_adddup2(&actions, 2, 1) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGQUIT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // The calling thread's signal mask is inherited; worker threads (Dispatch, Swift concurrency)
        // block most signals, so give the child an empty mask or it would ignore SIGTERM and friends.
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let status = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ)
        switch status {
        case 0: return .success(pid)
        case ENOENT: return .failure(.notFound(arguments[0]))
        case EACCES, ENOEXEC, EISDIR, ENOTDIR: return .failure(.notExecutable(arguments[0], status))
        default: return .failure(.failed(arguments[0], status))
        }
    }

    /// Waits for `pid`, retrying EINTR. The corresponding C function is `waitpid`.
    package static func wait(_ pid: pid_t) -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return .exited(127) }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG from <sys/wait.h>, which Swift does not import as functions.
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }

    /// `strerror` text for an errno value.
    package static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Ignores SIGINT and SIGQUIT in perwatt while a measured child runs (as `system(3)` does):
    /// Ctrl-C reaches the child, which decides; perwatt then reports. Returns a restorer.
    package static func ignoreInterrupts() -> () -> Void {
        let oldInt = signal(SIGINT, SIG_IGN)
        let oldQuit = signal(SIGQUIT, SIG_IGN)
        return {
            signal(SIGINT, oldInt)
            signal(SIGQUIT, oldQuit)
        }
    }

    /// Set by the SIGINT handler that `catchInterrupt` installs.
    package static let interrupted = Atomic<Bool>(false)

    /// Turns Ctrl-C into a flag (`interrupted`) instead of killing perwatt. Returns a restorer.
    /// SIGINT is also unblocked on the calling thread: a parent may have started perwatt with it
    /// blocked (a blocked signal stays pending, and Ctrl-C would do nothing).
    package static func catchInterrupt() -> () -> Void {
        interrupted.store(false, ordering: .relaxed)
        let old = signal(SIGINT) { _ in POSIX.interrupted.store(true, ordering: .relaxed) }
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        return { signal(SIGINT, old) }
    }

    /// Sleeps; returns early (false) once `interrupted` is set.
    package static func sleep(seconds: Double) -> Bool {
        let end = monotonicSeconds() + seconds
        while monotonicSeconds() < end {
            if interrupted.load(ordering: .relaxed) { return false }
            let step = min(0.05, end - monotonicSeconds())
            if step > 0 { usleep(UInt32(step * 1e6)) }
        }
        return !interrupted.load(ordering: .relaxed)
    }

    package static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// `uname -r` and `uname -m`. The corresponding C function is `uname`.
    package static func kernel() -> (release: String, machine: String) {
        var info = utsname()
        uname(&info)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        }
        return (field(info.release), field(info.machine))
    }

    /// Logical CPUs online. The corresponding C function is `sysconf`.
    package static func onlineCPUs() -> Int { sysconf(Int32(_SC_NPROCESSORS_ONLN)) }
}
