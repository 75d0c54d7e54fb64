import Foundation
import PowerProbe

/// Small file helpers for tests that need real files.
enum FileManagerShim {
    static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Rewrites a file keeping its inode, as sysfs does (an open descriptor sees the new content).
    static func overwriteInPlace(_ text: String, at path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }
}

/// Starts the sampler, measures one window of `seconds`, stops the sampler.
@discardableResult
func sampledWindow(_ meter: EnergyMeter, seconds: Double) -> (EnergyWindow, SamplerStatistics?) {
    meter.start()
    let mark = meter.beginWindow()
    Thread.sleep(forTimeInterval: seconds)
    let window = meter.endWindow(mark)
    return (window, meter.stop())
}
