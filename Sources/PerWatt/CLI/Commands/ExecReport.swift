import PerWattCore
import PowerProbe

/// `perwatt exec --json`: schema `perwatt.exec/1`. `energy` is `null` (not zeros) without a source.
struct ExecReport: Encodable {
    var schema = "perwatt.exec/1"
    var command: [String]
    var exitStatus: Int32
    /// Set when the command was killed by a signal (then `exitStatus` is 128 + signal).
    var terminatedBySignal: Int32?
    var durationSeconds: Double
    var energy: Energy?
    /// Why `energy` is null.
    var energyUnavailableReason: String?
    var sampler: Sampler?
    var fingerprint: Fingerprint

    struct Zone: Encodable {
        var id: String
        var source: String
        var name: String
        var path: String
        var measurement: String
        var inBasis: Bool
        var note: String?
        var rangeMicrojoules: UInt64?
        /// Raw readings at the window's start and end (µJ for counters, µW for power gauges).
        var counterStart: UInt64?
        var counterEnd: UInt64?
        var joules: Double?
        var averageWatts: Double?
        var idleWatts: Double?
        var wraps: Int
        var untrustedIntervals: Int
        var stale: Bool
        /// This zone's energy over the run cannot be trusted (see `spans`).
        var untrusted: Bool
        /// Sampling gaps, standstills and a stale end, in seconds from the start of the run.
        var spans: [WindowSpan]
        var readErrors: Int
        var error: String?
    }

    struct Idle: Encodable {
        var seconds: Double
        var medianWatts: Double
        var windowWatts: [Double]
    }

    struct Energy: Encodable {
        var source: String
        var basis: String
        var measurement: String
        /// Basis energy of the whole run; null (with `unavailableReason`) if a basis channel failed.
        /// When `trusted` is false it is only what the counters showed (`untrustedReasons` says why).
        var joules: Double?
        /// False when a basis zone's energy cannot be trusted: a sampling gap or a standstill longer
        /// than its wrap-safe time, a counter stale at the end, a reset (docs/energy.md).
        var trusted: Bool
        var untrustedReasons: [String]?
        var averageWatts: Double?
        var peakWatts: Double?
        var idle: Idle?
        /// `joules` minus idle median power × duration.
        var netJoules: Double?
        var netAverageWatts: Double?
        var unavailableReason: String?
        var zones: [Zone]
        var warnings: [String]
        var trace: [TracePoint]
    }

    struct Sampler: Encodable {
        /// The interval the sampler ran at (shortened for wrap safety where a range demands it).
        var intervalSeconds: Double
        /// The interval asked for (`--interval`): the resolution of `energy.trace` and `peakWatts`.
        var requestedIntervalSeconds: Double
        var samples: Int
        var cpuSeconds: Double
        var wallSeconds: Double
        /// Fraction of one core the sampler thread used.
        var coreFraction: Double
        var meanReadMicroseconds: Double
    }

    private enum CodingKeys: String, CodingKey {
        case schema, command, exitStatus, terminatedBySignal, durationSeconds, energy, energyUnavailableReason, sampler, fingerprint
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schema, forKey: .schema)
        try container.encode(command, forKey: .command)
        try container.encode(exitStatus, forKey: .exitStatus)
        try container.encodeIfPresent(terminatedBySignal, forKey: .terminatedBySignal)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        // Explicit null: "no energy source" must never read as absent-by-accident or as zero.
        try container.encode(energy, forKey: .energy)
        try container.encodeIfPresent(energyUnavailableReason, forKey: .energyUnavailableReason)
        try container.encodeIfPresent(sampler, forKey: .sampler)
        try container.encode(fingerprint, forKey: .fingerprint)
    }
}

extension ExecReport.Energy {
    init(window: EnergyWindow, idle: IdleBaseline?) {
        source = window.source
        basis = window.basis
        measurement = window.measurement
        joules = window.basisJoules
        averageWatts = window.averageWatts
        peakWatts = window.peakWatts
        unavailableReason = window.unavailableReason
        trusted = !window.untrusted
        untrustedReasons = window.untrusted ? window.untrustedReasons : nil
        warnings = window.warnings
        trace = window.trace
        if let idle {
            self.idle = ExecReport.Idle(seconds: idle.totalSeconds, medianWatts: idle.medianWatts, windowWatts: idle.windowWatts)
            netJoules = window.basisJoules.map { $0 - idle.medianWatts * window.durationSeconds }
            netAverageWatts = window.averageWatts.map { $0 - idle.medianWatts }
        }
        zones = window.channels.map { channel in
            var range: UInt64?
            if case .energyCounter(let value) = channel.channel.measurement { range = value }
            return ExecReport.Zone(
                id: channel.channel.id, source: channel.channel.source.rawValue, name: channel.channel.name,
                path: channel.channel.path, measurement: channel.channel.measurement.label,
                inBasis: channel.channel.inBasis, note: channel.channel.note, rangeMicrojoules: range,
                counterStart: channel.startRaw, counterEnd: channel.endRaw, joules: channel.energyJoules,
                averageWatts: channel.averageWatts, idleWatts: idle?.channelMedianWatts[channel.channel.id],
                wraps: channel.wraps, untrustedIntervals: channel.untrustedIntervals, stale: channel.stale,
                untrusted: channel.untrusted, spans: channel.spans,
                readErrors: channel.readErrors, error: channel.error.map { "\($0)" })
        }
    }
}
