/// Turns successive readings of one cumulative energy counter into energy, handling wraparound
/// with the counter's own range. Integer microjoules throughout; nothing is summed across zones here.
public struct CounterAccumulator: Sendable, Hashable {
    /// `max_energy_range_uj`: the counter wraps to zero after this value; nil for a 64-bit counter
    /// that is not expected to wrap (then a decrease is a reset and is flagged).
    public let rangeMicrojoules: UInt64?
    /// Longest gap between two readings over which a single wrap is still certain to be seen.
    public let wrapSafeNanoseconds: UInt64?
    /// Highest believable power (the ceiling, µJ per second). A delta implying more than twice this,
    /// beyond one millijoule of update granularity, is a counter reset or glitch, not energy.
    public let ceilingMicrowatts: Double?
    public private(set) var lastRaw: UInt64?
    public private(set) var lastNanoseconds: UInt64?
    public private(set) var totalMicrojoules: UInt64 = 0
    public private(set) var wraps = 0
    /// Intervals whose delta cannot be trusted: a gap longer than the wrap-safe time, a reset, or an
    /// implausible jump.
    public private(set) var untrustedIntervals = 0
    /// Intervals whose delta implied more than the ceiling power and was therefore not added.
    public private(set) var implausibleIntervals = 0

    public init(rangeMicrojoules: UInt64?, wrapSafeNanoseconds: UInt64?, ceilingMicrowatts: Double? = nil) {
        self.rangeMicrojoules = rangeMicrojoules
        self.wrapSafeNanoseconds = wrapSafeNanoseconds
        self.ceilingMicrowatts = ceilingMicrowatts
    }

    /// Energy between two readings of a counter with range `range`: `current - previous`, or
    /// `current + range - previous` when the counter wrapped. Equal readings are zero energy.
    public static func delta(from previous: UInt64, to current: UInt64, range: UInt64) -> (microjoules: UInt64, wrapped: Bool) {
        if current >= previous { return (current - previous, false) }
        return (current &+ (range &- previous), true)
    }

    /// Records a reading. The first reading is the baseline and adds no energy.
    public mutating func observe(_ raw: UInt64, atNanoseconds time: UInt64) {
        defer {
            lastRaw = raw
            lastNanoseconds = time
        }
        guard let previous = lastRaw, let previousTime = lastNanoseconds else { return }
        let elapsed = time > previousTime ? time - previousTime : 0
        if let safe = wrapSafeNanoseconds, elapsed > safe {
            untrustedIntervals += 1
        }
        func isImplausible(_ delta: UInt64) -> Bool {
            guard let ceiling = ceilingMicrowatts else { return false }
            return Double(delta) > 2 * ceiling * Double(elapsed) / 1e9 + 1000
        }
        if let range = rangeMicrojoules {
            let (delta, wrapped) = Self.delta(from: previous, to: raw, range: range)
            if isImplausible(delta) {
                // E.g. a counter restarted from zero looks like a wrap worth a whole range (65 kJ on AMD)
                // in milliseconds. One interval's true energy is lost instead of a range being invented.
                untrustedIntervals += 1
                implausibleIntervals += 1
                return
            }
            totalMicrojoules &+= delta
            if wrapped { wraps += 1 }
        } else if raw >= previous {
            if isImplausible(raw - previous) {
                untrustedIntervals += 1
                implausibleIntervals += 1
                return
            }
            totalMicrojoules &+= raw - previous
        } else {
            // A 64-bit counter went backwards: it was reset (driver reload). What came before
            // the reset is lost, so the interval is flagged rather than guessed.
            untrustedIntervals += 1
            totalMicrojoules &+= raw
        }
    }
}

/// Integrates power readings (µW) over time with the trapezoid rule.
public struct PowerAccumulator: Sendable, Hashable {
    public private(set) var lastMicrowatts: UInt64?
    public private(set) var lastNanoseconds: UInt64?
    public private(set) var totalMicrojoules: Double = 0

    public init() {}

    public mutating func observe(_ microwatts: UInt64, atNanoseconds time: UInt64) {
        defer {
            lastMicrowatts = microwatts
            lastNanoseconds = time
        }
        guard let previous = lastMicrowatts, let previousTime = lastNanoseconds, time > previousTime else { return }
        let seconds = Double(time - previousTime) / 1e9
        totalMicrojoules += (Double(previous) + Double(microwatts)) / 2 * seconds
    }
}

/// Either accumulator, chosen by the channel's measurement.
enum ChannelAccumulator: Sendable {
    case counter(CounterAccumulator)
    case power(PowerAccumulator)

    init(_ measurement: ChannelMeasurement, wrapSafeNanoseconds: UInt64?, ceilingWatts: Double) {
        switch measurement {
        case .energyCounter(let range):
            self = .counter(CounterAccumulator(rangeMicrojoules: range, wrapSafeNanoseconds: wrapSafeNanoseconds,
                                               ceilingMicrowatts: ceilingWatts * 1e6))
        case .powerGauge:
            self = .power(PowerAccumulator())
        }
    }

    mutating func observe(_ raw: UInt64, at time: UInt64) {
        switch self {
        case .counter(var counter):
            counter.observe(raw, atNanoseconds: time)
            self = .counter(counter)
        case .power(var power):
            power.observe(raw, atNanoseconds: time)
            self = .power(power)
        }
    }

    var microjoules: Double {
        switch self {
        case .counter(let counter): Double(counter.totalMicrojoules)
        case .power(let power): power.totalMicrojoules
        }
    }

    var exactMicrojoules: UInt64? {
        if case .counter(let counter) = self { return counter.totalMicrojoules }
        return nil
    }

    var wraps: Int {
        if case .counter(let counter) = self { return counter.wraps }
        return 0
    }

    var untrusted: Int {
        if case .counter(let counter) = self { return counter.untrustedIntervals }
        return 0
    }
}
