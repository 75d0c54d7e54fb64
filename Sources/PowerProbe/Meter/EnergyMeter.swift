import Dispatch
import Foundation
import Synchronization

/// Settings of a meter.
public struct MeterConfiguration: Sendable {
    /// Sampling interval asked for (default 100 ms); shortened to a quarter of the shortest
    /// wrap time so that no wrap can be missed.
    public var intervalSeconds: Double = 0.1
    /// Power at which wrap times are stated and the wrap-safe gap is computed (default 1000 W:
    /// far above any single RAPL zone, so the guarantee holds on any machine).
    public var ceilingWatts: Double = 1000
    /// A counter that does not move over a window at least this long is reported stale.
    public var staleAfterSeconds: Double = 1.0
    /// Most trace points kept (10 Hz for 28 hours by default); later ones are dropped, never the totals.
    public var traceCapacity: Int = 1_000_000

    public init(intervalSeconds: Double = 0.1, ceilingWatts: Double = 1000, staleAfterSeconds: Double = 1.0) {
        self.intervalSeconds = intervalSeconds
        self.ceilingWatts = ceilingWatts
        self.staleAfterSeconds = staleAfterSeconds
    }
}

/// The state of all channels at one instant, for the start of a window.
public struct WindowMark: Sendable {
    public var nanoseconds: UInt64
    var channels: [ChannelSnapshot]
    var traceIndex: Int
}

struct ChannelSnapshot: Sendable {
    var raw: UInt64?
    var microjoules: Double
    var exactMicrojoules: UInt64?
    var wraps: Int
    var untrusted: Int
    var errors: Int
    var lastError: ProbeError?
}

/// One channel over one window.
public struct ChannelWindow: Sendable {
    public var channel: Channel
    /// Raw reading at the window's start and end (µJ for counters, µW for gauges).
    public var startRaw: UInt64?
    public var endRaw: UInt64?
    /// Energy over the window; nil if the channel could not be read at the start or end.
    public var energyJoules: Double?
    public var averageWatts: Double?
    public var wraps: Int
    /// Intervals whose delta could not be trusted (gap beyond the wrap-safe time, or a counter reset).
    public var untrustedIntervals: Int
    /// The counter did not move over a window long enough that it must have.
    public var stale: Bool
    public var readErrors: Int
    public var error: ProbeError?
}

/// Basis power over one sampling interval.
public struct TracePoint: Sendable, Hashable, Codable {
    /// Seconds since the window began (end of the interval).
    public var seconds: Double
    public var watts: Double
}

/// Energy over one measured interval: start reading, work, end reading.
public struct EnergyWindow: Sendable {
    public var source: String
    public var basis: String
    /// `energy-counter`, `integrated-power` or `mixed`.
    public var measurement: String
    public var durationSeconds: Double
    public var channels: [ChannelWindow]
    /// Sum of the basis channels; nil when one of them failed (see `unavailableReason`). Never 0 for "unknown".
    public var basisJoules: Double?
    public var unavailableReason: String?
    public var averageWatts: Double? { basisJoules.map { durationSeconds > 0 ? $0 / durationSeconds : 0 } }
    /// Highest basis power over one trace bin (the requested interval, 100 ms by default) within the window.
    public var peakWatts: Double?
    /// Basis power per trace bin.
    public var trace: [TracePoint]
    /// Things the reader must know: stale counters, untrusted gaps, read errors.
    public var warnings: [String]
}

/// What the sampler cost.
public struct SamplerStatistics: Sendable, Hashable {
    public var samples: Int
    public var intervalSeconds: Double
    public var wallSeconds: Double
    /// CPU time of the sampler thread.
    public var cpuSeconds: Double
    /// `cpuSeconds / wallSeconds`: the fraction of one core the sampler used.
    public var coreFraction: Double { wallSeconds > 0 ? cpuSeconds / wallSeconds : 0 }
    /// Mean time to read all channels once.
    public var meanReadMicroseconds: Double
}

/// Samples a plan's channels on one thread and measures windows.
///
/// Readings come from the sampler (every `intervalSeconds`) and from `beginWindow`/`endWindow`
/// on the caller's thread; all go through one lock, so every channel's accumulator sees readings
/// in time order. Files stay open for the meter's life and are read with `pread`.
public final class EnergyMeter: @unchecked Sendable {
    public let plan: EnergyPlan
    public let configuration: MeterConfiguration
    /// The interval actually used (≤ the requested one, ≤ a quarter of the shortest wrap time).
    public let intervalSeconds: Double

    struct ChannelState {
        var reader: any ChannelReader
        var accumulator: ChannelAccumulator
        var raw: UInt64?
        /// Whether the latest pass read this channel (its value is then in `raw`).
        var lastReadSucceeded = true
        var errors = 0
        var lastError: ProbeError?
    }

    struct State: ~Copyable {
        var channels: [ChannelState]
        var traceTimes: [UInt64] = []
        var traceBasisMicrojoules: [Double] = []
        var traceTruncated = false
        var readNanoseconds: UInt64 = 0
        var reads = 0
        var closed = false
    }

    private let state: Mutex<State>
    /// `plan.channels[i].channel.inBasis`, kept apart for the sampling pass.
    private let basisMask: [Bool]
    private let stopSignal = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let samplerResult = Mutex<(samples: Int, cpu: UInt64, wall: UInt64)?>(nil)
    private let started = Mutex(false)

    /// Opens every channel's file or handle and takes the first reading (the baseline).
    /// Throws the first channel that cannot be opened or read.
    public init(plan: EnergyPlan, configuration: MeterConfiguration = MeterConfiguration()) throws {
        self.plan = plan
        self.configuration = configuration
        var interval = configuration.intervalSeconds
        for planned in plan.channels {
            if let wrap = planned.channel.wrapSeconds(atWatts: configuration.ceilingWatts) {
                interval = min(interval, wrap / 4)
            }
        }
        self.intervalSeconds = max(interval, 0.0005)
        var channels: [ChannelState] = []
        let now = Syscalls.monotonicNanoseconds()
        do {
            for planned in plan.channels {
                let wrapSafe = planned.channel.wrapSeconds(atWatts: configuration.ceilingWatts).map { UInt64($0 * 1e9) }
                let reader = try planned.open()
                var accumulator = ChannelAccumulator(planned.channel.measurement, wrapSafeNanoseconds: wrapSafe,
                                                     ceilingWatts: configuration.ceilingWatts)
                let raw = try reader.read()
                accumulator.observe(raw, at: now)
                channels.append(ChannelState(reader: reader, accumulator: accumulator, raw: raw))
            }
        } catch {
            for channel in channels { channel.reader.close() }
            throw error
        }
        state = Mutex(State(channels: channels))
        basisMask = plan.channels.map(\.channel.inBasis)
    }

    deinit {
        _ = stop()
        state.withLock { state in
            if !state.closed { for channel in state.channels { channel.reader.close() } }
            state.closed = true
        }
    }

    /// Reads every channel once and appends a trace point. Returns the time the readings are dated at.
    private func record(_ state: inout State) -> UInt64 {
        let start = Syscalls.monotonicNanoseconds()
        for index in state.channels.indices {
            do {
                state.channels[index].raw = try state.channels[index].reader.read()
                state.channels[index].lastReadSucceeded = true
            } catch {
                state.channels[index].lastReadSucceeded = false
                state.channels[index].errors += 1
                state.channels[index].lastError = error as? ProbeError
                    ?? .malformed(path: "?", content: "\(error)", expected: "a reading")
            }
        }
        let end = Syscalls.monotonicNanoseconds()
        // Each reading is dated at the middle of the pass that read it.
        let time = start + (end - start) / 2
        state.readNanoseconds += end - start
        state.reads += 1
        var basis = 0.0
        for index in state.channels.indices {
            if state.channels[index].lastReadSucceeded, let raw = state.channels[index].raw {
                state.channels[index].accumulator.observe(raw, at: time)
            }
            if basisMask[index] { basis += state.channels[index].accumulator.microjoules }
        }
        if state.traceTimes.count < configuration.traceCapacity {
            state.traceTimes.append(time)
            state.traceBasisMicrojoules.append(basis)
        } else {
            // Past the cap the trace stops growing (open windows hold indices into it);
            // totals come from the accumulators and stay exact.
            state.traceTruncated = true
        }
        return time
    }

    /// One sampling pass, as the sampler thread does it.
    func sample() {
        state.withLock { _ = record(&$0) }
    }

    /// A sampling pass for a window edge: the time, each channel's state, and the trace index.
    private func edge() -> (time: UInt64, channels: [ChannelSnapshot], traceIndex: Int) {
        state.withLock { state in
            let time = record(&state)
            let snapshots = state.channels.map { channel in
                ChannelSnapshot(raw: channel.lastReadSucceeded ? channel.raw : nil, microjoules: channel.accumulator.microjoules,
                                exactMicrojoules: channel.accumulator.exactMicrojoules,
                                wraps: channel.accumulator.wraps, untrusted: channel.accumulator.untrusted,
                                errors: channel.errors, lastError: channel.lastError)
            }
            return (time, snapshots, max(state.traceTimes.count - 1, 0))
        }
    }

    /// Starts the sampler thread. Calling it twice has no further effect.
    public func start() {
        let first = started.withLock { started -> Bool in
            defer { started = true }
            return !started
        }
        guard first else { return }
        let interval = UInt64(intervalSeconds * 1e9)
        let thread = Thread { [self] in
            let cpuStart = Syscalls.threadCPUNanoseconds()
            let wallStart = Syscalls.monotonicNanoseconds()
            var samples = 0
            var deadline = wallStart + interval
            while true {
                let now = Syscalls.monotonicNanoseconds()
                let wait = deadline > now ? deadline - now : 0
                if stopSignal.wait(timeout: .now() + .nanoseconds(Int(wait))) == .success { break }
                sample()
                samples += 1
                deadline += interval
                // After a stall (suspended VM, overloaded machine) resume the cadence from now
                // instead of firing a burst of catch-up samples.
                let after = Syscalls.monotonicNanoseconds()
                if deadline < after { deadline = after + interval }
            }
            let wall = Syscalls.monotonicNanoseconds() - wallStart
            let cpu = Syscalls.threadCPUNanoseconds() - cpuStart
            samplerResult.withLock { $0 = (samples, cpu, wall) }
            finished.signal()
        }
        thread.name = "perwatt-sampler"
        thread.start()
    }

    /// Stops the sampler thread and returns what it cost; nil if it was never started.
    @discardableResult
    public func stop() -> SamplerStatistics? {
        let wasRunning = started.withLock { started -> Bool in
            defer { started = false }
            return started
        }
        if wasRunning {
            stopSignal.signal()
            finished.wait()
        }
        guard let result = samplerResult.withLock({ $0 }) else { return nil }
        let (reads, readNanoseconds) = state.withLock { ($0.reads, $0.readNanoseconds) }
        return SamplerStatistics(samples: result.samples, intervalSeconds: intervalSeconds,
                                 wallSeconds: Double(result.wall) / 1e9, cpuSeconds: Double(result.cpu) / 1e9,
                                 meanReadMicroseconds: reads > 0 ? Double(readNanoseconds) / Double(reads) / 1e3 : 0)
    }

    /// Reads every channel now and returns the mark a window starts from.
    public func beginWindow() -> WindowMark {
        let (time, snapshots, index) = edge()
        return WindowMark(nanoseconds: time, channels: snapshots, traceIndex: index)
    }

    /// Reads every channel now and returns the energy since `mark`.
    public func endWindow(_ mark: WindowMark) -> EnergyWindow {
        let (time, snapshots, _) = edge()
        let duration = Double(time - mark.nanoseconds) / 1e9
        var windows: [ChannelWindow] = []
        var warnings: [String] = []
        var basisJoules: Double? = 0
        var unavailable: String?
        for (index, planned) in plan.channels.enumerated() {
            let start = mark.channels[index]
            let end = snapshots[index]
            let channel = planned.channel
            var window = ChannelWindow(channel: channel, startRaw: start.raw, endRaw: end.raw, energyJoules: nil,
                                       averageWatts: nil, wraps: end.wraps - start.wraps,
                                       untrustedIntervals: end.untrusted - start.untrusted, stale: false,
                                       readErrors: end.errors - start.errors, error: nil)
            if start.raw == nil || end.raw == nil {
                window.error = end.lastError ?? start.lastError
            } else {
                let joules: Double
                if let a = start.exactMicrojoules, let b = end.exactMicrojoules {
                    joules = Double(b &- a) / 1e6
                } else {
                    joules = (end.microjoules - start.microjoules) / 1e6
                }
                window.energyJoules = joules
                window.averageWatts = duration > 0 ? joules / duration : nil
                if case .energyCounter = channel.measurement, joules == 0, duration >= configuration.staleAfterSeconds {
                    window.stale = true
                }
            }
            if window.stale {
                warnings.append("\(channel.name) (\(channel.path)) did not move in \(Self.format(duration)) s: the counter is stale; its energy is not trustworthy")
            }
            if window.untrustedIntervals > 0 {
                warnings.append("\(channel.name): \(window.untrustedIntervals) interval(s) longer than the wrap-safe time, with a counter reset, or with a jump above \(Int(configuration.ceilingWatts)) W (left out); the energy may be off by those intervals")
            }
            if window.readErrors > 0, window.error == nil {
                warnings.append("\(channel.name): \(window.readErrors) failed reading(s) in the window, bridged by the readings around them")
            }
            if channel.inBasis {
                if let joules = window.energyJoules, window.error == nil {
                    basisJoules = basisJoules.map { $0 + joules }
                } else {
                    basisJoules = nil
                    unavailable = unavailable ?? "basis channel \(channel.name) could not be read: \(window.error.map { "\($0)" } ?? "unknown error")"
                }
            }
            windows.append(window)
        }
        let trace = tracePoints(from: mark.traceIndex, origin: mark.nanoseconds)
        if state.withLock({ $0.traceTruncated }) {
            warnings.append("the power trace reached its cap of \(configuration.traceCapacity) points and stops early; energy totals are unaffected")
        }
        let shortest = plan.channels.contains { $0.channel.source == .nvml } ? 1.0 : 0.1
        if duration < shortest {
            warnings.append("the window lasted \(Self.format(duration * 1000)) ms; counters update every ~1 ms (RAPL, hwmon) to ~100 ms (NVML), so energy over less than \(Self.format(shortest)) s is coarse")
        }
        let peak = basisJoules == nil ? nil : trace.map(\.watts).max()
        return EnergyWindow(source: plan.source, basis: plan.basis, measurement: plan.measurement,
                            durationSeconds: duration, channels: windows,
                            basisJoules: basisJoules, unavailableReason: unavailable,
                            peakWatts: peak, trace: trace, warnings: warnings)
    }

    /// Basis power per bin of at least the requested interval (`configuration.intervalSeconds`):
    /// the sampler may run faster for wrap safety, but power over a few milliseconds mostly shows
    /// the counters' own update granularity, so the trace and the peak use the requested resolution.
    /// A last bin shorter than half the resolution is dropped from the trace (its energy is in the totals).
    private func tracePoints(from index: Int, origin: UInt64) -> [TracePoint] {
        let resolution = UInt64(max(configuration.intervalSeconds, intervalSeconds) * 1e9)
        return state.withLock { state in
            guard index >= 0, index < state.traceTimes.count else { return [] }
            var points: [TracePoint] = []
            var binStart = index
            for i in (index + 1)..<state.traceTimes.count {
                let dt = state.traceTimes[i] - state.traceTimes[binStart]
                let isLast = i == state.traceTimes.count - 1
                guard dt >= resolution || (isLast && dt >= resolution / 2) else { continue }
                let joules = (state.traceBasisMicrojoules[i] - state.traceBasisMicrojoules[binStart]) / 1e6
                points.append(TracePoint(seconds: Double(state.traceTimes[i] - origin) / 1e9, watts: joules / (Double(dt) / 1e9)))
                binStart = i
            }
            return points
        }
    }

    static func format(_ seconds: Double) -> String {
        String(format: "%.3f", seconds)
    }
}
