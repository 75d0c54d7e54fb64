import Foundation

/// Causal multi-head attention (grouped KV heads) of new queries against an f16 KV cache, with the
/// arithmetic of ggml's CPU flash attention (`ggml_compute_forward_flash_attn_ext_f16`, ggml-cpu/ops.cpp),
/// which llama.cpp uses on CPUs by default (`flash_attn = auto`):
/// - fewer than 64 queries (decode, short prompts): the per-row kernel. Q is rounded to f16, each score
///   is an f16·f16 dot product summed in f32, times 1/√d; an online softmax keeps the output in an
///   **f16 accumulator** (`ggml_vec_mad_f16`: o = f16(o + v·p), `ggml_vec_scale_f16` on a new maximum),
///   divided by the sum at the end. Matching the f16 rounding matters: it moves logits by ~10⁻³,
///   enough to change a greedy token where two are close.
/// - 64 queries or more (prefill): the tiled kernel. Q stays f32, K and V are widened to f32, and the
///   softmax is online over tiles of 64 keys with f32 accumulation.
///
/// Layout: q [T, H, d] f32 for positions p0 ..< p0 + T; kCache, vCache [L, Hkv, d] f16 with keys
/// 0 ..< p0 + T filled; out [T, H, d] f32. Query head h reads KV head h / (H / Hkv), as ggml broadcasts.
/// Query t sees keys 0 ... p0 + t. Threads split the (query, head) rows.
public enum CacheAttention {
    /// From this many queries on, ggml uses its tiled kernel (`GGML_FA_TILE_Q`).
    public static let tiledMinimumQueries = 64
    static let keyTile = 64

    public static func run(
        q: UnsafePointer<Float>, kCache: UnsafePointer<Float16>, vCache: UnsafePointer<Float16>,
        out: UnsafeMutablePointer<Float>, queries: Int, firstPosition: Int, heads: Int, kvHeads: Int,
        headDim: Int, threads: Int
    ) {
        if queries >= tiledMinimumQueries && headDim % 8 == 0 {
            tiled(
                q: q, kCache: kCache, vCache: vCache, out: out, queries: queries, firstPosition: firstPosition,
                heads: heads, kvHeads: kvHeads, headDim: headDim, threads: threads)
            return
        }
        let rows = queries * heads
        let workers = max(1, min(threads, rows))
        let (q, k, v, out) = (Shared(q), Shared(kCache), Shared(vCache), Shared(out))
        let tiled = queries >= tiledMinimumQueries
        Parallel.run(workers: workers) { worker in
            let d = headDim
            withUnsafeTemporaryAllocation(of: Float.self, capacity: d + keyTile) { scratch in
                withUnsafeTemporaryAllocation(of: Float16.self, capacity: 2 * d) { halves in
                    let (base, halfBase) = (scratch.baseAddress!, halves.baseAddress!)
                    for row in Parallel.share(rows, worker: worker, of: workers) {
                        let (t, h) = (row / heads, row % heads)
                        let kvHead = h / (heads / kvHeads)
                        let keys = firstPosition + t + 1
                        let query = q.pointer + (t * heads + h) * d
                        let output = out.pointer + (t * heads + h) * d
                        let kBase = k.pointer + kvHead * d
                        let vBase = v.pointer + kvHead * d
                        let stride = kvHeads * d
                        if tiled {
                            tiledRow(
                                query: query, k: kBase, v: vBase, stride: stride, keys: keys, d: d, out: output,
                                scratch: base)
                        } else {
                            halfRow(
                                query: query, k: kBase, v: vBase, stride: stride, keys: keys, d: d, out: output,
                                scratch: halfBase)
                        }
                    }
                }
            }
        }
    }

    /// Queries per work item of `tiled`.
    static let queryChunk = 8

    /// The tiled kernel's arithmetic (`tiledRow`, value for value) organized for speed: a work item is
    /// one KV head and a chunk of `queryChunk` queries, i.e. the rows of every query head that reads
    /// that KV head. Per tile of 64 keys the item widens K once, transposed ([d, 64] f32), and V once
    /// ([64, d] f32), and every row of the item reuses them: its 64 scores are 8 vectors of independent
    /// FMA chains over d (lane j is key j's chain, in `tiledRow`'s order), and P·V keeps up to 64
    /// outputs in registers. Items are dealt to workers round-robin, so causal rows of every length
    /// are spread evenly. Needs d to be a multiple of 8.
    static func tiled(
        q: UnsafePointer<Float>, kCache: UnsafePointer<Float16>, vCache: UnsafePointer<Float16>,
        out: UnsafeMutablePointer<Float>, queries: Int, firstPosition: Int, heads: Int, kvHeads: Int,
        headDim d: Int, threads: Int
    ) {
        let group = heads / kvHeads
        let chunks = (queries + queryChunk - 1) / queryChunk
        let items = chunks * kvHeads
        let workers = max(1, min(threads, items))
        let (q, k, v, out) = (Shared(q), Shared(kCache), Shared(vCache), Shared(out))
        let rowsPerItem = queryChunk * group
        Parallel.run(workers: workers) { worker in
            // Scratch: K tile [d, 64], V tile [64, d], 64 scores, then per row d outputs, m and s.
            let scratchCount = 2 * keyTile * d + keyTile + rowsPerItem * (d + 2)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratch in
                let kt = scratch.baseAddress!
                let vt = kt + keyTile * d
                let scores = vt + keyTile * d
                let accs = scores + keyTile
                let maxima = accs + rowsPerItem * d
                let sums = maxima + rowsPerItem
                var item = worker
                while item < items {
                    let (chunk, kvHead) = (item / kvHeads, item % kvHeads)
                    let t0 = chunk * queryChunk
                    let t1 = min(queries, t0 + queryChunk)
                    let rows = (t1 - t0) * group
                    for r in 0..<rows {
                        for i in 0..<d { accs[r * d + i] = 0 }
                        maxima[r] = -.infinity
                        sums[r] = 0
                    }
                    let stride = kvHeads * d
                    let kBase = k.pointer + kvHead * d
                    let vBase = v.pointer + kvHead * d
                    let lastKeys = firstPosition + t1
                    var first = 0
                    while first < lastKeys {
                        let count = min(keyTile, lastKeys - first)
                        for j in 0..<keyTile {
                            if j < count {
                                let key = kBase + (first + j) * stride
                                let value = vBase + (first + j) * stride
                                for i in 0..<d {
                                    kt[i * keyTile + j] = Float(key[i])
                                    vt[j * d + i] = Float(value[i])
                                }
                            } else {
                                for i in 0..<d { kt[i * keyTile + j] = 0 }
                            }
                        }
                        for r in 0..<rows {
                            let (t, h) = (t0 + r / group, kvHead * group + r % group)
                            let rowKeys = firstPosition + t + 1
                            guard first < rowKeys else { continue }
                            tileStep(
                                query: q.pointer + (t * heads + h) * d, kt: kt, vt: vt,
                                count: min(keyTile, rowKeys - first), d: d, scores: scores, acc: accs + r * d,
                                m: &maxima[r], s: &sums[r])
                        }
                        first += count
                    }
                    for r in 0..<rows {
                        let (t, h) = (t0 + r / group, kvHead * group + r % group)
                        let output = out.pointer + (t * heads + h) * d
                        let inverse: Float = sums[r] == 0 ? 0 : 1 / sums[r]
                        for i in 0..<d { output[i] = accs[r * d + i] * inverse }
                    }
                    item += workers
                }
            }
        }
    }

    /// One row's step over one tile of `tiled`: the same operations as one iteration of `tiledRow`'s loop.
    @inline(__always)
    static func tileStep(
        query: UnsafePointer<Float>, kt: UnsafePointer<Float>, vt: UnsafePointer<Float>, count: Int, d: Int,
        scores: UnsafeMutablePointer<Float>, acc: UnsafeMutablePointer<Float>, m: inout Float, s: inout Float
    ) {
        let scale = 1 / Float(d).squareRoot()
        // Lane j of the 64 scores is key j's FMA chain over d, in `tiledRow`'s order.
        var sums = Chains()
        for i in 0..<d { sums.addProducts(UnsafeRawPointer(kt + i * keyTile), SIMD8(repeating: query[i])) }
        let raw = UnsafeMutableRawPointer(scores)
        sums.scaled(by: scale).store(to: raw)
        var tileMax = -Float.infinity
        for j in 0..<keyTile {
            if j < count { tileMax = max(tileMax, scores[j]) } else { scores[j] = -.infinity }
        }
        let newMax = max(m, tileMax)
        if newMax > m {
            let ms = Foundation.exp(m - newMax)
            for i in 0..<d { acc[i] *= ms }
            s *= ms
        }
        m = newMax
        var tileSum: Double = 0
        for group in Swift.stride(from: 0, to: keyTile, by: 8) {
            let x = raw.loadUnaligned(fromByteOffset: 4 * group, as: SIMD8<Float>.self)
            let value = GGMLMath.exp(x - newMax)
            raw.storeBytes(of: value, toByteOffset: 4 * group, as: SIMD8<Float>.self)
            tileSum += Double(QuantGEMM.horizontalSum(value))
        }
        s = Float(Double(s) + tileSum)
        // Each output is its own FMA chain over the keys; 64 outputs (8 chains of vectors) at a time.
        let (accRaw, vtRaw) = (UnsafeMutableRawPointer(acc), UnsafeRawPointer(vt))
        var i = 0
        while i + 64 <= d {
            var outputs = Chains(loading: accRaw + 4 * i)
            for j in 0..<count { outputs.addProducts(vtRaw + 4 * (j * d + i), SIMD8(repeating: scores[j])) }
            outputs.store(to: accRaw + 4 * i)
            i += 64
        }
        while i < d {
            var a = accRaw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            for j in 0..<count {
                a.addProduct(
                    vtRaw.loadUnaligned(fromByteOffset: 4 * (j * d + i), as: SIMD8<Float>.self),
                    SIMD8<Float>(repeating: scores[j]))
            }
            accRaw.storeBytes(of: a, toByteOffset: 4 * i, as: SIMD8<Float>.self)
            i += 8
        }
    }

    /// 64 f32 values as eight vectors, each lane its own FMA chain: `tileStep`'s score and P·V loops.
    struct Chains {
        var v0 = SIMD8<Float>(), v1 = SIMD8<Float>(), v2 = SIMD8<Float>(), v3 = SIMD8<Float>()
        var v4 = SIMD8<Float>(), v5 = SIMD8<Float>(), v6 = SIMD8<Float>(), v7 = SIMD8<Float>()

        init() {}

        @inline(__always)
        init(loading p: UnsafeRawPointer) {
            (v0, v1, v2, v3) = (load(p, 0), load(p, 1), load(p, 2), load(p, 3))
            (v4, v5, v6, v7) = (load(p, 4), load(p, 5), load(p, 6), load(p, 7))
        }

        @inline(__always)
        func load(_ p: UnsafeRawPointer, _ g: Int) -> SIMD8<Float> {
            p.loadUnaligned(fromByteOffset: 32 * g, as: SIMD8<Float>.self)
        }

        /// vᵍ += x[8g…8g+7] · p for the 64 values x at `x`.
        @inline(__always)
        mutating func addProducts(_ x: UnsafeRawPointer, _ p: SIMD8<Float>) {
            v0.addProduct(load(x, 0), p)
            v1.addProduct(load(x, 1), p)
            v2.addProduct(load(x, 2), p)
            v3.addProduct(load(x, 3), p)
            v4.addProduct(load(x, 4), p)
            v5.addProduct(load(x, 5), p)
            v6.addProduct(load(x, 6), p)
            v7.addProduct(load(x, 7), p)
        }

        @inline(__always)
        func scaled(by scale: Float) -> Chains {
            var result = self
            (result.v0, result.v1, result.v2, result.v3) = (v0 * scale, v1 * scale, v2 * scale, v3 * scale)
            (result.v4, result.v5, result.v6, result.v7) = (v4 * scale, v5 * scale, v6 * scale, v7 * scale)
            return result
        }

        @inline(__always)
        func store(to p: UnsafeMutableRawPointer) {
            @inline(__always) func put(_ g: Int, _ v: SIMD8<Float>) {
                p.storeBytes(of: v, toByteOffset: 32 * g, as: SIMD8<Float>.self)
            }
            put(0, v0)
            put(1, v1)
            put(2, v2)
            put(3, v3)
            put(4, v4)
            put(5, v5)
            put(6, v6)
            put(7, v7)
        }
    }

    /// Σ a[i]·b[i] of two f16 vectors in ggml's order (`ggml_vec_dot_f16`): `GGMLMath.fourChainDot`,
    /// the tail added in Double.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float16>, _ b: UnsafePointer<Float16>, _ d: Int) -> Float {
        @inline(__always) func load(_ p: UnsafePointer<Float16>, _ i: Int) -> SIMD8<Float> {
            SIMD8<Float>(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float16>.self))
        }
        let (reduced, end) = GGMLMath.fourChainDot(count: d) { (load(a, $0), load(b, $0)) }
        var sum = Double(reduced)
        for i in end..<d { sum += Double(Float(a[i]) * Float(b[i])) }
        return Float(sum)
    }

    /// The per-row kernel: f16 Q, f16 output accumulator.
    static func halfRow(
        query: UnsafePointer<Float>, k: UnsafePointer<Float16>, v: UnsafePointer<Float16>, stride: Int,
        keys: Int, d: Int, out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float16>
    ) {
        let scale = 1 / Float(d).squareRoot()
        // Scratch: d f16 values of Q, then the d f16 values of the accumulator.
        let q16 = scratch
        let acc = scratch + d
        for i in 0..<d {
            q16[i] = Float16(query[i])
            acc[i] = 0
        }
        var m = -Float.infinity
        var s: Float = 0
        for j in 0..<keys {
            let score = dot(k + j * stride, q16, d) * scale
            let previous = m
            var ms: Float = 1
            var vs: Float = 1
            if score > m {
                m = score
                ms = exp(previous - m)
                scaleHalf(acc, d, ms)
            } else {
                vs = exp(score - m)
            }
            madHalf(acc, v + j * stride, d, vs)
            // S·ms + vs, fused as GCC contracts ggml's `S = S*ms + vs`.
            s = vs.addingProduct(s, ms)
        }
        let inverse: Float = s == 0 ? 0 : 1 / s
        for i in 0..<d { out[i] = Float(acc[i]) * inverse }
    }

    /// y = f16(y · v) (`ggml_vec_scale_f16`).
    @inline(__always)
    static func scaleHalf(_ y: UnsafeMutablePointer<Float16>, _ d: Int, _ v: Float) {
        var i = 0
        while i + 8 <= d {
            let raw = UnsafeMutableRawPointer(y + i)
            let value = SIMD8<Float>(raw.loadUnaligned(as: SIMD8<Float16>.self)) * v
            raw.storeBytes(of: SIMD8<Float16>(value), as: SIMD8<Float16>.self)
            i += 8
        }
        while i < d {
            y[i] = Float16(Float(y[i]) * v)
            i += 1
        }
    }

    /// y = f16(y + x · v), fused (`ggml_vec_mad_f16` with FMA).
    @inline(__always)
    static func madHalf(_ y: UnsafeMutablePointer<Float16>, _ x: UnsafePointer<Float16>, _ d: Int, _ v: Float) {
        var i = 0
        let vv = SIMD8<Float>(repeating: v)
        while i + 8 <= d {
            let raw = UnsafeMutableRawPointer(y + i)
            var value = SIMD8<Float>(raw.loadUnaligned(as: SIMD8<Float16>.self))
            value.addProduct(SIMD8<Float>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float16>.self)), vv)
            raw.storeBytes(of: SIMD8<Float16>(value), as: SIMD8<Float16>.self)
            i += 8
        }
        while i < d {
            y[i] = Float16(Float(y[i]).addingProduct(Float(x[i]), v))
            i += 1
        }
    }

    /// The tiled kernel's arithmetic for one row (`ggml_compute_forward_flash_attn_ext_tiled`): each
    /// score a sequential FMA chain over d (its `simd_gemm`), times 1/√d; per tile of 64 keys the
    /// maximum, a rescale by expf(M_old − M_new) when it grows, `ggml_vec_soft_max_f32` (ggml_v_expf
    /// eight at a time, `hsum_float_8` sums added in Double), and P·V as sequential FMAs over the keys.
    static func tiledRow(
        query: UnsafePointer<Float>, k: UnsafePointer<Float16>, v: UnsafePointer<Float16>, stride: Int,
        keys: Int, d: Int, out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        let scale = 1 / Float(d).squareRoot()
        let acc = scratch
        let scores = scratch + d
        for i in 0..<d { acc[i] = 0 }
        var m = -Float.infinity
        var s: Float = 0
        var first = 0
        while first < keys {
            let count = min(keyTile, keys - first)
            var tileMax = -Float.infinity
            for j in 0..<keyTile {
                guard j < count else {
                    scores[j] = -.infinity
                    continue
                }
                let key = k + (first + j) * stride
                var score: Float = 0
                for i in 0..<d { score = score.addingProduct(Float(key[i]), query[i]) }
                scores[j] = score * scale
                tileMax = max(tileMax, scores[j])
            }
            let newMax = max(m, tileMax)
            if newMax > m {
                let ms = Foundation.exp(m - newMax)
                for i in 0..<d { acc[i] *= ms }
                s *= ms
            }
            m = newMax
            var tileSum: Double = 0
            let raw = UnsafeMutableRawPointer(scores)
            for group in Swift.stride(from: 0, to: keyTile, by: 8) {
                let x = raw.loadUnaligned(fromByteOffset: 4 * group, as: SIMD8<Float>.self)
                let value = GGMLMath.exp(x - newMax)
                raw.storeBytes(of: value, toByteOffset: 4 * group, as: SIMD8<Float>.self)
                tileSum += Double(QuantGEMM.horizontalSum(value))
            }
            s = Float(Double(s) + tileSum)
            // Each of the d outputs is its own FMA chain over the keys, eight outputs per vector.
            let accRaw = UnsafeMutableRawPointer(acc)
            for j in 0..<count {
                let value = v + (first + j) * stride
                let p = SIMD8<Float>(repeating: scores[j])
                var i = 0
                while i + 8 <= d {
                    var a = accRaw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                    a.addProduct(SIMD8<Float>(UnsafeRawPointer(value + i).loadUnaligned(as: SIMD8<Float16>.self)), p)
                    accRaw.storeBytes(of: a, toByteOffset: 4 * i, as: SIMD8<Float>.self)
                    i += 8
                }
                while i < d {
                    acc[i] = acc[i].addingProduct(Float(value[i]), scores[j])
                    i += 1
                }
            }
            first += count
        }
        let inverse: Float = s == 0 ? 0 : 1 / s
        for i in 0..<d { out[i] = acc[i] * inverse }
    }
}
