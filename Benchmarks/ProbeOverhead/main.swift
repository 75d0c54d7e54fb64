// Measures what the energy sampler costs: CPU time of the sampler thread as a fraction of one
// core, at the default 100 ms interval and at faster ones, reading real files with pread.
//
//   swift run -c release perwatt-bench-probe [--seconds S] [--powercap-root DIR]
//
// Without --powercap-root it uses /sys/class/powercap when that has readable zones, otherwise a
// temporary tree shaped like a two-socket server (2 × package, core, uncore, dram, plus psys:
// 9 counter files), so the cost of reading as many files as a big machine has is measured anyway.
import Foundation
import PowerProbe

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let index = args.firstIndex(of: name), index + 1 < args.count else { return nil }
    return args[index + 1]
}

let seconds = Double(argument("--seconds") ?? "10") ?? 10
var root = argument("--powercap-root") ?? "/sys/class/powercap"
var temporary: URL?
var inventory = try PowercapInventory.discover(root: root, sysfs: LinuxSysfs())
if !inventory.isUsable && argument("--powercap-root") == nil {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perwatt-bench-\(getpid())")
    temporary = dir
    let zones: [(String, String)] = [
        ("intel-rapl:0", "package-0"), ("intel-rapl:0:0", "core"), ("intel-rapl:0:1", "uncore"),
        ("intel-rapl:0:2", "dram"),
        ("intel-rapl:1", "package-1"), ("intel-rapl:1:0", "core"), ("intel-rapl:1:1", "uncore"),
        ("intel-rapl:1:2", "dram"),
        ("intel-rapl:2", "psys"),
    ]
    for (id, name) in zones {
        let zone = dir.appendingPathComponent(id)
        try FileManager.default.createDirectory(at: zone, withIntermediateDirectories: true)
        try "\(name)\n".write(to: zone.appendingPathComponent("name"), atomically: true, encoding: .utf8)
        try "262143328850\n".write(
            to: zone.appendingPathComponent("max_energy_range_uj"), atomically: true, encoding: .utf8)
        try "123456789\n".write(to: zone.appendingPathComponent("energy_uj"), atomically: true, encoding: .utf8)
    }
    root = dir.path
    inventory = try PowercapInventory.discover(root: root, sysfs: LinuxSysfs())
    print("no readable /sys/class/powercap here: using a synthetic 9-zone tree at \(root) (same pread path)")
}
defer { if let temporary { try? FileManager.default.removeItem(at: temporary) } }

let base = try inventory.plan(sysfs: LinuxSysfs())
// Read every zone, not only the basis: that is what perwatt's exec and run do.
print("zones read per sample: \(base.channels.count) (\(base.basis))")
print("")
print("interval   samples   wall (s)   sampler CPU (ms)   µs per pass   % of one core")
var results: [(Double, Double)] = []
for intervalMs in [100.0, 10.0, 1.0] {
    let meter = try EnergyMeter(plan: base, configuration: MeterConfiguration(intervalSeconds: intervalMs / 1000))
    meter.start()
    Thread.sleep(forTimeInterval: intervalMs == 100 ? seconds : min(seconds, 3))
    guard let stats = meter.stop() else { fatalError("sampler did not run") }
    results.append((intervalMs, stats.coreFraction))
    print(
        String(
            format: "%6.0f ms  %8d  %9.2f  %17.3f  %12.1f  %13.4f%%", intervalMs, stats.samples, stats.wallSeconds,
            stats.cpuSeconds * 1000, stats.meanReadMicroseconds, stats.coreFraction * 100))
}
let atDefault = results[0].1 * 100
print("")
print(
    String(
        format: "overhead at the default 100 ms interval: %.4f%% of one core (target < 0.5%%): %@",
        atDefault, atDefault < 0.5 ? "met" : "NOT MET"))
