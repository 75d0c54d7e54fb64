import PowerProbe

/// One measured energy window as every output records it: `perwatt exec`, each window of a kernel in
/// `kernels` and `run` results, and each query of `perwatt eval` (docs/results.md). Fields that do not
/// apply are absent, never zero: `joules` is null when a basis channel failed (`unavailableReason`
/// says why), and `trusted` is false when the figure may be wrong (`untrustedReasons`).
package struct EnergyRecord: Codable, Sendable, Hashable {
    /// One channel (RAPL zone, hwmon sensor, GPU) over the window.
    package struct Channel: Codable, Sendable, Hashable {
        package var id: String
        /// Name, source, sysfs path, measurement kind and role: with `.full` detail (exec).
        package var name: String?
        package var source: String?
        package var path: String?
        package var measurement: String?
        package var inBasis: Bool?
        package var note: String?
        package var rangeMicrojoules: UInt64?
        /// Raw readings at the window's edges (µJ for counters, µW for power gauges).
        package var counterStart: UInt64?
        package var counterEnd: UInt64?
        package var wraps: Int
        package var joules: Double?
        package var averageWatts: Double?
        /// This channel's idle median power, when an idle baseline was measured.
        package var idleWatts: Double?
        package var untrustedIntervals: Int?
        package var stale: Bool?
        /// Present (true) when this channel's energy over the window cannot be trusted (see `spans`).
        package var untrusted: Bool?
        /// Sampling gaps, standstills and a stale end, in seconds from the window's start.
        package var spans: [WindowSpan]?
        package var readErrors: Int?
        package var error: String?
    }

    /// The idle baseline a window's net figures subtract.
    package struct Idle: Codable, Sendable, Hashable {
        package var seconds: Double
        package var medianWatts: Double
        package var windowWatts: [Double]
    }

    /// How much of each channel a record keeps.
    package enum ChannelDetail {
        /// No channels (a query's energy: the basis is the run's).
        case none
        /// Id, raw readings, wraps, joules and what went wrong (kernel windows).
        case readings
        /// Everything, names and paths included (exec).
        case full
    }

    package var source: String?
    package var basis: String?
    package var measurement: String?
    package var durationSeconds: Double
    /// Basis energy of the window; null (with `unavailableReason`) if a basis channel failed.
    package var joules: Double?
    package var averageWatts: Double?
    package var peakWatts: Double?
    /// False when a basis channel's energy cannot be trusted: a sampling gap or a standstill longer than
    /// its wrap-safe time, a counter stale at the end, a reset (docs/energy.md).
    package var trusted: Bool
    package var untrustedReasons: [String]?
    package var unavailableReason: String?
    /// `joules` less idle median power × duration, and the average power above idle.
    package var netJoules: Double?
    package var netAverageWatts: Double?
    package var idle: Idle?
    /// Streaming answers: the energy up to the first token (prefill) and after it (decode).
    package var prefillJoules: Double?
    package var decodeJoules: Double?
    package var warnings: [String]?
    package var channels: [Channel]?
    package var trace: [TracePoint]?

    package init(
        source: String? = nil, basis: String? = nil, measurement: String? = nil, durationSeconds: Double,
        joules: Double? = nil, averageWatts: Double? = nil, peakWatts: Double? = nil, trusted: Bool = true,
        untrustedReasons: [String]? = nil, unavailableReason: String? = nil, netJoules: Double? = nil,
        netAverageWatts: Double? = nil, idle: Idle? = nil, prefillJoules: Double? = nil, decodeJoules: Double? = nil,
        warnings: [String]? = nil, channels: [Channel]? = nil, trace: [TracePoint]? = nil
    ) {
        self.source = source
        self.basis = basis
        self.measurement = measurement
        self.durationSeconds = durationSeconds
        self.joules = joules
        self.averageWatts = averageWatts
        self.peakWatts = peakWatts
        self.trusted = trusted
        self.untrustedReasons = untrustedReasons
        self.unavailableReason = unavailableReason
        self.netJoules = netJoules
        self.netAverageWatts = netAverageWatts
        self.idle = idle
        self.prefillJoules = prefillJoules
        self.decodeJoules = decodeJoules
        self.warnings = warnings
        self.channels = channels
        self.trace = trace
    }

    /// The record of `window`: the one place a window becomes output. `idle`, when given, adds the
    /// net figures; `describing` says whether the window's source and basis are repeated (they are
    /// the run's for kernel windows and queries); `trace` keeps the power trace (exec).
    package init(
        _ window: EnergyWindow, channels detail: ChannelDetail, idle baseline: IdleBaseline? = nil,
        describing: Bool = false, trace: Bool = false
    ) {
        self.init(
            source: describing ? window.source : nil, basis: describing ? window.basis : nil,
            measurement: describing ? window.measurement : nil, durationSeconds: window.durationSeconds,
            joules: window.basisJoules, averageWatts: describing ? window.averageWatts : nil,
            peakWatts: describing ? window.peakWatts : nil, trusted: !window.untrusted,
            untrustedReasons: window.untrusted ? window.untrustedReasons : nil,
            unavailableReason: window.unavailableReason,
            warnings: window.warnings.isEmpty ? nil : window.warnings, trace: trace ? window.trace : nil)
        if let baseline { applyIdle(medianWatts: baseline.medianWatts) }
        if let baseline, describing {
            idle = Idle(
                seconds: baseline.totalSeconds, medianWatts: baseline.medianWatts, windowWatts: baseline.windowWatts)
        }
        switch detail {
        case .none: break
        case .readings, .full:
            let full = detail == .full
            channels = window.channels.map { channel in
                var range: UInt64?
                if case .energyCounter(let value) = channel.channel.measurement { range = value }
                return Channel(
                    id: channel.channel.id, name: full ? channel.channel.name : nil,
                    source: full ? channel.channel.source.rawValue : nil, path: full ? channel.channel.path : nil,
                    measurement: full ? channel.channel.measurement.label : nil,
                    inBasis: full ? channel.channel.inBasis : nil, note: full ? channel.channel.note : nil,
                    rangeMicrojoules: full ? range : nil, counterStart: channel.startRaw, counterEnd: channel.endRaw,
                    wraps: channel.wraps, joules: channel.energyJoules, averageWatts: full ? channel.averageWatts : nil,
                    idleWatts: full ? baseline?.channelMedianWatts[channel.channel.id] : nil,
                    untrustedIntervals: full ? channel.untrustedIntervals : nil, stale: full ? channel.stale : nil,
                    untrusted: channel.untrusted ? true : nil,
                    spans: full || !channel.spans.isEmpty ? channel.spans : nil,
                    readErrors: full ? channel.readErrors : nil, error: channel.error.map { "\($0)" })
            }
        }
    }

    package enum CodingKeys: String, CodingKey, CaseIterable {
        case source, basis, measurement, durationSeconds, joules, averageWatts, peakWatts, trusted, untrustedReasons,
            unavailableReason, netJoules, netAverageWatts, idle, prefillJoules, decodeJoules, warnings, channels, trace
    }

    /// Names that eval fixtures written before this record wrote for the same things.
    private enum LegacyKeys: String, CodingKey {
        case windowSeconds, untrusted
    }

    /// Checked like every input: energies and durations within bounds, unknown fields refused. Also
    /// reads what fixtures written by earlier versions call `windowSeconds` and `untrusted`.
    package init(from decoder: any Decoder) throws {
        let r = try KeyedReader(decoder, keys: CodingKeys.self, rejectingUnknown: false)
        let allowed = CodingKeys.allCases.map(\.stringValue) + ["windowSeconds", "untrusted"]
        try r.reader.rejectUnknown(allowed)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // The duration under its name, else under the name earlier fixtures used; missing, it is named as now.
        let legacyDuration = try r.reader.double(LegacyKeys.windowSeconds.stringValue, required: false, in: 0...1e7)
        let duration = try r.double(.durationSeconds, required: legacyDuration == nil, in: 0...1e7) ?? legacyDuration!
        let legacyUntrusted = try r.reader.bool(LegacyKeys.untrusted.stringValue, required: false)
        var warnings: [String]?
        if r.has(.warnings) {
            guard let array = r.member(.warnings)?.arrayValue, array.allSatisfy({ $0.stringValue != nil }) else {
                throw r.error(.warnings, "must be an array of strings")
            }
            warnings = array.compactMap(\.stringValue)
        }
        self.init(
            source: try r.string(.source, required: false), basis: try r.string(.basis, required: false),
            measurement: try r.string(.measurement, required: false), durationSeconds: duration,
            joules: try r.double(.joules, required: false, in: 0...1e12),
            averageWatts: try r.double(.averageWatts, required: false, in: 0...1e9),
            peakWatts: try r.double(.peakWatts, required: false, in: 0...1e9),
            trusted: try r.bool(.trusted, required: false) ?? !(legacyUntrusted ?? false),
            untrustedReasons: try container.decodeIfPresent([String].self, forKey: .untrustedReasons),
            unavailableReason: try r.string(.unavailableReason, required: false),
            netJoules: try r.double(.netJoules, required: false, in: -1e12...1e12),
            netAverageWatts: try r.double(.netAverageWatts, required: false, in: -1e9...1e9),
            idle: try container.decodeIfPresent(Idle.self, forKey: .idle),
            prefillJoules: try r.double(.prefillJoules, required: false, in: 0...1e12),
            decodeJoules: try r.double(.decodeJoules, required: false, in: 0...1e12), warnings: warnings,
            channels: try container.decodeIfPresent([Channel].self, forKey: .channels),
            trace: try container.decodeIfPresent([TracePoint].self, forKey: .trace))
    }

    /// Sets the net figures against an idle median power.
    package mutating func applyIdle(medianWatts: Double) {
        netJoules = joules.map { $0 - medianWatts * durationSeconds }
        netAverageWatts = averageWatts.map { $0 - medianWatts }
    }
}
