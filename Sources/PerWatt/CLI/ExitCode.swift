import PerWattCore

/// perwatt's exit status. The values follow sysexits(3) where one fits; `exec` passes the
/// measured command's own status through. Documented in docs/cli.md.
public struct ExitCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// Everything worked.
    public static let success = ExitCode(0)
    /// `perwatt compare`: a metric regressed (significant and beyond its noise band).
    public static let regression = ExitCode(1)
    /// `perwatt kernels`: a kernel's output did not match its reference.
    public static let verificationFailed = ExitCode(3)
    /// Bad command line: unknown option, missing or malformed value (EX_USAGE).
    public static let usage = ExitCode(64)
    /// An input file is invalid (EX_DATAERR).
    public static let dataError = ExitCode(65)
    /// An input file could not be opened or read (EX_NOINPUT).
    public static let noInput = ExitCode(66)
    /// An energy source asked for with `--energy` is not present or not usable (EX_UNAVAILABLE).
    public static let energyUnavailable = ExitCode(69)
    /// `eval`: queries failed, or the server stopped answering; the fixture keeps what finished and
    /// `--resume` asks the rest (EX_TEMPFAIL: try again later).
    public static let unavailable = ExitCode(75)
    /// A bug in perwatt (EX_SOFTWARE).
    public static let internalError = ExitCode(70)
    /// `run`, `kernels`: the run would need more memory than the machine has available
    /// (/proc/meminfo MemAvailable); `--force` tries anyway (EX_OSERR).
    public static let insufficientMemory = ExitCode(71)
    /// A result could not be written (EX_IOERR).
    public static let ioError = ExitCode(74)
    /// Energy counters exist but this user may not read them (EX_NOPERM).
    public static let permissionDenied = ExitCode(77)
    /// This binary was compiled for CPU extensions this CPU lacks (EX_CONFIG).
    public static let unsupportedCPU = ExitCode(78)
    /// `exec`: the command was found but could not be executed.
    public static let cannotExecute = ExitCode(126)
    /// `exec`: the command was not found.
    public static let commandNotFound = ExitCode(127)
    /// `run`: stopped by Ctrl-C (128 + SIGINT); what finished was written, marked incomplete.
    public static let interrupted = ExitCode(130)

    public var description: String { String(rawValue) }
}
