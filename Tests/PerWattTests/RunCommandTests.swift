import Foundation
import KernelBench
import PowerProbe
import ProbeTestSupport
import Testing

@testable import PerWattCLI
@testable import PerWattCore

@Suite(.serialized) struct RunCommandTests {
    static func temporary(_ name: String) -> String {
        TestFiles.path("perwatt-run-\(name)").path
    }

    /// A package zone drawing a constant, known power.
    static func fiftyWatts() -> FakeSysfs {
        let sysfs = FakeSysfs()
        sysfs.set("/pc/intel-rapl:0/name", text: "package-0\n")
        sysfs.set("/pc/intel-rapl:0/max_energy_range_uj", text: "262143328850\n")
        sysfs.set("/pc/intel-rapl:0/energy_uj", .counter(ClockCounter(watts: 50, rangeMicrojoules: 262_143_328_850)))
        return sysfs
    }

    /// The whole quick suite end to end on a fake 50 W package: every figure must follow from it.
    @Test func quickSuiteWithAKnownPowerSource() throws {
        let out = Self.temporary("quick.json")
        let result = CLIHarness.run(
            [
                "run", "--suite", "quick", "--json", "--out", out, "--powercap-root", "/pc", "--min-time", "0.01",
                "--repetitions", "3", "--idle", "0.5",
            ], sysfs: Self.fiftyWatts())
        #expect(result.status == .success, "\(result.stderr)")
        let json = try parseJSON(result.stdout)
        let written = try parseJSON(String(contentsOfFile: out, encoding: .utf8))
        #expect(written["schema"] as? String == "perwatt.result/2" && written["complete"] as? Bool == true)
        #expect(json["schema"] as? String == "perwatt.result/2")
        let suite = try #require(json["suite"] as? [String: Any])
        #expect(suite["name"] as? String == "quick" && (suite["sha256"] as? String)?.count == 64)
        let energy = try #require(json["energy"] as? [String: Any])
        #expect(energy["basis"] as? String == "rapl:package")
        let idle = try #require(energy["idle"] as? [String: Any])
        #expect(abs((idle["medianWatts"] as? Double ?? 0) - 50) < 2.5)

        let scores = try #require(json["scores"] as? [[String: Any]])
        #expect(scores.map { "\($0["model"]!) \($0["quantization"]!)" } == ["qwen2-0.5b q8_0", "qwen2-0.5b q4_0"])
        for score in scores {
            func value(_ key: String) -> Double { ((score[key] as? [String: Any])?["value"] as? Double) ?? .nan }
            // The package draws 50 W whatever runs: W per query is 50, J per query is 50 W × s per query.
            #expect(abs(value("wattsPerQuery") - 50) / 50 < 0.05, "\(value("wattsPerQuery")) W")
            #expect(abs(value("joulesPerQuery") - 50 * value("secondsPerQuery")) / value("joulesPerQuery") < 0.05)
            let accuracy = value("accuracy")
            #expect(abs(value("ipj") - accuracy / value("joulesPerQuery")) < 1e-9 * value("ipj"))
            #expect(abs(value("ipw") - accuracy / value("wattsPerQuery")) < 1e-9)
            // Idle is the same 50 W, so net energy is close to zero next to the gross.
            #expect(abs(value("netJoulesPerQuery")) < 0.1 * value("joulesPerQuery"))
            #expect(score["projected"] as? Bool == true && score["layers"] as? Int == 24)
            #expect(score["energyBasis"] as? String == "rapl:package")
        }
        let workloads = try #require(json["workloads"] as? [[String: Any]])
        #expect(workloads.count == 2 && workloads.allSatisfy { $0["fitsInMemory"] as? Bool == true })
        let kernels = try #require(json["kernels"] as? [[String: Any]])
        #expect(kernels.allSatisfy { $0["verified"] as? Bool == true })
        let window = try #require((kernels.first?["windows"] as? [[String: Any]])?.first)
        let windowEnergy = try #require(window["energy"] as? [String: Any])
        #expect(windowEnergy["trusted"] as? Bool == true && windowEnergy["joules"] is Double)
        let channel = try #require((windowEnergy["channels"] as? [[String: Any]])?.first)
        #expect(channel["counterStart"] is Int && channel["counterEnd"] is Int && channel["wraps"] as? Int == 0)
        let fixtures = try #require(json["fixtures"] as? [[String: Any]])
        #expect(fixtures.count == 2 && fixtures.allSatisfy { ($0["sha256"] as? String)?.count == 64 })
    }

    /// A tiny model from a spec file, a fixture file, no energy source: the time figures come out,
    /// the energy ones are absent with the reason, and the table says so.
    @Test func customModelAndFixtureWithoutEnergy() throws {
        let model = Self.temporary("tiny.json")
        try String(decoding: try JSONEncoder().encode(tinyModel), as: UTF8.self).write(
            toFile: model, atomically: true, encoding: .utf8)
        let fixture = Self.temporary("fixture.json")
        try """
        {"schema": "perwatt.fixture/1", "benchmark": "toy", "model": "tiny", "quantization": "q4_0", "source": "test",
         "queries": [{"id": "1", "correct": true, "promptTokens": 8, "outputTokens": 4}, {"id": "2", "correct": false}]}
        """.write(toFile: fixture, atomically: true, encoding: .utf8)
        let out = Self.temporary("tiny-result.json")
        let result = CLIHarness.run([
            "run", "--model", model, "--fixture", fixture, "--out", out, "--min-time", "0.005",
            "--repetitions", "2", "--prompt-tokens", "16", "--output-tokens", "2",
        ])
        #expect(result.status == .success, "\(result.stderr)")
        #expect(result.stdout.contains("energy: none (no energy source found"))
        #expect(result.stdout.contains("tiny   q4_0   toy"), "\(result.stdout)")
        #expect(result.stdout.contains("Ranked by accuracy per second per query (no energy source)"))
        let json = try parseJSON(String(contentsOfFile: out, encoding: .utf8))
        let score = try #require((json["scores"] as? [[String: Any]])?.first)
        #expect(score["ipj"] == nil && score["joulesPerQuery"] == nil)
        #expect((score["energyUnavailableReason"] as? String)?.contains("no energy source found") == true)
        #expect(score["tokenCounts"] as? String == "per query where given (1 of 2), suite default otherwise")
        #expect(score["meanPromptTokens"] as? Double == 12 && score["meanOutputTokens"] as? Double == 3)
        let workload = try #require((json["workloads"] as? [[String: Any]])?.first)
        #expect(workload["promptTokens"] as? Int == 16 && workload["layers"] as? Int == 2)
    }

    @Test func referenceRatiosAndRefusals() throws {
        let workload = try Workload(model: tinyModel, precision: .q8_0, promptTokens: 4, outputTokens: 1)
        let score = Score(
            model: "tiny", quantization: "q8_0", benchmark: "b", fixture: "f", n: 10,
            accuracy: .init(value: 0.5, low: 0.2, high: 0.8),
            tokenCounts: "t", meanPromptTokens: 4, meanOutputTokens: 1, layers: 2,
            secondsPerQuery: .init(value: 1, low: 1, high: 1),
            prefillTokensPerSecond: .init(value: 1, low: 1, high: 1),
            decodeTokensPerSecond: .init(value: 1, low: 1, high: 1),
            energyBasis: "rapl:package", joulesPerQuery: .init(value: 2, low: 2, high: 2),
            wattsPerQuery: .init(value: 2, low: 2, high: 2),
            ipj: .init(value: 0.25, low: 0.2, high: 0.3), ipw: .init(value: 0.25, low: 0.2, high: 0.3),
            tokensPerJoule: .init(value: 2.5, low: 2, high: 3))
        var suite = Suite.builtins[1]
        suite.workloads = [.init(model: "tiny", quantization: "q8_0")]
        var result = RunResult(
            perwattVersion: "t", complete: true, startedAt: "now", durationSeconds: 1,
            suite: .init(name: suite.name, sha256: suite.sha256, definition: suite),
            settings: .init(threads: 1, minTimeSeconds: 1, repetitions: 1, idleSeconds: 0), fingerprint: .test,
            energy: .init(basis: "rapl:package"), kernels: [],
            workloads: [RunResult.WorkloadRecord(workload, memoryBytes: nil)], fixtures: [], scores: [score],
            warnings: [])
        var reference = result
        reference.scores[0].ipj?.value = 0.2
        #expect(RunReport.render(result, reference: reference).contains("1.25×"))
        reference.energy.basis = "rapl:psys"
        #expect(RunReport.render(result, reference: reference).contains("other basis"))

        // On the command line, a reference from another suite is refused before anything is measured.
        result.suite.sha256 = String(repeating: "0", count: 64)
        let file = Self.temporary("reference.json")
        try JSON.encode(result).write(toFile: file, atomically: true, encoding: .utf8)
        let refused = CLIHarness.run([
            "run", "--suite", "quick", "--reference", file, "--out", Self.temporary("x.json"),
        ])
        #expect(refused.status == .dataError)
        #expect(refused.stderr.contains("results of different suites are not compared"), "\(refused.stderr)")
        let notAResult = Self.temporary("not-result.json")
        try "{\"schema\": \"perwatt.fixture/1\"}".write(toFile: notAResult, atomically: true, encoding: .utf8)
        #expect(
            CLIHarness.run(["run", "--suite", "quick", "--reference", notAResult]).stderr.contains(
                "this is not a perwatt run result"))
    }

    @Test(arguments: [
        (["run", "--suite", "nightly"], ExitCode.usage, "--suite takes workstation, quick, quantization or the path"),
        (["run", "--model", "llama-9"], ExitCode.usage, "unknown model 'llama-9'; known: smollm2-135m"),
        (["run", "--suite", "quick", "--quantization", "q5_k"], ExitCode.usage, "'q5_k' is not one"),
        (["run", "--suite", "quick", "--quantization", "f32"], ExitCode.usage, "no workload left to measure"),
        (["run", "--model", "smollm2-135m"], ExitCode.usage, "no fixture names model 'smollm2-135m'"),
        (["run", "--fixture", "/nonexistent/f.json"], ExitCode.noInput, "/nonexistent/f.json: no such file"),
        (["run", "--suite", "/nonexistent/suite.json"], ExitCode.noInput, "no such file"),
    ])
    func usageAndInputErrors(arguments: [String], status: ExitCode, message: String) {
        let result = CLIHarness.run(arguments)
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func suiteFilesAreValidatedWithLines() throws {
        let file = Self.temporary("suite.json")
        try """
        {"schema": "perwatt.suite/1", "name": "mine", "promptTokens": 8, "outputTokens": 1,
         "workloads": [{"model": "qwen2-0.5b", "quantization": "q8_0"},
                       {"model": "qwen2-0.5b", "quantization": "int3"}]}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let result = CLIHarness.run(["run", "--suite", file])
        #expect(result.status == .dataError)
        #expect(
            result.stderr.contains("suite.json:3: workloads[1].quantization: must be one of f32"), "\(result.stderr)")
        // The built-in suites load back from their JSON unchanged, and Benchmarks/suites holds
        // current copies (regenerate with: perwatt run --list-suites --json).
        let benchmarks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Benchmarks/suites")
        let isPreset = { (id: String) in ModelSpec.presets.contains { $0.id == id } }
        for suite in Suite.builtins {
            let copy = Self.temporary("\(suite.name).json")
            try JSON.encode(suite).write(toFile: copy, atomically: true, encoding: .utf8)
            #expect(try Suite.load(copy, isKnownModel: isPreset) == suite)
            #expect(
                try Suite.load(benchmarks.appendingPathComponent("\(suite.name).json").path, isKnownModel: isPreset)
                    == suite,
                "Benchmarks/suites/\(suite.name).json differs from the built-in suite")
        }
    }
}
