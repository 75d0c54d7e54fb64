import PowerProbe

/// `perwatt exec --json`: schema `perwatt.exec/2` (the energy is an `EnergyRecord`). `energy` is `null` (not zeros) without a source.
package struct ExecReport: Encodable {
    package var schema = "perwatt.exec/2"
    package var command: [String]
    package var exitStatus: Int32
    /// Set when the command was killed by a signal (then `exitStatus` is 128 + signal).
    package var terminatedBySignal: Int32?
    package var durationSeconds: Double
    package var energy: EnergyRecord?
    /// Why `energy` is null.
    package var energyUnavailableReason: String?
    package var sampler: Sampler?
    package var fingerprint: Fingerprint

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
}
