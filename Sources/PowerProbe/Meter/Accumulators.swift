/// A stretch of time over which a counter's energy cannot be trusted, or over which it stood still.
public struct CounterSpan: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// Two readings further apart than the wrap-safe time (the sampler was stopped or starved):
        /// a whole wrap may have been missed. Untrusted.
        case samplingGap = "sampling-gap"
        /// The counter stood still for longer than the wrap-safe time and then moved on: however far it
        /// moved, whole ranges may be hidden in the jump. Untrusted.
        case stalledHidingWraps = "stalled-hiding-wraps"
        /// The counter stood still for longer than the stale threshold and then caught up within the
        /// wrap-safe time: the jump holds the energy, so the total stays trusted. Informational.
        case stalled
        /// A jump implying more than twice the ceiling power (a counter reset or glitch): left out. Untrusted.
        case implausibleJump = "implausible-jump"
        /// A 64-bit counter went backwards (driver reload): what came before is lost. Untrusted.
        case reset
        /// The counter had stood still for longer than the stale threshold when the window ended: the
        /// energy since it stopped is missing. Untrusted. (Set by the meter at a window's end.)
        case staleAtEnd = "stale-at-end"

        /// What happened, for a warning.
        public var explanation: String {
            switch self {
            case .samplingGap:
                "no reading for longer than the wrap-safe time (the sampler was stopped or starved): a whole wrap may be missed"
            case .stalledHidingWraps:
                "the counter stood still for longer than its wrap-safe time, then jumped: whole ranges may be hidden in the jump"
            case .stalled: "the counter stood still, then caught up within its wrap-safe time (energy kept)"
            case .implausibleJump: "a jump above twice the ceiling power (a reset or glitch), left out"
            case .reset: "the counter went backwards (a reset): what came before it is lost"
            case .staleAtEnd: "the counter had stopped moving when the window ended: the energy since then is missing"
            }
        }
    }

    public var kind: Kind
    public var startNanoseconds: UInt64
    public var endNanoseconds: UInt64

    /// Whether energy over this span may be wrong.
    public var isUntrusted: Bool { kind != .stalled }
}

/// Turns successive readings of one cumulative energy counter into energy, handling wraparound
/// with the counter's own range. Integer microjoules throughout; nothing is summed across zones here.
///
/// Besides wraps it watches for what makes a total untrustworthy (docs/energy.md): a gap between
/// readings longer than the wrap-safe time, a counter that stands still for longer than that and
/// then jumps (whole ranges may hide in the jump), an implausible jump, a reset. Each such interval
/// is counted in `untrustedIntervals` and recorded as a `CounterSpan`.
public struct CounterAccumulator: Sendable, Hashable {
    /// `max_energy_range_uj`: the counter wraps to zero after this value; nil for a 64-bit counter
    /// that is not expected to wrap (then a decrease is a reset and is flagged).
    public let rangeMicrojoules: UInt64?
    /// Longest gap between two readings over which a single wrap is still certain to be seen.
    public let wrapSafeNanoseconds: UInt64?
    /// Highest believable power (the ceiling, µJ per second). A delta implying more than twice this,
    /// beyond one millijoule of update granularity, is a counter reset or glitch, not energy.
    public let ceilingMicrowatts: Double?
    /// A counter standing still for longer than this is stale (recorded as a `.stalled` span when it
    /// then catches up within the wrap-safe time).
    public let staleNanoseconds: UInt64?
    public private(set) var lastRaw: UInt64?
    public private(set) var lastNanoseconds: UInt64?
    /// When the counter last moved (or was first read): the start of the current standstill.
    public private(set) var lastAdvanceNanoseconds: UInt64?
    public private(set) var totalMicrojoules: UInt64 = 0
    public private(set) var wraps = 0
    /// Intervals whose delta cannot be trusted: a gap longer than the wrap-safe time, a standstill
    /// longer than it, a reset, or an implausible jump.
    public private(set) var untrustedIntervals = 0
    /// Intervals whose delta implied more than the ceiling power and was therefore not added.
    public private(set) var implausibleIntervals = 0
    /// The spans recorded so far (the first `spanCapacity`; `untrustedIntervals` keeps counting).
    public private(set) var spans: [CounterSpan] = []
    public static let spanCapacity = 10_000

    public init(
        rangeMicrojoules: UInt64?, wrapSafeNanoseconds: UInt64?, ceilingMicrowatts: Double? = nil,
        staleNanoseconds: UInt64? = nil
    ) {
        self.rangeMicrojoules = rangeMicrojoules
        self.wrapSafeNanoseconds = wrapSafeNanoseconds
        self.ceilingMicrowatts = ceilingMicrowatts
        self.staleNanoseconds = staleNanoseconds
    }

    /// Energy between two readings of a counter with range `range`: `current - previous`, or
    /// `current + range - previous` when the counter wrapped. Equal readings are zero energy.
    public static func delta(from previous: UInt64, to current: UInt64, range: UInt64) -> (
        microjoules: UInt64, wrapped: Bool
    ) {
        if current >= previous { return (current - previous, false) }
        return (current &+ (range &- previous), true)
    }

    private mutating func flag(_ kind: CounterSpan.Kind, from start: UInt64, to end: UInt64) {
        if kind != .stalled { untrustedIntervals += 1 }
        if spans.count < Self.spanCapacity {
            spans.append(CounterSpan(kind: kind, startNanoseconds: start, endNanoseconds: end))
        }
    }

    /// Records a reading. The first reading is the baseline and adds no energy.
    public mutating func observe(_ raw: UInt64, atNanoseconds time: UInt64) {
        defer {
            lastRaw = raw
            lastNanoseconds = time
        }
        guard let previous = lastRaw, let previousTime = lastNanoseconds else {
            lastAdvanceNanoseconds = time
            return
        }
        let elapsed = time > previousTime ? time - previousTime : 0
        // The counter's value has stood still since `still`; a move now ends that standstill.
        let still = min(lastAdvanceNanoseconds ?? previousTime, previousTime)
        let standstill = time > still ? time - still : 0
        let stoodStill = still < previousTime
        let gap = wrapSafeNanoseconds.map { elapsed > $0 } ?? false
        guard raw != previous else {
            if gap { flag(.samplingGap, from: previousTime, to: time) }
            return
        }
        lastAdvanceNanoseconds = time
        if stoodStill, let safe = wrapSafeNanoseconds, standstill > safe {
            // Whole ranges may be hidden in this jump: what is added is the least it can have been.
            flag(.stalledHidingWraps, from: still, to: time)
        } else if gap {
            flag(.samplingGap, from: previousTime, to: time)
        } else if stoodStill, let stale = staleNanoseconds, standstill > stale {
            flag(.stalled, from: still, to: time)
        }
        // The delta accumulated over the whole standstill, not only the last interval.
        func isImplausible(_ delta: UInt64) -> Bool {
            guard let ceiling = ceilingMicrowatts else { return false }
            return Double(delta) > 2 * ceiling * Double(standstill) / 1e9 + 1000
        }
        if let range = rangeMicrojoules {
            let (delta, wrapped) = Self.delta(from: previous, to: raw, range: range)
            if isImplausible(delta) {
                // E.g. a counter restarted from zero looks like a wrap worth a whole range (65 kJ on AMD)
                // in milliseconds. One interval's true energy is lost instead of a range being invented.
                implausibleIntervals += 1
                flag(.implausibleJump, from: previousTime, to: time)
                return
            }
            totalMicrojoules &+= delta
            if wrapped { wraps += 1 }
        } else if raw >= previous {
            if isImplausible(raw - previous) {
                implausibleIntervals += 1
                flag(.implausibleJump, from: previousTime, to: time)
                return
            }
            totalMicrojoules &+= raw - previous
        } else {
            // A 64-bit counter went backwards: it was reset (driver reload). What came before
            // the reset is lost, so the interval is flagged rather than guessed.
            flag(.reset, from: previousTime, to: time)
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

    init(
        _ measurement: ChannelMeasurement, wrapSafeNanoseconds: UInt64?, ceilingWatts: Double, staleNanoseconds: UInt64?
    ) {
        switch measurement {
        case .energyCounter(let range):
            self = .counter(
                CounterAccumulator(
                    rangeMicrojoules: range, wrapSafeNanoseconds: wrapSafeNanoseconds,
                    ceilingMicrowatts: ceilingWatts * 1e6, staleNanoseconds: staleNanoseconds))
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

    var spanCount: Int {
        if case .counter(let counter) = self { return counter.spans.count }
        return 0
    }

    func spans(from index: Int) -> [CounterSpan] {
        guard case .counter(let counter) = self, index < counter.spans.count else { return [] }
        return Array(counter.spans[index...])
    }

    /// When a counter last moved; nil for a power gauge (a steady reading is no sign of staleness there).
    var lastAdvanceNanoseconds: UInt64? {
        if case .counter(let counter) = self { return counter.lastAdvanceNanoseconds }
        return nil
    }
}
