import Foundation
import KernelBench
import PowerProbe

/// One measured window: the kernel repeated `calls` times between two readings of the meter.
struct WindowRecord: Codable, Sendable {
    struct ChannelReading: Codable, Sendable {
        var id: String
        /// Raw readings at the window's edges (µJ for counters, µW for power gauges).
        var counterStart: UInt64?
        var counterEnd: UInt64?
        var wraps: Int
        var joules: Double?
        var error: String?
        /// Present (true) when this channel's energy over the window cannot be trusted.
        var untrusted: Bool?
        /// Where it misbehaved (sampling gaps, standstills, stale at the end), in seconds from the window's start.
        var spans: [WindowSpan]?
    }

    var calls: Int
    var durationSeconds: Double
    var basisJoules: Double?
    var unavailableReason: String?
    /// Present (true) when the basis energy of this window cannot be trusted; such a window is
    /// measured again, and one that stays untrusted gives the kernel no energy figure.
    var untrusted: Bool?
    var untrustedReasons: [String]?
    var channels: [ChannelReading]?
}

/// Verified, then timed: the procedure of DESIGN 2 for one kernel, shared by `perwatt kernels` and
/// `perwatt run`.
enum KernelMeasurement {
    struct Outcome: Sendable {
        var verification: Verification
        var secondsPerCall: [Double] = []
        /// Per repetition; nil without a meter or when a window's basis energy was unavailable.
        var joulesPerCall: [Double]?
        var windows: [WindowRecord] = []
        /// Windows measured again because their energy was untrusted.
        var remeasuredWindows = 0
        /// Repetitions whose window stayed untrusted after every re-measurement (their energy is not used).
        var untrustedWindows = 0
        /// Stopped by Ctrl-C before all repetitions ran.
        var interrupted = false
    }

    /// Times a window whose energy is untrusted is measured again before it is kept as untrusted.
    static let untrustedRetries = 3

    /// Verifies `prepared` and, if it passes, warms it up and measures `repetitions` windows of at
    /// least `minTime` seconds each (the call count calibrated once, then fixed).
    static func run(_ prepared: any PreparedKernel, minTime: Double, repetitions: Int, meter: EnergyMeter?,
                    interrupted: () -> Bool = { false }) throws -> Outcome {
        var outcome = Outcome(verification: try prepared.verify())
        guard outcome.verification.passed else { return outcome }
        let calls = Timer.measure(minimumSeconds: minTime, repetitions: 1) { prepared.run() }.callsPerRepetition
        var joules: [Double] = []
        var energyComplete = meter != nil
        repetitions: for _ in 0..<repetitions {
            var retries = 0
            while true {
                if interrupted() {
                    outcome.interrupted = true
                    break repetitions
                }
                let mark = meter?.beginWindow()
                let start = Timer.now()
                for _ in 0..<calls { prepared.run() }
                let elapsed = Timer.now() - start
                var record = WindowRecord(calls: calls, durationSeconds: elapsed)
                var window: EnergyWindow?
                if let mark, let meter {
                    let measured = meter.endWindow(mark)
                    window = measured
                    record.durationSeconds = measured.durationSeconds
                    record.basisJoules = measured.basisJoules
                    record.unavailableReason = measured.unavailableReason
                    if measured.untrusted {
                        record.untrusted = true
                        record.untrustedReasons = measured.untrustedReasons
                    }
                    record.channels = measured.channels.map {
                        WindowRecord.ChannelReading(id: $0.channel.id, counterStart: $0.startRaw, counterEnd: $0.endRaw, wraps: $0.wraps,
                                                    joules: $0.energyJoules, error: $0.error.map { "\($0)" },
                                                    untrusted: $0.untrusted ? true : nil, spans: $0.spans.isEmpty ? nil : $0.spans)
                    }
                }
                if let window, window.untrusted, retries < untrustedRetries {
                    // Measured again: an untrusted window is never scored while a trusted one can be had.
                    retries += 1
                    outcome.remeasuredWindows += 1
                    continue
                }
                outcome.secondsPerCall.append(elapsed / Double(calls))
                if let window {
                    if window.untrusted { outcome.untrustedWindows += 1 }
                    if let total = window.basisJoules, !window.untrusted { joules.append(total / Double(calls)) } else { energyComplete = false }
                }
                outcome.windows.append(record)
                break
            }
        }
        if energyComplete && !joules.isEmpty && joules.count == outcome.secondsPerCall.count { outcome.joulesPerCall = joules }
        if prepared.kernel.implementation == .openblas {
            // OpenBLAS's threads busy-wait ~0.1 s after a call; on a small machine they would steal a
            // core from whatever is measured next.
            Thread.sleep(forTimeInterval: 0.25)
        }
        return outcome
    }
}

/// One kernel's verification and measurement, as `perwatt kernels` (perwatt.kernels/1) and
/// `perwatt run` (perwatt.result/1) report it.
struct KernelResult: Codable, Sendable {
    struct AttentionFields: Codable, Sendable {
        var queries: Int
        var keys: Int
        var heads: Int
        var kvHeads: Int
        var headDim: Int
        var causal: Bool
    }

    var name: String
    var operation: String
    var implementation: String
    var precision: String
    var m: Int?
    var n: Int?
    var k: Int?
    var attention: AttentionFields?
    var flops: Double
    var bytes: Double
    var verified: Bool
    var maxAbsoluteError: Double
    var rmsError: Double
    var worstToleranceRatio: Double
    /// Per repetition.
    var secondsPerCall: [Double]?
    var medianSecondsPerCall: Double?
    var gflopsPerSecond: Double?
    var gigabytesPerSecond: Double?
    var percentOfPeak: Double?
    /// Median basis energy per call.
    var joulesPerCall: Double?
    /// Basis energy per call, per repetition (paired with `secondsPerCall`).
    var joulesPerCallByRepetition: [Double]?
    var joulesPerGFLOP: Double?
    var averageWatts: Double?
    /// Windows measured again because their energy was untrusted, and those that stayed untrusted
    /// (then the kernel has no energy figure: `energyUnavailableReason` says why).
    var remeasuredWindows: Int?
    var untrustedWindows: Int?
    var energyUnavailableReason: String?
    /// The measured windows with their raw counter readings (`perwatt run` only).
    var windows: [WindowRecord]?

    init(_ kernel: KernelCase, _ verification: Verification) {
        name = kernel.name
        operation = kernel.operationName
        implementation = kernel.implementation.rawValue
        precision = kernel.precision.rawValue
        (m, n, k) = (kernel.matmulShape?.m, kernel.matmulShape?.n, kernel.matmulShape?.k)
        attention = kernel.attentionShape.map {
            AttentionFields(queries: $0.queries, keys: $0.keys, heads: $0.heads, kvHeads: $0.kvHeads, headDim: $0.headDim,
                            causal: $0.causal)
        }
        flops = kernel.flops
        bytes = kernel.bytes
        verified = verification.passed
        maxAbsoluteError = verification.maxAbsoluteError
        rmsError = verification.rmsError
        worstToleranceRatio = verification.worstRatio
    }

    /// Fills the timing and energy figures from a measurement that verified.
    mutating func record(_ outcome: KernelMeasurement.Outcome, kernel: KernelCase, peakFlopsPerSecond: Double?) {
        guard !outcome.secondsPerCall.isEmpty else { return }
        let median = PowerProbe.median(outcome.secondsPerCall)
        secondsPerCall = outcome.secondsPerCall
        medianSecondsPerCall = median
        gflopsPerSecond = kernel.flops / median / 1e9
        gigabytesPerSecond = kernel.bytes / median / 1e9
        percentOfPeak = peakFlopsPerSecond.map { 100 * kernel.flops / median / $0 }
        if outcome.remeasuredWindows > 0 { remeasuredWindows = outcome.remeasuredWindows }
        if outcome.untrustedWindows > 0 {
            untrustedWindows = outcome.untrustedWindows
            energyUnavailableReason = "\(outcome.untrustedWindows) of \(outcome.secondsPerCall.count) windows stayed untrusted after \(KernelMeasurement.untrustedRetries) re-measurements each: no energy figure"
        }
        if let joules = outcome.joulesPerCall {
            let perCall = PowerProbe.median(joules)
            joulesPerCall = perCall
            joulesPerCallByRepetition = joules
            joulesPerGFLOP = perCall / (kernel.flops / 1e9)
            averageWatts = perCall / median
        }
    }
}
