import Foundation
import KernelBench
import PowerProbe

/// One measured window: the kernel repeated `calls` times between two readings of the meter, and
/// the energy of that window (absent without an energy source).
package struct WindowRecord: Codable, Sendable {
    package var calls: Int
    package var durationSeconds: Double
    /// The window's energy: the basis total, whether it can be trusted, each channel's readings. An
    /// untrusted window is measured again; one that stays untrusted gives the kernel no energy figure.
    package var energy: EnergyRecord?
}

/// Verified, then timed: the procedure of DESIGN 2 for one kernel, shared by `perwatt kernels` and
/// `perwatt run`.
package enum KernelMeasurement {
    package struct Outcome: Sendable {
        package var verification: Verification
        package var secondsPerCall: [Double] = []
        /// Per repetition; nil without a meter or when a window's basis energy was unavailable.
        package var joulesPerCall: [Double]?
        package var windows: [WindowRecord] = []
        /// Windows measured again because their energy was untrusted.
        package var remeasuredWindows = 0
        /// Repetitions whose window stayed untrusted after every re-measurement (their energy is not used).
        package var untrustedWindows = 0
        /// Stopped by Ctrl-C before all repetitions ran.
        package var interrupted = false
    }

    /// Times a window whose energy is untrusted is measured again before it is kept as untrusted.
    package static let untrustedRetries = 3

    /// Verifies `prepared` and, if it passes, warms it up and measures `repetitions` windows of at
    /// least `minTime` seconds each (the call count calibrated once, then fixed).
    package static func run(
        _ prepared: any PreparedKernel, minTime: Double, repetitions: Int, meter: EnergyMeter?,
        interrupted: () -> Bool = { false }
    ) throws -> Outcome {
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
                    record.energy = EnergyRecord(measured, channels: .readings)
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
                    if let total = window.basisJoules, !window.untrusted {
                        joules.append(total / Double(calls))
                    } else {
                        energyComplete = false
                    }
                }
                outcome.windows.append(record)
                break
            }
        }
        if energyComplete && !joules.isEmpty && joules.count == outcome.secondsPerCall.count {
            outcome.joulesPerCall = joules
        }
        if prepared.kernel.implementation == .openblas {
            // OpenBLAS's threads busy-wait ~0.1 s after a call; on a small machine they would steal a
            // core from whatever is measured next.
            Thread.sleep(forTimeInterval: 0.25)
        }
        return outcome
    }
}

/// One kernel's verification and measurement, as `perwatt kernels` (perwatt.kernels/1) and
/// `perwatt run` (perwatt.result/2) report it.
package struct KernelResult: Codable, Sendable {
    package struct AttentionFields: Codable, Sendable {
        package var queries: Int
        package var keys: Int
        package var heads: Int
        package var kvHeads: Int
        package var headDim: Int
        package var causal: Bool
    }

    package var name: String
    package var operation: String
    package var implementation: String
    package var precision: String
    package var m: Int?
    package var n: Int?
    package var k: Int?
    package var attention: AttentionFields?
    package var flops: Double
    package var bytes: Double
    package var verified: Bool
    package var maxAbsoluteError: Double
    package var rmsError: Double
    package var worstToleranceRatio: Double
    /// Per repetition.
    package var secondsPerCall: [Double]?
    package var medianSecondsPerCall: Double?
    package var gflopsPerSecond: Double?
    package var gigabytesPerSecond: Double?
    package var percentOfPeak: Double?
    /// Median basis energy per call.
    package var joulesPerCall: Double?
    /// Basis energy per call, per repetition (paired with `secondsPerCall`).
    package var joulesPerCallByRepetition: [Double]?
    package var joulesPerGFLOP: Double?
    package var averageWatts: Double?
    /// Windows measured again because their energy was untrusted, and those that stayed untrusted
    /// (then the kernel has no energy figure: `energyUnavailableReason` says why).
    package var remeasuredWindows: Int?
    package var untrustedWindows: Int?
    package var energyUnavailableReason: String?
    /// The measured windows with their raw counter readings (`perwatt run` only).
    package var windows: [WindowRecord]?

    package init(_ kernel: KernelCase, _ verification: Verification) {
        name = kernel.name
        operation = kernel.operationName
        implementation = kernel.implementation.rawValue
        precision = kernel.precision.rawValue
        (m, n, k) = (kernel.matmulShape?.m, kernel.matmulShape?.n, kernel.matmulShape?.k)
        attention = kernel.attentionShape.map {
            AttentionFields(
                queries: $0.queries, keys: $0.keys, heads: $0.heads, kvHeads: $0.kvHeads, headDim: $0.headDim,
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
    package mutating func record(_ outcome: KernelMeasurement.Outcome, kernel: KernelCase, peakFlopsPerSecond: Double?)
    {
        guard !outcome.secondsPerCall.isEmpty else { return }
        let median = Statistics.median(outcome.secondsPerCall)
        secondsPerCall = outcome.secondsPerCall
        medianSecondsPerCall = median
        gflopsPerSecond = kernel.flops / median / 1e9
        gigabytesPerSecond = kernel.bytes / median / 1e9
        percentOfPeak = peakFlopsPerSecond.map { 100 * kernel.flops / median / $0 }
        if outcome.remeasuredWindows > 0 { remeasuredWindows = outcome.remeasuredWindows }
        if outcome.untrustedWindows > 0 {
            untrustedWindows = outcome.untrustedWindows
            energyUnavailableReason =
                "\(outcome.untrustedWindows) of \(outcome.secondsPerCall.count) windows stayed untrusted after \(KernelMeasurement.untrustedRetries) re-measurements each: no energy figure"
        }
        if let joules = outcome.joulesPerCall {
            let perCall = Statistics.median(joules)
            joulesPerCall = perCall
            joulesPerCallByRepetition = joules
            joulesPerGFLOP = perCall / (kernel.flops / 1e9)
            averageWatts = perCall / median
        }
    }
}
