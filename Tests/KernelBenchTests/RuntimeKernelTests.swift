import Testing

@testable import KernelBench

/// The model runtime's fast kernels against their one-output-at-a-time siblings, bit for bit: the
/// fast ones reorganize the work (tiles, shared panels, work items) but must keep every output's
/// operations and their order, because the runtime's agreement with llama.cpp depends on it.
@Suite struct RuntimeKernelTests {
    static func random(_ count: Int, seed: UInt64) -> [Float] { KernelCatalog.pseudoRandom(count: count, seed: seed) }

    /// tinyBLAS's order on 4 × 4 tiles equals `tinyDot` per output, on partial tiles in both M and N.
    @Test(arguments: [Precision.f32, .f16, .bf16])
    func tiledFloatGEMMMatchesOneDotPerOutput(precision: Precision) throws {
        for (m, n, k) in [(2, 1, 8), (3, 5, 16), (5, 7, 24), (4, 4, 64), (9, 6, 576), (17, 13, 40)] {
            let w = try WeightMatrix(Self.random(n * k, seed: UInt64(n * k)), rows: n, columns: k, precision: precision)
            let a = Self.random(m * k, seed: UInt64(m + k))
            var c = [Float](repeating: .nan, count: m * n)
            c.withUnsafeMutableBufferPointer { GGMLFloatGEMM.run(w, a: a, m: m, c: $0.baseAddress!, threads: 2) }
            let rounded = a.map { precision == .f16 ? Half.round($0) : precision == .bf16 ? BFloat16.round($0) : $0 }
            var row = [Float](repeating: 0, count: k)
            for j in 0..<n {
                w.decode(row: j, into: &row)
                for i in 0..<m {
                    let expected = rounded.withUnsafeBufferPointer { a in
                        row.withUnsafeBufferPointer {
                            GGMLFloatGEMM.tinyDot($0.baseAddress!, a.baseAddress! + i * k, k)
                        }
                    }
                    #expect(
                        c[i * n + j].bitPattern == expected.bitPattern,
                        "\(precision) m=\(m) n=\(n) k=\(k) C[\(i), \(j)]: \(c[i * n + j]) vs \(expected)")
                }
            }
        }
    }

    /// The tiled attention's work items give `tiledRow`'s output for every (query, head) row: causal
    /// rows of every length, a cache that already holds positions, grouped heads, head sizes with and
    /// without a 64-wide tail.
    @Test(arguments: [(64, 0, 6, 2, 64), (70, 5, 4, 4, 16), (130, 3, 9, 3, 64), (65, 0, 2, 1, 72)])
    func tiledAttentionMatchesOneRowAtATime(shape: (Int, Int, Int, Int, Int)) {
        let (queries, first, heads, kvHeads, d) = shape
        let positions = first + queries
        let q = Self.random(queries * heads * d, seed: 1)
        let kCache = Self.random(positions * kvHeads * d, seed: 2).map { Float16($0 * 4) }
        let vCache = Self.random(positions * kvHeads * d, seed: 3).map { Float16($0) }
        var out = [Float](repeating: .nan, count: queries * heads * d)
        q.withUnsafeBufferPointer { q in
            kCache.withUnsafeBufferPointer { k in
                vCache.withUnsafeBufferPointer { v in
                    out.withUnsafeMutableBufferPointer { o in
                        CacheAttention.run(
                            q: q.baseAddress!, kCache: k.baseAddress!, vCache: v.baseAddress!, out: o.baseAddress!,
                            queries: queries, firstPosition: first, heads: heads, kvHeads: kvHeads, headDim: d,
                            threads: 2)
                    }
                }
            }
        }
        var scratch = [Float](repeating: 0, count: d + CacheAttention.keyTile)
        var expected = [Float](repeating: 0, count: d)
        var mismatches = 0
        for t in 0..<queries {
            for h in 0..<heads {
                let kvHead = h / (heads / kvHeads)
                q.withUnsafeBufferPointer { q in
                    kCache.withUnsafeBufferPointer { k in
                        vCache.withUnsafeBufferPointer { v in
                            CacheAttention.tiledRow(
                                query: q.baseAddress! + (t * heads + h) * d, k: k.baseAddress! + kvHead * d,
                                v: v.baseAddress! + kvHead * d, stride: kvHeads * d, keys: first + t + 1, d: d,
                                out: &expected, scratch: &scratch)
                        }
                    }
                }
                for i in 0..<d where out[(t * heads + h) * d + i].bitPattern != expected[i].bitPattern {
                    mismatches += 1
                }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(out.count) outputs differ for \(shape)")
    }

    /// The integer path's activations equal the block quantizer's bytes: ggml's x86 quantizer
    /// (vectorized) and the reference, with exact .5 ties, zero blocks and q4_0's lane offsets.
    @Test(arguments: [ActivationQuantizer.ggmlX86, .reference])
    func integerActivationsAreTheBlockQuantizersBytes(quantizer: ActivationQuantizer) throws {
        guard QuantGEMM.integerDots else { return }
        let (m, k) = (5, 128)
        var a = Self.random(m * k, seed: 9).map { $0 * 3 }
        // Block 1 of row 0: max 127 so x·id is x itself, with ties at ±0.5, ±1.5, ±2.5; block 2 all zero.
        for j in 0..<32 { a[32 + j] = j == 0 ? 127 : Float(j % 6) - 2.5 }
        for j in 0..<32 { a[64 + j] = 0 }
        for format in [Precision.q8_0, .q4_0, .q4_1] {
            let prepared = try QuantGEMM.prepare(a: a, m: m, k: k, format: format, quantizer: quantizer, threads: 2)
            var block = [UInt8](repeating: 0, count: BlockQ8_1.byteCount)
            for i in 0..<m {
                for b in 0..<(k / 32) {
                    // The integer layout: rows in groups of four, a group's blocks side by side.
                    let index = (i / 4 * (k / 32) + b) * 4 + i % 4
                    a.withUnsafeBufferPointer { x in
                        block.withUnsafeMutableBytes {
                            quantizer.q8_1(
                                UnsafeBufferPointer(rebasing: x[(i * k + 32 * b)..<(i * k + 32 * b + 32)]), into: $0)
                        }
                    }
                    let quants = (0..<32).map { Int8(bitPattern: block[4 + $0]) }
                    #expect(
                        Array(prepared.quants[(32 * index)..<(32 * index + 32)]) == quants,
                        "\(format) row \(i) block \(b)")
                    #expect(prepared.scales[index] == Half.float(UInt16(block[0]) | UInt16(block[1]) << 8))
                    if format == .q4_1 {
                        #expect(prepared.sums[index] == Half.float(UInt16(block[2]) | UInt16(block[3]) << 8))
                    }
                    if format == .q4_0 {
                        for lane in 0..<8 {
                            let sum = (0..<4).reduce(Int32(0)) { $0 + Int32(quants[4 * lane + $1]) }
                            #expect(prepared.laneOffsets[index * 8 + lane] == -8 * sum)
                        }
                    }
                }
            }
        }
    }
}
