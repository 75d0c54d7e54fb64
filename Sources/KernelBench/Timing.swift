/// Keeps a value alive so the optimizer cannot delete the work that produced it.
@inline(never) @_optimize(none)
public func blackHole<T>(_ value: T) {}

/// Seconds per call of one kernel, measured as DESIGN §2 says: warm up, then `repetitions` windows,
/// each repeating the call until it lasts at least `minimumSeconds`.
public struct TimingSample: Sendable, Hashable {
    /// Seconds per call, one value per repetition.
    public var secondsPerCall: [Double]
    public var callsPerRepetition: Int

    public init(secondsPerCall: [Double], callsPerRepetition: Int) {
        self.secondsPerCall = secondsPerCall
        self.callsPerRepetition = callsPerRepetition
    }

    /// Median seconds per call.
    public var median: Double {
        let sorted = secondsPerCall.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    public var minimum: Double { secondsPerCall.min() ?? .nan }
    public var maximum: Double { secondsPerCall.max() ?? .nan }
}

public enum Timer {
    /// Monotonic seconds (`ContinuousClock`).
    public static func now() -> Double {
        let elapsed = ContinuousClock.now - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    private static let origin = ContinuousClock.now

    /// Runs `body` once to warm up, calibrates how many calls fill `minimumSeconds`, then measures.
    public static func measure(minimumSeconds: Double, repetitions: Int, _ body: () -> Void) -> TimingSample {
        body()
        var calls = 1
        while true {
            let start = now()
            for _ in 0..<calls { body() }
            let elapsed = now() - start
            if elapsed >= minimumSeconds / 4 || calls >= 1 << 24 {
                calls = max(1, Int((Double(calls) * minimumSeconds / max(elapsed, 1e-9)).rounded(.up)))
                break
            }
            calls *= 4
        }
        var samples: [Double] = []
        for _ in 0..<max(1, repetitions) {
            let start = now()
            for _ in 0..<calls { body() }
            samples.append((now() - start) / Double(calls))
        }
        return TimingSample(secondsPerCall: samples, callsPerRepetition: calls)
    }
}
