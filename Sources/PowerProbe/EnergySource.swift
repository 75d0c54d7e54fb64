/// Where energy figures come from.
public enum EnergySourceKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// Linux powercap RAPL zones (`/sys/class/powercap/intel-rapl*`).
    case rapl
    /// hwmon `energyN_input` (µJ) or `powerN_input` (µW, integrated) sensors.
    case hwmon
    /// NVIDIA GPUs through NVML.
    case nvml
}

/// What `--energy` asked for.
public enum EnergySelection: Sendable, Hashable, CustomStringConvertible {
    /// The first usable source in the order RAPL, hwmon, NVML; none if none is present.
    case auto
    /// No energy measurement: time and FLOP figures only.
    case none
    /// These sources, their totals added and the basis labelled with each.
    case sources([EnergySourceKind])

    /// Parses `auto`, `none`, or a comma-separated list such as `rapl` or `rapl,nvml`.
    public init?(parsing text: String) {
        switch text {
        case "auto": self = .auto
        case "none": self = .none
        default:
            var kinds: [EnergySourceKind] = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let kind = EnergySourceKind(rawValue: String(part)), !kinds.contains(kind) else { return nil }
                kinds.append(kind)
            }
            guard !kinds.isEmpty else { return nil }
            self = .sources(kinds)
        }
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .none: "none"
        case .sources(let kinds): kinds.map(\.rawValue).joined(separator: ",")
        }
    }
}

/// How a channel's energy is obtained.
public enum ChannelMeasurement: Sendable, Hashable {
    /// A cumulative energy counter in µJ that wraps to zero after `rangeMicrojoules`
    /// (`nil`: a 64-bit counter that is not expected to wrap; a decrease is a reset).
    case energyCounter(rangeMicrojoules: UInt64?)
    /// An instantaneous power reading in µW, integrated over time (trapezoid rule).
    case powerGauge

    public var label: String {
        switch self {
        case .energyCounter: "energy-counter"
        case .powerGauge: "integrated-power"
        }
    }
}

/// One stream of readings: a RAPL zone, an hwmon sensor, a GPU.
public struct Channel: Sendable, Hashable {
    /// Stable identifier, e.g. `rapl:intel-rapl:0`, `hwmon:hwmon2/energy1`, `nvml:gpu0`.
    public var id: String
    public var source: EnergySourceKind
    /// Human name: the zone's `name` file, the sensor label, the GPU model.
    public var name: String
    /// The file read (sysfs sources), or a description (NVML).
    public var path: String
    public var measurement: ChannelMeasurement
    /// Whether this channel's energy is part of the basis total.
    public var inBasis: Bool
    /// Why the channel is or is not in the basis, e.g. "inside package-0".
    public var note: String?

    public init(
        id: String, source: EnergySourceKind, name: String, path: String,
        measurement: ChannelMeasurement, inBasis: Bool, note: String? = nil
    ) {
        self.id = id
        self.source = source
        self.name = name
        self.path = path
        self.measurement = measurement
        self.inBasis = inBasis
        self.note = note
    }

    /// Seconds for the counter to traverse its range at `watts`; `nil` for gauges and 64-bit counters.
    public func wrapSeconds(atWatts watts: Double) -> Double? {
        guard case .energyCounter(let range?) = measurement, watts > 0 else { return nil }
        return Double(range) / 1e6 / watts
    }
}

/// Reads one channel: µJ for counters, µW for gauges.
public protocol ChannelReader: Sendable {
    func read() throws -> UInt64
    func close()
}

/// A channel with the means to open its reader.
public struct PlannedChannel: Sendable {
    public var channel: Channel
    public var open: @Sendable () throws -> any ChannelReader

    public init(channel: Channel, open: @escaping @Sendable () throws -> any ChannelReader) {
        self.channel = channel
        self.open = open
    }
}

/// What will be measured: the channels to sample and the basis their sum stands for.
public struct EnergyPlan: Sendable {
    /// `rapl`, `hwmon`, `nvml`, or several joined by `+`.
    public var source: String
    /// What the basis total means, e.g. `rapl:package+dram`, `rapl:psys`, `nvml:gpu0`.
    public var basis: String
    public var channels: [PlannedChannel]

    public init(source: String, basis: String, channels: [PlannedChannel]) {
        self.source = source
        self.basis = basis
        self.channels = channels
    }

    /// `energy-counter`, `integrated-power`, or `mixed` across the basis channels.
    public var measurement: String {
        let labels = Set(channels.filter(\.channel.inBasis).map(\.channel.measurement.label))
        if labels.count == 1, let only = labels.first { return only }
        return "mixed"
    }
}

/// A `ChannelReader` over a kept-open sysfs file.
struct SysfsChannelReader: ChannelReader {
    let file: any CounterFile
    let rangeMicrojoules: UInt64?

    func read() throws -> UInt64 {
        let value = try file.readUInt64()
        if let range = rangeMicrojoules, value > range {
            throw ProbeError.counterAboveRange(path: file.path, value: value, rangeMicrojoules: range)
        }
        return value
    }

    func close() { file.close() }
}
