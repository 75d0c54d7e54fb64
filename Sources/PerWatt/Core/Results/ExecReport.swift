import PowerProbe

/// `perwatt exec --json`: schema `perwatt.exec/1`. `energy` is `null` (not zeros) without a source.
package struct ExecReport: Encodable {
    package var schema = "perwatt.exec/1"
    package var command: [String]
    package var exitStatus: Int32
    /// Set when the command was killed by a signal (then `exitStatus` is 128 + signal).
    package var terminatedBySignal: Int32?
    package var durationSeconds: Double
    package var energy: Energy?
    /// Why `energy` is null.
    package var energyUnavailableReason: String?
    package var sampler: Sampler?
    package var fingerprint: Fingerprint

    package struct Zone: Encodable {
        package var id: String
        package var source: String
        package var name: String
        package var path: String
        package var measurement: String
        package var inBasis: Bool
        package var note: String?
        package var rangeMicrojoules: UInt64?
        /// Raw readings at the window's start and end (µJ for counters, µW for power gauges).
        package var counterStart: UInt64?
        package var counterEnd: UInt64?
        package var joules: Double?
        package var averageWatts: Double?
        package var idleWatts: Double?
        package var wraps: Int
        package var untrustedIntervals: Int
        package var stale: Bool
        /// This zone's energy over the run cannot be trusted (see `spans`).
        package var untrusted: Bool
        /// Sampling gaps, standstills and a stale end, in seconds from the start of the run.
        package var spans: [WindowSpan]
        package var readErrors: Int
        package var error: String?

        package init(
            id: String, source: String, name: String, path: String, measurement: String, inBasis: Bool,
            note: String? = nil, rangeMicrojoules: UInt64? = nil, counterStart: UInt64? = nil,
            counterEnd: UInt64? = nil, joules: Double? = nil, averageWatts: Double? = nil, idleWatts: Double? = nil,
            wraps: Int, untrustedIntervals: Int, stale: Bool, untrusted: Bool, spans: [WindowSpan], readErrors: Int,
            error: String? = nil
        ) {
            self.id = id
            self.source = source
            self.name = name
            self.path = path
            self.measurement = measurement
            self.inBasis = inBasis
            self.note = note
            self.rangeMicrojoules = rangeMicrojoules
            self.counterStart = counterStart
            self.counterEnd = counterEnd
            self.joules = joules
            self.averageWatts = averageWatts
            self.idleWatts = idleWatts
            self.wraps = wraps
            self.untrustedIntervals = untrustedIntervals
            self.stale = stale
            self.untrusted = untrusted
            self.spans = spans
            self.readErrors = readErrors
            self.error = error
        }
    }

    package struct Idle: Encodable {
        package var seconds: Double
        package var medianWatts: Double
        package var windowWatts: [Double]

        package init(seconds: Double, medianWatts: Double, windowWatts: [Double]) {
            self.seconds = seconds
            self.medianWatts = medianWatts
            self.windowWatts = windowWatts
        }
    }

    package struct Energy: Encodable {
        package var source: String
        package var basis: String
        package var measurement: String
        /// Basis energy of the whole run; null (with `unavailableReason`) if a basis channel failed.
        /// When `trusted` is false it is only what the counters showed (`untrustedReasons` says why).
        package var joules: Double?
        /// False when a basis zone's energy cannot be trusted: a sampling gap or a standstill longer
        /// than its wrap-safe time, a counter stale at the end, a reset (docs/energy.md).
        package var trusted: Bool
        package var untrustedReasons: [String]?
        package var averageWatts: Double?
        package var peakWatts: Double?
        package var idle: Idle?
        /// `joules` minus idle median power × duration.
        package var netJoules: Double?
        package var netAverageWatts: Double?
        package var unavailableReason: String?
        package var zones: [Zone]
        package var warnings: [String]
        package var trace: [TracePoint]

        package init(
            source: String, basis: String, measurement: String, joules: Double? = nil, trusted: Bool,
            untrustedReasons: [String]? = nil, averageWatts: Double? = nil, peakWatts: Double? = nil, idle: Idle? = nil,
            netJoules: Double? = nil, netAverageWatts: Double? = nil, unavailableReason: String? = nil, zones: [Zone],
            warnings: [String], trace: [TracePoint]
        ) {
            self.source = source
            self.basis = basis
            self.measurement = measurement
            self.joules = joules
            self.trusted = trusted
            self.untrustedReasons = untrustedReasons
            self.averageWatts = averageWatts
            self.peakWatts = peakWatts
            self.idle = idle
            self.netJoules = netJoules
            self.netAverageWatts = netAverageWatts
            self.unavailableReason = unavailableReason
            self.zones = zones
            self.warnings = warnings
            self.trace = trace
        }
    }

    package struct Sampler: Encodable {
        /// The interval the sampler ran at (shortened for wrap safety where a range demands it).
        package var intervalSeconds: Double
        /// The interval asked for (`--interval`): the resolution of `energy.trace` and `peakWatts`.
        package var requestedIntervalSeconds: Double
        package var samples: Int
        package var cpuSeconds: Double
        package var wallSeconds: Double
        /// Fraction of one core the sampler thread used.
        package var coreFraction: Double
        package var meanReadMicroseconds: Double

        package init(
            intervalSeconds: Double, requestedIntervalSeconds: Double, samples: Int, cpuSeconds: Double,
            wallSeconds: Double, coreFraction: Double, meanReadMicroseconds: Double
        ) {
            self.intervalSeconds = intervalSeconds
            self.requestedIntervalSeconds = requestedIntervalSeconds
            self.samples = samples
            self.cpuSeconds = cpuSeconds
            self.wallSeconds = wallSeconds
            self.coreFraction = coreFraction
            self.meanReadMicroseconds = meanReadMicroseconds
        }
    }

    private enum CodingKeys: String, CodingKey {
        case schema, command, exitStatus, terminatedBySignal, durationSeconds, energy, energyUnavailableReason, sampler,
            fingerprint
    }

    package func encode(to encoder: any Encoder) throws {
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

    package init(
        schema: String = "perwatt.exec/1", command: [String], exitStatus: Int32, terminatedBySignal: Int32? = nil,
        durationSeconds: Double, energy: Energy? = nil, energyUnavailableReason: String? = nil, sampler: Sampler? = nil,
        fingerprint: Fingerprint
    ) {
        self.schema = schema
        self.command = command
        self.exitStatus = exitStatus
        self.terminatedBySignal = terminatedBySignal
        self.durationSeconds = durationSeconds
        self.energy = energy
        self.energyUnavailableReason = energyUnavailableReason
        self.sampler = sampler
        self.fingerprint = fingerprint
    }
}

extension ExecReport.Energy {
    package init(window: EnergyWindow, idle: IdleBaseline?) {
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
            self.idle = ExecReport.Idle(
                seconds: idle.totalSeconds, medianWatts: idle.medianWatts, windowWatts: idle.windowWatts)
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
