import Foundation
import PowerProbe
import Testing

@testable import KernelBench
@testable import PerWattCLI
@testable import PerWattCore

@Suite struct CompareCommandTests {
    static let times = [1.00, 1.02, 0.98, 1.01, 0.99, 1.00, 1.01, 0.99].map { $0 * 1e-3 }

    /// A result with one kernel measured 8 times, one workload using it, no energy.
    static func result(times: [Double], suite: Suite = Suite.builtins[1], basis: String? = nil) -> RunResult {
        let kernel = KernelCase(.perwatt, .q8_0, m: 1, n: 64, k: 64)
        var record = KernelResult(
            kernel, Verification(count: 1, maxAbsoluteError: 0, rmsError: 0, worstRatio: 0, worstIndex: 0))
        record.secondsPerCall = times
        record.medianSecondsPerCall = Statistics.median(times)
        let workload = RunResult.WorkloadRecord(
            model: "tiny", modelName: "Tiny", quantization: "q8_0", layers: 2, parameters: 1, activeParameters: 1,
            weightBytes: 1,
            kvCacheBytes: 1, promptTokens: 4, outputTokens: 1, decodeContext: 4, projected: true, projection: "test",
            parts: [
                .init(phase: "prefill", role: "qkv", kernel: kernel.name, callsPerLayer: 1, callsPerPass: 2),
                .init(phase: "decode", role: "qkv", kernel: kernel.name, callsPerLayer: 1, callsPerPass: 2),
            ],
            prefillFlops: 1, decodeFlopsPerToken: 1)
        return RunResult(
            perwattVersion: "t", complete: true, startedAt: "now", durationSeconds: 1,
            suite: .init(name: suite.name, sha256: suite.sha256, definition: suite),
            settings: .init(threads: 1, minTimeSeconds: 1, repetitions: times.count, idleSeconds: 0),
            fingerprint: .test,
            energy: .init(basis: basis, unavailableReason: basis == nil ? "test" : nil), kernels: [record],
            workloads: [workload], fixtures: [], scores: [], warnings: [])
    }

    /// A result whose one score comes from a per-query fixture graded `correct` (ids q0, q1, …), with
    /// energy at `watts` per repetition when given.
    static func graded(_ correct: [Bool], watts: Double? = nil) -> RunResult {
        var result = Self.result(times: Self.times, basis: watts == nil ? nil : "rapl:package")
        if let watts { result.kernels[0].joulesPerCallByRepetition = Self.times.map { $0 * watts } }
        let byQuery = Dictionary(uniqueKeysWithValues: correct.enumerated().map { ("q\($0.offset)", $0.element) })
        let accuracy = Double(correct.filter { $0 }.count) / Double(correct.count)
        result.fixtures = [
            .init(
                origin: "eval.json", sha256: "x", benchmark: "toy", model: "tiny", quantization: "q8_0", source: "t",
                n: correct.count, accuracy: accuracy, correctByQuery: byQuery)
        ]
        let one = Estimate(value: 1, low: 1, high: 1)
        result.scores = [
            Score(
                model: "tiny", quantization: "q8_0", benchmark: "toy", fixture: "eval.json", n: correct.count,
                accuracy: .init(value: accuracy, low: 0, high: 1), tokenCounts: "t", meanPromptTokens: 4,
                meanOutputTokens: 1,
                layers: 2, secondsPerQuery: one, prefillTokensPerSecond: one, decodeTokensPerSecond: one)
        ]
        return result
    }

    static func write(_ result: RunResult) throws -> String {
        let path = TestFiles.path("perwatt-compare.json").path
        try JSON.encode(result).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func sameBuildNoiseIsNoRegressionAndATenPercentSlowdownIs() throws {
        let base = try Self.write(Self.result(times: Self.times))
        let noise = try Self.write(
            Self.result(times: [0.99, 1.01, 1.00, 1.02, 0.98, 1.01, 0.99, 1.00].map { $0 * 1e-3 }))
        let quiet = CLIHarness.run(["compare", base, noise])
        #expect(quiet.status == .success, "\(quiet.stdout)\(quiet.stderr)")
        #expect(!quiet.stdout.contains("REGRESSED") && quiet.stdout.contains("0 regressed"))

        let slow = try Self.write(Self.result(times: Self.times.map { $0 * 1.1 }))
        let flagged = CLIHarness.run(["compare", base, slow])
        #expect(flagged.status == .regression, "\(flagged.stdout)")
        // The kernel and both phases of the workload built from it: 3 comparisons, all regressed.
        #expect(flagged.stdout.contains("kernel:gemv.q8_0.1x64x64") && flagged.stdout.contains("REGRESSED"))
        #expect(flagged.stdout.contains("3 regressed, 0 improved"), "\(flagged.stdout)")
        #expect(flagged.stdout.contains("geometric mean (time, > 1 is worse): 1.100"))
        // Seen the other way round it is an improvement, and the exit is 0.
        let better = CLIHarness.run(["compare", slow, base])
        #expect(better.status == .success && better.stdout.contains("0 regressed, 3 improved"))
        // A band wider than the slowdown hides it.
        #expect(CLIHarness.run(["compare", base, slow, "--threshold", "15"]).status == .success)
    }

    /// A result written before the energy record was unified (schema /1, windows with `basisJoules`
    /// and `channels` of their own) still reads and compares with a /2 one.
    @Test func aSchema1ResultStillComparesWithASchema2One() throws {
        var old = Self.result(times: [1.0, 1.01, 0.99, 1.0, 1.02])
        old.kernels[0].windows = [
            WindowRecord(calls: 3, durationSeconds: 1.1, energy: EnergyRecord(durationSeconds: 1.1))
        ]
        var object = try #require(
            try JSONSerialization.jsonObject(with: Data(try JSON.encode(old).utf8)) as? [String: Any])
        var kernels = try #require(object["kernels"] as? [[String: Any]])
        kernels[0]["windows"] = [
            ["calls": 3, "durationSeconds": 1.1, "basisJoules": 5.5, "untrusted": true, "channels": []]
        ]
        object["kernels"] = kernels
        object["schema"] = "perwatt.result/1"
        let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let path = RunCommandTests.temporary("old-result.json")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let decoded = try RunResult.load(path)
        #expect(decoded.schema == "perwatt.result/1" && decoded.kernels[0].windows?.first?.energy == nil)
        let new = try Self.write(Self.result(times: [1.0, 1.01, 0.99, 1.0, 1.02]))
        let comparison = CLIHarness.run(["compare", path, new])
        #expect(comparison.status == .success, "\(comparison.stderr)")
        // An unknown schema is still refused.
        object["schema"] = "perwatt.result/9"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        #expect(CLIHarness.run(["compare", path, new]).status == .dataError)
    }

    @Test func everyExportParsesBack() throws {
        let base = try Self.write(Self.result(times: Self.times))
        let slow = try Self.write(Self.result(times: Self.times.map { $0 * 1.1 }))
        let json = CLIHarness.run(["compare", base, slow, "--format", "json"])
        let object = try parseJSON(json.stdout)
        #expect(object["schema"] as? String == "perwatt.compare/1" && object["regressions"] as? Int == 3)
        let csv = CLIHarness.run(["compare", base, slow, "--format", "csv"]).stdout.split(separator: "\n")
        #expect(csv.count == 4 && csv[0].hasPrefix("name,metric,unit,direction,base_median"))
        #expect(
            csv[1].split(separator: ",", omittingEmptySubsequences: false).count == 19 && csv[1].hasSuffix(",regressed")
        )
        let gab =
            try JSONSerialization.jsonObject(
                with: Data(CLIHarness.run(["compare", base, slow, "--format", "github-action-benchmark"]).stdout.utf8))
            as? [String: Any]
        let smaller = try #require(gab?["customSmallerIsBetter"] as? [[String: Any]])
        #expect(
            smaller.count == 3 && smaller[0]["unit"] as? String == "s"
                && abs((smaller[0]["value"] as? Double ?? 0) - 1.1e-3) < 1e-9)
        #expect((gab?["customBiggerIsBetter"] as? [Any])?.isEmpty == true)
        let markdown = CLIHarness.run(["compare", base, slow, "--format", "markdown"]).stdout
        #expect(markdown.hasPrefix("### perwatt compare: 3 regression(s)") && markdown.contains("| NAME | METRIC |"))
    }

    @Test func mismatchedSuitesAndBasesAreRefusedUnlessAllowed() throws {
        let base = try Self.write(Self.result(times: Self.times))
        let otherSuite = try Self.write(Self.result(times: Self.times, suite: Suite.builtins[0]))
        let refused = CLIHarness.run(["compare", base, otherSuite])
        #expect(
            refused.status == .dataError && refused.stderr.contains("is not comparable")
                && refused.stderr.contains("suite: quick"))
        let allowed = CLIHarness.run(["compare", base, otherSuite, "--allow-mismatch"])
        #expect(allowed.status == .success && allowed.stdout.contains("differs: suite: quick"))
        let otherBasis = try Self.write(Self.result(times: Self.times, basis: "rapl:psys"))
        #expect(CLIHarness.run(["compare", base, otherBasis]).stderr.contains("energy basis: none vs rapl:psys"))
        #expect(CLIHarness.run(["compare", base]).status == .usage)
        #expect(CLIHarness.run(["compare", base, base, "--format", "xml"]).status == .usage)
        #expect(CLIHarness.run(["compare", base, "/nonexistent.json"]).status == .noInput)
    }

    @Test func severalRunsPerSidePoolTheirRepetitions() throws {
        let a1 = try Self.write(Self.result(times: Self.times))
        let a2 = try Self.write(Self.result(times: Self.times.map { $0 * 1.01 }))
        let b1 = try Self.write(Self.result(times: Self.times.map { $0 * 1.3 }))
        let b2 = try Self.write(Self.result(times: Self.times.map { $0 * 1.31 }))
        let result = CLIHarness.run(["compare", "\(a1),\(a2)", "\(b1),\(b2)", "--format", "json"])
        #expect(result.status == .regression, "\(result.stderr)")
        let rows = try #require(try parseJSON(result.stdout)["rows"] as? [[String: Any]])
        #expect(rows.first?["baseSamples"] as? Int == 16 && rows.first?["newSamples"] as? Int == 16)
        let other = try Self.write(Self.result(times: Self.times, suite: Suite.builtins[0]))
        let refused = CLIHarness.run(["compare", "\(a1),\(other)", b1])
        #expect(refused.status == .dataError && refused.stderr.contains("cannot be pooled"))
    }

    @Test func colourOnlyWhenAskedOrOnATerminalWithoutNoColor() throws {
        let base = try Self.write(Self.result(times: Self.times))
        let slow = try Self.write(Self.result(times: Self.times.map { $0 * 1.1 }))
        // Captured output is not a terminal: auto means no colour; the verdict is a word either way.
        let plain = CLIHarness.run(["compare", base, slow])
        #expect(!plain.stdout.contains("\u{1B}[") && plain.stdout.contains("REGRESSED"))
        let colored = CLIHarness.run(["compare", base, slow, "--color", "always"])
        #expect(colored.stdout.contains("\u{1B}[1;31mREGRESSED\u{1B}[0m"))
        // The colour codes come after the last column, so the columns line up as without them.
        let strip = colored.stdout.replacingOccurrences(of: "\u{1B}[1;31m", with: "").replacingOccurrences(
            of: "\u{1B}[0m", with: "")
        #expect(strip == plain.stdout)
        #expect(CLIHarness.run(["compare", base, slow, "--color", "sometimes"]).status == .usage)
        // On a terminal: colour, unless NO_COLOR is set.
        for (environment, expectColour) in [([String: String](), true), (["NO_COLOR": "1"], false)] {
            var (context, _, _) = CLIHarness.context(environment: environment)
            let terminal = CapturedSink(isTerminal: true)
            context.stdout = terminal
            _ = PerWattCLI.run(["compare", base, slow], context: context)
            #expect(
                terminal.text.contains("\u{1B}[") == expectColour && terminal.text.contains("REGRESSED"),
                "\(environment)")
        }
    }

    /// Golden output: the seeded bootstrap makes the whole table repeatable to the digit.
    @Test func textAndMarkdownMatchTheirSnapshots() throws {
        let base = try Self.write(Self.result(times: Self.times))
        let slow = try Self.write(Self.result(times: Self.times.map { $0 * 1.1 }))
        func normalized(_ text: String) -> String {
            text.replacingOccurrences(of: base, with: "<base>").replacingOccurrences(of: slow, with: "<new>")
        }
        Snapshot.assert(normalized(CLIHarness.run(["compare", base, slow]).stdout), named: "compare-text")
        Snapshot.assert(
            normalized(CLIHarness.run(["compare", base, slow, "--format", "markdown"]).stdout),
            named: "compare-markdown")
    }

    /// Accuracy of the same 100 queries on both sides: McNemar on the discordant ones.
    @Test func accuracyOnTheSameQueriesUsesMcNemar() throws {
        let base = (0..<100).map { $0 < 70 }
        // 10 queries that were right are now wrong, none the other way: b = 10, c = 0, p = 2·2⁻¹⁰.
        let worse = (0..<100).map { $0 < 60 }
        let basePath = try Self.write(Self.graded(base))
        let worsePath = try Self.write(Self.graded(worse))
        let flagged = CLIHarness.run(["compare", basePath, worsePath, "--format", "json"])
        #expect(flagged.status == .regression)
        let rows = try #require(try parseJSON(flagged.stdout)["rows"] as? [[String: Any]])
        let accuracy = try #require(rows.first { ($0["metric"] as? String)?.hasPrefix("accuracy") == true })
        #expect(
            accuracy["metric"] as? String == "accuracy (same 100 queries)"
                && accuracy["verdict"] as? String == "regressed")
        #expect(abs((accuracy["p"] as? Double ?? 0) - 2.0 / 1024) < 1e-12)
        #expect(abs(((accuracy["ratio"] as? [String: Any])?["value"] as? Double ?? 0) - 60.0 / 70) < 1e-12)
        // Five flips each way: the accuracy is the same and McNemar sees nothing.
        let shuffled = (0..<100).map { ($0 < 65) || (70..<75).contains($0) }
        let quiet = CLIHarness.run(["compare", basePath, try Self.write(Self.graded(shuffled)), "--format", "json"])
        let quietRows = try #require(try parseJSON(quiet.stdout)["rows"] as? [[String: Any]])
        let same = try #require(quietRows.first { ($0["metric"] as? String)?.hasPrefix("accuracy") == true })
        #expect(same["p"] as? Double == 1 && same["verdict"] as? String != "regressed" && quiet.status == .success)
        // Each side's Wilson interval rides along, and the text table shows it.
        let baseLow = try #require((accuracy["baseInterval"] as? [String: Any])?["low"] as? Double)
        let newHigh = try #require((accuracy["newInterval"] as? [String: Any])?["high"] as? Double)
        #expect(
            abs(baseLow - Statistics.wilson(correct: 70, n: 100).low) < 1e-12
                && abs(newHigh - Statistics.wilson(correct: 60, n: 100).high) < 1e-12)
        let text = CLIHarness.run(["compare", basePath, worsePath]).stdout
        let wilson = Statistics.wilson(correct: 70, n: 100)
        #expect(text.contains("0.7 [\(fixed(wilson.low, 3))–\(fixed(wilson.high, 3))]"), "\(text)")
    }

    /// With energy and per-query fixtures on both sides, IPJ's interval is the paired bootstrap over
    /// the common queries and the repetitions together.
    @Test func ipjOnTheSameQueriesUsesThePairedBootstrap() throws {
        let base = (0..<100).map { $0 < 70 }
        let new = (0..<100).map { $0 < 68 }
        let output = CLIHarness.run([
            "compare", try Self.write(Self.graded(base, watts: 50)), try Self.write(Self.graded(new, watts: 50)),
            "--format", "json",
        ])
        let rows = try #require(try parseJSON(output.stdout)["rows"] as? [[String: Any]])
        let ipj = try #require(rows.first { $0["metric"] as? String == "IPJ" })
        let ratio = try #require(ipj["ratio"] as? [String: Any])
        // Joules per query per repetition: 4 prompt tokens × (2 calls × t × 50 W) / 4 + 1 output token × 2 calls × t × 50 W.
        let joules = Self.times.map { 4 * ($0 * 50 * 2 / 4) + $0 * 50 * 2 }
        // The common queries in the order compare pairs them: by id.
        let ids = (0..<100).sorted { "q\($0)" < "q\($1)" }
        let expected = CompareStatistics.pairedEfficiencyRatio(
            baseCorrect: ids.map { base[$0] }, newCorrect: ids.map { new[$0] },
            baseCost: joules, newCost: joules)
        #expect(abs((ratio["value"] as? Double ?? 0) - 68.0 / 70) < 1e-9)
        #expect(
            abs((ratio["low"] as? Double ?? 0) - expected.low) < 1e-9
                && abs((ratio["high"] as? Double ?? 0) - expected.high) < 1e-9)
        // The interval holds the point, and is wider than the accuracy's alone: the repetitions' noise is in it.
        let accuracyOnly = CompareStatistics.pairedEfficiencyRatio(
            baseCorrect: ids.map { base[$0] }, newCorrect: ids.map { new[$0] },
            baseCost: [1], newCost: [1])
        #expect(expected.low < 68.0 / 70 && expected.high > 68.0 / 70)
        #expect(expected.high - expected.low > accuracyOnly.high - accuracyOnly.low)
        #expect(ipj["verdict"] as? String != "improved")
    }
}
