import Foundation
import KernelBench
import ProbeTestSupport
import Synchronization
import Testing

@testable import PerWattCLI
@testable import PerWattCore

/// The reproducers of issue 11, each pinned to the clear error and exit status it now gives.
@Suite struct RobustnessTests {
    static func file(_ name: String, _ text: String) throws -> String {
        let path = RunCommandTests.temporary(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    // MARK: outputs

    @Test func outputOntoADeviceIsWrittenThroughNeverReplaced() throws {
        // /dev/full takes the write and answers ENOSPC: exit 74 with the errno said, the device intact.
        let full = CLIHarness.run(["exec", "--out", "/dev/full", "--energy", "none", "--", "true"])
        #expect(full.status == .ioError)
        #expect(
            full.stderr.contains("perwatt exec: cannot write /dev/full: writing failed after 0 of"), "\(full.stderr)")
        #expect(full.stderr.contains("no space left on device (ENOSPC)"))
        var info = stat()
        #expect(stat("/dev/full", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR, "/dev/full must still be a device")
        // /dev/null takes it and stays a device.
        #expect(CLIHarness.run(["exec", "--out", "/dev/null", "--energy", "none", "--", "true"]).status == .success)
        #expect(stat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
        if getuid() == 0 {
            // The reporter's own reproducer: a device node made with mknod (root only).
            let node = RunCommandTests.temporary("myfull")
            #expect(mknod(node, S_IFCHR | 0o666, dev_t((1 << 8) | 7)) == 0)
            let result = CLIHarness.run(["exec", "--out", node, "--energy", "none", "--", "true"])
            #expect(result.status == .ioError && result.stderr.contains("ENOSPC"), "\(result.stderr)")
            #expect(stat(node, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR, "the node must not be replaced")
        }
    }

    @Test func outputThroughAFIFOIsStreamed() throws {
        let fifo = RunCommandTests.temporary("out.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let received = Mutex("")
        // Foundation's String(contentsOfFile:) does not wait on a FIFO, so the reader is plain open/read.
        let reader = Thread {
            let fd = open(fifo, O_RDONLY)
            guard fd >= 0 else { return }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(fd, &chunk, chunk.count)
                if count <= 0 { break }
                bytes += chunk[..<count]
            }
            close(fd)
            received.withLock { $0 = String(decoding: bytes, as: UTF8.self) }
        }
        reader.start()
        let result = CLIHarness.run(["exec", "--out", fifo, "--energy", "none", "--", "true"])
        #expect(result.status == .success, "\(result.stderr)")
        if result.status != .success {  // release the reader, which waits for a writer
            let fd = open(fifo, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        let deadline = Date().addingTimeInterval(5)
        while received.withLock({ $0.isEmpty }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(received.withLock { $0 }.contains("\"schema\" : \"perwatt.exec/2\""))
        var info = stat()
        #expect(stat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "the FIFO must still be a FIFO")
    }

    @Test func outputRulesForFoldersLinksAndModes() throws {
        let folder = RunCommandTests.temporary("out-folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let refused = CLIHarness.run(["exec", "--out", folder, "--energy", "none", "--", "true"])
        #expect(
            refused.status == .ioError && refused.stderr.contains("cannot write \(folder): is a folder"),
            "\(refused.stderr)")
        // A link to a regular file: the file it points to is replaced, the link stays a link.
        let target = folder + "/target.json"
        let link = folder + "/link.json"
        try "old".write(toFile: target, atomically: true, encoding: .utf8)
        chmod(target, 0o600)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(CLIHarness.run(["exec", "--out", link, "--energy", "none", "--", "true"]).status == .success)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        #expect(try String(contentsOfFile: target, encoding: .utf8).contains("perwatt.exec/2"))
        var info = stat()
        #expect(stat(target, &info) == 0 && info.st_mode & 0o777 == 0o600, "a replaced file keeps its permissions")
        // A dangling link is refused; so is a block device.
        let dangling = folder + "/dangling.json"
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: folder + "/nowhere/x")
        let result = CLIHarness.run(["exec", "--out", dangling, "--energy", "none", "--", "true"])
        #expect(
            result.status == .ioError && result.stderr.contains("symbolic link to a missing file"), "\(result.stderr)")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == [
                "dangling.json", "link.json", "target.json",
            ],
            "no temporary file left behind")
    }

    @Test func namesFromInputFilesAreSafeFileNames() {
        #expect(OutputFile.safeName("../../escaped") == "_/_/escaped".replacingOccurrences(of: "/", with: "_"))
        #expect(
            !OutputFile.safeName("a/b\u{1B}[31m").contains("/") && !OutputFile.safeName("a/b\u{1B}").contains("\u{1B}"))
        #expect(
            OutputFile.safeName("..") == "_" && OutputFile.safeName("") == "unnamed"
                && OutputFile.safeName(".hidden") == "hidden")
        let path = ResultFiles.defaultPath(name: "../../escaped", started: Date(timeIntervalSince1970: 0))
        #expect(
            path.hasPrefix("perwatt-results/") && !path.contains("..") && path.split(separator: "/").count == 2,
            "\(path)")
    }

    // MARK: model specs

    @Test(arguments: [
        (
            #"{"hidden_size":1000000000,"num_hidden_layers":24,"num_attention_heads":14,"num_key_value_heads":2,"intermediate_size":4864,"vocab_size":151936}"#,
            ":1: hidden_size: must be a whole number from 1 to 262144, not 1000000000"
        ),
        (
            #"{"hidden_size":1099511627776,"num_hidden_layers":24,"num_attention_heads":1048576,"intermediate_size":4864,"vocab_size":151936}"#,
            "hidden_size: must be a whole number from 1 to 262144"
        ),
        (
            #"{"hidden_size":2147483648,"num_hidden_layers":2147483648,"num_attention_heads":2147483648,"intermediate_size":2147483648,"vocab_size":2147483648}"#,
            "num_hidden_layers: must be a whole number from 1 to 1024, not 2147483648"
        ),
        (
            #"{"hidden_size":896,"num_hidden_layers":24,"num_attention_heads":14,"intermediate_size":4864,"vocab_size":1e12}"#,
            "vocab_size: must be a whole number from 1 to 4194304, not 1000000000000"
        ),
        (
            #"{"hidden_size":896,"num_hidden_layers":24,"num_attention_heads":14,"intermediate_size":1e12,"vocab_size":151936}"#,
            "intermediate_size: must be a whole number from 1 to 1048576"
        ),
        (
            #"{"hidden_size":896,"num_hidden_layers":24,"num_attention_heads":14,"head_dim":1e9,"intermediate_size":4864,"vocab_size":151936}"#,
            "head_dim: must be a whole number from 1 to 4096"
        ),
        (
            #"{"hidden_size":896,"num_hidden_layers":24,"num_attention_heads":14,"num_local_experts":1e9,"intermediate_size":4864,"vocab_size":151936}"#,
            "num_local_experts: must be a whole number from 1 to 4096"
        ),
        (
            #"{"hidden_size":896,"num_hidden_layers":1e9,"num_attention_heads":14,"intermediate_size":4864,"vocab_size":151936}"#,
            "num_hidden_layers: must be a whole number from 1 to 1024"
        ),
        (
            #"{"hidden_size":896,"num_hidden_layers":24,"num_attention_heads":12,"intermediate_size":4864,"vocab_size":151936}"#,
            "num_attention_heads: (12) does not divide hidden_size (896) and there is no head_dim"
        ),
        (
            #"{"hidden_size":262144,"num_hidden_layers":1024,"num_attention_heads":64,"num_local_experts":4096,"intermediate_size":1048576,"vocab_size":151936}"#,
            "parameters; perwatt accepts at most 100000000000000"
        ),
    ])
    func configsBeyondTheLimitsAreRefusedOnImport(config: String, message: String) throws {
        let directory = RunCommandTests.temporary("models-\(UUID().uuidString)")
        let path = try Self.file("config-\(UUID().uuidString).json", config)
        let result = CLIHarness.run(["models", "import", path], environment: ["PERWATT_MODELS_DIR": directory])
        #expect(result.status == .dataError)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory), "nothing is saved")
    }

    @Test func aBadSavedSpecIsListedAsInvalidNotFatal() throws {
        let directory = RunCommandTests.temporary("models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // What an older perwatt saved: a valid schema with dimensions now out of bounds.
        try
            #"{"schema":"perwatt.model/1","id":"huge","layers":24,"hiddenSize":1000000000,"heads":14,"kvHeads":2,"headDim":64,"ffnSize":4864,"vocabularySize":151936,"tiedEmbeddings":true,"source":"test"}"#
            .write(toFile: directory + "/huge.json", atomically: true, encoding: .utf8)
        try "{not json".write(toFile: directory + "/broken.json", atomically: true, encoding: .utf8)
        let environment = ["PERWATT_MODELS_DIR": directory]
        let listed = CLIHarness.run(["models"], environment: environment)
        #expect(listed.status == .success, "\(listed.stderr)")
        #expect(listed.stdout.contains("INVALID (skipped; fix or delete the file):"))
        #expect(
            listed.stdout.contains(
                "\(directory)/huge.json: line 1: hiddenSize: must be a whole number from 1 to 262144"),
            "\(listed.stdout)")
        #expect(listed.stdout.contains("\(directory)/broken.json: line 1: invalid JSON at column 2"))
        #expect(listed.stdout.contains("qwen2-0.5b"), "the presets are still listed")
        let json = CLIHarness.run(["models", "--json"], environment: environment)
        #expect(json.status == .success && json.stderr.contains("huge.json is not a valid model spec, skipped"))
        // Asking for it by id says what is wrong with its file.
        let run = CLIHarness.run(["run", "--model", "huge", "--quantization", "q4_0"], environment: environment)
        #expect(run.status == .dataError && run.stderr.contains("huge.json:1: hiddenSize: must be"), "\(run.stderr)")
    }

    @Test func runRefusesWhatWouldNotFitInMemory() throws {
        let result = CLIHarness.run(
            ["run", "--suite", "quick", "--prompt-tokens", "1000000", "--energy", "none"],
            availableMemory: 8 << 30)
        #expect(result.status == .insufficientMemory)
        #expect(
            result.stderr.contains("would need about")
                && result.stderr.contains("but only 8.0 GiB is available (MemAvailable in /proc/meminfo)"),
            "\(result.stderr)")
        #expect(result.stderr.contains("--force to try anyway"))
        let kernels = CLIHarness.run(
            ["kernels", "--shape", "100000x100000x100000", "--precision", "f32"], availableMemory: 8 << 30)
        #expect(
            kernels.status == .insufficientMemory && kernels.stderr.contains("kernel gemm.f32.100000x100000x100000"),
            "\(kernels.stderr)")
        // The estimate is not a guess at zero: the standard cases fit in 8 GiB and a 4096² f32 matmul needs ≥ its inputs.
        let matmul = KernelCase(.perwatt, .f32, m: 512, n: 4096, k: 4096)
        #expect(matmul.estimatedPeakBytes(threads: 2) >= Double(4 * 4096 * 4096 + 4 * 512 * 4096 + 4 * 512 * 4096))
        #expect(KernelCatalog.standard().allSatisfy { $0.estimatedPeakBytes(threads: 16) < Double(8 << 30) })
    }

    // MARK: suites

    @Test(arguments: [
        (#""promptTokens": 10000000"#, ":1: promptTokens: must be a whole number from 1 to 1000000, not 10000000"),
        (
            #""promptTokens": 8, "repetitions": 1e9"#,
            "repetitions: must be a whole number from 1 to 1000, not 1000000000"
        ),
        (#""promptTokens": 8, "minTimeSeconds": 1e9"#, "minTimeSeconds: must be a number from 0.001 to 600"),
        (
            #""promptTokens": 8, "kernels": ["gemv.q9.1x1x1"]"#,
            "kernels[0]: \"gemv.q9.1x1x1\" is not a kernel case perwatt has"
        ),
    ])
    func suiteFieldsAreCheckedLikeTheirFlags(fields: String, message: String) throws {
        let suite = try Self.file(
            "suite-\(UUID().uuidString).json",
            """
            {"schema": "perwatt.suite/1", "name": "s", "workloads": [{"model": "qwen2-0.5b", "quantization": "q4_0"}], "outputTokens": 1, \(fields)}
            """)
        let result = CLIHarness.run(["run", "--suite", suite, "--energy", "none"])
        #expect(result.status == .dataError)
        #expect(result.stderr.contains(suite) && result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func aSuiteNamingAnUnknownModelSaysWhereAndWhich() throws {
        let suite = try Self.file(
            "suite-model.json",
            """
            {"schema": "perwatt.suite/1", "name": "s", "promptTokens": 8, "outputTokens": 1,
             "workloads": [{"model": "qwen2-0.5b", "quantization": "q4_0"},
                           {"model": "no-such-model", "quantization": "q4_0"}]}
            """)
        let result = CLIHarness.run(["run", "--suite", suite, "--energy", "none"])
        #expect(result.status == .dataError)
        #expect(
            result.stderr.contains("\(suite):3: workloads[1].model: \"no-such-model\" is not a model perwatt knows"),
            "\(result.stderr)")
    }

    // MARK: input files

    @Test func foldersFIFOsAndDevicesAreNotFilesAndNeverBlock() throws {
        let fifo = RunCommandTests.temporary("in.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        for (path, message) in [
            (fifo, "is a FIFO (named pipe), not a file"), ("/dev/zero", "is a device, not a file"),
            (NSTemporaryDirectory(), "is a folder, not a file"),
        ] {
            let result = CLIHarness.run(["fixture", "validate", path])
            #expect(result.status == .noInput, "\(path)")
            #expect(result.stderr.contains(message) && !result.stderr.contains("permissions"), "\(result.stderr)")
        }
    }

    @Test func messagesEscapeControlCharactersAndCutLongValues() throws {
        let long = String(repeating: "x", count: 50_000)
        let suite = try Self.file(
            "suite-long.json",
            """
            {"schema": "perwatt.suite/1", "name": "s", "promptTokens": 8, "outputTokens": 1,
             "workloads": [{"model": "\(long)", "quantization": "q4_0"}]}
            """)
        let result = CLIHarness.run(["run", "--suite", suite, "--energy", "none"])
        #expect(result.status == .dataError)
        #expect(
            result.stderr.contains("… (50000 characters)") && result.stderr.count < 1000,
            "\(result.stderr.count) characters")
        let escaped = try Self.file(
            "suite-esc.json",
            """
            {"schema": "perwatt.suite/1", "name": "s", "promptTokens": 8, "outputTokens": 1,
             "workloads": [{"model": "a\\u001b[31mred\\u0000", "quantization": "q4_0"}]}
            """)
        let colored = CLIHarness.run(["run", "--suite", escaped, "--energy", "none"])
        #expect(colored.status == .dataError)
        #expect(!colored.stderr.contains("\u{1B}") && !colored.stderr.contains("\u{0}"))
        #expect(colored.stderr.contains("a\\u{1B}[31mred\\u{0}"), "\(colored.stderr)")
        // A raw control character in a JSON string is named by its code point, and the column counts characters.
        let raw = try Self.file("raw.json", "{\"schema\": \"é\u{1}\"}")
        let syntax = CLIHarness.run(["fixture", "validate", raw])
        #expect(
            syntax.stderr.contains(":1: invalid JSON at column 14: control character U+0001 in a string"),
            "\(syntax.stderr)")
    }

    @Test func crlfLinesAreAcceptedInEveryJSONLReader() throws {
        let lines = JSONLines.lines("{\"a\":1}\r\n\r\n  \r\n{\"b\":2}\r\n")
        #expect(lines.map(\.number) == [1, 4] && lines.map { String($0.text) } == ["{\"a\":1}", "{\"b\":2}"])
        let queries = try Self.file(
            "queries-crlf.jsonl",
            "{\"id\": \"q1\", \"prompt\": \"2+2?\", \"expected\": \"4\"}\r\n{\"id\": \"q2\", \"prompt\": \"3+3?\", \"expected\": \"6\"}\r\n"
        )
        let set = try QuerySet.parse(try InputFile.read(queries), file: queries)
        #expect(set.queries.map(\.id) == ["q1", "q2"])
        let bad = "{\"id\": \"q1\", \"prompt\": \"x\", \"expected\": \"4\"}\r\n{\"id\": \"q2\", oops}\r\n"
        #expect(throws: InputError.self) { try QuerySet.parse(bad, file: "q.jsonl") }
        do { _ = try QuerySet.parse(bad, file: "q.jsonl") } catch let error as InputError {
            #expect(error.line == 2 && error.description.contains("column 14"), "\(error)")
        }
    }

    @Test func aMalformedEvalSectionNamesTheLineAndField() throws {
        let fixture = try Self.file(
            "eval-bad.json",
            """
            {"schema": "perwatt.fixture/1", "benchmark": "arithmetic", "model": "stub", "quantization": "q4_0",
             "source": "test",
             "queries": [{"id": "q1", "correct": true}],
             "eval": {"tool": "perwatt eval", "perwattVersion": "0.1.0",
                      "settings": "fast"}}
            """)
        let result = CLIHarness.run(["fixture", "validate", fixture])
        #expect(result.status == .dataError)
        #expect(
            result.stderr.contains("eval-bad.json:5: eval.settings: must be a JSON object, not a string"),
            "\(result.stderr)")
        #expect(!result.stderr.contains("Dictionary<String, Any>"))
    }

    // MARK: energy trees

    /// A copy of the amd-zen powercap fixture, changed by `change`.
    static func brokenTree(_ change: (String) throws -> Void) throws -> String {
        let root = RunCommandTests.temporary("powercap-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: Fixtures.path("powercap/amd-zen"), toPath: root)
        try change(root + "/intel-rapl:0")
        return root
    }

    @Test func aPresentButBrokenRAPLTreeIsAnErrorNotNoEnergy() throws {
        let cases: [(String, (String) throws -> Void, String)] = [
            ("name missing", { try FileManager.default.removeItem(atPath: $0 + "/name") }, "intel-rapl:0"),
            ("name empty", { try "".write(toFile: $0 + "/name", atomically: true, encoding: .utf8) }, "intel-rapl:0"),
            (
                "name banana", { try "banana\n".write(toFile: $0 + "/name", atomically: true, encoding: .utf8) },
                "banana"
            ),
            (
                "energy_uj a FIFO",
                { zone in
                    try FileManager.default.removeItem(atPath: zone + "/energy_uj")
                    #expect(mkfifo(zone + "/energy_uj", 0o644) == 0)
                }, "energy_uj"
            ),
        ]
        for (what, change, named) in cases {
            let root = try Self.brokenTree(change)
            for arguments in [["probe", "--powercap-root", root], ["exec", "--powercap-root", root, "--", "true"]] {
                let started = Date()
                let result = CLIHarness.run(arguments)
                #expect(
                    result.status == .energyUnavailable, "\(what), \(arguments[0]): \(result.status) \(result.stderr)")
                #expect(result.stderr.contains(named), "\(what), \(arguments[0]): \(result.stderr)")
                #expect(Date().timeIntervalSince(started) < 10, "\(what) must not hang")
            }
        }
    }

    // MARK: eval

    @Test func evalTimeoutBoundsABodyThatNeverEnds() throws {
        let server = try StubOpenAIServer { _, _ in .trickle(seconds: 30) }
        defer { server.stop() }
        let out = RunCommandTests.temporary("eval-trickle.json")
        let started = Date()
        let result = CLIHarness.run([
            "eval", "--endpoint", server.endpoint, "--model", "stub", "--queries", "builtin:arithmetic", "--limit", "1",
            "--no-stream", "--timeout", "1", "--retries", "0", "--out", out, "--energy", "none",
        ])
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.status == .unavailable, "\(result.stderr)")
        #expect(elapsed < 5, "abandoned after \(elapsed) s with --timeout 1")
        #expect(try Self.failures(out).first?.contains("no complete answer within 1 s (--timeout)") == true)
    }

    @Test func evalAbandonsAnAnswerLargerThanTheLimit() throws {
        let server = try StubOpenAIServer { _, _ in .flood(bytes: 8 << 20) }
        defer { server.stop() }
        let out = RunCommandTests.temporary("eval-flood.json")
        let result = CLIHarness.run([
            "eval", "--endpoint", server.endpoint, "--model", "stub", "--queries", "builtin:arithmetic", "--limit", "1",
            "--no-stream", "--max-response-bytes", "65536", "--retries", "3", "--out", out, "--energy", "none",
        ])
        #expect(result.status == .unavailable, "\(result.stderr)")
        let failures = try Self.failures(out)
        #expect(
            failures.first?.contains("the answer exceeded 65536 bytes (--max-response-bytes)") == true, "\(failures)")
        #expect(server.received.count == 1, "a too-large answer is not retried")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)).count < 65536, "nothing of it is stored")
    }

    static func failures(_ path: String) throws -> [String] {
        let json = try parseJSON(try String(contentsOfFile: path, encoding: .utf8))
        let failed = (json["eval"] as? [String: Any])?["failed"] as? [[String: Any]] ?? []
        return failed.compactMap { $0["error"] as? String }
    }
}
