import Foundation
import PowerProbe
import Synchronization

/// Paths of the committed fake trees.
public enum Fixtures {
    /// `Tests/Fixtures`, found from this file's location so tests run from any directory.
    public static let root: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").path
    }()

    public static func path(_ relative: String) -> String { root + "/" + relative }
}

/// An in-memory sysfs. Files hold text, or a counter computed at read time, or an error.
/// Loaded from a fixture tree, then altered per test.
public final class FakeSysfs: SysfsAccess, @unchecked Sendable {
    public enum Content: Sendable {
        case text(String)
        /// A RAPL-style counter: `(startMicrojoules + watts × seconds since creation) mod range`.
        case counter(ClockCounter)
        /// A value a test thread sets.
        case shared(SharedValue)
        /// Reads fail with EACCES; `ownership` is what `stat` reports.
        case denied(FileOwnership)
        /// Reads fail with this errno.
        case failing(Errno)
    }

    private let files = Mutex<[String: Content]>([:])
    public let reads = Atomic<Int>(0)

    public init() {}

    /// Loads every file under `directory` (a fixture tree) at the same paths.
    public convenience init(loading directory: String) {
        self.init()
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let relative = enumerator?.nextObject() as? String {
            let full = directory + "/" + relative
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
                let text = try? String(contentsOfFile: full, encoding: .utf8)
            {
                set(full, .text(text))
            }
        }
    }

    public func set(_ path: String, _ content: Content) { files.withLock { $0[path] = content } }
    public func set(_ path: String, text: String) { set(path, .text(text)) }
    public func remove(_ path: String) { _ = files.withLock { $0.removeValue(forKey: path) } }

    public func entries(of directory: String) throws -> [String]? {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return files.withLock { files -> [String]? in
            var names = Set<String>()
            var any = false
            for path in files.keys where path.hasPrefix(prefix) {
                any = true
                let rest = path.dropFirst(prefix.count)
                if let name = rest.split(separator: "/").first { names.insert(String(name)) }
            }
            return any ? names.sorted() : nil
        }
    }

    public func exists(_ path: String) -> Bool {
        files.withLock { files in files[path] != nil || files.keys.contains { $0.hasPrefix(path + "/") } }
    }

    public func readText(_ path: String) throws -> String {
        reads.wrappingAdd(1, ordering: .relaxed)
        guard let content = files.withLock({ $0[path] }) else { throw ProbeError.missingFile(path: path) }
        switch content {
        case .text(let text): return text
        case .counter(let counter): return "\(counter.value())\n"
        case .shared(let shared): return "\(shared.value)\n"
        case .denied(let ownership): throw ProbeError.permissionDenied(path: path, ownership: ownership)
        case .failing(let errno): throw ProbeError.readFailed(path: path, errno: errno)
        }
    }

    public func openCounter(_ path: String) throws -> any CounterFile {
        _ = try readText(path)  // open fails as a read would
        return FakeCounterFile(path: path, sysfs: self)
    }

    public func ownership(_ path: String) -> FileOwnership? {
        if case .denied(let ownership)? = files.withLock({ $0[path] }) { return ownership }
        return FileOwnership(mode: 0o444, userID: 0, groupID: 0, userName: "root", groupName: "root")
    }
}

final class FakeCounterFile: CounterFile, @unchecked Sendable {
    let path: String
    let sysfs: FakeSysfs
    init(path: String, sysfs: FakeSysfs) {
        self.path = path
        self.sysfs = sysfs
    }
    func readText() throws -> String { try sysfs.readText(path) }
    func close() {}
}

/// A counter running at a known constant power, computed from the monotonic clock at each read,
/// wrapping at `rangeMicrojoules`: its true energy over any interval is `watts × seconds`.
public struct ClockCounter: Sendable {
    public var watts: Double
    public var rangeMicrojoules: UInt64
    public var startMicrojoules: UInt64
    public var origin: UInt64

    public init(watts: Double, rangeMicrojoules: UInt64, startMicrojoules: UInt64 = 0) {
        self.watts = watts
        self.rangeMicrojoules = rangeMicrojoules
        self.startMicrojoules = startMicrojoules
        self.origin = MonotonicClock.nanoseconds()
    }

    public func value() -> UInt64 {
        let elapsed = Double(MonotonicClock.nanoseconds() - origin) / 1e9
        let total = Double(startMicrojoules) + watts * 1e6 * elapsed
        return UInt64(total.truncatingRemainder(dividingBy: Double(rangeMicrojoules)))
    }
}

/// A value shared with a test thread that advances it.
public final class SharedValue: Sendable {
    private let storage = Atomic<UInt64>(0)
    public init(_ value: UInt64 = 0) { storage.store(value, ordering: .relaxed) }
    public var value: UInt64 { storage.load(ordering: .relaxed) }
    public func set(_ value: UInt64) { storage.store(value, ordering: .relaxed) }
}

/// A fake NVML: per GPU, either an energy counter at a known power or only a power reading.
public final class FakeNVML: NVMLLibrary, @unchecked Sendable {
    public struct GPU: Sendable {
        public var name: String
        public var uuid: String
        public var watts: Double
        public var hasEnergyCounter: Bool
        public init(name: String, uuid: String, watts: Double, hasEnergyCounter: Bool) {
            self.name = name
            self.uuid = uuid
            self.watts = watts
            self.hasEnergyCounter = hasEnergyCounter
        }
    }

    public let gpus: [GPU]
    let origin = MonotonicClock.nanoseconds()

    public init(_ gpus: [GPU]) { self.gpus = gpus }

    func gpu(_ index: Int) throws -> GPU {
        guard gpus.indices.contains(index) else {
            throw ProbeError.nvml(function: "handle", code: 2, message: "Invalid Argument")
        }
        return gpus[index]
    }

    public func deviceCount() throws -> Int { gpus.count }
    public func name(ofDevice index: Int) throws -> String { try gpu(index).name }
    public func uuid(ofDevice index: Int) throws -> String { try gpu(index).uuid }

    public func totalEnergyMillijoules(ofDevice index: Int) throws -> UInt64 {
        let gpu = try gpu(index)
        guard gpu.hasEnergyCounter else {
            throw ProbeError.nvml(
                function: "nvmlDeviceGetTotalEnergyConsumption", code: nvmlErrorNotSupported, message: "Not Supported")
        }
        // A real counter starts large (energy since driver load).
        return 5_000_000 + UInt64(gpu.watts * 1e3 * Double(MonotonicClock.nanoseconds() - origin) / 1e9)
    }

    public func powerMilliwatts(ofDevice index: Int) throws -> UInt32 { UInt32(try gpu(index).watts * 1e3) }
}

extension ProbeEnvironment {
    /// An environment over `sysfs` with no NVML, for tests.
    public static func fake(
        powercapRoot: String, hwmonRoot: String = "/nonexistent/hwmon",
        sysfs: any SysfsAccess = LinuxSysfs(), nvml: FakeNVML? = nil,
        cudaVisibleDevices: String? = nil
    ) -> ProbeEnvironment {
        ProbeEnvironment(
            powercapRoot: powercapRoot, hwmonRoot: hwmonRoot, sysfs: sysfs,
            loadNVML: {
                if let nvml { return .success(nvml) }
                return .failure(.sourceUnavailable(source: .nvml, reason: "no NVML in tests"))
            }, cudaVisibleDevices: cudaVisibleDevices)
    }
}
