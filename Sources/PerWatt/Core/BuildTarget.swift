/// The CPU target the kernels were compiled for (see Package.swift), and the start-up check
/// that refuses a CPU without the instructions they use instead of dying on SIGILL.
public struct BuildTarget: Sendable, Hashable, Codable {
    /// `native`, `x86-64-v4`, `x86-64-v3`, `x86-64-v2` or `baseline`.
    public var name: String
    /// ISA extensions (as /proc/cpuinfo names them) the kernels may use.
    public var requiredFlags: [String]

    /// Every extension Package.swift may require, in its order.
    package static let allKnownFlags: [String] = [
        "pni", "ssse3", "sse4_1", "sse4_2", "popcnt", "cx16", "lahf_lm", "abm", "movbe", "xsave", "avx", "avx2", "fma",
        "f16c", "bmi1", "bmi2", "adx", "aes", "pclmulqdq", "sha_ni", "vaes", "vpclmulqdq", "gfni", "rdrand", "rdseed",
        "clflushopt", "clwb", "avx_vnni", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512ifma",
        "avx512vbmi", "avx512_vbmi2", "avx512_vnni", "avx512_bitalg", "avx512_vpopcntdq", "avx512_bf16", "avx512_fp16",
        "amx_tile", "amx_bf16", "amx_int8",
    ]

    /// What this binary was built with.
    public static let current = BuildTarget(name: compiledName, requiredFlags: compiledFlags)

    package static var compiledName: String {
        #if PERWATT_TARGET_NATIVE
            "native"
        #elseif PERWATT_TARGET_X86_64_V4
            "x86-64-v4"
        #elseif PERWATT_TARGET_X86_64_V3
            "x86-64-v3"
        #elseif PERWATT_TARGET_X86_64_V2
            "x86-64-v2"
        #else
            "baseline"
        #endif
    }

    /// One condition per flag in Package.swift's `isaFlags` (a test checks the two lists agree).
    package static var compiledFlags: [String] {
        var flags: [String] = []
        #if PERWATT_REQUIRE_PNI
            flags.append("pni")
        #endif
        #if PERWATT_REQUIRE_SSSE3
            flags.append("ssse3")
        #endif
        #if PERWATT_REQUIRE_SSE4_1
            flags.append("sse4_1")
        #endif
        #if PERWATT_REQUIRE_SSE4_2
            flags.append("sse4_2")
        #endif
        #if PERWATT_REQUIRE_POPCNT
            flags.append("popcnt")
        #endif
        #if PERWATT_REQUIRE_CX16
            flags.append("cx16")
        #endif
        #if PERWATT_REQUIRE_LAHF_LM
            flags.append("lahf_lm")
        #endif
        #if PERWATT_REQUIRE_ABM
            flags.append("abm")
        #endif
        #if PERWATT_REQUIRE_MOVBE
            flags.append("movbe")
        #endif
        #if PERWATT_REQUIRE_XSAVE
            flags.append("xsave")
        #endif
        #if PERWATT_REQUIRE_AVX
            flags.append("avx")
        #endif
        #if PERWATT_REQUIRE_AVX2
            flags.append("avx2")
        #endif
        #if PERWATT_REQUIRE_FMA
            flags.append("fma")
        #endif
        #if PERWATT_REQUIRE_F16C
            flags.append("f16c")
        #endif
        #if PERWATT_REQUIRE_BMI1
            flags.append("bmi1")
        #endif
        #if PERWATT_REQUIRE_BMI2
            flags.append("bmi2")
        #endif
        #if PERWATT_REQUIRE_ADX
            flags.append("adx")
        #endif
        #if PERWATT_REQUIRE_AES
            flags.append("aes")
        #endif
        #if PERWATT_REQUIRE_PCLMULQDQ
            flags.append("pclmulqdq")
        #endif
        #if PERWATT_REQUIRE_SHA_NI
            flags.append("sha_ni")
        #endif
        #if PERWATT_REQUIRE_VAES
            flags.append("vaes")
        #endif
        #if PERWATT_REQUIRE_VPCLMULQDQ
            flags.append("vpclmulqdq")
        #endif
        #if PERWATT_REQUIRE_GFNI
            flags.append("gfni")
        #endif
        #if PERWATT_REQUIRE_RDRAND
            flags.append("rdrand")
        #endif
        #if PERWATT_REQUIRE_RDSEED
            flags.append("rdseed")
        #endif
        #if PERWATT_REQUIRE_CLFLUSHOPT
            flags.append("clflushopt")
        #endif
        #if PERWATT_REQUIRE_CLWB
            flags.append("clwb")
        #endif
        #if PERWATT_REQUIRE_AVX_VNNI
            flags.append("avx_vnni")
        #endif
        #if PERWATT_REQUIRE_AVX512F
            flags.append("avx512f")
        #endif
        #if PERWATT_REQUIRE_AVX512CD
            flags.append("avx512cd")
        #endif
        #if PERWATT_REQUIRE_AVX512BW
            flags.append("avx512bw")
        #endif
        #if PERWATT_REQUIRE_AVX512DQ
            flags.append("avx512dq")
        #endif
        #if PERWATT_REQUIRE_AVX512VL
            flags.append("avx512vl")
        #endif
        #if PERWATT_REQUIRE_AVX512IFMA
            flags.append("avx512ifma")
        #endif
        #if PERWATT_REQUIRE_AVX512VBMI
            flags.append("avx512vbmi")
        #endif
        #if PERWATT_REQUIRE_AVX512_VBMI2
            flags.append("avx512_vbmi2")
        #endif
        #if PERWATT_REQUIRE_AVX512_VNNI
            flags.append("avx512_vnni")
        #endif
        #if PERWATT_REQUIRE_AVX512_BITALG
            flags.append("avx512_bitalg")
        #endif
        #if PERWATT_REQUIRE_AVX512_VPOPCNTDQ
            flags.append("avx512_vpopcntdq")
        #endif
        #if PERWATT_REQUIRE_AVX512_BF16
            flags.append("avx512_bf16")
        #endif
        #if PERWATT_REQUIRE_AVX512_FP16
            flags.append("avx512_fp16")
        #endif
        #if PERWATT_REQUIRE_AMX_TILE
            flags.append("amx_tile")
        #endif
        #if PERWATT_REQUIRE_AMX_BF16
            flags.append("amx_bf16")
        #endif
        #if PERWATT_REQUIRE_AMX_INT8
            flags.append("amx_int8")
        #endif
        return flags
    }

    /// Required extensions missing from `hostFlags` (the `flags` line of /proc/cpuinfo, which
    /// also reflects whether the OS enabled the register state, e.g. XCR0 for AVX-512).
    public func missingFlags(hostFlags: Set<String>) -> [String] {
        requiredFlags.filter { !hostFlags.contains($0) }
    }

    /// The message for a CPU that lacks `missing`.
    public func unsupportedMessage(missing: [String]) -> String {
        """
        perwatt: this binary's kernels were compiled for CPU target '\(name)', which uses \(missing.joined(separator: ", ")), \
        and this CPU (or its hypervisor) does not offer \(missing.count == 1 ? "it" : "them").
          Rebuild on this machine:            swift build -c release
          or build a portable binary:         PERWATT_TARGET_CPU=x86-64-v3 swift build -c release   (AVX2 machines)
                                              PERWATT_TARGET_CPU=baseline swift build -c release    (any x86-64, slow)
        """
    }
}
