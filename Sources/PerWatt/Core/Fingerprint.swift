import Foundation
import KernelBench
import PowerProbe

/// What machine, build and configuration a result came from. Two results are comparable only
/// when their fingerprints say so.
public struct Fingerprint: Sendable, Hashable, Codable {
    public var perwattVersion: String
    public var cpuModel: String
    public var architecture: String
    public var logicalCPUs: Int
    /// The `hypervisor` flag is set: RAPL is usually absent and timings are noisier.
    public var virtualized: Bool
    /// ISA extensions of interest this CPU offers (from /proc/cpuinfo).
    public var cpuFlags: [String]
    public var memoryBytes: UInt64?
    public var kernel: String
    /// cpufreq scaling governor of cpu0, if exposed.
    public var governor: String?
    public var blas: BLASInfo
    public var buildTarget: BuildTarget

    /// Reads this machine: /proc/cpuinfo, /proc/meminfo, uname, cpufreq, OpenBLAS.
    public static func collect(version: String = PerWattRelease.version) -> Fingerprint {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = CPUInfo.flags(cpuinfo: cpuinfo) ?? []
        let (release, machine) = POSIX.kernel()
        return Fingerprint(
            perwattVersion: version,
            cpuModel: CPUInfo.model(cpuinfo: cpuinfo) ?? "unknown",
            architecture: machine,
            logicalCPUs: POSIX.onlineCPUs(),
            virtualized: flags.contains("hypervisor"),
            cpuFlags: CPUInfo.isaFlags.filter(flags.contains),
            memoryBytes: CPUInfo.memoryBytes(
                meminfo: (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""),
            kernel: release,
            governor: (try? String(
                contentsOfFile: "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines),
            blas: BLASInfo.current(),
            buildTarget: .current)
    }
}

/// Parsing of /proc/cpuinfo and /proc/meminfo.
package enum CPUInfo {
    /// The ISA extensions reported in fingerprints (the same list Package.swift chooses from).
    package static let isaFlags = BuildTarget.allKnownFlags

    /// The first `flags` line (x86) or `Features` line (arm64), split into names.
    package static func flags(cpuinfo: String) -> Set<String>? {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("flags") || line.hasPrefix("Features") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return nil
    }

    package static func model(cpuinfo: String) -> String? {
        for key in ["model name", "Model", "Hardware", "cpu model"] {
            for line in cpuinfo.split(separator: "\n") where line.hasPrefix(key) {
                if let colon = line.firstIndex(of: ":") {
                    let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    if !value.isEmpty { return value }
                }
            }
        }
        return nil
    }

    /// `MemTotal` in bytes.
    package static func memoryBytes(meminfo: String) -> UInt64? { meminfoBytes(meminfo, field: "MemTotal") }

    /// A `/proc/meminfo` field (in kB there) in bytes, e.g. `MemAvailable`.
    package static func meminfoBytes(_ meminfo: String, field: String) -> UInt64? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix(field + ":") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let kib = UInt64(parts[1]) { return kib * 1024 }
        }
        return nil
    }

    /// This CPU's flags, or nil where /proc/cpuinfo cannot be read.
    package static func hostFlags() -> Set<String>? {
        (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).flatMap(flags(cpuinfo:))
    }
}
