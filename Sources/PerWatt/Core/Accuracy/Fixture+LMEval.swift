import Foundation

/// Reads lm-evaluation-harness output into a fixture.
///
/// Formats, from lm-eval's `evaluator.py` and `EvaluationTracker` (0.4.x):
/// - `samples_<task>_<date>.jsonl` (`--log_samples`): one JSON object per line and per filter, with
///   `doc_id`, `filter`, `metrics` (the metric names) and each metric's value as a top-level member
///   (`"acc": 1.0`, `"exact_match": 0.0`).
/// - `results_<date>.json`: `results[task]["<metric>,<filter>"]` (e.g. `"acc,none": 0.61`),
///   `n-samples[task].effective`, `config.model_args`, `lm_eval_version`.
/// A directory is searched (recursively) for samples files, else for results files. Per-sample logs
/// carry no token counts, so imported queries have none and scores use the stated defaults.
package enum LMEvalImport {
    package struct Options {
        package var model: String
        package var quantization: String
        package var benchmark: String?
        package var task: String?
        package var metric: String?
        package var filter: String?

        package init(
            model: String, quantization: String, benchmark: String? = nil, task: String? = nil, metric: String? = nil,
            filter: String? = nil
        ) {
            self.model = model
            self.quantization = quantization
            self.benchmark = benchmark
            self.task = task
            self.metric = metric
            self.filter = filter
        }
    }

    package static func load(_ path: String, options: Options) throws -> Fixture {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(file: path, message: "no such file or directory", unreadable: true)
        }
        var samples: [String] = []
        var results: [String] = []
        if isDirectory.boolValue {
            let enumerator = FileManager.default.enumerator(atPath: path)
            while let relative = enumerator?.nextObject() as? String {
                let name = (relative as NSString).lastPathComponent
                if name.hasPrefix("samples_") && name.hasSuffix(".jsonl") { samples.append(path + "/" + relative) }
                if name.hasPrefix("results") && name.hasSuffix(".json") { results.append(path + "/" + relative) }
            }
            samples.sort()
            results.sort()
            guard !samples.isEmpty || !results.isEmpty else {
                throw InputError(file: path, message: "holds no lm-eval samples_*.jsonl or results*.json files")
            }
        } else if path.hasSuffix(".jsonl") {
            samples = [path]
        } else {
            results = [path]
        }
        if let task = options.task {
            samples = samples.filter { taskName(ofSamplesFile: $0) == task }
            if samples.isEmpty && results.isEmpty {
                throw InputError(file: path, message: "has no samples file for task '\(shown(task))'")
            }
        }
        return samples.isEmpty ? try fromResults(results, options: options) : try fromSamples(samples, options: options)
    }

    /// `samples_mmlu_anatomy_2024-05-01T12-00-00.123.jsonl` → `mmlu_anatomy`.
    package static func taskName(ofSamplesFile path: String) -> String {
        var name = (path as NSString).lastPathComponent
        name = String(name.dropFirst("samples_".count).dropLast(".jsonl".count))
        if let range = name.range(of: #"_\d{4}-\d{2}-\d{2}T[\d\-.:]+$"#, options: .regularExpression) {
            name.removeSubrange(range)
        }
        return name
    }

    package static func fromSamples(_ files: [String], options: Options) throws -> Fixture {
        var queries: [Fixture.Query] = []
        var metricUsed: String?
        var filtersUsed = Set<String>()
        let tasks = files.map(taskName(ofSamplesFile:))
        for (file, task) in zip(files, tasks) {
            let text = try InputFile.read(file)
            let lines = try JSONLines.parse(text, file: file).map { (line: $0.number, value: $0.value) }
            let filters = Set(lines.compactMap { $0.value["filter"]?.stringValue })
            var filter = options.filter
            if filter == nil && filters.count > 1 {
                throw InputError(
                    file: file,
                    message:
                        "has samples for several filters (\(filters.sorted().joined(separator: ", "))); choose one with --filter"
                )
            }
            if filter == nil { filter = filters.first }
            if let filter, !filters.isEmpty, !filters.contains(filter) {
                throw InputError(
                    file: file,
                    message:
                        "has no samples for filter '\(shown(filter))' (it has \(filters.sorted().joined(separator: ", ")))"
                )
            }
            if let filter { filtersUsed.insert(filter) }
            var seen: [Int: Int] = [:]
            for (line, value) in lines {
                let r = try ObjectReader(value, file: file)
                if let filter, let own = value["filter"]?.stringValue, own != filter { continue }
                guard let docID = value["doc_id"]?.intValue else {
                    throw InputError(
                        file: file, line: line, field: "doc_id",
                        message: "is missing or not a whole number: not an lm-eval samples line")
                }
                if let first = seen[docID] {
                    throw InputError(
                        file: file, line: line, field: "doc_id",
                        message: "\(docID) repeats line \(first) for the same filter")
                }
                seen[docID] = line
                let metric = try options.metric ?? metricUsed ?? defaultMetric(value, file: file, line: line)
                metricUsed = metric
                guard let member = value[metric] else {
                    throw InputError(
                        file: file, line: line, field: metric,
                        message:
                            "is missing; this line has \(metricNames(value).joined(separator: ", ")) (choose with --metric)"
                    )
                }
                let score: Double
                if let flag = member.boolValue {
                    score = flag ? 1 : 0
                } else if let number = member.doubleValue {
                    score = number
                } else {
                    throw r.error(metric, "must be a number or a boolean, not \(member.typeName)")
                }
                guard score == 0 || score == 1 else {
                    throw InputError(
                        file: file, line: line, field: metric,
                        message:
                            "is \(formatNumber(score)), not 0 or 1: '\(shown(metric))' is not a per-query correct/incorrect score; choose another with --metric"
                    )
                }
                queries.append(
                    Fixture.Query(id: "\(task)/\(docID)", correct: score == 1, promptTokens: nil, outputTokens: nil))
            }
        }
        guard !queries.isEmpty, let metric = metricUsed else {
            throw InputError(file: files[0], message: "holds no samples to import")
        }
        let benchmark = try options.benchmark ?? commonBenchmark(tasks, file: files[0])
        let names = files.count == 1 ? (files[0] as NSString).lastPathComponent : "\(files.count) samples files"
        let filterText = filtersUsed.isEmpty ? "" : ", filter \(filtersUsed.sorted().joined(separator: "+"))"
        return Fixture(
            benchmark: benchmark, model: options.model, quantization: options.quantization,
            source:
                "lm-evaluation-harness --log_samples (\(names)), metric \(metric)\(filterText); imported by perwatt \(PerWattRelease.version)",
            queries: queries)
    }

    package static func fromResults(_ files: [String], options: Options) throws -> Fixture {
        guard files.count == 1 else {
            throw InputError(file: files.first ?? "", message: "there are \(files.count) results files; name one")
        }
        let file = files[0]
        let json = try InputFile.json(try InputFile.read(file), file: file)
        let r = try ObjectReader(json, file: file)
        guard let results = json["results"], let tasks = results.objectMembers, !tasks.isEmpty else {
            throw r.error("results", "is missing or empty: not an lm-eval results file")
        }
        let taskName: String
        if let task = options.task {
            taskName = task
        } else if tasks.count == 1 {
            taskName = tasks[0].key
        } else {
            throw r.error(
                "results",
                "has \(tasks.count) tasks (\(tasks.prefix(6).map(\.key).joined(separator: ", "))…); choose one with --task"
            )
        }
        guard let task = results[taskName] else { throw r.error("results", "has no task '\(shown(taskName))'") }
        let taskReader = try ObjectReader(task, file: file, path: "results.\(taskName)")
        let keys = (task.objectMembers ?? []).map(\.key).filter { $0.contains(",") && !$0.contains("_stderr") }
        let wanted = options.metric.map { [$0] } ?? ["acc", "exact_match", "acc_norm"]
        let filter = options.filter ?? "none"
        guard
            let key = wanted.lazy.map({ "\($0),\(filter)" }).first(where: { keys.contains($0) })
                ?? (options.filter == nil ? keys.first(where: { k in wanted.contains { k.hasPrefix($0 + ",") } }) : nil)
        else {
            throw taskReader.error(
                wanted[0] + ",\(filter)",
                "is missing; the task has \(keys.joined(separator: ", ")) (choose with --metric and --filter)")
        }
        let accuracy = try taskReader.double(key, in: 0...1)!
        guard let n = json["n-samples"]?[taskName]?["effective"]?.intValue, n > 0 else {
            throw r.error("n-samples", "has no effective count for '\(shown(taskName))'; the aggregate needs n")
        }
        let version = json["lm_eval_version"]?.stringValue.map { " \($0)" } ?? ""
        return Fixture(
            benchmark: options.benchmark ?? taskName, model: options.model, quantization: options.quantization,
            source:
                "lm-evaluation-harness\(version) results (\((file as NSString).lastPathComponent)), \(key); imported by perwatt \(PerWattRelease.version)",
            aggregate: Fixture.Aggregate(accuracy: accuracy, n: n))
    }

    private static func metricNames(_ value: JSONValue) -> [String] {
        if let listed = value["metrics"]?.arrayValue?.compactMap(\.stringValue), !listed.isEmpty { return listed }
        let skip: Set<String> = [
            "doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics", "doc_hash",
            "prompt_hash", "target_hash",
        ]
        return (value.objectMembers ?? []).map(\.key).filter { !skip.contains($0) }
    }

    private static func defaultMetric(_ value: JSONValue, file: String, line: Int) throws -> String {
        let names = metricNames(value)
        for preferred in ["acc", "exact_match", "acc_norm"] where names.contains(preferred) { return preferred }
        guard let first = names.first else {
            throw InputError(file: file, line: line, message: "names no metric; give --metric")
        }
        return first
    }

    /// `mmlu_anatomy`, `mmlu_astronomy` → `mmlu`; one task → its name.
    private static func commonBenchmark(_ tasks: [String], file: String) throws -> String {
        let unique = Array(Set(tasks)).sorted()
        if unique.count == 1 { return unique[0] }
        let parts = unique.map { $0.split(separator: "_").map(String.init) }
        var common: [String] = []
        for (index, word) in parts[0].enumerated() where parts.allSatisfy({ $0.count > index && $0[index] == word }) {
            guard common.count == index else { break }
            common.append(word)
        }
        guard !common.isEmpty else {
            throw InputError(
                file: file,
                message:
                    "holds tasks with no common name (\(unique.prefix(4).joined(separator: ", "))…); give --benchmark")
        }
        return common.joined(separator: "_")
    }
}
