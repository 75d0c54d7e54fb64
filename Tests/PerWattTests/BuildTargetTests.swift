import Foundation
import ProbeTestSupport
import Testing

@testable import PerWattCLI
@testable import PerWattCore

@Suite struct BuildTargetTests {
    @Test func missingExtensionsAreListedAndExplained() {
        let target = BuildTarget(name: "x86-64-v4", requiredFlags: ["avx2", "fma", "avx512f", "avx512bw"])
        let missing = target.missingFlags(hostFlags: ["avx2", "fma", "sse2"])
        #expect(missing == ["avx512f", "avx512bw"])
        let message = target.unsupportedMessage(missing: missing)
        #expect(message.contains("x86-64-v4") && message.contains("avx512f, avx512bw"))
        #expect(message.contains("PERWATT_TARGET_CPU=x86-64-v3 swift build -c release"))
        #expect(target.missingFlags(hostFlags: ["avx2", "fma", "avx512f", "avx512bw"]).isEmpty)
    }

    @Test func theCLIRefusesACPUWithoutTheBuildsInstructions() {
        let (context, _, stderr) = CLIHarness.context()
        var refusing = context
        refusing.hostCPUFlags = { [] }
        let status = PerWattCLI.run(["probe"], context: refusing)
        if BuildTarget.current.requiredFlags.isEmpty {
            #expect(status == .success, "a baseline build runs anywhere")
        } else {
            #expect(status == .unsupportedCPU)
            #expect(stderr.text.contains("does not offer"))
        }
    }

    @Test func conditionTableMatchesPackageSwift() throws {
        // Package.swift's isaFlags and BuildTarget.allKnownFlags must list the same extensions in the
        // same order, or a required extension would silently go unchecked.
        let manifest = try String(contentsOfFile: Fixtures.root + "/../../Package.swift", encoding: .utf8)
        let start = try #require(manifest.range(of: "let isaFlags = ["))
        let end = try #require(manifest[start.upperBound...].firstIndex(of: "]"))
        let names = manifest[start.upperBound..<end].split(separator: "\"").enumerated()
            .filter { $0.offset % 2 == 1 }.map { String($0.element) }
        #expect(names == BuildTarget.allKnownFlags)
        #expect(Set(BuildTarget.current.requiredFlags).isSubset(of: Set(names)))
    }

    @Test func cpuinfoParsing() {
        let cpuinfo = """
            processor\t: 0
            model name\t: AMD EPYC 9654 96-Core Processor
            flags\t\t: fpu sse2 avx2 fma avx512f hypervisor

            """
        #expect(CPUInfo.model(cpuinfo: cpuinfo) == "AMD EPYC 9654 96-Core Processor")
        #expect(CPUInfo.flags(cpuinfo: cpuinfo) == ["fpu", "sse2", "avx2", "fma", "avx512f", "hypervisor"])
        #expect(CPUInfo.memoryBytes(meminfo: "MemTotal:       24576000 kB\nMemFree: 1 kB\n") == 24_576_000 * 1024)
        #expect(CPUInfo.flags(cpuinfo: "processor: 0\n") == nil)
    }
}
