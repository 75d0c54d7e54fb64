import Foundation
import ProbeTestSupport
import Synchronization
import Testing

/// Issue 11, reproducer 6, on the real binary: a simulated AMD tree (90 W package, 30 W core, a
/// 120 J counter range, so 1.33 s wrap-safe) whose counters are advanced by a thread of this test.
/// Counters that freeze and then jump, and a perwatt that is itself stopped while they run on, must
/// make `exec` say the figure is untrusted, with the span, never report it as if it were good.
@Suite(.serialized) struct UntrustedEnergyBinaryTests {
    static let range: UInt64 = 120_000_000

    /// A powercap tree in a temporary folder whose counters advance at `watts` while `advancing` says so.
    final class LiveTree: @unchecked Sendable {
        let root: String
        final class Flag: Sendable {
            let value = Atomic<Bool>(false)
            func set() { value.store(true, ordering: .relaxed) }
            var isSet: Bool { value.load(ordering: .relaxed) }
        }

        let stopped = Flag()
        private var thread: Thread?

        init(frozen: @escaping @Sendable (Double) -> Bool) throws {
            root = RunCommandTests.temporary("live-powercap-\(UUID().uuidString)")
            let zones = [("intel-rapl:0", "package-0", 90.0), ("intel-rapl:0:0", "core", 30.0)]
            for (zone, name, _) in zones {
                let folder = root + "/" + zone
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try "\(name)\n".write(toFile: folder + "/name", atomically: true, encoding: .utf8)
                try "1\n".write(toFile: folder + "/enabled", atomically: true, encoding: .utf8)
                try "\(UntrustedEnergyBinaryTests.range)\n".write(
                    toFile: folder + "/max_energy_range_uj", atomically: true, encoding: .utf8)
                try Self.field(0).write(toFile: folder + "/energy_uj", atomically: true, encoding: .utf8)
            }
            let descriptors = zones.map { open(root + "/" + $0.0 + "/energy_uj", O_WRONLY) }
            let start = Date()
            let stop = stopped
            thread = Thread {
                var lastTrue = 0.0
                while !stop.isSet {
                    let t = Date().timeIntervalSince(start)
                    if !frozen(t) { lastTrue = t }
                    for (index, zone) in zones.enumerated() {
                        // Energy is true time × power; a frozen counter shows the last value it had.
                        let microjoules = UInt64(zone.2 * lastTrue * 1e6) % UntrustedEnergyBinaryTests.range
                        let text = Array(Self.field(microjoules).utf8)
                        _ = text.withUnsafeBytes { pwrite(descriptors[index], $0.baseAddress, $0.count, 0) }
                    }
                    usleep(5000)
                }
                for fd in descriptors { close(fd) }
            }
            thread?.start()
        }

        /// Fixed width, so an in-place rewrite is never seen half-written or shorter.
        static func field(_ value: UInt64) -> String {
            let digits = String(value)
            return String(repeating: "0", count: 12 - digits.count) + digits + "\n"
        }

        deinit { stopped.set() }
    }

    /// Runs `perwatt exec --json` on the tree; `during` runs with the child's pid while it works.
    func exec(_ tree: LiveTree, seconds: Double, during: (pid_t) -> Void = { _ in }) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BinaryTests.binary)
        process.arguments = [
            "exec", "--json", "--energy", "rapl", "--powercap-root", tree.root, "--interval", "50", "--",
            "sleep", String(seconds),
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["PERWATT_HWMON_ROOT"] = Fixtures.path("hwmon/missing")
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        during(process.processIdentifier)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        BinaryTests.waitForExit(process, seconds: 30, what: "perwatt exec")
        tree.stopped.set()
        return try parseJSON(String(decoding: data, as: UTF8.self))
    }

    static func zone(_ json: [String: Any], _ name: String) -> [String: Any]? {
        ((json["energy"] as? [String: Any])?["channels"] as? [[String: Any]])?.first { $0["name"] as? String == name }
    }

    @Test func countersThatFreezeAndJumpMakeTheFigureUntrusted() throws {
        // Frozen from 0.6 s to 2.6 s: 2 s of standstill, then a jump of 180 J on the package counter
        // (1.5 ranges) and 60 J on the core (0.5 range: its delta alone would look plausible).
        let tree = try LiveTree { $0 > 0.6 && $0 < 2.6 }
        let json = try exec(tree, seconds: 3.5)
        let energy = try #require(json["energy"] as? [String: Any])
        #expect(energy["trusted"] as? Bool == false, "\(energy)")
        let reasons = (energy["untrustedReasons"] as? [String]) ?? []
        #expect(!reasons.isEmpty)
        let package = try #require(Self.zone(json, "package-0"))
        #expect(package["untrusted"] as? Bool == true && package["stale"] as? Bool == true, "\(package)")
        let spans = try #require(package["spans"] as? [[String: Any]])
        let standstill = try #require(spans.first { ($0["untrusted"] as? Bool) == true })
        let start = try #require(standstill["startSeconds"] as? Double)
        let end = try #require(standstill["endSeconds"] as? Double)
        // The span covers the standstill (to the sampling period and process start-up).
        #expect(end - start > 1.5 && end - start < 2.6, "\(standstill)")
    }

    @Test func aStoppedSamplerMakesTheFigureUntrusted() throws {
        // The counters run on at 90 W while perwatt itself is stopped for 2 s (SIGSTOP): its sampler
        // misses more than the 1.33 s wrap-safe time, so nobody knows how often the counter wrapped.
        let tree = try LiveTree { _ in false }
        let json = try exec(tree, seconds: 3.5) { pid in
            Thread.sleep(forTimeInterval: 0.7)
            kill(pid, SIGSTOP)
            Thread.sleep(forTimeInterval: 2)
            kill(pid, SIGCONT)
        }
        let energy = try #require(json["energy"] as? [String: Any])
        #expect(energy["trusted"] as? Bool == false, "\(energy)")
        let package = try #require(Self.zone(json, "package-0"))
        let spans = try #require(package["spans"] as? [[String: Any]])
        #expect(
            spans.contains { $0["kind"] as? String == "sampling-gap" && ($0["untrusted"] as? Bool) == true }, "\(spans)"
        )
    }

    @Test func aSteadyTreeIsTrustedAndRight() throws {
        // The control: the same tree, nothing frozen, nothing stopped: trusted, and 120 W × the run.
        let tree = try LiveTree { _ in false }
        let json = try exec(tree, seconds: 1.5)
        let energy = try #require(json["energy"] as? [String: Any])
        #expect(energy["trusted"] as? Bool == true, "\(energy)")
        let package = try #require(Self.zone(json, "package-0"))
        let joules = try #require(package["joules"] as? Double)
        let watts = try #require(package["averageWatts"] as? Double)
        #expect(abs(watts - 90) < 4.5 && joules > 90, "\(package)")
    }
}
