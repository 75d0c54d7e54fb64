import PowerProbe

extension ProbeError {
    /// The probe's message (the facts and the sysfs fixes) with what to do on perwatt's command line.
    var explained: String {
        switch self {
        case .permissionDenied:
            description + "\n    - or measure without energy: --energy none (time and FLOP figures still work)."
        case .missingFile:
            description
        case .readFailed:
            description + " Use --energy none to measure without energy, or choose another source with --energy."
        case .malformed, .notRegularFile:
            description + " Check the --powercap-root/--hwmon-root you gave, or report the driver."
        case .counterAboveRange:
            description + " Use another --energy source."
        case .sourceUnavailable:
            description + " Use --energy auto to take what is present, or --energy none."
        case .nvml:
            description + " Or use --energy none."
        }
    }
}
