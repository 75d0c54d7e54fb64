import CBLAS

/// What the linked OpenBLAS is and how it was built, for the machine fingerprint.
public struct BLASInfo: Sendable, Hashable, Codable {
    /// `openblas_get_config()`, e.g. "OpenBLAS 0.3.21 NO_AFFINITY Zen MAX_THREADS=64".
    public var config: String
    /// `openblas_get_corename()`: the kernel set OpenBLAS chose for this CPU at run time.
    public var coreName: String
    /// `openblas_get_num_threads()`.
    public var threads: Int
    /// `openblas_get_parallel()`: `sequential`, `pthreads` or `openmp`.
    public var parallel: String

    public init(config: String, coreName: String, threads: Int, parallel: String) {
        self.config = config
        self.coreName = coreName
        self.threads = threads
        self.parallel = parallel
    }

    /// Queries the OpenBLAS linked through `Sources/CBLAS`.
    public static func current() -> BLASInfo {
        let parallel: String
        switch openblas_get_parallel() {
        case 0: parallel = "sequential"
        case 1: parallel = "pthreads"
        case 2: parallel = "openmp"
        case let other: parallel = "unknown (\(other))"
        }
        return BLASInfo(
            config: openblas_get_config().map { String(cString: $0) }?.trimmingCharacters() ?? "",
            coreName: openblas_get_corename().map { String(cString: $0) } ?? "",
            threads: Int(openblas_get_num_threads()), parallel: parallel)
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\n" { text = text.dropLast() }
        return String(text)
    }
}
