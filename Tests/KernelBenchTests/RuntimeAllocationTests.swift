import AllocationCounting
import Foundation
import Testing

@testable import KernelBench

/// The runtime's decode step allocates nothing: every buffer of a forward step is the Transformer's
/// own, made once. Counted with the test binary's counting `malloc` (`AllocationCounting`) on the
/// calling thread, one thread of work so that no other thread runs the step's code.
@Suite(.enabled(if: perwatt_allocation_counting_available() == 1, "counting needs glibc's malloc"))
struct RuntimeAllocationTests {
    /// The counter sees an allocation (so a zero below means none, not a counter that never counts).
    @Test func counterCountsAnArray() {
        perwatt_allocation_counting_start()
        let array = [Float](repeating: 1, count: 1000 + Int.random(in: 0..<10))
        let count = perwatt_allocation_counting_stop()
        #expect(array.count >= 1000 && count >= 1)
    }

    /// Every architecture's branches (qwen2's biases, qwen3's q/k norms) at the file's own types, and
    /// the llama file requantized to every type (each matmul kernel and activation conversion).
    static let cases: [(String, Precision?)] =
        [("llama", nil), ("qwen2", nil), ("qwen3", nil)] + Precision.allCases.map { ("llama", $0) }

    @Test(arguments: cases)
    func decodeAllocatesNothing(architecture: String, precision: Precision?) throws {
        let file = try GGUFFile(
            path: LlamaReference.directory.appendingPathComponent("tiny-\(architecture).gguf").path)
        let config = try TransformerConfig(gguf: file)
        let weights = try TransformerWeights(gguf: file, config: config, requantize: precision)
        let model = Transformer(config: config, weights: weights, contextSize: 64, threads: 1)
        var logits = try model.forward([1, 5, 9, 14])
        // Warm-up: the first decode step may reserve what later ones reuse.
        try model.forward(token: Transformer.argmax(logits[...]), into: &logits)
        var counts: [Int] = []
        for _ in 0..<8 {
            let token = Transformer.argmax(logits[...])
            perwatt_allocation_counting_start()
            try model.forward(token: token, into: &logits)
            counts.append(perwatt_allocation_counting_stop())
        }
        #expect(counts.allSatisfy { $0 == 0 }, "allocations per decode step: \(counts)")
        // A prompt batch of a size seen before reuses the same buffers too.
        let prompt = [3, 1, 4, 1, 5, 9, 2, 6]
        model.reset()
        try model.forward(prompt, into: &logits)
        model.reset()
        perwatt_allocation_counting_start()
        try model.forward(prompt, into: &logits)
        let prefill = perwatt_allocation_counting_stop()
        #expect(prefill == 0, "allocations in a prompt of \(prompt.count) tokens: \(prefill)")
    }
}
