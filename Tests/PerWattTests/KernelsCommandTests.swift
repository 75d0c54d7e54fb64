import Foundation
import PowerProbe
import ProbeTestSupport
import Testing

@testable import PerWattCLI
@testable import PerWattCore

@Suite(.serialized) struct KernelsCommandTests {
    @Test func verifyOnlyChecksEveryVariantAndPasses() {
        let result = CLIHarness.run(["kernels", "--verify-only", "--threads", "2"])
        #expect(result.status == .success, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("All 44 kernels match their references."))
        for precision in ["f32", "f16", "bf16", "q8_0", "q4_0"] {
            #expect(result.stdout.contains("gemm.\(precision).130x45x"))
        }
        #expect(result.stdout.contains("openblas.sgemm.f32.7x33x129"))
        #expect(result.stdout.contains("attention.decode.f32.t1.l129.h32.kv8.d128"))
        #expect(result.stdout.contains("attention.prefill.f32.t17.l17.h2.kv2.d128.full"))
        #expect(!result.stdout.contains("MISMATCH"))
    }

    @Test func listAndFilters() {
        let list = CLIHarness.run(["kernels", "--list", "--precision", "q4_0"])
        #expect(list.status == .success)
        #expect(list.stdout == "gemv.q4_0.1x4096x4096\ngemm.q4_0.8x4096x4096\n")
        #expect(CLIHarness.run(["kernels", "--list", "--filter", "openblas"]).stdout.split(separator: "\n").count == 4)
        #expect(
            CLIHarness.run(["kernels", "--list", "--filter", "attention"]).stdout
                == "attention.prefill.f32.t512.l512.h32.kv32.d128\nattention.decode.f32.t1.l4096.h32.kv8.d128\n")
    }

    @Test func measuresTimeAndEnergyPerCallWithAKnownPowerSource() throws {
        let sysfs = FakeSysfs()
        sysfs.set("/pc/intel-rapl:0/name", text: "package-0\n")
        sysfs.set("/pc/intel-rapl:0/max_energy_range_uj", text: "262143328850\n")
        sysfs.set("/pc/intel-rapl:0/energy_uj", .counter(ClockCounter(watts: 50, rangeMicrojoules: 262_143_328_850)))
        let result = CLIHarness.run(
            [
                "kernels", "--json", "--shape", "1x96x320", "--precision", "q8_0", "--min-time", "0.05",
                "--repetitions", "3", "--powercap-root", "/pc",
            ], sysfs: sysfs)
        #expect(result.status == .success, "\(result.stderr)")
        let json = try parseJSON(result.stdout)
        #expect(json["schema"] as? String == "perwatt.kernels/1")
        #expect(json["energyBasis"] as? String == "rapl:package")
        let kernels = try #require(json["kernels"] as? [[String: Any]])
        let kernel = try #require(kernels.first)
        #expect(kernels.count == 1 && kernel["name"] as? String == "gemv.q8_0.1x96x320")
        #expect(kernel["verified"] as? Bool == true)
        let seconds = try #require(kernel["medianSecondsPerCall"] as? Double)
        let joules = try #require(kernel["joulesPerCall"] as? Double)
        // The fake package draws 50 W whatever runs, so energy per call is 50 W × time per call.
        #expect(abs(joules / seconds - 50) / 50 < 0.05, "\(joules) J per call over \(seconds) s")
        #expect(abs((kernel["averageWatts"] as? Double ?? 0) - 50) / 50 < 0.05)
        #expect((kernel["gflopsPerSecond"] as? Double ?? 0) > 0)
        #expect(json["peakF32FlopsPerSecond"] as? Double == 100e9 && json["triadBytesPerSecond"] as? Double == 20e9)
        #expect(
            abs((kernel["percentOfPeak"] as? Double ?? 0) - 100 * (kernel["gflopsPerSecond"] as? Double ?? 0) / 100)
                < 1e-9)
    }

    @Test func withoutEnergyTheEnergyFieldsAreAbsent() throws {
        let result = CLIHarness.run([
            "kernels", "--json", "--shape", "3x17x40", "--precision", "f32,f16", "--min-time", "0.02", "--repetitions",
            "1",
        ])
        #expect(result.status == .success)
        let json = try parseJSON(result.stdout)
        #expect(json["energyBasis"] == nil)
        #expect((json["energyUnavailableReason"] as? String)?.contains("no energy source found") == true)
        let kernels = try #require(json["kernels"] as? [[String: Any]])
        #expect(
            kernels.map { $0["name"] as? String } == [
                "gemm.f32.3x17x40", "openblas.sgemm.f32.3x17x40", "gemm.f16.3x17x40",
            ])
        let kernel = try #require(kernels.first)
        #expect(kernel["joulesPerCall"] == nil && kernel["averageWatts"] == nil)
        #expect(kernel["medianSecondsPerCall"] is Double)
    }

    @Test func measuresAnAttentionShapeWithItsFlopsAndBytes() throws {
        let result = CLIHarness.run([
            "kernels", "--json", "--attention", "1x100x4x2x16,20x20x2x1x8", "--min-time", "0.02", "--repetitions", "2",
        ])
        #expect(result.status == .success, "\(result.stderr)")
        let json = try parseJSON(result.stdout)
        let kernels = try #require(json["kernels"] as? [[String: Any]])
        #expect(
            kernels.map { $0["name"] as? String } == [
                "attention.decode.f32.t1.l100.h4.kv2.d16", "attention.prefill.f32.t20.l20.h2.kv1.d8",
            ])
        #expect(
            kernels.allSatisfy {
                $0["verified"] as? Bool == true && $0["medianSecondsPerCall"] is Double && $0["m"] == nil
            })
        // Decode: 4 heads × 100 keys × 4·16 FLOPs; bytes: Q and out (2·4·16 floats) + K and V (2·100·2·16) × 4 B.
        #expect(kernels[0]["flops"] as? Double == 25_600 && kernels[0]["bytes"] as? Double == 26_112)
        // Prefill, causal: 2 heads × (1 + … + 20) = 420 pairs × 32 FLOPs.
        #expect(kernels[1]["flops"] as? Double == 13_440)
        let fields = try #require(kernels[0]["attention"] as? [String: Any])
        #expect(fields["kvHeads"] as? Int == 2 && fields["causal"] as? Bool == true)
    }

    @Test(arguments: [
        (["kernels", "--precision", "f64"], "'f64' is not one"),
        (["kernels", "--filter", "nothing-matches"], "no kernel case matches"),
        (["kernels", "--threads", "0"], "--threads takes a whole number from 1 to 1024"),
        (["kernels", "--min-time", "0"], "--min-time takes a number of seconds"),
        (["kernels", "--shape", "1x2"], "--shape takes MxNxK"),
        (["kernels", "--shape", "0x2x3"], "not '0x2x3'"),
        (["kernels", "--attention", "1x4096x32x8"], "--attention takes TxLxHxKVxD"),
        (["kernels", "--attention", "1x64x6x4x64"], "must be a multiple of Hkv = 4"),
        (["kernels", "--attention", "9x8x2x2x64"], "cannot exceed L = 8 keys"),
    ])
    func usageErrors(arguments: [String], message: String) {
        let result = CLIHarness.run(arguments)
        #expect(result.status == .usage)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
