/// GEMM/GEMV for f16 and bf16 weights: `C[M, N] = A[M, K] · W[N, K]ᵀ` with ggml's semantics (the
/// activations rounded to the weight type first; products exact in f32, accumulated in f32).
///
/// 16 weights at a time become two `SIMD8<Float>`: f16 with F16C's `vcvtph2ps` (what
/// `SIMD8<Float>(SIMD8<Float16>)` compiles to), bf16 by shifting: each 32-bit lane holds two values,
/// the even one is `lane << 16` and the odd one `lane & 0xFFFF0000`. The bf16 lanes therefore come out
/// as (even, odd) halves, and `prepare` stores the activations in the same order. K mod 16 is done
/// in scalar code. Threads split N; activation rows go four at a time per weight row; M = 1 uses two
/// accumulators.
public enum HalfGEMM {
    /// Activations rounded to the weight type, as f32 in the decoder's lane order.
    public struct Prepared: Sendable {
        public let format: Precision
        public let rows: Int
        public let columns: Int
        public let values: [Float]
    }

    /// Index within a 16-value group of the value in slot `slot` (0..<16) of the decoded pair.
    @inline(__always)
    static func valueIndex(format: Precision, slot: Int) -> Int {
        format == .bf16 ? (slot < 8 ? 2 * slot : 2 * (slot - 8) + 1) : slot
    }

    public static func prepare(a: [Float], m: Int, k: Int, format: Precision) throws -> Prepared {
        guard format == .f16 || format == .bf16 else {
            throw KernelError.invalidShape("HalfGEMM handles f16 and bf16 weights, not \(format.rawValue)")
        }
        guard a.count == m * k else {
            throw KernelError.shapeMismatch(what: "the activations A", expected: m * k, actual: a.count)
        }
        let round: (Float) -> Float = format == .f16 ? { Half.round($0) } : { BFloat16.round($0) }
        var values = [Float](repeating: 0, count: m * k)
        let groups = k / 16
        for i in 0..<m {
            for g in 0..<groups {
                for slot in 0..<16 {
                    values[i * k + g * 16 + slot] = round(a[i * k + g * 16 + valueIndex(format: format, slot: slot)])
                }
            }
            for p in (groups * 16)..<k { values[i * k + p] = round(a[i * k + p]) }
        }
        return Prepared(format: format, rows: m, columns: k, values: values)
    }

    public static func run(_ prepared: Prepared, weights: WeightMatrix, c: UnsafeMutablePointer<Float>, threads: Int) {
        precondition(
            weights.precision == prepared.format && weights.columns == prepared.columns, "prepared for other weights")
        let n = weights.rows
        let workers = max(1, min(threads, n / 8 + 1))
        weights.storage.withUnsafeBytes { storage in
            prepared.values.withUnsafeBufferPointer { values in
                let (w, x, c) = (Shared(storage.baseAddress!), Shared(values.baseAddress!), Shared(c))
                let (m, k, format) = (prepared.rows, prepared.columns, prepared.format)
                Parallel.run(workers: workers) { worker in
                    let range = Parallel.share(n, worker: worker, of: workers)
                    if format == .f16 {
                        rows(F16Decoder.self, w: w.pointer, x: x.pointer, c: c.pointer, m: m, n: n, k: k, range: range)
                    } else {
                        rows(BF16Decoder.self, w: w.pointer, x: x.pointer, c: c.pointer, m: m, n: n, k: k, range: range)
                    }
                }
            }
        }
    }

    @inline(__always)
    static func rows<D: HalfDecoder>(
        _ decoder: D.Type, w: UnsafeRawPointer, x: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, range: Range<Int>
    ) {
        let groups = k / 16
        for j in range {
            let row = w + j * k * 2
            var i = 0
            while i < m {
                let height = m == 1 ? 1 : min(4, m - i)
                let x0 = UnsafeRawPointer(x + i * k)
                let x1 = UnsafeRawPointer(x + (i + min(1, height - 1)) * k)
                let x2 = UnsafeRawPointer(x + (i + min(2, height - 1)) * k)
                let x3 = UnsafeRawPointer(x + (i + min(3, height - 1)) * k)
                var a0 = SIMD8<Float>()
                var b0 = SIMD8<Float>()
                var a1 = SIMD8<Float>()
                var b1 = SIMD8<Float>()
                var a2 = SIMD8<Float>()
                var b2 = SIMD8<Float>()
                var a3 = SIMD8<Float>()
                var b3 = SIMD8<Float>()
                for g in 0..<groups {
                    let (low, high) = D.decode16(row + g * 32)
                    let offset = g * 64
                    a0.addProduct(low, x0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self))
                    b0.addProduct(high, x0.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self))
                    if height > 1 {
                        a1.addProduct(low, x1.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self))
                        b1.addProduct(high, x1.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self))
                    }
                    if height > 2 {
                        a2.addProduct(low, x2.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self))
                        b2.addProduct(high, x2.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self))
                    }
                    if height > 3 {
                        a3.addProduct(low, x3.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self))
                        b3.addProduct(high, x3.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self))
                    }
                }
                var sums = SIMD4<Float>((a0 + b0).sum(), (a1 + b1).sum(), (a2 + b2).sum(), (a3 + b3).sum())
                for p in (groups * 16)..<k {
                    let weight = D.scalar(row, p)
                    sums[0] += weight * x[i * k + p]
                    if height > 1 { sums[1] += weight * x[(i + 1) * k + p] }
                    if height > 2 { sums[2] += weight * x[(i + 2) * k + p] }
                    if height > 3 { sums[3] += weight * x[(i + 3) * k + p] }
                }
                for r in 0..<height { c[(i + r) * n + j] = sums[r] }
                i += height
            }
        }
    }
}

/// Decodes 16 consecutive 16-bit weights into two `SIMD8<Float>` (lane order: `HalfGEMM.valueIndex`).
protocol HalfDecoder {
    static func decode16(_ p: UnsafeRawPointer) -> (SIMD8<Float>, SIMD8<Float>)
    static func scalar(_ row: UnsafeRawPointer, _ index: Int) -> Float
}

enum F16Decoder: HalfDecoder {
    @inline(__always)
    static func decode16(_ p: UnsafeRawPointer) -> (SIMD8<Float>, SIMD8<Float>) {
        (
            SIMD8<Float>(p.loadUnaligned(as: SIMD8<Float16>.self)),
            SIMD8<Float>(p.loadUnaligned(fromByteOffset: 16, as: SIMD8<Float16>.self))
        )
    }

    @inline(__always)
    static func scalar(_ row: UnsafeRawPointer, _ index: Int) -> Float {
        Half.float(UInt16(littleEndian: row.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)))
    }
}

enum BF16Decoder: HalfDecoder {
    @inline(__always)
    static func decode16(_ p: UnsafeRawPointer) -> (SIMD8<Float>, SIMD8<Float>) {
        let v = p.loadUnaligned(as: SIMD8<UInt32>.self)
        return (
            unsafeBitCast(v &<< 16, to: SIMD8<Float>.self),
            unsafeBitCast(v & SIMD8<UInt32>(repeating: 0xFFFF_0000), to: SIMD8<Float>.self)
        )
    }

    @inline(__always)
    static func scalar(_ row: UnsafeRawPointer, _ index: Int) -> Float {
        BFloat16.float(UInt16(littleEndian: row.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)))
    }
}
