import Foundation
import KernelBench
import ProbeTestSupport
import Testing

@testable import PerWattCLI
@testable import PerWattCore

/// A fuzz corpus that stays: mutated inputs of every kind perwatt reads, fed to the real binary in a
/// subprocess. Each outcome must be a documented exit status for that command, a failure must end with
/// one line that starts `perwatt` and names the input, the process must never die of a signal and
/// never grow past a memory bound. The seed is fixed, so a failure reproduces; `PERWATT_FUZZ_SEED`
/// and `PERWATT_FUZZ_ROUNDS` explore further.
@Suite(.serialized) struct FuzzTests {
    /// Resident set size no run may exceed (the inputs are a few KiB; a run that allocates by what a
    /// file says would blow far past it).
    static let memoryBoundKiB = 768 * 1024
    static let seed = UInt64(ProcessInfo.processInfo.environment["PERWATT_FUZZ_SEED"] ?? "") ?? 0x5EED_0011
    static let rounds = Int(ProcessInfo.processInfo.environment["PERWATT_FUZZ_ROUNDS"] ?? "") ?? 40

    /// SplitMix64: small, fast and the same everywhere.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    /// Values that have broken parsers before: huge, negative, fractional, non-finite, control characters,
    /// deep nesting, long strings, separators in names, CRLF.
    static let tokens = [
        "1e12", "1e308", "-1", "0", "2147483648", "9223372036854775808", "1.5", "NaN", "null", "true", "\"\"", "[]",
        "{}",
        "\"../../x\"", "\"\\u0000\"", "\"\\u001b[31m\"", "\"\u{1}\"", "\r\n", "\n", ",", ":", "\"", "[[[[[[[[[[[[",
        "}}}}",
        "\"" + String(repeating: "A", count: 5000) + "\"", "\u{FEFF}", "\"é\"",
        "1" + String(repeating: "0", count: 400),
    ]

    static func mutate(_ text: String, _ random: inout Random) -> String {
        var bytes = Array(text.utf8)
        for _ in 0..<(1 + random.below(3)) {
            let at = random.below(bytes.count + 1)
            switch random.below(6) {
            case 0 where !bytes.isEmpty: bytes[min(at, bytes.count - 1)] = UInt8(truncatingIfNeeded: random.next())
            case 1 where !bytes.isEmpty:
                let end = min(bytes.count, at + 1 + random.below(40))
                bytes.removeSubrange(min(at, end)..<end)
            case 2: bytes.removeSubrange(at...)  // truncated
            case 3, 4:
                // A token in place of a value: after a colon when there is one nearby.
                let colon = bytes[at...].firstIndex(of: UInt8(ascii: ":")).map { $0 + 1 } ?? at
                let end = bytes[colon...].firstIndex { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "}") } ?? colon
                bytes.replaceSubrange(colon..<end, with: Array(tokens[random.below(tokens.count)].utf8))
            default:
                let length = min(bytes.count - min(at, bytes.count), 1 + random.below(200))
                bytes.insert(
                    contentsOf: bytes[min(at, bytes.count)..<(min(at, bytes.count) + length)], at: min(at, bytes.count))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    struct Outcome {
        var status: Int32?
        var signal: Int32?
        var stderr: String
        var maxRSSKiB: Int
        var timedOut: Bool
    }

    /// Runs the binary with `arguments`, stdout discarded, killed after `seconds`.
    static func run(_ arguments: [String], environment: [String: String], seconds: Double = 20) -> Outcome {
        let errPath = RunCommandTests.temporary("fuzz-stderr-\(UUID().uuidString)")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let argv: [UnsafeMutablePointer<CChar>?] = ([BinaryTests.binary] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid = pid_t()
        guard posix_spawn(&pid, BinaryTests.binary, &actions, nil, argv, envp) == 0 else {
            return Outcome(status: nil, signal: nil, stderr: "spawn failed", maxRSSKiB: 0, timedOut: false)
        }
        var status: Int32 = 0
        var usage = rusage()
        let deadline = Date().addingTimeInterval(seconds)
        var timedOut = false
        // The peak is the child's own VmHWM, polled: wait4's ru_maxrss would count this test process too,
        // because posix_spawn's vfork-style child shares our address space until it execs.
        var peakKiB = 0
        while true {
            if let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
            {
                peakKiB = max(peakKiB, kib)
            }
            let done = wait4(pid, &status, WNOHANG, &usage)
            if done == pid { break }
            if Date() > deadline && !timedOut {
                timedOut = true
                kill(pid, SIGKILL)
            }
            usleep(2000)
        }
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        unlink(errPath)
        let signaled = status & 0x7f != 0
        return Outcome(
            status: signaled ? nil : (status >> 8) & 0xff, signal: signaled ? status & 0x7f : nil, stderr: stderr,
            maxRSSKiB: peakKiB, timedOut: timedOut)
    }

    /// One kind of input: its seed text, the file name it is written as, the command that reads it and
    /// the exit statuses that command documents.
    struct Kind {
        var name: String
        var fileName: String
        var seed: String
        var command: (String) -> [String]
        var allowed: Set<Int32>
    }

    static func kinds() throws -> [Kind] {
        let fixture = BuiltinFixtures.texts[0].json
        let result = try JSON.encode(CompareCommandTests.result(times: [1, 1.1, 0.9]))
        let sample =
            [LMEvalImportTests.sample(0, acc: 1), LMEvalImportTests.sample(1, acc: 0)].joined(separator: "\n") + "\n"
        let lmResults =
            #"{"results": {"mmlu": {"acc,none": 0.5, "acc_stderr,none": 0.1, "alias": "mmlu"}}, "n-samples": {"mmlu": {"original": 10, "effective": 10}}, "config": {"model": "hf"}}"#
        let suite = try JSON.encode(Suite.builtins[1])
        let spec = try JSON.encode(ModelSpec.presets[0])
        let config =
            #"{"model_type": "qwen2", "hidden_size": 896, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2, "intermediate_size": 4864, "vocab_size": 151936, "tie_word_embeddings": true}"#
        let queries =
            BuiltinQuerySets.arithmetic.queries.prefix(3).map { (try? JSON.encode($0, pretty: false)) ?? "" }.joined(
                separator: "\n") + "\n"
        let importArguments = [
            "--model", "m", "--quantization", "q4_0", "--out", RunCommandTests.temporary("fuzz-import.json"),
        ]
        return [
            Kind(
                name: "fixture", fileName: "fixture.json", seed: fixture, command: { ["fixture", "validate", $0] },
                allowed: [0, 65, 66]),
            Kind(
                name: "eval fixture", fileName: "eval.json", seed: try evalFixture(), command: { ["report", $0] },
                allowed: [0, 65, 66]),
            Kind(
                name: "lm-eval samples", fileName: "samples_mmlu_2024-06-01T10-00-00.jsonl", seed: sample,
                command: { ["fixture", "import", "--from", "lm-eval", $0] + importArguments }, allowed: [0, 65, 66]),
            Kind(
                name: "lm-eval results", fileName: "results_2024-06-01T10-00-00.json", seed: lmResults,
                command: { ["fixture", "import", "--from", "lm-eval", $0] + importArguments }, allowed: [0, 65, 66]),
            Kind(
                name: "suite", fileName: "suite.json", seed: suite,
                command: { ["run", "--suite", $0, "--dry-run", "--energy", "none"] }, allowed: [0, 65, 66, 71]),
            Kind(
                name: "model spec", fileName: "spec.json", seed: spec,
                command: { ["models", "import", $0, "--id", "fuzzed"] }, allowed: [0, 64, 65, 66]),
            Kind(
                name: "config.json", fileName: "config.json", seed: config, command: { ["models", "import", $0] },
                allowed: [0, 64, 65, 66]),
            Kind(
                name: "result", fileName: "result.json", seed: result, command: { ["compare", $0, $0] },
                allowed: [0, 1, 65, 66]),
            Kind(
                name: "query set", fileName: "queries.jsonl", seed: queries,
                command: {
                    [
                        "eval", "--queries", $0, "--endpoint", "http://127.0.0.1:1", "--model", "m", "--energy", "none",
                        "--retries", "0",
                        "--timeout", "1", "--out", RunCommandTests.temporary("fuzz-eval-out.json"),
                    ]
                },
                allowed: [65, 66, 75]),
        ]
    }

    /// A small eval fixture, made by perwatt eval against the stub server.
    static func evalFixture() throws -> String {
        let server = try StubOpenAIServer { request, _ in .answer(EvalCommandTests.arithmetic(request)) }
        defer { server.stop() }
        let out = RunCommandTests.temporary("fuzz-seed-eval.json")
        let made = CLIHarness.run([
            "eval", "--endpoint", server.endpoint, "--model", "stub", "--queries", "builtin:arithmetic", "--limit", "3",
            "--out", out, "--energy", "none",
        ])
        guard made.status == .success else { throw InputError(file: out, message: "seed eval failed: \(made.stderr)") }
        return try String(contentsOfFile: out, encoding: .utf8)
    }

    /// Checks one outcome; returns a description of what was wrong, or nil.
    static func judge(_ outcome: Outcome, allowed: Set<Int32>, names: String) -> String? {
        if outcome.timedOut { return "did not finish in time" }
        if let signal = outcome.signal { return "died of signal \(signal)\n\(outcome.stderr.suffix(2000))" }
        if outcome.maxRSSKiB > memoryBoundKiB { return "grew to \(outcome.maxRSSKiB / 1024) MiB" }
        guard let status = outcome.status, allowed.contains(status) else {
            return
                "exit \(outcome.status.map(String.init) ?? "?") is not one of \(allowed.sorted())\n\(outcome.stderr.suffix(2000))"
        }
        if status != 0 && status != 1 && status != 75 {
            let lines = outcome.stderr.split(separator: "\n", omittingEmptySubsequences: true)
            let error = status == 64 ? lines.first : lines.last
            guard let error, error.hasPrefix("perwatt") else {
                return "no perwatt error line:\n\(outcome.stderr.suffix(2000))"
            }
            if status != 64 && !error.contains(names) {
                return "the error does not name \(names): \(error.prefix(300))"
            }
            if error.count > Message.messageLimit + 200 { return "an error line of \(error.count) characters" }
            if error.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" }) {
                return "a raw control character in: \(error.prefix(300))"
            }
        }
        return nil
    }

    @Test func mutatedInputFilesGiveDocumentedExitsAndOneLineErrors() throws {
        var random = Random(state: Self.seed)
        let models = RunCommandTests.temporary("fuzz-models")
        let environment = [
            "PERWATT_MODELS_DIR": models, "PERWATT_HWMON_ROOT": Fixtures.path("hwmon/missing"),
            "PERWATT_POWERCAP_ROOT": Fixtures.path("powercap/missing"),
        ]
        var problems: [String] = []
        for kind in try Self.kinds() {
            for round in 0..<Self.rounds {
                let folder = RunCommandTests.temporary("fuzz-\(round)-\(UUID().uuidString)")
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                let path = folder + "/" + kind.fileName
                let text = round == 0 ? kind.seed : Self.mutate(kind.seed, &random)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                let outcome = Self.run(kind.command(path), environment: environment)
                if round == 0 && outcome.status != 0 && kind.name != "query set" {
                    problems.append("\(kind.name): the unmutated seed fails: \(outcome.stderr.prefix(500))")
                }
                if let problem = Self.judge(outcome, allowed: kind.allowed, names: path) {
                    problems.append(
                        "\(kind.name) round \(round) (seed \(Self.seed)): \(problem)\n  input: \(text.prefix(400).debugDescription)"
                    )
                }
            }
            // Whatever was imported, listing the models still works.
            let listed = Self.run(["models"], environment: environment)
            if listed.status != 0 {
                problems.append(
                    "after fuzzing \(kind.name), perwatt models exits \(listed.status.map(String.init) ?? "by a signal"): \(listed.stderr.prefix(500))"
                )
            }
        }
        #expect(
            problems.isEmpty,
            Comment(rawValue: "\(problems.count) problems:\n" + problems.prefix(10).joined(separator: "\n\n")))
    }

    /// GGUF files, mutated as bytes: flipped bytes, cuts, and huge 64-bit values over counts, lengths,
    /// dimensions and offsets. `gguf info` and `models import` must read or refuse them (0 or 65).
    @Test func mutatedGGUFFilesAreReadOrRefused() throws {
        var random = Random(state: Self.seed ^ 0x6647_5546)
        let seed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: GGUFCommandTests.tiny)))
        let models = RunCommandTests.temporary("fuzz-gguf-models")
        var problems: [String] = []
        for round in 0..<Self.rounds {
            var bytes = seed
            var did: [String] = []
            for _ in 0..<(1 + random.below(3)) {
                let at = random.below(bytes.count)
                switch random.below(4) {
                case 0:
                    bytes[at] = UInt8(truncatingIfNeeded: random.next())
                    did.append("byte \(at) changed")
                case 1:
                    bytes.removeSubrange(at...)
                    did.append("cut at \(at)")
                default:
                    let offset = at / 8 * 8
                    guard offset + 8 <= bytes.count else { continue }
                    let value = [UInt64.max, 1 << 40, UInt64(Int32.max), 0][random.below(4)]
                    withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + 8), with: $0) }
                    did.append("\(value) at \(offset)")
                }
                if bytes.isEmpty { break }
            }
            let path = RunCommandTests.temporary("fuzz-\(round)-\(UUID().uuidString).gguf")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            for arguments in [["gguf", "info", path], ["models", "import", path]] {
                let outcome = Self.run(arguments, environment: ["PERWATT_MODELS_DIR": models])
                if let problem = Self.judge(outcome, allowed: [0, 65], names: path) {
                    problems.append("\(arguments[0]) round \(round) (\(did.joined(separator: ", "))): \(problem)")
                }
            }
        }
        #expect(
            problems.isEmpty,
            Comment(rawValue: "\(problems.count) problems:\n" + problems.prefix(10).joined(separator: "\n\n")))
    }

    /// A random-weight model file (KernelBenchTests/Model/tiny-llama.gguf), mutated mostly in its header,
    /// metadata and tensor descriptions, through everything that reads a model: the tokenizer, the
    /// transformer (`generate`) and the requantizer (`gguf quantize`). Each run is a clear error or a
    /// success, never a trap, a hang or a runaway allocation.
    @Test func mutatedModelFilesAreRunOrRefused() throws {
        var random = Random(state: Self.seed ^ 0x4D4F_4445)
        let seedPath = GenerateCommandTests.model("tiny-llama.gguf")
        let seed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: seedPath)))
        let header = try GGUFFile(path: seedPath).dataOffset
        var problems: [String] = []
        for round in 0..<max(1, Self.rounds / 2) {
            var bytes = seed
            var did: [String] = []
            for _ in 0..<(1 + random.below(3)) {
                // Three mutations in four land before the tensor data, where the structure is.
                let at = random.below(4) == 0 ? random.below(bytes.count) : random.below(min(header, bytes.count))
                switch random.below(3) {
                case 0:
                    bytes[at] = UInt8(truncatingIfNeeded: random.next())
                    did.append("byte \(at) changed")
                case 1:
                    bytes.removeSubrange(at...)
                    did.append("cut at \(at)")
                default:
                    let offset = at / 4 * 4
                    guard offset + 4 <= bytes.count else { continue }
                    let value = [UInt32.max, 1 << 30, 0, 0x7FC0_0000][random.below(4)]
                    withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + 4), with: $0) }
                    did.append("\(value) at \(offset)")
                }
                if bytes.isEmpty { break }
            }
            let path = RunCommandTests.temporary("fuzz-model-\(round)-\(UUID().uuidString).gguf")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            for arguments in [
                ["gguf", "tokenize", path, "--text", "the word of it"],
                ["generate", path, "--prompt", "the word", "--max-tokens", "2", "--energy", "none", "--threads", "2"],
                ["gguf", "quantize", path, RunCommandTests.temporary("fuzz-model-out.gguf"), "--type", "q4_1"],
            ] {
                let outcome = Self.run(arguments, environment: [:])
                if let problem = Self.judge(outcome, allowed: [0, 65], names: path) {
                    problems.append("\(arguments[1]) round \(round) (\(did.joined(separator: ", "))): \(problem)")
                }
            }
        }
        #expect(
            problems.isEmpty,
            Comment(rawValue: "\(problems.count) problems:\n" + problems.prefix(10).joined(separator: "\n\n")))
    }

    @Test func mutatedEnergyTreesGiveDocumentedExits() throws {
        var random = Random(state: Self.seed ^ 0xE4E4)
        let trees = [
            ("powercap", "amd-zen", "--powercap-root", "rapl"),
            ("powercap", "intel-2socket", "--powercap-root", "rapl"),
            ("hwmon", "amd-energy", "--hwmon-root", "hwmon"), ("hwmon", "power-only", "--hwmon-root", "hwmon"),
        ]
        let contents = [
            "", "banana", "-1", "18446744073709551616", "1e12", "0", "\u{0}\u{1B}", String(repeating: "9", count: 5000),
            "package-0", "core",
        ]
        var problems: [String] = []
        for (kind, name, option, source) in trees {
            for round in 0..<Self.rounds {
                let root = RunCommandTests.temporary("fuzz-tree-\(UUID().uuidString)")
                try FileManager.default.copyItem(atPath: Fixtures.path("\(kind)/\(name)"), toPath: root)
                let files = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter {
                    var isDirectory: ObjCBool = false
                    return FileManager.default.fileExists(atPath: root + "/" + $0, isDirectory: &isDirectory)
                        && !isDirectory.boolValue
                }.sorted()
                guard !files.isEmpty else { continue }
                let victim = root + "/" + files[random.below(files.count)]
                var did = ""
                switch round == 0 ? -1 : random.below(5) {
                case -1: did = "nothing"
                case 0:
                    try FileManager.default.removeItem(atPath: victim)
                    did = "removed \(victim)"
                case 1:
                    try FileManager.default.removeItem(atPath: victim)
                    mkfifo(victim, 0o644)
                    did = "FIFO at \(victim)"
                case 2:
                    try FileManager.default.removeItem(atPath: victim)
                    try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: false)
                    did = "folder at \(victim)"
                default:
                    let content = contents[random.below(contents.count)]
                    try content.write(toFile: victim, atomically: true, encoding: .utf8)
                    did = "\(victim) = \(content.prefix(20).debugDescription)"
                }
                for arguments in [
                    ["probe", "--energy", source, option, root],
                    ["exec", "--energy", source, option, root, "--interval", "20", "--", "true"],
                ] {
                    let outcome = Self.run(
                        arguments,
                        environment: [
                            "PERWATT_HWMON_ROOT": Fixtures.path("hwmon/missing"),
                            "PERWATT_POWERCAP_ROOT": Fixtures.path("powercap/missing"),
                        ], seconds: 15)
                    if let problem = Self.judge(outcome, allowed: [0, 69, 77], names: root) {
                        problems.append("\(kind)/\(name) \(arguments[0]) round \(round) (\(did)): \(problem)")
                    }
                }
            }
        }
        #expect(
            problems.isEmpty,
            Comment(rawValue: "\(problems.count) problems:\n" + problems.prefix(10).joined(separator: "\n\n")))
    }
}
