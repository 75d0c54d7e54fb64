import Testing

@testable import KernelBench

/// Every fast f32 variant against the reference, on ggml's tail lengths and partial tiles.
@Suite struct FastF32KernelTests {
    enum Variant: String, CaseIterable, CustomStringConvertible {
        case packed, smallM, dispatched
        var description: String { rawValue }

        func run(a: [Float], w: [Float], m: Int, n: Int, k: Int, threads: Int) -> [Float] {
            // Poisoned output: an element the kernel forgets to write fails the comparison.
            var c = [Float](repeating: .nan, count: m * n)
            a.withUnsafeBufferPointer { a in
                w.withUnsafeBufferPointer { w in
                    c.withUnsafeMutableBufferPointer { c in
                        let (ap, wp, cp) = (a.baseAddress!, w.baseAddress!, c.baseAddress!)
                        switch self {
                        case .packed: SGEMM.run(a: ap, w: wp, c: cp, m: m, n: n, k: k, threads: threads)
                        case .smallM: SGEMMSmallM.run(a: ap, w: wp, c: cp, m: m, n: n, k: k, threads: threads)
                        case .dispatched: F32Kernels.gemm(a: ap, w: wp, c: cp, m: m, n: n, k: k, threads: threads)
                        }
                    }
                }
            }
            return c
        }
    }

    static func random(_ count: Int, seed: UInt64) -> [Float] { KernelCatalog.pseudoRandom(count: count, seed: seed) }

    /// Shapes hitting partial 6×16 tiles, the K tail of the vector loops, and K blocks (kc = 256).
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (2, 3, 5), (3, 5, 7), (5, 7, 8), (7, 8, 15), (8, 15, 16), (15, 16, 17), (16, 17, 31),
        (17, 31, 33), (31, 33, 63), (33, 63, 67), (6, 16, 127), (12, 32, 129), (63, 67, 255), (67, 2, 257),
        (2, 129, 513), (13, 47, 1023),
    ]

    @Test(arguments: Variant.allCases)
    func matchesTheReferenceOnTailShapes(variant: Variant) throws {
        for (m, n, k) in Self.shapes {
            let a = Self.random(m * k, seed: UInt64(m * 100_003 + k))
            let w = Self.random(n * k, seed: UInt64(n * 7919 + k))
            let reference = try GEMMReference.run(
                a: a, m: m, weights: try WeightMatrix(w, rows: n, columns: k, precision: .f32))
            for threads in [1, 2, 3] {
                let c = variant.run(a: a, w: w, m: m, n: n, k: k, threads: threads)
                let verification = c.withUnsafeBufferPointer {
                    Verification.compare($0, reference: reference, tolerance: .gemm(.f32, k: k))
                }
                #expect(verification.passed, "\(variant) \(m)×\(n)×\(k) threads \(threads): \(verification)")
            }
        }
    }

    @Test(arguments: [1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 63, 67, 127, 129, 193, 255, 1023])
    func gemvMatchesTheReference(k: Int) throws {
        let n = 13
        let x = Self.random(k, seed: UInt64(k))
        let w = Self.random(n * k, seed: UInt64(3 * k))
        let reference = try GEMMReference.run(
            a: x, m: 1, weights: try WeightMatrix(w, rows: n, columns: k, precision: .f32))
        var y = [Float](repeating: .nan, count: n)
        x.withUnsafeBufferPointer { x in
            w.withUnsafeBufferPointer { w in
                y.withUnsafeMutableBufferPointer { y in
                    SGEMV.run(w: w.baseAddress!, x: x.baseAddress!, y: y.baseAddress!, n: n, k: k, threads: 2)
                }
            }
        }
        let verification = y.withUnsafeBufferPointer {
            Verification.compare($0, reference: reference, tolerance: .gemm(.f32, k: k))
        }
        #expect(verification.passed, "\(verification)")
    }

    /// A large GEMM, checked in O(MK + NK + MN) with Freivalds' random-vector test: C·r against A·(Wᵀ·r).
    @Test(arguments: [Variant.packed, .smallM])
    func largeGEMMPassesFreivalds(variant: Variant) {
        let (m, n, k) = (variant == .packed ? 301 : 61, 3100, 600)  // N crosses the packed variant's nc = 3072
        let a = Self.random(m * k, seed: 5)
        let w = Self.random(n * k, seed: 6)
        let c = variant.run(a: a, w: w, m: m, n: n, k: k, threads: 2)
        let worst = Verification.freivalds(a: a, w: w, c: c, m: m, n: n, k: k)
        #expect(worst < Tolerance.gemm(.f32, k: k * n).relative, "Freivalds relative error \(worst)")
    }
}

/// Quantized kernels against the reference with ggml's semantics.
@Suite struct FastQuantKernelTests {
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 32), (1, 7, 64), (2, 13, 96), (3, 5, 160), (5, 9, 512), (8, 31, 1024), (17, 3, 32),
    ]

    @Test(arguments: [Precision.q8_0, .q4_0, .q4_1])
    func matchesTheReference(precision: Precision) throws {
        for (m, n, k) in Self.shapes {
            // Scaled differently per row so block scales differ; a few exact zeros and large values.
            var a = FastF32KernelTests.random(m * k, seed: UInt64(m * 31 + k)).enumerated().map {
                $0.element * Float(1 + $0.offset % 7)
            }
            a[0] = 0
            let w = FastF32KernelTests.random(n * k, seed: UInt64(n * 17 + k)).enumerated().map {
                $0.element * Float(1 + $0.offset % 5)
            }
            let weights = try WeightMatrix(w, rows: n, columns: k, precision: precision)
            let reference = try GEMMReference.run(a: a, m: m, weights: weights)
            let prepared = try QuantGEMM.prepare(a: a, m: m, k: k, format: precision)
            for threads in [1, 2, 3] {
                var c = [Float](repeating: .nan, count: m * n)
                c.withUnsafeMutableBufferPointer {
                    QuantGEMM.run(prepared, weights: weights, c: $0.baseAddress!, threads: threads)
                }
                let verification = c.withUnsafeBufferPointer {
                    Verification.compare($0, reference: reference, tolerance: .gemm(precision, k: k))
                }
                #expect(verification.passed, "\(precision) \(m)×\(n)×\(k) threads \(threads): \(verification)")
            }
        }
    }

    @Test func refusesWhatItCannotDo() {
        #expect(throws: KernelError.self) { try QuantGEMM.prepare(a: [1], m: 1, k: 1, format: .q8_0) }
        #expect(throws: KernelError.self) {
            try QuantGEMM.prepare(a: [Float](repeating: 1, count: 32), m: 1, k: 32, format: .f16)
        }
        #expect(throws: KernelError.self) {
            try QuantGEMM.prepare(a: [Float](repeating: 1, count: 31), m: 1, k: 32, format: .q4_0)
        }
    }
}

/// f16 and bf16 kernels against the reference, at tail lengths (K mod 16 exercises the scalar tail).
@Suite struct FastHalfKernelTests {
    @Test(arguments: [Precision.f16, .bf16])
    func matchesTheReference(precision: Precision) throws {
        for (m, n, k) in [
            (1, 1, 1), (1, 5, 15), (2, 3, 16), (3, 7, 17), (5, 13, 33), (4, 8, 127), (9, 5, 129), (1, 31, 1023),
        ] {
            let a = FastF32KernelTests.random(m * k, seed: UInt64(m * 13 + k)).enumerated().map {
                $0.element * Float(1 + $0.offset % 3)
            }
            let w = FastF32KernelTests.random(n * k, seed: UInt64(n * 11 + k))
            let weights = try WeightMatrix(w, rows: n, columns: k, precision: precision)
            let reference = try GEMMReference.run(a: a, m: m, weights: weights)
            let prepared = try HalfGEMM.prepare(a: a, m: m, k: k, format: precision)
            for threads in [1, 2] {
                var c = [Float](repeating: .nan, count: m * n)
                c.withUnsafeMutableBufferPointer {
                    HalfGEMM.run(prepared, weights: weights, c: $0.baseAddress!, threads: threads)
                }
                let verification = c.withUnsafeBufferPointer {
                    Verification.compare($0, reference: reference, tolerance: .gemm(precision, k: k))
                }
                #expect(verification.passed, "\(precision) \(m)×\(n)×\(k) threads \(threads): \(verification)")
            }
        }
    }
}

/// Large M at f16/bf16/q8_0/q4_0/q4_1 goes through the packed f32 GEMM with weights decoded while
/// packing (q4_1 plus the correction that makes its activation sums ggml's fp16 ones).
@Suite struct PackedLowPrecisionTests {
    @Test(arguments: [Precision.f16, .bf16, .q8_0, .q4_0, .q4_1])
    func matchesTheReference(precision: Precision) throws {
        for (m, n, k) in [(65, 17, 64), (97, 33, 544), (130, 7, 1056)] {
            let a = FastF32KernelTests.random(m * k, seed: UInt64(m + k)).enumerated().map {
                $0.element * Float(1 + $0.offset % 4)
            }
            let w = FastF32KernelTests.random(n * k, seed: UInt64(n + 3 * k))
            let weights = try WeightMatrix(w, rows: n, columns: k, precision: precision)
            let reference = try GEMMReference.run(a: a, m: m, weights: weights)
            let prepared = try WeightKernels.prepare(a: a, m: m, k: k, precision: precision)
            guard case .packed = prepared else {
                Issue.record("M = \(m) should take the packed path")
                return
            }
            for threads in [1, 2, 3] {
                var c = [Float](repeating: .nan, count: m * n)
                c.withUnsafeMutableBufferPointer {
                    WeightKernels.run(prepared, weights: weights, c: $0.baseAddress!, threads: threads)
                }
                let verification = c.withUnsafeBufferPointer {
                    Verification.compare($0, reference: reference, tolerance: .gemm(precision, k: k))
                }
                #expect(verification.passed, "\(precision) \(m)×\(n)×\(k) threads \(threads): \(verification)")
            }
        }
    }
}
