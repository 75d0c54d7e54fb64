import Foundation

/// Fast f32 attention: `softmax(Q·Kᵀ/√d + causal mask)·V` in one pass with an online softmax.
///
/// Layout as `AttentionShape`: Q [T, H, d], K and V [L, Hkv, d], output [T, H, d], row-major f32.
/// Work items are tiles of 4 rows, a row being one (query position, query head); the rows of a tile
/// share a KV head, so every K and V load serves all 4 (prefill: 4 queries of a head; GQA decode: the
/// heads of a group). Keys go in blocks of 16; each row keeps its running maximum m, sum l and output
/// o (d floats), rescaled once per block by exp(m_old − m_new) (Milakov & Gimelshein's online softmax,
/// as in FlashAttention), and p·V is accumulated 32 values of d at a time in registers over the block.
/// Masked keys get weight exactly 0. `exp` is vectorized (`SIMDExp`); d mod 8 (scores) and d mod 32
/// (p·V) are handled in scalar code.
public enum AttentionKernel {
    static let tileRows = 4
    static let keyBlock = 16
    /// From this many queries on, `run` hands the call to `AttentionBlocked`.
    static let blockedMinimumQueries = 16

    @inline(never)
    public static func run(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                           shape: AttentionShape, threads: Int) {
        // Many queries per head: the GEMM-shaped blocked kernel (its 6×16 tiles need rows to fill them).
        if shape.queries >= blockedMinimumQueries {
            AttentionBlocked.run(q: q, k: k, v: v, out: out, shape: shape, threads: threads)
            return
        }
        // A row is one (query position, query head); rows that share a KV head share every K and V load.
        // Per KV head: its group's rows, query-major, cut into tiles of 4 (prefill with H = Hkv: 4
        // consecutive queries of one head; decode with 4 heads per KV head: the whole group).
        let group = shape.heads / shape.kvHeads
        let rowsPerKVHead = shape.queries * group
        let tilesPerKVHead = (rowsPerKVHead + tileRows - 1) / tileRows
        let items = shape.kvHeads * tilesPerKVHead
        let workers = max(1, min(threads, items))
        let (q, k, v, out) = (Shared(q), Shared(k), Shared(v), Shared(out))
        Parallel.run(workers: workers) { worker in
            // Interleaved items: causal tiles near the end cost more, so contiguous ranges would be unbalanced.
            var item = worker
            while item < items {
                let kvHead = item / tilesPerKVHead
                let first = (item % tilesPerKVHead) * tileRows
                tile(q: q.pointer, k: k.pointer, v: v.pointer, out: out.pointer, shape: shape, kvHead: kvHead,
                     rows: first..<min(first + tileRows, rowsPerKVHead), group: group)
                item += workers
            }
        }
    }

    /// Rows `rows` of KV head `kvHead`'s group: row index r means query r / group, head kvHead·group + r % group.
    static func tile(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                     shape: AttentionShape, kvHead: Int, rows: Range<Int>, group: Int) {
        let d = shape.headDim
        let count = rows.count
        let kvStride = shape.kvHeads * d
        let scale = 1 / Float(d).squareRoot()
        let vectorEnd = d / 8 * 8
        let chunkEnd = d / 32 * 32
        // Per row: offset of its query/output vector, keys it may see, running max and sum.
        var offsets = SIMD4<Int>(), visible = SIMD4<Int>()
        for r in 0..<tileRows {
            let row = rows.lowerBound + min(r, count - 1)
            let (query, head) = (row / group, kvHead * group + row % group)
            offsets[r] = (query * shape.heads + head) * d
            visible[r] = shape.visibleKeys(query: query)
        }
        let keys = (0..<count).reduce(0) { max($0, visible[$1]) }
        var maxima = SIMD4<Float>(repeating: -.infinity), sums = SIMD4<Float>()
        let q0 = UnsafeRawPointer(q + offsets[0]), q1 = UnsafeRawPointer(q + offsets[1])
        let q2 = UnsafeRawPointer(q + offsets[2]), q3 = UnsafeRawPointer(q + offsets[3])
        withUnsafeTemporaryAllocation(of: Float.self, capacity: tileRows * d + tileRows * keyBlock) { buffer in
            let o = buffer.baseAddress!
            let scores = o + tileRows * d
            o.initialize(repeating: 0, count: tileRows * d)
            for j0 in stride(from: 0, to: keys, by: keyBlock) {
                let jb = min(keyBlock, keys - j0)
                // Scores for 4 rows × jb keys; every K row is loaded once for the 4 rows.
                for jj in 0..<jb {
                    let key = UnsafeRawPointer(k + (j0 + jj) * kvStride + kvHead * d)
                    var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
                    var offset = 0
                    while offset < vectorEnd * 4 {
                        let kv = key.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        s0.addProduct(q0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self), kv)
                        s1.addProduct(q1.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self), kv)
                        s2.addProduct(q2.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self), kv)
                        s3.addProduct(q3.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self), kv)
                        offset += 32
                    }
                    var dots = SIMD4<Float>(s0.sum(), s1.sum(), s2.sum(), s3.sum())
                    for p in vectorEnd..<d {
                        let kp = key.load(fromByteOffset: 4 * p, as: Float.self)
                        dots.addProduct(SIMD4(q0.load(fromByteOffset: 4 * p, as: Float.self), q1.load(fromByteOffset: 4 * p, as: Float.self),
                                              q2.load(fromByteOffset: 4 * p, as: Float.self), q3.load(fromByteOffset: 4 * p, as: Float.self)),
                                        SIMD4(repeating: kp))
                    }
                    for r in 0..<tileRows {
                        scores[r * keyBlock + jj] = j0 + jj < visible[r] ? dots[r] * scale : -.infinity
                    }
                }
                for jj in jb..<keyBlock { for r in 0..<tileRows { scores[r * keyBlock + jj] = -.infinity } }
                for r in 0..<count {
                    let rowScores = UnsafeMutableRawPointer(scores + r * keyBlock)
                    let low = rowScores.loadUnaligned(as: SIMD8<Float>.self)
                    let high = rowScores.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                    let blockMax = max(low.max(), high.max())
                    guard blockMax > -.infinity else { continue }
                    let newMax = max(maxima[r], blockMax)
                    let correction = maxima[r] == -.infinity ? 0 : Foundation.exp(maxima[r] - newMax)
                    let shift = SIMD8<Float>(repeating: newMax)
                    let pLow = SIMDExp.exp(low - shift), pHigh = SIMDExp.exp(high - shift)
                    sums[r] = sums[r] * correction + (pLow + pHigh).sum()
                    maxima[r] = newMax
                    rowScores.storeBytes(of: pLow, as: SIMD8<Float>.self)
                    rowScores.storeBytes(of: pHigh, toByteOffset: 32, as: SIMD8<Float>.self)
                    let weights = scores + r * keyBlock
                    let acc = UnsafeMutableRawPointer(o + r * d)
                    let factor = SIMD8<Float>(repeating: correction)
                    // o ← o·correction + Σ p·V over the block, 32 values of d at a time in registers.
                    var chunk = 0
                    while chunk < chunkEnd * 4 {
                        var a0 = acc.loadUnaligned(fromByteOffset: chunk, as: SIMD8<Float>.self) * factor
                        var a1 = acc.loadUnaligned(fromByteOffset: chunk + 32, as: SIMD8<Float>.self) * factor
                        var a2 = acc.loadUnaligned(fromByteOffset: chunk + 64, as: SIMD8<Float>.self) * factor
                        var a3 = acc.loadUnaligned(fromByteOffset: chunk + 96, as: SIMD8<Float>.self) * factor
                        for jj in 0..<jb {
                            let w = SIMD8<Float>(repeating: weights[jj])
                            let value = UnsafeRawPointer(v + (j0 + jj) * kvStride + kvHead * d) + chunk
                            a0.addProduct(w, value.loadUnaligned(as: SIMD8<Float>.self))
                            a1.addProduct(w, value.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
                            a2.addProduct(w, value.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
                            a3.addProduct(w, value.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
                        }
                        acc.storeBytes(of: a0, toByteOffset: chunk, as: SIMD8<Float>.self)
                        acc.storeBytes(of: a1, toByteOffset: chunk + 32, as: SIMD8<Float>.self)
                        acc.storeBytes(of: a2, toByteOffset: chunk + 64, as: SIMD8<Float>.self)
                        acc.storeBytes(of: a3, toByteOffset: chunk + 96, as: SIMD8<Float>.self)
                        chunk += 128
                    }
                    for p in chunkEnd..<d {
                        var value = o[r * d + p] * correction
                        for jj in 0..<jb { value += weights[jj] * v[(j0 + jj) * kvStride + kvHead * d + p] }
                        o[r * d + p] = value
                    }
                }
            }
            for r in 0..<count {
                let destination = out + offsets[r]
                let inverse = 1 / sums[r]
                for p in 0..<d { destination[p] = o[r * d + p] * inverse }
            }
        }
    }
}

/// `exp` on 8 lanes: x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite, two-part ln2), e^r by its degree-7
/// Taylor polynomial (truncation error below 6·10⁻⁹ relative), 2ⁿ built in the exponent bits.
/// Lanes below −87.3 (including −∞) give exactly 0; inputs here are ≤ 0 (scores minus their maximum).
///
/// Written with the magic-number rounding trick (adding 1.5·2²³ rounds to an integer held in the low
/// mantissa bits) and `replacing(with:where:)`: `clamped`, `rounded` and `SIMD8<Int32>(_:rounding:)`
/// compiled to generic per-lane calls, which made attention 8 times slower.
public enum SIMDExp {
    @inline(__always)
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let low = SIMD8<Float>(repeating: -87.3), high = SIMD8<Float>(repeating: 88.7)
        var clamped = x.replacing(with: low, where: x .< low)
        clamped = clamped.replacing(with: high, where: clamped .> high)
        let magic = SIMD8<Float>(repeating: 12_582_912)  // 1.5 · 2²³
        let t = clamped * 1.442_695_04 + magic
        let n = t - magic
        var r = clamped.addingProduct(n, SIMD8(repeating: -0.693_145_75))
        r = r.addingProduct(n, SIMD8(repeating: -1.428_606_8e-6))
        var p = SIMD8<Float>(repeating: 1.0 / 5040)
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // The integer n sits in t's low mantissa bits: (bits(t) − bits(magic) + 127) << 23 is 2ⁿ.
        let bits = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let scale = unsafeBitCast((bits &+ 127) &<< 23, to: SIMD8<Float>.self)
        return (p * scale).replacing(with: 0, where: x .< low)
    }
}
