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
    /// A counter that stands still for longer than this is stale: at least this, ten requested
    /// sampling intervals, and never more than the counter's wrap-safe time (docs/energy.md).
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
    var lastAdvance: UInt64?
    var spanCount: Int
}

/// A span of a window over which a channel's counter misbehaved, in seconds from the window's start.
public struct WindowSpan: Sendable, Hashable, Codable {
    public var kind: CounterSpan.Kind
    public var startSeconds: Double
    public var endSeconds: Double
    public var untrusted: Bool
    public var durationSeconds: Double { endSeconds - startSeconds }
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
    /// Intervals whose delta could not be trusted (gap beyond the wrap-safe time, a standstill
    /// beyond it, an implausible jump, a counter reset).
    public var untrustedIntervals: Int
    /// The counter stood still for longer than its stale threshold somewhere in the window.
    public var stale: Bool
    /// The channel's energy over this window may be wrong (see `spans`).
    public var untrusted: Bool
    /// What made it stale or untrusted, where in the window.
    public var spans: [WindowSpan]
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
    /// When `untrusted`, the figure is what the counters show and may be too low or too high.
    public var basisJoules: Double?
    public var unavailableReason: String?
    /// A basis channel's energy over this window cannot be trusted (a sampling gap, a standstill
    /// beyond the wrap-safe time, a stale counter at the end, a reset): the total must not be used
    /// as if it were measured. `kernels` and `run` measure such a window again.
    public var untrusted: Bool
    /// Why, one sentence per basis channel at fault.
    public var untrustedReasons: [String]
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
        /// Stale threshold for this channel (ns): see `MeterConfiguration.staleAfterSeconds`.
        var staleNanoseconds: UInt64
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
                var stale = UInt64(max(configuration.staleAfterSeconds, 10 * configuration.intervalSeconds) * 1e9)
                if let wrapSafe { stale = min(stale, wrapSafe) }
                let reader = try planned.open()
                var accumulator = ChannelAccumulator(
                    planned.channel.measurement, wrapSafeNanoseconds: wrapSafe,
                    ceilingWatts: configuration.ceilingWatts, staleNanoseconds: stale)
                let raw = try reader.read()
                accumulator.observe(raw, at: now)
                channels.append(
                    ChannelState(reader: reader, staleNanoseconds: stale, accumulator: accumulator, raw: raw))
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
                state.channels[index].lastError =
                    error as? ProbeError
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
                ChannelSnapshot(
                    raw: channel.lastReadSucceeded ? channel.raw : nil, microjoules: channel.accumulator.microjoules,
                    exactMicrojoules: channel.accumulator.exactMicrojoules,
                    wraps: channel.accumulator.wraps, untrusted: channel.accumulator.untrusted,
                    errors: channel.errors, lastError: channel.lastError,
                    lastAdvance: channel.accumulator.lastAdvanceNanoseconds,
                    spanCount: channel.accumulator.spanCount)
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
        return SamplerStatistics(
            samples: result.samples, intervalSeconds: intervalSeconds,
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
        let (spansByChannel, staleThresholds) = state.withLock { state in
            (
                state.channels.indices.map { state.channels[$0].accumulator.spans(from: mark.channels[$0].spanCount) },
                state.channels.map(\.staleNanoseconds)
            )
        }
        let duration = Double(time - mark.nanoseconds) / 1e9
        func offset(_ nanoseconds: UInt64) -> Double {
            nanoseconds <= mark.nanoseconds ? 0 : Double(nanoseconds - mark.nanoseconds) / 1e9
        }
        var windows: [ChannelWindow] = []
        var warnings: [String] = []
        var basisJoules: Double? = 0
        var unavailable: String?
        var untrustedReasons: [String] = []
        for (index, planned) in plan.channels.enumerated() {
            let start = mark.channels[index]
            let end = snapshots[index]
            let channel = planned.channel
            var spans = spansByChannel[index].map {
                WindowSpan(
                    kind: $0.kind, startSeconds: offset($0.startNanoseconds), endSeconds: offset($0.endNanoseconds),
                    untrusted: $0.isUntrusted)
            }
            // Still standing still at the end, for longer than the threshold: the energy since is missing.
            if let advanced = end.lastAdvance, end.raw != nil {
                let still = max(advanced, mark.nanoseconds)
                if time > still, time - still > staleThresholds[index] {
                    spans.append(
                        WindowSpan(
                            kind: .staleAtEnd, startSeconds: offset(still), endSeconds: duration, untrusted: true))
                }
            }
            var window = ChannelWindow(
                channel: channel, startRaw: start.raw, endRaw: end.raw, energyJoules: nil,
                averageWatts: nil, wraps: end.wraps - start.wraps,
                untrustedIntervals: end.untrusted - start.untrusted,
                stale: spans.contains {
                    $0.kind == .stalled || $0.kind == .stalledHidingWraps || $0.kind == .staleAtEnd
                },
                untrusted: end.untrusted > start.untrusted || spans.contains(where: \.untrusted),
                spans: spans, readErrors: end.errors - start.errors, error: nil)
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
            }
            for span in spans {
                let verdict = span.untrusted ? "; its energy over this window is UNTRUSTED" : ""
                warnings.append(
                    "\(channel.name) (\(channel.path)): from \(Self.format(span.startSeconds)) s to \(Self.format(span.endSeconds)) s into the window (\(Self.format(span.durationSeconds)) s): \(span.kind.explanation)\(verdict)"
                )
            }
            // Past the accumulator's span capacity, intervals are still counted but not located.
            let unrecorded = window.untrustedIntervals - spans.filter { $0.untrusted && $0.kind != .staleAtEnd }.count
            if unrecorded > 0 {
                warnings.append(
                    "\(channel.name): \(unrecorded) more untrusted interval(s) than recorded spans; its energy over this window is UNTRUSTED"
                )
            }
            if window.readErrors > 0, window.error == nil {
                warnings.append(
                    "\(channel.name): \(window.readErrors) failed reading(s) in the window, bridged by the readings around them"
                )
            }
            if channel.inBasis {
                if let joules = window.energyJoules, window.error == nil {
                    basisJoules = basisJoules.map { $0 + joules }
                } else {
                    basisJoules = nil
                    unavailable =
                        unavailable
                        ?? "basis channel \(channel.name) could not be read: \(window.error.map { "\($0)" } ?? "unknown error")"
                }
                if window.untrusted {
                    let kinds = Set(spans.filter(\.untrusted).map(\.kind.rawValue)).sorted()
                    untrustedReasons.append(
                        "\(channel.name): \(kinds.isEmpty ? "untrusted intervals" : kinds.joined(separator: ", "))")
                }
            }
            windows.append(window)
        }
        let trace = tracePoints(from: mark.traceIndex, origin: mark.nanoseconds)
        if state.withLock({ $0.traceTruncated }) {
            warnings.append(
                "the power trace reached its cap of \(configuration.traceCapacity) points and stops early; energy totals are unaffected"
            )
        }
        let shortest = plan.channels.contains { $0.channel.source == .nvml } ? 1.0 : 0.1
        if duration < shortest {
            warnings.append(
                "the window lasted \(Self.format(duration * 1000)) ms; counters update every ~1 ms (RAPL, hwmon) to ~100 ms (NVML), so energy over less than \(Self.format(shortest)) s is coarse"
            )
        }
        let peak = basisJoules == nil ? nil : trace.map(\.watts).max()
        return EnergyWindow(
            source: plan.source, basis: plan.basis, measurement: plan.measurement,
            durationSeconds: duration, channels: windows,
            basisJoules: basisJoules, unavailableReason: unavailable,
            untrusted: !untrustedReasons.isEmpty, untrustedReasons: untrustedReasons,
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
                points.append(
                    TracePoint(seconds: Double(state.traceTimes[i] - origin) / 1e9, watts: joules / (Double(dt) / 1e9)))
                binStart = i
            }
            return points
        }
    }

    static func format(_ seconds: Double) -> String {
        String(format: "%.3f", seconds)
    }
}
