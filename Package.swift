import Foundation
// swift-tools-version:6.0
//
// perwatt: accuracy per joule and per watt, measured on local hardware.
//
// Target CPU. Swift on x86_64 compiles for baseline x86-64 (SSE2) unless told
// otherwise, which leaves the kernels many times slower than the machine allows.
// The kernels (KernelBench) are therefore compiled for a named target CPU,
// chosen here and recorded in every result:
//
//   PERWATT_TARGET_CPU=native     (default) the build host's own CPU: every ISA
//                                 extension /proc/cpuinfo lists at build time
//   PERWATT_TARGET_CPU=x86-64-v3  portable AVX2 level (LLVM CPU `haswell`)
//   PERWATT_TARGET_CPU=x86-64-v4  portable AVX-512 level (LLVM CPU `skylake-avx512`)
//   PERWATT_TARGET_CPU=x86-64-v2  SSE4.2 level (LLVM CPU `nehalem`)
//   PERWATT_TARGET_CPU=baseline   no flag: plain x86-64 (slow, runs anywhere)
//
// Only KernelBench gets `-target-cpu`; PerWatt and PowerProbe stay at baseline so
// that the start-up check (Sources/PerWatt/Core/BuildTarget.swift) runs on any x86-64
// CPU and can refuse, with a clear message, a CPU that lacks an extension the
// kernels were compiled to use. Each required extension reaches the code as a
// `PERWATT_REQUIRE_<FLAG>` compilation condition.
import PackageDescription

/// ISA extensions, by their /proc/cpuinfo names, that LLVM may emit for a target CPU.
/// Keep in sync with `BuildTarget.requiredFlags` in Sources/PerWatt/Core/BuildTarget.swift.
let isaFlags = [
    "pni", "ssse3", "sse4_1", "sse4_2", "popcnt", "cx16", "lahf_lm", "abm", "movbe", "xsave",
    "avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "adx", "aes", "pclmulqdq", "sha_ni",
    "vaes", "vpclmulqdq", "gfni", "rdrand", "rdseed", "clflushopt", "clwb",
    "avx_vnni", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512ifma",
    "avx512vbmi", "avx512_vbmi2", "avx512_vnni", "avx512_bitalg", "avx512_vpopcntdq",
    "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8",
]
let v2 = ["pni", "ssse3", "sse4_1", "sse4_2", "popcnt", "cx16", "lahf_lm"]
let v3 =
    v2 + [
        "avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "abm", "movbe", "xsave",
        "aes", "pclmulqdq", "rdrand",
    ]
let v4 =
    v3 + [
        "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "adx", "rdseed",
        "clflushopt", "clwb",
    ]

struct TargetChoice {
    var name: String
    var llvmCPU: String?
    var required: [String]
}

func hostFlags() -> Set<String> {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
    for line in text.split(separator: "\n") where line.hasPrefix("flags") {
        if let colon = line.firstIndex(of: ":") {
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
    }
    return []
}

func chooseTarget() -> TargetChoice {
    #if arch(x86_64)
        let requested = ProcessInfo.processInfo.environment["PERWATT_TARGET_CPU"] ?? "native"
        switch requested {
        case "native":
            let host = hostFlags()
            return TargetChoice(name: "native", llvmCPU: "native", required: isaFlags.filter(host.contains))
        case "x86-64-v4": return TargetChoice(name: requested, llvmCPU: "skylake-avx512", required: v4)
        case "x86-64-v3": return TargetChoice(name: requested, llvmCPU: "haswell", required: v3)
        case "x86-64-v2": return TargetChoice(name: requested, llvmCPU: "nehalem", required: v2)
        case "baseline": return TargetChoice(name: requested, llvmCPU: nil, required: [])
        default:
            fatalError(
                "PERWATT_TARGET_CPU=\(requested) is not one of: native, x86-64-v4, x86-64-v3, x86-64-v2, baseline")
        }
    #else
        return TargetChoice(name: "baseline", llvmCPU: nil, required: [])
    #endif
}

let target = chooseTarget()
let targetDefines: [SwiftSetting] =
    [.define("PERWATT_TARGET_" + target.name.uppercased().replacingOccurrences(of: "-", with: "_"))]
    + target.required.map { .define("PERWATT_REQUIRE_" + $0.uppercased()) }
let kernelFlags: [SwiftSetting] = target.llvmCPU.map { [.unsafeFlags(["-target-cpu", $0])] } ?? []
// The kernels are optimized in debug builds too: unoptimized SIMD code runs 100× slower, which would
// turn `swift test` (verification and the end-to-end runs on real model shapes) into many minutes.
// The module is still built with -enable-testing in debug, so the tests' @testable import works.
let kernelOptimization: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "perwatt",
    products: [
        .executable(name: "perwatt", targets: ["perwatt"]),
        .library(name: "PerWattCore", targets: ["PerWattCore"]),
        .library(name: "PowerProbe", targets: ["PowerProbe"]),
        .library(name: "KernelBench", targets: ["KernelBench"]),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "KernelBench",
            dependencies: ["CBLAS"],
            exclude: ["README.md"],
            swiftSettings: targetDefines + kernelFlags + kernelOptimization
        ),
        .target(name: "PowerProbe", exclude: ["README.md"]),
        // PerWatt: a library that knows no flags (Core), the command line (CLI), and a few lines of main.
        // Core and CLI stay at baseline ISA so the start-up CPU check runs on any x86-64 CPU.
        .target(
            name: "PerWattCore",
            dependencies: ["KernelBench", "PowerProbe"],
            path: "Sources/PerWatt/Core",
            swiftSettings: targetDefines
        ),
        .target(
            name: "PerWattCLI",
            dependencies: ["PerWattCore", "KernelBench", "PowerProbe"],
            path: "Sources/PerWatt/CLI"
        ),
        .executableTarget(
            name: "perwatt",
            dependencies: ["PerWattCLI"],
            path: "Sources/PerWatt/Main"
        ),
        .executableTarget(
            name: "perwatt-bench-probe",
            dependencies: ["PowerProbe"],
            path: "Benchmarks/ProbeOverhead"
        ),
        // Fakes shared by the test targets: in-memory sysfs, counters at a known power, fake NVML.
        .target(name: "ProbeTestSupport", dependencies: ["PowerProbe"], path: "Tests/ProbeTestSupport"),
        // Counts one thread's heap allocations (the runtime's decode step must make none).
        .target(name: "AllocationCounting", path: "Tests/AllocationCounting"),
        .executableTarget(
            name: "perwatt-bench-model",
            dependencies: ["KernelBench"],
            path: "Benchmarks/Model"
        ),
        .executableTarget(
            name: "perwatt-bench-kernels",
            dependencies: ["KernelBench"],
            path: "Benchmarks/Kernels"
        ),
        .testTarget(name: "PowerProbeTests", dependencies: ["PowerProbe", "ProbeTestSupport"]),
        .testTarget(
            name: "KernelBenchTests", dependencies: ["KernelBench", "AllocationCounting"],
            exclude: ["Vectors", "GGUF", "Tokenizer", "ChatTemplates", "Model"]),
        .testTarget(
            name: "PerWattTests",
            dependencies: ["PerWattCore", "PerWattCLI", "PowerProbe", "KernelBench", "ProbeTestSupport"],
            exclude: ["Snapshots"]),
    ],
    swiftLanguageModes: [.v6]
)
