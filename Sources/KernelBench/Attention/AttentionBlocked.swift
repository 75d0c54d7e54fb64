import Foundation

/// Fast f32 attention for many queries (prefill): the two products as register-tiled GEMMs around
/// an online softmax, FlashAttention's loop order on a CPU.
///
/// Layout as `AttentionShape`: Q [T, H, d], K and V [L, Hkv, d], output [T, H, d], row-major f32.
/// - A work item is one KV head (or, when there are fewer KV heads than threads, an interleaved
///   share of its query blocks). It packs that head's K as 16-key micro-panels (depth d) and its V as
///   16-column micro-panels along the keys, once, so every query block of every head in the group
///   reuses them.
/// - Per query block of `blockQueries` rows (one head): pack Q as 6-row panels; then per block of
///   `blockKeys` keys, S = Q·Kᵀ with `SGEMM.microkernel` (6×16 tiles, depth d), scale, mask, and the
///   online softmax per row (running max m and sum l; the output rows are rescaled by exp(m_old −
///   m_new) when the max grows), then O += P·V with the same microkernel (depth = the block's keys).
/// - Causal: key blocks past the block's last visible key are skipped; masked keys get weight 0.
/// Edge tiles (T, L or d not multiples of the tile) are the microkernel's clipped stores, with the
/// packed panels zero-padded.
enum AttentionBlocked {
    /// Rows of Q per block: 8 microkernel panels of 6.
    static let blockQueries = 48
    /// Keys per block: 8 micro-panels of 16 (48/64, 96/64, 96/128 and 144/128 measured within noise).
    static let blockKeys = 128

    static func run(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
        shape: AttentionShape, threads: Int
    ) {
        let (t, h, hkv) = (shape.queries, shape.heads, shape.kvHeads)
        let group = h / hkv
        let queryBlocks = (t + blockQueries - 1) / blockQueries
        // Enough items for every thread; a KV head split in `splits` packs its K and V once per share.
        let splits = max(1, min(queryBlocks * group, (threads + hkv - 1) / hkv))
        let items = hkv * splits
        let workers = max(1, min(threads, items))
        let (q, k, v, out) = (Shared(q), Shared(k), Shared(v), Shared(out))
        Parallel.run(workers: workers) { worker in
            let scratch = Scratch(shape: shape)
            defer { scratch.deallocate() }
            var item = worker
            while item < items {
                let kvHead = item / splits
                scratch.pack(k: k.pointer, v: v.pointer, shape: shape, kvHead: kvHead)
                // Query blocks of the group's heads, interleaved across splits: causal blocks near the
                // end cost more, so contiguous ranges would be unbalanced.
                var unit = item % splits
                while unit < queryBlocks * group {
                    let head = kvHead * group + unit % group
                    let first = (unit / group) * blockQueries
                    block(
                        q: q.pointer, out: out.pointer, shape: shape, head: head,
                        rows: first..<min(first + blockQueries, t), scratch: scratch)
                    unit += splits
                }
                item += workers
            }
        }
    }

    /// One worker's buffers, sized for the shape.
    final class Scratch {
        let keysPadded: Int
        let columnsPadded: Int
        let packedK: UnsafeMutablePointer<Float>  // [L/16 panels][d][16]
        let packedV: UnsafeMutablePointer<Float>  // [d/16 panels][L][16]
        let packedQ: UnsafeMutablePointer<Float>  // [48/6 panels][d][6]
        let scores: UnsafeMutablePointer<Float>  // [48][64]
        let packedP: UnsafeMutablePointer<Float>  // [48/6 panels][64][6]
        let output: UnsafeMutablePointer<Float>  // [48][d rounded up to 16]
        let maxima: UnsafeMutablePointer<Float>
        let sums: UnsafeMutablePointer<Float>

        init(shape: AttentionShape) {
            let d = shape.headDim
            keysPadded = (shape.keys + SGEMM.nr - 1) / SGEMM.nr * SGEMM.nr
            columnsPadded = (d + SGEMM.nr - 1) / SGEMM.nr * SGEMM.nr
            packedK = .allocate(capacity: keysPadded * d)
            packedV = .allocate(capacity: columnsPadded * keysPadded)
            packedQ = .allocate(capacity: blockQueries * d)
            scores = .allocate(capacity: blockQueries * blockKeys)
            packedP = .allocate(capacity: blockQueries * blockKeys)
            output = .allocate(capacity: blockQueries * columnsPadded)
            maxima = .allocate(capacity: blockQueries)
            sums = .allocate(capacity: blockQueries)
        }

        func deallocate() {
            for pointer in [packedK, packedV, packedQ, scores, packedP, output, maxima, sums] { pointer.deallocate() }
        }

        /// Packs KV head `kvHead`: K as `SGEMM.packW` panels (16 keys × d), V as panels of 16 of its
        /// d columns, each running over all keys (so a key block is a pointer offset into it).
        func pack(k: UnsafePointer<Float>, v: UnsafePointer<Float>, shape: AttentionShape, kvHead: Int) {
            let (l, d) = (shape.keys, shape.headDim)
            let stride = shape.kvHeads * d
            SGEMM.packW(k + kvHead * d, k: stride, rows: 0..<l, depth: 0..<d, into: packedK)
            let nr = SGEMM.nr
            for panel in 0..<(columnsPadded / nr) {
                let destination = packedV + panel * keysPadded * nr
                let first = panel * nr
                let width = min(nr, d - first)
                for key in 0..<l {
                    let source = v + key * stride + kvHead * d + first
                    let slot = destination + key * nr
                    if width == nr {
                        UnsafeMutableRawPointer(slot).storeBytes(
                            of: UnsafeRawPointer(source).loadUnaligned(as: SIMD16<Float>.self),
                            as: SIMD16<Float>.self)
                    } else {
                        for j in 0..<nr { slot[j] = j < width ? source[j] : 0 }
                    }
                }
            }
        }
    }

    /// Query rows `rows` of head `head` against the packed K and V of its KV head.
    static func block(
        q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, shape: AttentionShape, head: Int,
        rows: Range<Int>, scratch: Scratch
    ) {
        let (h, d) = (shape.heads, shape.headDim)
        let (mr, nr) = (SGEMM.mr, SGEMM.nr)
        let count = rows.count
        let panels = (count + mr - 1) / mr
        let dPadded = scratch.columnsPadded
        let scale = 1 / Float(d).squareRoot()
        SGEMM.packA(q + head * d, k: h * d, rows: rows, depth: 0..<d, into: scratch.packedQ)
        scratch.output.initialize(repeating: 0, count: count * dPadded)
        scratch.maxima.initialize(repeating: -.infinity, count: count)
        scratch.sums.initialize(repeating: 0, count: count)
        let keys = shape.visibleKeys(query: rows.upperBound - 1)
        for j0 in stride(from: 0, to: keys, by: blockKeys) {
            let jb = min(blockKeys, keys - j0)
            // S[count, jb] = Q·Kᵀ, unscaled.
            for panel in 0..<panels {
                for keyPanel in 0..<((jb + nr - 1) / nr) {
                    SGEMM.microkernel(
                        d, scratch.packedQ + panel * mr * d, scratch.packedK + (j0 / nr + keyPanel) * nr * d,
                        scratch.scores + panel * mr * blockKeys + keyPanel * nr, ldc: blockKeys, accumulate: false,
                        rows: min(mr, count - panel * mr), columns: min(nr, jb - keyPanel * nr))
                }
            }
            // Online softmax per row; S becomes P in place (masked and out-of-block keys 0).
            for r in 0..<count {
                let visible = min(max(shape.visibleKeys(query: rows.lowerBound + r) - j0, 0), jb)
                let row = scratch.scores + r * blockKeys
                var blockMax = -Float.infinity
                for j in 0..<visible { blockMax = max(blockMax, row[j]) }
                guard visible > 0 else {
                    for j in 0..<jb { row[j] = 0 }
                    continue
                }
                let newMax = max(scratch.maxima[r], blockMax * scale)
                let shift = SIMD8<Float>(repeating: newMax)
                let lane = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
                var total = SIMD8<Float>()
                for j in stride(from: 0, to: jb, by: 8) {
                    let raw = UnsafeMutableRawPointer(row + j)
                    let x = raw.loadUnaligned(as: SIMD8<Float>.self) * scale - shift
                    let masked = x.replacing(
                        with: -.infinity, where: lane .>= SIMD8<Int32>(repeating: Int32(visible - j)))
                    let p = SIMDExp.exp(masked)
                    total += p
                    raw.storeBytes(of: p, as: SIMD8<Float>.self)
                }
                let old = scratch.maxima[r]
                if old != -.infinity && old < newMax {
                    let correction = Foundation.exp(old - newMax)
                    scratch.sums[r] *= correction
                    let o = scratch.output + r * dPadded
                    for p in 0..<d { o[p] *= correction }
                }
                scratch.sums[r] += total.sum()
                scratch.maxima[r] = newMax
            }
            // O[count, d] += P[count, jb] · V[j0..<j0+jb, d].
            SGEMM.packA(scratch.scores, k: blockKeys, rows: 0..<count, depth: 0..<jb, into: scratch.packedP)
            for panel in 0..<panels {
                for columnPanel in 0..<(dPadded / nr) {
                    SGEMM.microkernel(
                        jb, scratch.packedP + panel * mr * jb,
                        scratch.packedV + columnPanel * scratch.keysPadded * nr + j0 * nr,
                        scratch.output + panel * mr * dPadded + columnPanel * nr, ldc: dPadded, accumulate: true,
                        rows: min(mr, count - panel * mr), columns: min(nr, d - columnPanel * nr))
                }
            }
        }
        for r in 0..<count {
            let destination = out + ((rows.lowerBound + r) * h + head) * d
            let o = scratch.output + r * dPadded
            let inverse = 1 / scratch.sums[r]
            for p in 0..<d { destination[p] = o[p] * inverse }
        }
    }
}
