import KernelBench
import PowerProbe

/// `perwatt.kernels/1`: every kernel case verified, then measured, beside this machine's limits.
package struct KernelsReport: Encodable {
    package var schema = "perwatt.kernels/1"
    package var threads: Int
    package var minTimeSeconds: Double
    package var repetitions: Int
    package var peakF32FlopsPerSecond: Double?
    package var triadBytesPerSecond: Double?
    package var energyBasis: String?
    package var energyUnavailableReason: String?
    package var kernels: [KernelResult]
    package var fingerprint: Fingerprint

    /// Whether a case failed verification (then it was not timed).
    package var anyFailed: Bool { kernels.contains { !$0.verified } }
}

/// `perwatt.kernels.verify/1`: every variant checked against its reference, nothing timed.
package struct KernelsVerification: Encodable {
    package var schema = "perwatt.kernels.verify/1"
    package var threads: Int
    package var kernels: [KernelResult]

    package var failures: Int { kernels.filter { !$0.verified }.count }
}

/// Verifies each kernel case against its reference and measures the ones that pass, with energy
/// when a meter is given; the machine's f32 FMA peak and triad bandwidth are measured first.
package struct KernelsSession {
    package var cases: [KernelCase]
    package var threads: Int
    package var minTimeSeconds: Double
    package var repetitions: Int

    package init(cases: [KernelCase], threads: Int, minTimeSeconds: Double, repetitions: Int) {
        self.cases = cases
        self.threads = threads
        self.minTimeSeconds = minTimeSeconds
        self.repetitions = repetitions
    }

    /// Verification alone, on each case's odd-sized check.
    package func verify() throws -> KernelsVerification {
        OpenBLAS.setThreads(threads)
        let results = try cases.map { KernelResult($0, try KernelCatalog.prepare($0, threads: threads).verify()) }
        return KernelsVerification(threads: threads, kernels: results)
    }

    /// Verify, then measure. `machineLimits` measures (threads, seconds, repetitions) → (peak FLOP/s,
    /// triad B/s); `progress` gets one line per step.
    package func run(
        meter: EnergyMeter?, noneReason: String?, fingerprint: Fingerprint,
        machineLimits: (Int, Double, Int) -> (peak: Double, bandwidth: Double),
        progress: (String) -> Void
    ) throws -> KernelsReport {
        OpenBLAS.setThreads(threads)
        meter?.start()
        defer { meter?.stop() }
        progress("measuring machine limits…")
        let (peak, triad) = machineLimits(threads, min(minTimeSeconds, 0.5), repetitions)
        var results: [KernelResult] = []
        for kernel in cases {
            progress("\(kernel.name)…")
            let prepared = try KernelCatalog.prepare(kernel, threads: threads)
            let outcome = try KernelMeasurement.run(
                prepared, minTime: minTimeSeconds, repetitions: repetitions, meter: meter)
            var result = KernelResult(kernel, outcome.verification)
            if outcome.verification.passed { result.record(outcome, kernel: kernel, peakFlopsPerSecond: peak) }
            results.append(result)
        }
        return KernelsReport(
            threads: threads, minTimeSeconds: minTimeSeconds, repetitions: repetitions, peakF32FlopsPerSecond: peak,
            triadBytesPerSecond: triad, energyBasis: meter?.plan.basis, energyUnavailableReason: noneReason,
            kernels: results, fingerprint: fingerprint)
    }
}
