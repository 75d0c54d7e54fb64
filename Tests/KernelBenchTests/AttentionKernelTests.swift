import Foundation
import Testing

@testable import KernelBench

@Suite struct AttentionKernelTests {
    @Test func vectorExpIsWithinTwoUlpsAndMasksToZero() {
        var worst: Float = 0
        var x: Float = -87
        while x <= 0 {
            let lanes = SIMD8<Float>(x, x * 0.5, x * 0.25, x * 0.125, x * 0.01, x * 0.001, -x * 0.001, 0)
            let result = SIMDExp.exp(lanes)
            for lane in 0..<8 {
                let expected = Foundation.exp(Double(lanes[lane]))
                worst = max(worst, Float(abs(Double(result[lane]) - expected) / (expected * Double(Float.ulpOfOne))))
            }
            x += 0.173
        }
        #expect(worst <= 2, "worst error \(worst) ulp")
        let masked = SIMDExp.exp(SIMD8<Float>(-.infinity, -100, -87.31, 0, 0, 0, 0, 0))
        #expect(masked[0] == 0 && masked[1] == 0 && masked[2] == 0 && masked[3] == 1)
    }

    @Test(arguments: [
        (1, 1, 1, 1, 8), (1, 5, 2, 1, 8), (3, 3, 2, 2, 5), (5, 17, 4, 2, 13), (7, 7, 4, 1, 16), (1, 33, 8, 2, 64),
        (17, 17, 2, 1, 128), (4, 67, 6, 3, 31), (33, 33, 1, 1, 7),
        // T ≥ 16 takes the blocked kernel: partial query and key blocks, d not a multiple of 16,
        // T < L (a chunk of prefill after a cached prefix), GQA and more blocks than threads.
        (16, 16, 3, 1, 16), (50, 50, 4, 2, 19), (20, 45, 4, 2, 33), (97, 130, 2, 2, 64), (49, 49, 8, 8, 8),
    ])
    func matchesTheReference(t: Int, l: Int, h: Int, hkv: Int, d: Int) throws {
        for causal in [true, false] {
            let shape = try AttentionShape(queries: t, keys: l, heads: h, kvHeads: hkv, headDim: d, causal: causal)
            let q = KernelCatalog.pseudoRandom(count: t * h * d, seed: UInt64(t * 31 + d)).map { $0 * 2 }
            let k = KernelCatalog.pseudoRandom(count: l * hkv * d, seed: UInt64(l * 17 + d)).map { $0 * 2 }
            let v = KernelCatalog.pseudoRandom(count: l * hkv * d, seed: UInt64(l * 13 + h))
            let reference = try AttentionReference.result(q: q, k: k, v: v, shape: shape)
            for threads in [1, 2, 3] {
                var out = [Float](repeating: .nan, count: t * h * d)
                q.withUnsafeBufferPointer { q in
                    k.withUnsafeBufferPointer { k in
                        v.withUnsafeBufferPointer { v in
                            out.withUnsafeMutableBufferPointer { o in
                                AttentionKernel.run(
                                    q: q.baseAddress!, k: k.baseAddress!, v: v.baseAddress!, out: o.baseAddress!,
                                    shape: shape, threads: threads)
                            }
                        }
                    }
                }
                let verification = out.withUnsafeBufferPointer {
                    Verification.compare($0, reference: reference, tolerance: .attention(keys: l))
                }
                #expect(
                    verification.passed,
                    "T=\(t) L=\(l) H=\(h) Hkv=\(hkv) d=\(d) causal=\(causal) threads=\(threads): \(verification)")
            }
        }
    }

    /// The catalog checks only the heads of the first and last KV head; that check must accept the
    /// full reference's output and reject outputs with a head or a position out of place.
    @Test func catalogHeadSubsetCheckAcceptsTheReferenceAndRejectsMisplacedHeads() throws {
        let shape = try AttentionShape(queries: 5, keys: 9, heads: 6, kvHeads: 3, headDim: 7)
        let prepared = try #require(
            try KernelCatalog.prepare(KernelCase(attention: shape), threads: 1) as? PreparedAttention)
        let full = try AttentionReference.run(q: prepared.q, k: prepared.k, v: prepared.v, shape: shape).map(Float.init)
        #expect(try prepared.check(full).passed)
        #expect(try prepared.check(full).count == 2 * 5 * 2 * 7)
        // Swap the last two heads of the first position (both belong to the last KV head).
        var swapped = full
        let d = 7
        let base = 4 * d
        for i in 0..<d { swapped.swapAt(base + i, base + d + i) }
        #expect(try !prepared.check(swapped).passed)
        // Shift the first KV head's output by one query position.
        var shifted = full
        for i in 0..<(2 * d) { shifted[i] = full[6 * d + i] }
        #expect(try !prepared.check(shifted).passed)
        #expect(try prepared.verify().passed)
    }
}
