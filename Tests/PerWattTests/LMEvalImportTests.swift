import Foundation
import Testing

@testable import PerWattCLI
@testable import PerWattCore

@Suite struct LMEvalImportTests {
    /// Files shaped as lm-eval 0.4 writes them with --log_samples (one object per line and filter).
    static func write(_ files: [String: String]) throws -> String {
        let directory = TestFiles.path("perwatt-lmeval")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("model__x"), withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return directory.path
    }

    static func sample(_ docID: Int, acc: Double, filter: String = "none") -> String {
        #"{"doc_id": \#(docID), "doc": {"question": "q\#(docID)", "choices": ["a", "b"], "answer": 0}, "target": 0, "arguments": [["q", " a"], ["q", " b"]], "resps": [[["-1.0", "False"]], [["-2.0", "False"]]], "filtered_resps": [["-1.0", "False"], ["-2.0", "False"]], "filter": "\#(filter)", "metrics": ["acc"], "doc_hash": "h", "prompt_hash": "p", "target_hash": "t", "acc": \#(acc)}"#
    }

    @Test func importsPerQuerySamplesAcrossSubtasks() throws {
        let root = try Self.write([
            "model__x/samples_mmlu_anatomy_2024-06-01T10-00-00.000001.jsonl": [
                Self.sample(0, acc: 1), Self.sample(1, acc: 0),
            ].joined(separator: "\n") + "\n",
            "model__x/samples_mmlu_astronomy_2024-06-01T10-00-00.000001.jsonl": Self.sample(0, acc: 1) + "\n",
            "model__x/results_2024-06-01T10-00-00.000001.json": "{}",
        ])
        let fixture = try LMEvalImport.load(root, options: .init(model: "llama-3.1-8b", quantization: "q8_0"))
        #expect(fixture.benchmark == "mmlu")
        #expect(fixture.queries?.map(\.id) == ["mmlu_anatomy/0", "mmlu_anatomy/1", "mmlu_astronomy/0"])
        #expect(fixture.counts == (2, 3))
        #expect(fixture.source.contains("metric acc"))
        // What the importer writes passes validation.
        _ = try Fixture.parse(try JSON.encode(fixture), file: "imported")
    }

    @Test func severalFiltersNeedAChoiceAndNonBinaryMetricsAreRefused() throws {
        let root = try Self.write([
            "samples_gsm8k_2024-06-01T10-00-00.jsonl": [
                Self.sample(0, acc: 1, filter: "strict-match"), Self.sample(0, acc: 0, filter: "flexible-extract"),
            ]
            .joined(separator: "\n")
        ])
        let file = root + "/samples_gsm8k_2024-06-01T10-00-00.jsonl"
        #expect { try LMEvalImport.load(file, options: .init(model: "m", quantization: "f16")) } throws: {
            "\($0)".contains("several filters (flexible-extract, strict-match); choose one with --filter")
        }
        let strict = try LMEvalImport.load(
            file, options: .init(model: "m", quantization: "f16", filter: "strict-match"))
        #expect(strict.counts == (1, 1) && strict.benchmark == "gsm8k")
        let partial = try Self.write(["samples_squad_2024-06-01T10-00-00.jsonl": Self.sample(3, acc: 0.5)])
        #expect { try LMEvalImport.load(partial, options: .init(model: "m", quantization: "f16")) } throws: {
            "\($0)".contains(":1: acc: is 0.5, not 0 or 1")
        }
        let broken = try Self.write([
            "samples_x_2024-06-01T10-00-00.jsonl": Self.sample(0, acc: 1) + "\n{\"doc\": 1, \"acc\": 1}\n"
        ])
        #expect { try LMEvalImport.load(broken, options: .init(model: "m", quantization: "f16")) } throws: {
            "\($0)".contains(":2: doc_id: is missing")
        }
    }

    @Test func importsAnAggregateFromTheResultsFile() throws {
        let root = try Self.write([
            "results_2024-06-01T10-00-00.json": """
            {"results": {"arc_easy": {"alias": "arc_easy", "acc,none": 0.8123, "acc_stderr,none": 0.008, "acc_norm,none": 0.77}},
             "n-samples": {"arc_easy": {"original": 2376, "effective": 2376}},
             "config": {"model": "hf", "model_args": "pretrained=x"}, "lm_eval_version": "0.4.3"}
            """
        ])
        let fixture = try LMEvalImport.load(root, options: .init(model: "m", quantization: "bf16"))
        #expect(fixture.aggregate == Fixture.Aggregate(accuracy: 0.8123, n: 2376) && fixture.benchmark == "arc_easy")
        #expect(fixture.source.contains("lm-evaluation-harness 0.4.3") && fixture.source.contains("acc,none"))
        let norm = try LMEvalImport.load(root, options: .init(model: "m", quantization: "bf16", metric: "acc_norm"))
        #expect(norm.aggregate?.accuracy == 0.77)
    }
}
