import Foundation
import Testing

@testable import KernelBench

@Suite struct ReferenceTests {
    @Test func f32GEMMByHand() throws {
        // A = [[1, 2, 3], [4, 5, 6]], W = [[1, 0, -1], [2, 1, 0.5]]: C = A·Wᵀ = [[-2, 5.5], [-2, 16]]
        let w = try WeightMatrix([1, 0, -1, 2, 1, 0.5], rows: 2, columns: 3, precision: .f32)
        let result = try GEMMReference.run(a: [1, 2, 3, 4, 5, 6], m: 2, weights: w)
        #expect(result.values == [-2, 5.5, -2, 16])
        #expect(result.magnitudes == [4, 5.5, 10, 16])
    }

    @Test func f16AndBF16RoundTheActivationsAsGGMLDoes() throws {
        // 1 + 2⁻¹² is 1 in binary16 and in bfloat16, so its product with 1 is exactly 1.
        let value: Float = 1 + 0x1p-12
        for precision in [Precision.f16, .bf16] {
            let w = try WeightMatrix([1], rows: 1, columns: 1, precision: precision)
            #expect(try GEMMReference.run(a: [value], m: 1, weights: w).values == [1])
        }
        let f32 = try WeightMatrix([1], rows: 1, columns: 1, precision: .f32)
        #expect(try GEMMReference.run(a: [value], m: 1, weights: f32).values == [Double(value)])
    }

    @Test func q8_0GEMMByHand() throws {
        // Weights: 127 then zeros: d = 1, q = [127, 0, …]. Activations all 1: d = fp16(1/127), q = 127 each.
        var weights = [Float](repeating: 0, count: 32)
        weights[0] = 127
        let w = try WeightMatrix(weights, rows: 1, columns: 32, precision: .q8_0)
        let result = try GEMMReference.run(a: [Float](repeating: 1, count: 32), m: 1, weights: w)
        #expect(result.values == [127 * 127 * Double(Half.round(1 / 127))])
    }

    @Test func q4_0GEMMByHand() throws {
        // Weights: −8 then 4s: max is −8, d = 1, nibbles 0 (→ −8) and 12 (→ 4). Activations: 1 at 0, 0 elsewhere.
        var weights = [Float](repeating: 4, count: 32)
        weights[0] = -8
        let w = try WeightMatrix(weights, rows: 1, columns: 32, precision: .q4_0)
        #expect(w.decodedRow(0) == weights)
        var a = [Float](repeating: 0, count: 32)
        a[0] = 1
        a[31] = -1
        // q8_0 of a: d = fp16(1/127), q = [127, 0, …, −127]. Dot = (−8·127 + 4·−127)·1·d.
        let result = try GEMMReference.run(a: a, m: 1, weights: w)
        #expect(result.values == [Double(-8 * 127 - 4 * 127) * Double(Half.round(1 / 127))])
    }

    @Test func q4_1GEMMByHand() throws {
        // Weights 0, 1, …, 15, 0, 1, …, 15: min 0, max 15, so d = 1, m = 0 … shifted by 2: m = 2, values
        // d·q + 2. Activations: 1 at 0 and at 17, 0 elsewhere.
        let weights = (0..<32).map { Float($0 % 16 + 2) }
        let w = try WeightMatrix(weights, rows: 1, columns: 32, precision: .q4_1)
        #expect(w.decodedRow(0) == weights)
        var a = [Float](repeating: 0, count: 32)
        a[0] = 1
        a[17] = 1
        // q8_1 of a: d = fp16(1/127), q = 127 at 0 and 17; s = fp16(254 · d). Weight nibbles there: 0, 1.
        // Dot = d_w · d_a · (0·127 + 1·127) + m · s.
        let d = Double(Half.round(1 / 127))
        let s = Double(Half.round(254 * Half.round(1 / 127)))
        let result = try GEMMReference.run(a: a, m: 1, weights: w)
        #expect(result.values == [127 * d + 2 * s])
    }

    @Test func badShapesAreErrorsNotTraps() {
        #expect(throws: KernelError.notBlockAligned(what: "the row length K", value: 33, block: 32, precision: .q4_0)) {
            try WeightMatrix([Float](repeating: 1, count: 33), rows: 1, columns: 33, precision: .q4_0)
        }
        #expect(throws: KernelError.self) { try WeightMatrix([1, .nan], rows: 1, columns: 2, precision: .f32) }
        #expect(throws: KernelError.self) { try WeightMatrix([1, 2, 3], rows: 2, columns: 2, precision: .f32) }
        #expect(throws: KernelError.self) {
            try GEMMReference.run(
                a: [1, 2], m: 1, weights: try WeightMatrix([1, 2, 3], rows: 1, columns: 3, precision: .f32))
        }
        #expect(throws: KernelError.self) { try AttentionShape(queries: 1, keys: 4, heads: 3, kvHeads: 2, headDim: 8) }
        #expect(throws: KernelError.self) { try AttentionShape(queries: 5, keys: 4, heads: 2, kvHeads: 2, headDim: 8) }
    }

    @Test func attentionByHand() throws {
        // One head, d = 1: scores q·k/√1 = [0, ln 3]: weights [1/4, 3/4]; V = [4, 8]: 1 + 6 = 7.
        let decode = try AttentionShape(queries: 1, keys: 2, heads: 1, kvHeads: 1, headDim: 1)
        let out = try AttentionReference.run(q: [1], k: [0, Float(log(3.0))], v: [4, 8], shape: decode)
        #expect(abs(out[0] - 7) < 1e-6)
        // Causal prefill: the first query sees only the first key, so it returns V[0] exactly.
        let prefill = try AttentionShape(queries: 2, keys: 2, heads: 1, kvHeads: 1, headDim: 1)
        let both = try AttentionReference.run(q: [1, 1], k: [0, Float(log(3.0))], v: [4, 8], shape: prefill)
        #expect(both[0] == 4)
        #expect(abs(both[1] - 7) < 1e-6)
        #expect(prefill.attendedPairs == 3 && prefill.flops == 12)
    }

    @Test func groupedHeadsShareTheirKVHead() throws {
        // H = 4 query heads over Hkv = 2 KV heads: heads 0,1 read KV head 0; heads 2,3 read KV head 1.
        let shape = try AttentionShape(queries: 1, keys: 1, heads: 4, kvHeads: 2, headDim: 2)
        let q = [Float](repeating: 1, count: 8)
        let k = [Float](repeating: 0, count: 4)
        let v: [Float] = [1, 2, 3, 4]
        let out = try AttentionReference.run(q: q, k: k, v: v, shape: shape)
        #expect(out == [1, 2, 1, 2, 3, 4, 3, 4])
    }
}

/// OpenBLAS is an anchor, not a reference: it too is verified before it is ever timed.
@Suite struct OpenBLASAnchorTests {
    static let tails = [1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 63, 67, 127, 129]

    func random(_ count: Int, seed: UInt64) -> [Float] { KernelCatalog.pseudoRandom(count: count, seed: seed) }

    @Test(arguments: [(1, 7, 33), (3, 17, 67), (8, 31, 129), (15, 5, 2), (17, 129, 63), (33, 16, 127)])
    func sgemmMatchesTheReference(m: Int, n: Int, k: Int) throws {
        let a = random(m * k, seed: UInt64(m * 1000 + k))
        let w = random(n * k, seed: UInt64(n * 7919 + k))
        let reference = try GEMMReference.run(
            a: a, m: m, weights: try WeightMatrix(w, rows: n, columns: k, precision: .f32))
        var c = [Float](repeating: .nan, count: m * n)
        a.withUnsafeBufferPointer { a in
            w.withUnsafeBufferPointer { w in
                c.withUnsafeMutableBufferPointer { c in
                    OpenBLAS.sgemm(a: a.baseAddress!, w: w.baseAddress!, c: c.baseAddress!, m: m, n: n, k: k)
                }
            }
        }
        let verification = c.withUnsafeBufferPointer {
            Verification.compare($0, reference: reference, tolerance: .gemm(.f32, k: k))
        }
        #expect(verification.passed, "\(verification)")
    }

    @Test(arguments: tails)
    func sgemvMatchesTheReference(k: Int) throws {
        let n = 37
        let x = random(k, seed: UInt64(k))
        let w = random(n * k, seed: UInt64(k * 31))
        let reference = try GEMMReference.run(
            a: x, m: 1, weights: try WeightMatrix(w, rows: n, columns: k, precision: .f32))
        var y = [Float](repeating: .nan, count: n)
        x.withUnsafeBufferPointer { x in
            w.withUnsafeBufferPointer { w in
                y.withUnsafeMutableBufferPointer { y in
                    OpenBLAS.sgemv(w: w.baseAddress!, x: x.baseAddress!, y: y.baseAddress!, n: n, k: k)
                }
            }
        }
        let verification = y.withUnsafeBufferPointer {
            Verification.compare($0, reference: reference, tolerance: .gemm(.f32, k: k))
        }
        #expect(verification.passed, "\(verification)")
    }

    @Test func verificationCatchesAWrongAnswerAndNaN() throws {
        let reference = ReferenceResult(values: [1, 2, 3], magnitudes: [1, 2, 3])
        let tolerance = Tolerance.gemm(.f32, k: 3)
        #expect(
            [Float(1), 2, 3].withUnsafeBufferPointer {
                Verification.compare($0, reference: reference, tolerance: tolerance)
            }.passed)
        let wrong = [Float(1), 2.001, 3].withUnsafeBufferPointer {
            Verification.compare($0, reference: reference, tolerance: tolerance)
        }
        #expect(!wrong.passed && wrong.worstIndex == 1)
        #expect(
            ![Float(1), .nan, 3].withUnsafeBufferPointer {
                Verification.compare($0, reference: reference, tolerance: tolerance)
            }.passed)
    }
}
