/// f32 GEMM for few activation rows (decode batches, short prefills): `C[M, N] = A[M, K] · W[N, K]ᵀ`
/// without packing W.
///
/// Packing W (the big operand) costs a read and a write of all of it, as much as the arithmetic when
/// M is small. This variant swaps the roles of the BLIS microkernel: it computes Cᵀ tiles of 6 W rows ×
/// 16 A rows, broadcasting W values straight from W's rows (six sequential streams, no packing) and
/// loading A from 16-wide packed panels (A is small: packed once, shared by all workers).
/// K is blocked by `kc` so a tile's A panel (kc × 16) and W rows (6 × kc) stay in L1; tiles are
/// written to C transposed, adding across K blocks. Edge tiles: A panels are zero-padded to 16 rows,
/// missing W rows repeat the last real one, and only the valid part of the tile is stored.
public enum SGEMMSmallM {
    static let wRows = 6
    static let aRows = 16
    static let kc = 256

    @inline(never)
    public static func run(
        a: UnsafePointer<Float>, w: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, threads: Int
    ) {
        let panels = (m + aRows - 1) / aRows
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: panels * aRows * k)
        defer { packed.deallocate() }
        packA(a, m: m, k: k, into: packed)
        let blocks = (n + wRows - 1) / wRows
        let workers = max(1, min(threads, blocks))
        let (packedA, w, c) = (Shared(UnsafePointer(packed)), Shared(w), Shared(c))
        Parallel.run(workers: workers) { worker in
            let share = Parallel.share(blocks, worker: worker, of: workers)
            let columns = (share.lowerBound * wRows)..<min(n, share.upperBound * wRows)
            guard !columns.isEmpty else { return }
            compute(packedA: packedA.pointer, w: w.pointer, c: c.pointer, m: m, n: n, k: k, columns: columns)
        }
    }

    /// A[M, K] → panels of 16 rows, each stored k-major: panel[p × 16 + i] = A[16·panel + i, p] (zero past M).
    static func packA(_ a: UnsafePointer<Float>, m: Int, k: Int, into out: UnsafeMutablePointer<Float>) {
        let panels = (m + aRows - 1) / aRows
        for panel in 0..<panels {
            let base = out + panel * aRows * k
            for i in 0..<aRows {
                let row = panel * aRows + i
                if row < m {
                    let source = a + row * k
                    for p in 0..<k { base[p * aRows + i] = source[p] }
                } else {
                    for p in 0..<k { base[p * aRows + i] = 0 }
                }
            }
        }
    }

    static func compute(
        packedA: UnsafePointer<Float>, w: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, columns: Range<Int>
    ) {
        let panels = (m + aRows - 1) / aRows
        for pc in stride(from: 0, to: k, by: kc) {
            let kb = min(kc, k - pc)
            for j in stride(from: columns.lowerBound, to: columns.upperBound, by: wRows) {
                let width = min(wRows, columns.upperBound - j)
                for panel in 0..<panels {
                    microkernel(
                        kb, packedA + panel * aRows * k + pc * aRows, w: w + pc, k: k, firstW: j, width: width,
                        c: c, n: n, firstA: panel * aRows, height: min(aRows, m - panel * aRows), accumulate: pc > 0)
                }
            }
        }
    }

    /// Cᵀ[6, 16] over `kb` steps: W rows firstW..<firstW+6 (broadcast) × A panel (16 wide).
    @inline(__always)
    static func microkernel(
        _ kb: Int, _ ap: UnsafePointer<Float>, w: UnsafePointer<Float>, k: Int, firstW: Int, width: Int,
        c: UnsafeMutablePointer<Float>, n: Int, firstA: Int, height: Int, accumulate: Bool
    ) {
        let w0 = w + firstW * k
        let w1 = w + (firstW + min(1, width - 1)) * k
        let w2 = w + (firstW + min(2, width - 1)) * k
        let w3 = w + (firstW + min(3, width - 1)) * k
        let w4 = w + (firstW + min(4, width - 1)) * k
        let w5 = w + (firstW + min(5, width - 1)) * k
        var c00 = SIMD8<Float>()
        var c01 = SIMD8<Float>()
        var c10 = SIMD8<Float>()
        var c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>()
        var c21 = SIMD8<Float>()
        var c30 = SIMD8<Float>()
        var c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>()
        var c41 = SIMD8<Float>()
        var c50 = SIMD8<Float>()
        var c51 = SIMD8<Float>()
        var b = UnsafeRawPointer(ap)
        for p in 0..<kb {
            let b0 = b.loadUnaligned(as: SIMD8<Float>.self)
            let b1 = b.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            var x = SIMD8<Float>(repeating: w0[p])
            c00.addProduct(x, b0)
            c01.addProduct(x, b1)
            x = SIMD8<Float>(repeating: w1[p])
            c10.addProduct(x, b0)
            c11.addProduct(x, b1)
            x = SIMD8<Float>(repeating: w2[p])
            c20.addProduct(x, b0)
            c21.addProduct(x, b1)
            x = SIMD8<Float>(repeating: w3[p])
            c30.addProduct(x, b0)
            c31.addProduct(x, b1)
            x = SIMD8<Float>(repeating: w4[p])
            c40.addProduct(x, b0)
            c41.addProduct(x, b1)
            x = SIMD8<Float>(repeating: w5[p])
            c50.addProduct(x, b0)
            c51.addProduct(x, b1)
            b += 64
        }
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 12) { tile in
            tile[0] = c00
            tile[1] = c01
            tile[2] = c10
            tile[3] = c11
            tile[4] = c20
            tile[5] = c21
            tile[6] = c30
            tile[7] = c31
            tile[8] = c40
            tile[9] = c41
            tile[10] = c50
            tile[11] = c51
            // tile holds Cᵀ: row r (a W row) × 16 A rows.
            let values = UnsafeRawPointer(tile.baseAddress!).assumingMemoryBound(to: Float.self)
            for i in 0..<height {
                let out = c + (firstA + i) * n + firstW
                for r in 0..<width {
                    out[r] = accumulate ? out[r] + values[r * aRows + i] : values[r * aRows + i]
                }
            }
        }
    }
}
