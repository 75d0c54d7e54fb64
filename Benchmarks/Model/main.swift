// perwatt-bench-model: perwatt's transformer against llama-bench on the same GGUF files, side by side.
//
//   swift build -c release --product perwatt-bench-model
//   .build/release/perwatt-bench-model [--threads 2] [--prompt 256] [--generate 32] [--repetitions 3]
//       [--llama-bench PATH] MODEL.gguf [MODEL.gguf ...]
//
// For each file: prompt processing of P tokens (one forward step over the batch, as llama-bench's pp
// test, from an empty cache) and generation of G tokens (one token at a time after the prompt, as its
// tg test), each repeated R times after one warm-up; random token ids with a fixed seed, as llama-bench
// uses. With --llama-bench it runs `llama-bench -m MODEL -t T -p P -n G -r R -o json` on the same file
// and prints the ratio perwatt / llama.cpp per test. Timing only (energy is perwatt generate's job).
import Foundation
import KernelBench

struct Options {
    var threads = 2
    var prompt = 256
    var generate = 32
    var repetitions = 3
    var llamaBench: String?
    var models: [String] = []
}

let usage =
    "usage: perwatt-bench-model [--threads N] [--prompt P] [--generate G] [--repetitions R] [--llama-bench PATH] MODEL.gguf..."

func parse() -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst()
    func number(_ name: String) -> Int {
        guard let text = arguments.popFirst(), let value = Int(text), value > 0 else {
            FileHandle.standardError.write(Data("perwatt-bench-model: \(name) needs a positive whole number\n".utf8))
            exit(64)
        }
        return value
    }
    while let argument = arguments.popFirst() {
        switch argument {
        case "--threads": options.threads = number(argument)
        case "--prompt": options.prompt = number(argument)
        case "--generate": options.generate = number(argument)
        case "--repetitions": options.repetitions = number(argument)
        case "--llama-bench":
            guard let path = arguments.popFirst() else { exit(64) }
            options.llamaBench = path
        case "--help", "-h":
            print(usage)
            exit(0)
        default:
            guard !argument.hasPrefix("-") else {
                FileHandle.standardError.write(Data("perwatt-bench-model: unknown option \(argument)\n\(usage)\n".utf8))
                exit(64)
            }
            options.models.append(argument)
        }
    }
    if options.models.isEmpty {
        FileHandle.standardError.write(Data("\(usage)\n".utf8))
        exit(64)
    }
    return options
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// llama-bench's mean tokens per second for its pp and tg tests, from its JSON output.
func llamaBench(_ path: String, model: String, options: Options) -> (prompt: Double?, generate: Double?) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = [
        "-m", model, "-t", "\(options.threads)", "-p", "\(options.prompt)", "-n", "\(options.generate)", "-r",
        "\(options.repetitions)", "-o", "json",
    ]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return (nil, nil) }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard let rows = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] else { return (nil, nil) }
    var result: (prompt: Double?, generate: Double?) = (nil, nil)
    for row in rows {
        let rate = row["avg_ts"] as? Double
        if (row["n_prompt"] as? Int ?? 0) > 0 { result.prompt = rate } else { result.generate = rate }
    }
    return result
}

let options = parse()
var generator = SplitMix(seed: 20_261_203)
print("model | test | perwatt tok/s | llama.cpp tok/s | ratio")
print("--- | --- | --- | --- | ---")
for path in options.models {
    do {
        let file = try GGUFFile(path: path)
        let config = try TransformerConfig(gguf: file)
        let weights = try TransformerWeights(gguf: file, config: config)
        let model = Transformer(
            config: config, weights: weights, contextSize: options.prompt + options.generate, threads: options.threads)
        let tokens = (0..<(options.prompt + options.generate)).map { _ in
            Int(generator.next() % UInt64(config.vocabulary))
        }
        let prompt = Array(tokens[0..<options.prompt])
        var logits: [Float] = []
        var promptRates: [Double] = []
        var generateRates: [Double] = []
        for repetition in 0...options.repetitions {
            model.reset()
            let start = DispatchTime.now().uptimeNanoseconds
            try model.forward(prompt, into: &logits)
            blackHole(logits)
            let promptSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            model.reset()
            // llama-bench's tg test starts from an empty cache too.
            let generateStart = DispatchTime.now().uptimeNanoseconds
            for token in tokens[options.prompt...] {
                try model.forward(token: token, into: &logits)
                blackHole(logits)
            }
            let generateSeconds = Double(DispatchTime.now().uptimeNanoseconds - generateStart) / 1e9
            if repetition > 0 {  // the first is a warm-up
                promptRates.append(Double(options.prompt) / promptSeconds)
                generateRates.append(Double(options.generate) / generateSeconds)
            }
        }
        let peer = options.llamaBench.map { llamaBench($0, model: path, options: options) }
        let name = URL(fileURLWithPath: path).lastPathComponent
        for (test, ours, theirs) in [
            ("pp\(options.prompt)", median(promptRates), peer?.prompt),
            ("tg\(options.generate)", median(generateRates), peer?.generate),
        ] {
            let ratio = theirs.map { String(format: "%.2f×", ours / $0) } ?? "n/a"
            print(
                "\(name) | \(test) | \(String(format: "%.1f", ours)) | \(theirs.map { String(format: "%.1f", $0) } ?? "n/a") | \(ratio)"
            )
        }
    } catch {
        FileHandle.standardError.write(Data("perwatt-bench-model: \(path): \(error)\n".utf8))
        exit(65)
    }
}

/// SplitMix64, for reproducible token ids.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
