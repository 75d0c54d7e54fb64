/// The slice of NVML that perwatt uses. `DynamicNVML` is the real library; tests use fakes.
///
/// Source of truth: NVML API reference (nvml.h): `nvmlDeviceGetTotalEnergyConsumption` reports
/// mJ since the driver was loaded (Volta and newer); `nvmlDeviceGetPowerUsage` reports mW.
public protocol NVMLLibrary: Sendable {
    func deviceCount() throws -> Int
    func name(ofDevice index: Int) throws -> String
    func uuid(ofDevice index: Int) throws -> String
    /// Energy since driver load, in mJ. Throws `ProbeError.nvml` with code 3 where unsupported.
    func totalEnergyMillijoules(ofDevice index: Int) throws -> UInt64
    /// Current board power in mW.
    func powerMilliwatts(ofDevice index: Int) throws -> UInt32
}

/// NVML return code for an unsupported query.
public let nvmlErrorNotSupported: Int32 = 3

/// One GPU as NVML sees it, filtered by `CUDA_VISIBLE_DEVICES`.
public struct NVMLGPU: Sendable, Hashable {
    /// NVML index (PCI bus order).
    public var index: Int
    public var name: String
    public var uuid: String
    /// Whether `nvmlDeviceGetTotalEnergyConsumption` works; otherwise power is integrated.
    public var hasEnergyCounter: Bool
    /// Why neither energy nor power can be read, if so.
    public var problem: ProbeError?
}

/// GPUs found through NVML.
public struct NVMLInventory: Sendable {
    /// Why NVML is not available (library missing, init failed), or nil if it loaded.
    public var unavailableReason: String?
    public var gpus: [NVMLGPU]
    /// A note about `CUDA_VISIBLE_DEVICES`, if it filtered or could not be honoured fully.
    public var visibilityNote: String?

    public var basis: String? {
        let usable = gpus.filter { $0.problem == nil }
        guard !usable.isEmpty else { return nil }
        return "nvml:" + usable.map { "gpu\($0.index)" }.joined(separator: "+")
    }

    public var isUsable: Bool { basis != nil }

    /// Lists GPUs through `library` (nil: it could not be loaded, for `reason`).
    public static func discover(
        library: (any NVMLLibrary)?, reason: String?,
        cudaVisibleDevices: String?
    ) -> NVMLInventory {
        guard let library else {
            return NVMLInventory(unavailableReason: reason ?? "NVML not loaded", gpus: [], visibilityNote: nil)
        }
        var all: [NVMLGPU] = []
        do {
            let count = try library.deviceCount()
            for index in 0..<count {
                var gpu = NVMLGPU(
                    index: index, name: (try? library.name(ofDevice: index)) ?? "GPU \(index)",
                    uuid: (try? library.uuid(ofDevice: index)) ?? "", hasEnergyCounter: false, problem: nil)
                do {
                    _ = try library.totalEnergyMillijoules(ofDevice: index)
                    gpu.hasEnergyCounter = true
                } catch {
                    do { _ = try library.powerMilliwatts(ofDevice: index) } catch let error as ProbeError {
                        gpu.problem = error
                    } catch {
                        gpu.problem = .nvml(function: "nvmlDeviceGetPowerUsage", code: -1, message: "\(error)")
                    }
                }
                all.append(gpu)
            }
        } catch {
            return NVMLInventory(unavailableReason: "\(error)", gpus: [], visibilityNote: nil)
        }
        let (visible, note) = visibleGPUs(all, cudaVisibleDevices: cudaVisibleDevices)
        return NVMLInventory(unavailableReason: nil, gpus: visible, visibilityNote: note)
    }

    /// Applies CUDA's `CUDA_VISIBLE_DEVICES` rules: a comma-separated list of indices or UUID
    /// prefixes (`GPU-…`); CUDA stops at the first entry it cannot resolve; an empty value hides all.
    /// Indices are NVML (PCI bus) indices; CUDA numbers the same GPUs that way only with
    /// `CUDA_DEVICE_ORDER=PCI_BUS_ID`, so the note says so.
    public static func visibleGPUs(_ gpus: [NVMLGPU], cudaVisibleDevices: String?) -> ([NVMLGPU], String?) {
        guard let value = cudaVisibleDevices else { return (gpus, nil) }
        var visible: [NVMLGPU] = []
        var note = "CUDA_VISIBLE_DEVICES=\(value)"
        for raw in value.split(separator: ",", omittingEmptySubsequences: false) {
            let token = raw.trimmingWhitespace
            var match: NVMLGPU?
            if let index = Int(token), index >= 0 {
                match = gpus.first { $0.index == index }
            } else if token.hasPrefix("GPU-") {
                let candidates = gpus.filter { $0.uuid.hasPrefix(token) }
                match = candidates.count == 1 ? candidates[0] : nil
            } else if token.hasPrefix("MIG-") {
                note += "; MIG instance \(token) has no energy counter of its own, stopped there"
                break
            }
            guard let gpu = match, !visible.contains(gpu) else {
                if !token.isEmpty { note += "; entry \"\(token)\" matches no GPU, CUDA ignores it and the rest" }
                break
            }
            visible.append(gpu)
        }
        if value.split(separator: ",").contains(where: { Int($0.trimmingWhitespace) != nil }) {
            note += "; indices are read in PCI bus order (as CUDA does with CUDA_DEVICE_ORDER=PCI_BUS_ID)"
        }
        return (visible, note)
    }

    /// One channel per usable GPU: its energy counter, or its power integrated.
    public func plan(library: (any NVMLLibrary)?) throws -> EnergyPlan {
        guard let library, let basis else {
            throw ProbeError.sourceUnavailable(
                source: .nvml, reason: unavailableReason ?? "no usable NVIDIA GPU visible")
        }
        let channels = gpus.filter { $0.problem == nil }.map { gpu in
            let channel = Channel(
                id: "nvml:gpu\(gpu.index)", source: .nvml, name: "\(gpu.name) (gpu\(gpu.index))",
                path: gpu.uuid.isEmpty ? "nvml device \(gpu.index)" : gpu.uuid,
                measurement: gpu.hasEnergyCounter ? .energyCounter(rangeMicrojoules: nil) : .powerGauge,
                inBasis: true, note: nil)
            return PlannedChannel(channel: channel) {
                NVMLChannelReader(library: library, index: gpu.index, energy: gpu.hasEnergyCounter)
            }
        }
        return EnergyPlan(source: "nvml", basis: basis, channels: channels)
    }
}

struct NVMLChannelReader: ChannelReader {
    let library: any NVMLLibrary
    let index: Int
    let energy: Bool

    /// µJ (energy counter) or µW (power).
    func read() throws -> UInt64 {
        energy
            ? try library.totalEnergyMillijoules(ofDevice: index) * 1000
            : UInt64(try library.powerMilliwatts(ofDevice: index)) * 1000
    }

    func close() {}
}

/// NVML loaded at run time with `dlopen("libnvidia-ml.so.1")`: no link-time GPU dependency.
public final class DynamicNVML: NVMLLibrary, @unchecked Sendable {
    // Immutable after init; NVML itself is thread-safe.
    private typealias InitFn = @convention(c) () -> Int32
    private typealias CountFn = @convention(c) (UnsafeMutablePointer<UInt32>) -> Int32
    private typealias HandleFn = @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    private typealias StringFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>, UInt32) -> Int32
    private typealias EnergyFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt64>) -> Int32
    private typealias PowerFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>) -> Int32
    private typealias ErrorStringFn = @convention(c) (Int32) -> UnsafePointer<CChar>?

    private let count: CountFn
    private let handle: HandleFn
    private let getName: StringFn
    private let getUUID: StringFn
    private let energy: EnergyFn
    private let power: PowerFn
    private let errorString: ErrorStringFn?

    /// Loads and initialises NVML; the failure says why (library absent, symbol missing, init error).
    public static func load(libraryName: String = "libnvidia-ml.so.1") -> Result<DynamicNVML, ProbeError> {
        let library: UnsafeMutableRawPointer
        switch Syscalls.openLibrary(libraryName) {
        case .success(let handle): library = handle
        case .failure(let error):
            return .failure(
                .sourceUnavailable(
                    source: .nvml, reason: "\(libraryName) could not be loaded (\(error.message)); no NVIDIA driver"))
        }
        func symbol<T>(_ name: String, as type: T.Type) -> T? {
            Syscalls.symbol(library, name).map { unsafeBitCast($0, to: type) }
        }
        guard let initialize = symbol("nvmlInit_v2", as: InitFn.self),
            let count = symbol("nvmlDeviceGetCount_v2", as: CountFn.self),
            let handle = symbol("nvmlDeviceGetHandleByIndex_v2", as: HandleFn.self),
            let getName = symbol("nvmlDeviceGetName", as: StringFn.self),
            let getUUID = symbol("nvmlDeviceGetUUID", as: StringFn.self),
            let energy = symbol("nvmlDeviceGetTotalEnergyConsumption", as: EnergyFn.self),
            let power = symbol("nvmlDeviceGetPowerUsage", as: PowerFn.self)
        else {
            return .failure(
                .sourceUnavailable(source: .nvml, reason: "\(libraryName) lacks a required NVML symbol; driver too old")
            )
        }
        let errorString = symbol("nvmlErrorString", as: ErrorStringFn.self)
        let status = initialize()
        guard status == 0 else {
            let message = errorString?(status).map { String(cString: $0) } ?? "unknown"
            return .failure(.nvml(function: "nvmlInit_v2", code: status, message: message))
        }
        return .success(
            DynamicNVML(
                count: count, handle: handle, getName: getName, getUUID: getUUID,
                energy: energy, power: power, errorString: errorString))
    }

    private init(
        count: CountFn, handle: HandleFn, getName: StringFn, getUUID: StringFn,
        energy: EnergyFn, power: PowerFn, errorString: ErrorStringFn?
    ) {
        self.count = count
        self.handle = handle
        self.getName = getName
        self.getUUID = getUUID
        self.energy = energy
        self.power = power
        self.errorString = errorString
    }

    private func check(_ status: Int32, _ function: String) throws {
        guard status == 0 else {
            let message = errorString?(status).map { String(cString: $0) } ?? "unknown"
            throw ProbeError.nvml(function: function, code: status, message: message)
        }
    }

    private func device(_ index: Int) throws -> OpaquePointer? {
        var device: OpaquePointer?
        try check(handle(UInt32(index), &device), "nvmlDeviceGetHandleByIndex_v2")
        return device
    }

    public func deviceCount() throws -> Int {
        var value: UInt32 = 0
        try check(count(&value), "nvmlDeviceGetCount_v2")
        return Int(value)
    }

    private func string(_ fn: StringFn, _ name: String, _ index: Int) throws -> String {
        let device = try device(index)
        var buffer = [CChar](repeating: 0, count: 96)
        try check(buffer.withUnsafeMutableBufferPointer { fn(device, $0.baseAddress!, UInt32($0.count)) }, name)
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    public func name(ofDevice index: Int) throws -> String { try string(getName, "nvmlDeviceGetName", index) }
    public func uuid(ofDevice index: Int) throws -> String { try string(getUUID, "nvmlDeviceGetUUID", index) }

    public func totalEnergyMillijoules(ofDevice index: Int) throws -> UInt64 {
        let device = try device(index)
        var value: UInt64 = 0
        try check(energy(device, &value), "nvmlDeviceGetTotalEnergyConsumption")
        return value
    }

    public func powerMilliwatts(ofDevice index: Int) throws -> UInt32 {
        let device = try device(index)
        var value: UInt32 = 0
        try check(power(device, &value), "nvmlDeviceGetPowerUsage")
        return value
    }
}
