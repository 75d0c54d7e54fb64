import Foundation

/// Fast f32 attention: `softmax(Q·Kᵀ/√d + causal mask)·V` in one pass with an online softmax.
///
/// Layout as `AttentionShape`: Q [T, H, d], K and V [L, Hkv, d], output [T, H, d], row-major f32.
/// Work items are tiles of 4 rows, a row being one (query position, query head); the rows of a tile
/// share a KV head, so every K and V load serves all 4 (prefill: 4 queries of a head; GQA decode: the
/// heads of a group). Keys go in blocks of 16; scores are computed two keys at a time (each Q load
/// serves both); each row keeps its running maximum m, sum l and output o (d floats), rescaled by
/// exp(m_old − m_new) when m grows (Milakov & Gimelshein's online softmax, as in FlashAttention); then
/// P·V is accumulated 16 values of d at a time for the 4 rows together, so each V load serves all 4
/// rows. Masked keys get weight exactly 0. `exp` is vectorized (`SIMDExp`); d mod 8 (scores)
/// and d mod 16 (P·V) are handled in scalar code. T ≥ 16 goes to `AttentionBlocked`.
public enum AttentionKernel {
    static let tileRows = 4
    static let keyBlock = 16
    /// From this many queries on, `run` hands the call to `AttentionBlocked`.
    static let blockedMinimumQueries = 16

    @inline(never)
    public static func run(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
        shape: AttentionShape, threads: Int
    ) {
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
                tile(
                    q: q.pointer, k: k.pointer, v: v.pointer, out: out.pointer, shape: shape, kvHead: kvHead,
                    rows: first..<min(first + tileRows, rowsPerKVHead), group: group)
                item += workers
            }
        }
    }

    /// Rows `rows` of KV head `kvHead`'s group: row index r means query r / group, head kvHead·group + r % group.
    static func tile(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
        shape: AttentionShape, kvHead: Int, rows: Range<Int>, group: Int
    ) {
        let d = shape.headDim
        let count = rows.count
        let kvStride = shape.kvHeads * d
        let scale = 1 / Float(d).squareRoot()
        let vectorEnd = d / 8 * 8
        // Per row: offset of its query/output vector, keys it may see, running max and sum.
        var offsets = SIMD4<Int>()
        var visible = SIMD4<Int>()
        for r in 0..<tileRows {
            let row = rows.lowerBound + min(r, count - 1)
            let (query, head) = (row / group, kvHead * group + row % group)
            offsets[r] = (query * shape.heads + head) * d
            visible[r] = shape.visibleKeys(query: query)
        }
        let keys = (0..<count).reduce(0) { max($0, visible[$1]) }
        var maxima = SIMD4<Float>(repeating: -.infinity)
        var sums = SIMD4<Float>()
        let q0 = UnsafeRawPointer(q + offsets[0])
        let q1 = UnsafeRawPointer(q + offsets[1])
        let q2 = UnsafeRawPointer(q + offsets[2])
        let q3 = UnsafeRawPointer(q + offsets[3])
        withUnsafeTemporaryAllocation(of: Float.self, capacity: tileRows * d + tileRows * keyBlock) { buffer in
            let o = buffer.baseAddress!
            let scores = o + tileRows * d
            o.initialize(repeating: 0, count: tileRows * d)
            for j0 in stride(from: 0, to: keys, by: keyBlock) {
                let jb = min(keyBlock, keys - j0)
                // Scores for 4 rows × jb keys, two keys at a time: every K row is loaded once for the
                // 4 rows and every Q load serves both keys (8 accumulators, 6 loads per 8 FMAs).
                var jj = 0
                while jj < jb {
                    let second = min(jj + 1, jb - 1)
                    let key0 = UnsafeRawPointer(k + (j0 + jj) * kvStride + kvHead * d)
                    let key1 = UnsafeRawPointer(k + (j0 + second) * kvStride + kvHead * d)
                    var a0 = SIMD8<Float>()
                    var a1 = SIMD8<Float>()
                    var a2 = SIMD8<Float>()
                    var a3 = SIMD8<Float>()
                    var b0 = SIMD8<Float>()
                    var b1 = SIMD8<Float>()
                    var b2 = SIMD8<Float>()
                    var b3 = SIMD8<Float>()
                    var offset = 0
                    while offset < vectorEnd * 4 {
                        let k0 = key0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        let k1 = key1.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        var x = q0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        a0.addProduct(x, k0)
                        b0.addProduct(x, k1)
                        x = q1.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        a1.addProduct(x, k0)
                        b1.addProduct(x, k1)
                        x = q2.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        a2.addProduct(x, k0)
                        b2.addProduct(x, k1)
                        x = q3.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        a3.addProduct(x, k0)
                        b3.addProduct(x, k1)
                        offset += 32
                    }
                    var dots0 = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
                    var dots1 = SIMD4<Float>(b0.sum(), b1.sum(), b2.sum(), b3.sum())
                    for p in vectorEnd..<d {
                        let qp = SIMD4(
                            q0.load(fromByteOffset: 4 * p, as: Float.self),
                            q1.load(fromByteOffset: 4 * p, as: Float.self),
                            q2.load(fromByteOffset: 4 * p, as: Float.self),
                            q3.load(fromByteOffset: 4 * p, as: Float.self))
                        dots0.addProduct(qp, SIMD4(repeating: key0.load(fromByteOffset: 4 * p, as: Float.self)))
                        dots1.addProduct(qp, SIMD4(repeating: key1.load(fromByteOffset: 4 * p, as: Float.self)))
                    }
                    for r in 0..<tileRows {
                        scores[r * keyBlock + jj] = j0 + jj < visible[r] ? dots0[r] * scale : -.infinity
                        if second > jj {
                            scores[r * keyBlock + second] = j0 + second < visible[r] ? dots1[r] * scale : -.infinity
                        }
                    }
                    jj += 2
                }
                for jj in jb..<keyBlock { for r in 0..<tileRows { scores[r * keyBlock + jj] = -.infinity } }
                // Online softmax per row: scores become weights p (0 where masked, and for the padding
                // rows of a partial tile), and the row's output is rescaled when its maximum grows.
                for r in 0..<tileRows {
                    let rowScores = UnsafeMutableRawPointer(scores + r * keyBlock)
                    let low = rowScores.loadUnaligned(as: SIMD8<Float>.self)
                    let high = rowScores.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                    let blockMax = max(low.max(), high.max())
                    guard r < count, blockMax > -.infinity else {
                        rowScores.storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
                        rowScores.storeBytes(of: SIMD8<Float>(), toByteOffset: 32, as: SIMD8<Float>.self)
                        continue
                    }
                    let newMax = max(maxima[r], blockMax)
                    let correction = maxima[r] == -.infinity ? 0 : Foundation.exp(maxima[r] - newMax)
                    let shift = SIMD8<Float>(repeating: newMax)
                    let pLow = SIMDExp.exp(low - shift)
                    let pHigh = SIMDExp.exp(high - shift)
                    sums[r] = sums[r] * correction + (pLow + pHigh).sum()
                    maxima[r] = newMax
                    rowScores.storeBytes(of: pLow, as: SIMD8<Float>.self)
                    rowScores.storeBytes(of: pHigh, toByteOffset: 32, as: SIMD8<Float>.self)
                    if correction != 1 {
                        let row = UnsafeMutableRawPointer(o + r * d)
                        let factor = SIMD8<Float>(repeating: correction)
                        var offset = 0
                        while offset < vectorEnd * 4 {
                            row.storeBytes(
                                of: row.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) * factor,
                                toByteOffset: offset, as: SIMD8<Float>.self)
                            offset += 32
                        }
                        for p in vectorEnd..<d { o[r * d + p] *= correction }
                    }
                }
                // O[4, d] += P[4, jb] · V[jb, d], 16 values of d at a time: each V load serves the 4
                // rows (8 accumulators, 6 loads per 8 FMAs).
                let w0 = scores
                let w1 = scores + keyBlock
                let w2 = scores + 2 * keyBlock
                let w3 = scores + 3 * keyBlock
                let pairEnd = d / 16 * 16
                var chunk = 0
                while chunk < pairEnd * 4 {
                    let r0 = UnsafeMutableRawPointer(o) + chunk
                    let r1 = r0 + 4 * d
                    let r2 = r1 + 4 * d
                    let r3 = r2 + 4 * d
                    var c00 = r0.loadUnaligned(as: SIMD8<Float>.self)
                    var c01 = r0.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                    var c10 = r1.loadUnaligned(as: SIMD8<Float>.self)
                    var c11 = r1.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                    var c20 = r2.loadUnaligned(as: SIMD8<Float>.self)
                    var c21 = r2.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                    var c30 = r3.loadUnaligned(as: SIMD8<Float>.self)
                    var c31 = r3.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                    for jj in 0..<jb {
                        let value = UnsafeRawPointer(v + (j0 + jj) * kvStride + kvHead * d) + chunk
                        let v0 = value.loadUnaligned(as: SIMD8<Float>.self)
                        let v1 = value.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                        var w = SIMD8<Float>(repeating: w0[jj])
                        c00.addProduct(w, v0)
                        c01.addProduct(w, v1)
                        w = SIMD8<Float>(repeating: w1[jj])
                        c10.addProduct(w, v0)
                        c11.addProduct(w, v1)
                        w = SIMD8<Float>(repeating: w2[jj])
                        c20.addProduct(w, v0)
                        c21.addProduct(w, v1)
                        w = SIMD8<Float>(repeating: w3[jj])
                        c30.addProduct(w, v0)
                        c31.addProduct(w, v1)
                    }
                    r0.storeBytes(of: c00, as: SIMD8<Float>.self)
                    r0.storeBytes(of: c01, toByteOffset: 32, as: SIMD8<Float>.self)
                    r1.storeBytes(of: c10, as: SIMD8<Float>.self)
                    r1.storeBytes(of: c11, toByteOffset: 32, as: SIMD8<Float>.self)
                    r2.storeBytes(of: c20, as: SIMD8<Float>.self)
                    r2.storeBytes(of: c21, toByteOffset: 32, as: SIMD8<Float>.self)
                    r3.storeBytes(of: c30, as: SIMD8<Float>.self)
                    r3.storeBytes(of: c31, toByteOffset: 32, as: SIMD8<Float>.self)
                    chunk += 64
                }
                for p in pairEnd..<d {
                    for jj in 0..<jb {
                        let value = v[(j0 + jj) * kvStride + kvHead * d + p]
                        o[p] += w0[jj] * value
                        o[d + p] += w1[jj] * value
                        o[2 * d + p] += w2[jj] * value
                        o[3 * d + p] += w3[jj] * value
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
        let low = SIMD8<Float>(repeating: -87.3)
        let high = SIMD8<Float>(repeating: 88.7)
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
