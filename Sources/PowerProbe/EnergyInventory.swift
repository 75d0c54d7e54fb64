/// Where to look for energy sources. Every root is injectable so tests run on fake trees.
public struct ProbeEnvironment: Sendable {
    public var powercapRoot: String
    public var hwmonRoot: String
    public var sysfs: any SysfsAccess
    /// Loads NVML; the real one `dlopen`s `libnvidia-ml.so.1`.
    public var loadNVML: @Sendable () -> Result<any NVMLLibrary, ProbeError>
    /// The value of `CUDA_VISIBLE_DEVICES`, if set.
    public var cudaVisibleDevices: String?

    public static let defaultPowercapRoot = "/sys/class/powercap"
    public static let defaultHwmonRoot = "/sys/class/hwmon"

    public init(
        powercapRoot: String = defaultPowercapRoot, hwmonRoot: String = defaultHwmonRoot,
        sysfs: any SysfsAccess = LinuxSysfs(),
        loadNVML: @escaping @Sendable () -> Result<any NVMLLibrary, ProbeError> = {
            DynamicNVML.load().map { $0 as any NVMLLibrary }
        },
        cudaVisibleDevices: String? = nil
    ) {
        self.powercapRoot = powercapRoot
        self.hwmonRoot = hwmonRoot
        self.sysfs = sysfs
        self.loadNVML = loadNVML
        self.cudaVisibleDevices = cudaVisibleDevices
    }
}

/// Every energy source found on this machine.
public struct EnergyInventory: Sendable {
    public var environment: ProbeEnvironment
    public var powercap: PowercapInventory
    public var hwmon: HwmonInventory
    public var nvml: NVMLInventory
    var nvmlLibrary: (any NVMLLibrary)?

    /// Looks at every source. Never throws for a missing source: absence is recorded with its reason.
    ///
    /// - Parameter selection: when given, NVML is loaded only if `plan(for: selection)` could use it
    ///   (it is named, or `auto` finds neither RAPL nor hwmon): `nvmlInit` takes hundreds of
    ///   milliseconds on GPU machines. Without it (`perwatt probe`), every source is looked at.
    public static func discover(_ environment: ProbeEnvironment, for selection: EnergySelection? = nil) throws
        -> EnergyInventory
    {
        let powercap = try PowercapInventory.discover(root: environment.powercapRoot, sysfs: environment.sysfs)
        let hwmon = try HwmonInventory.discover(root: environment.hwmonRoot, sysfs: environment.sysfs)
        let needsNVML: Bool =
            switch selection {
            case nil: true
            case .none?: false
            case .auto?: !powercap.isPresent && hwmon.basis == nil
            case .sources(let kinds)?: kinds.contains(.nvml)
            }
        guard needsNVML else {
            let nvml = NVMLInventory(
                unavailableReason:
                    "not queried: the selection \(selection.map { "\($0)" } ?? "") is decided without it",
                gpus: [], visibilityNote: nil)
            return EnergyInventory(
                environment: environment, powercap: powercap, hwmon: hwmon, nvml: nvml, nvmlLibrary: nil)
        }
        let library: (any NVMLLibrary)?
        let reason: String?
        switch environment.loadNVML() {
        case .success(let loaded):
            library = loaded
            reason = nil
        case .failure(let error):
            library = nil
            if case .sourceUnavailable(_, let why) = error { reason = why } else { reason = "\(error)" }
        }
        let nvml = NVMLInventory.discover(
            library: library, reason: reason, cudaVisibleDevices: environment.cudaVisibleDevices)
        return EnergyInventory(
            environment: environment, powercap: powercap, hwmon: hwmon, nvml: nvml, nvmlLibrary: library)
    }

    /// Why each source is not usable, for the `none` message.
    public var absenceReasons: [(EnergySourceKind, String)] {
        var reasons: [(EnergySourceKind, String)] = []
        if !powercap.isUsable {
            let problem = powercap.structuralProblem ?? powercap.basisProblem
            reasons.append((.rapl, problem.map { "\($0)" } ?? powercap.noBasisReason ?? "unusable"))
        }
        if !hwmon.isUsable {
            reasons.append((.hwmon, hwmon.basisProblem.map { "\($0)" } ?? hwmon.noBasisReason ?? "unusable"))
        }
        if !nvml.isUsable { reasons.append((.nvml, nvml.unavailableReason ?? "no usable NVIDIA GPU visible")) }
        return reasons
    }

    /// Whether a source is present at all (even if unreadable or broken): presence without a usable
    /// basis is an error, not a fallback. RAPL is present when its tree has zones; hwmon when it has a
    /// sensor that could form a basis (a tree of temperature sensors alone is no energy source).
    func isPresent(_ kind: EnergySourceKind) -> Bool {
        switch kind {
        case .rapl: powercap.isPresent
        case .hwmon: hwmon.basis != nil
        case .nvml: nvml.isUsable
        }
    }

    func plan(_ kind: EnergySourceKind) throws -> EnergyPlan {
        switch kind {
        case .rapl: try powercap.plan(sysfs: environment.sysfs)
        case .hwmon: try hwmon.plan(sysfs: environment.sysfs)
        case .nvml: try nvml.plan(library: nvmlLibrary)
        }
    }

    /// Resolves `--energy` into a plan, or nil for no energy measurement.
    ///
    /// - `auto`: the first source present in the order RAPL, hwmon, NVML. A present source whose
    ///   basis cannot be read (e.g. `energy_uj` mode 0400) is an error, never a silent fallback.
    ///   With none present, nil: the caller reports energy as `none`.
    /// - `none`: nil.
    /// - named sources: each must be usable; their basis totals are added and the basis names each.
    public func plan(for selection: EnergySelection) throws -> EnergyPlan? {
        switch selection {
        case .none:
            return nil
        case .auto:
            for kind in EnergySourceKind.allCases where isPresent(kind) {
                return try plan(kind)
            }
            return nil
        case .sources(let kinds):
            let plans = try kinds.map { try plan($0) }
            if plans.count == 1 { return plans[0] }
            return EnergyPlan(
                source: plans.map(\.source).joined(separator: "+"),
                basis: plans.map(\.basis).joined(separator: "+"),
                channels: plans.flatMap(\.channels))
        }
    }
}
