import Foundation

/// `C[M, N] = A[M, K] · W[N, K]ᵀ` for f32, f16 and bf16 weights with the summation order of
/// llama.cpp's CPU backend on x86 AVX2, so the runtime's results are bit for bit llama.cpp's:
/// - M = 1 (decode), ggml's `vec_dot`: the activations rounded to the weight type; four 8-lane
///   accumulators over steps of 32 (FMA for f32/f16, separate multiply and add for bf16), reduced
///   in ggml's order; the tail (K mod 32) added in Double (f16, bf16) or with FMA (f32).
/// - M ≥ 2 (prefill), llamafile's `tinyBLAS` (ggml-cpu/llamafile/sgemm.cpp), which ggml calls for
///   these types from two rows on: one 8-lane FMA accumulator per output over steps of 8, then
///   `hsum`. (K not a multiple of 8 makes tinyBLAS decline, and ggml falls back to `vec_dot`.)
/// Threads split N; each weight row is decoded once per call into a buffer and meets every
/// activation row there. Layouts as `WeightMatrix` (rows of W) and row-major A and C.
enum GGMLFloatGEMM {
    static func run(_ w: WeightMatrix, a: [Float], m: Int, c: UnsafeMutablePointer<Float>, threads: Int) {
        precondition(a.count == m * w.columns, "A is m × K")
        let rounded = UnsafeMutablePointer<Float>.allocate(capacity: a.count)
        defer { rounded.deallocate() }
        a.withUnsafeBufferPointer { run(w, a: $0.baseAddress!, m: m, c: c, rounded: rounded, threads: threads) }
    }

    /// `run` on A at `a` (m × K); for f16 and bf16 weights A is rounded to the weight type into
    /// `rounded` (room for m × K values; unused for f32), so the call allocates nothing.
    static func run(
        _ w: WeightMatrix, a: UnsafePointer<Float>, m: Int, c: UnsafeMutablePointer<Float>,
        rounded: UnsafeMutablePointer<Float>, threads: Int
    ) {
        precondition(!w.precision.isBlockQuantized, "GGMLFloatGEMM runs f32, f16 and bf16 weights")
        let (n, k, precision) = (w.rows, w.columns, w.precision)
        let x: UnsafePointer<Float>
        switch precision {
        case .f16:
            for i in 0..<(m * k) { rounded[i] = Half.round(a[i]) }
            x = UnsafePointer(rounded)
        case .bf16:
            for i in 0..<(m * k) { rounded[i] = BFloat16.round(a[i]) }
            x = UnsafePointer(rounded)
        default: x = a
        }
        let tiny = m >= 2 && k % 8 == 0
        let workers = max(1, min(threads, n / 16 + 1))
        if m == 1 && precision == .f16 {
            // Decode: the f16 row widened as it is read (the same values and order as decoding it first).
            w.storage.withUnsafeBytes { storage in
                let (xp, cp, wp) = (Shared(x), Shared(c), Shared(storage.baseAddress!))
                Parallel.run(workers: workers) { worker in
                    for j in Parallel.share(n, worker: worker, of: workers) {
                        cp.pointer[j] = vecDotF16(wp.pointer + j * w.rowBytes, xp.pointer, k)
                    }
                }
            }
            return
        }
        if tiny {
            tinyGEMM(w, a: x, m: m, c: c, threads: threads)
            return
        }
        let (xp, cp) = (Shared(x), Shared(c))
        Parallel.run(workers: workers) { worker in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: k) { row in
                let r = row.baseAddress!
                for j in Parallel.share(n, worker: worker, of: workers) {
                    w.decode(row: j, into: r)
                    for i in 0..<m {
                        let ai = xp.pointer + i * k
                        cp.pointer[i * n + j] =
                            precision == .bf16 ? vecDotBF16(r, ai, k) : vecDot(r, ai, k, f32: precision == .f32)
                    }
                }
            }
        }
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Weight rows per panel and activation rows per tile of `tinyGEMM`.
    static let panelRows = 4
    static let tileRows = 4

    /// tinyBLAS's arithmetic (`tinyDot` per output) on 4 × 4 tiles: A (m × k, already rounded to the
    /// weight type) against a panel of four weight rows decoded to f32 once, so sixteen independent
    /// FMA chains run side by side instead of one latency-bound chain per output. Threads split the
    /// panels; partial tiles repeat their last row and store only the real outputs.
    static func tinyGEMM(
        _ w: WeightMatrix, a: UnsafePointer<Float>, m: Int, c: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let (n, k) = (w.rows, w.columns)
        let panels = (n + panelRows - 1) / panelRows
        let workers = max(1, min(threads, panels))
        let (ap, cp) = (Shared(a), Shared(c))
        Parallel.run(workers: workers) { worker in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: panelRows * k) { panel in
                let p = panel.baseAddress!
                for index in Parallel.share(panels, worker: worker, of: workers) {
                    let j0 = index * panelRows
                    let width = min(panelRows, n - j0)
                    for r in 0..<panelRows { w.decode(row: j0 + min(r, width - 1), into: p + r * k) }
                    var i = 0
                    while i < m {
                        let height = min(tileRows, m - i)
                        tile(
                            a: ap.pointer, rows: i, height: height, panel: p, k: k, c: cp.pointer, n: n,
                            column: j0, width: width)
                        i += height
                    }
                }
            }
        }
    }

    /// One 4 × 4 tile: C[i..<i+height, j0..<j0+width] from A's rows i... and the panel's rows.
    @inline(__always)
    static func tile(
        a: UnsafePointer<Float>, rows i: Int, height: Int, panel: UnsafePointer<Float>, k: Int,
        c: UnsafeMutablePointer<Float>, n: Int, column j0: Int, width: Int
    ) {
        let a0 = a + i * k
        let a1 = a + (i + min(1, height - 1)) * k
        let a2 = a + (i + min(2, height - 1)) * k
        let a3 = a + (i + min(3, height - 1)) * k
        let (w0, w1, w2, w3) = (panel, panel + k, panel + 2 * k, panel + 3 * k)
        var c00 = SIMD8<Float>()
        var c01 = SIMD8<Float>()
        var c02 = SIMD8<Float>()
        var c03 = SIMD8<Float>()
        var c10 = SIMD8<Float>()
        var c11 = SIMD8<Float>()
        var c12 = SIMD8<Float>()
        var c13 = SIMD8<Float>()
        var c20 = SIMD8<Float>()
        var c21 = SIMD8<Float>()
        var c22 = SIMD8<Float>()
        var c23 = SIMD8<Float>()
        var c30 = SIMD8<Float>()
        var c31 = SIMD8<Float>()
        var c32 = SIMD8<Float>()
        var c33 = SIMD8<Float>()
        var l = 0
        while l < k {
            let (x0, x1, x2, x3) = (load(a0, l), load(a1, l), load(a2, l), load(a3, l))
            let (y0, y1, y2, y3) = (load(w0, l), load(w1, l), load(w2, l), load(w3, l))
            c00.addProduct(y0, x0)
            c01.addProduct(y1, x0)
            c02.addProduct(y2, x0)
            c03.addProduct(y3, x0)
            c10.addProduct(y0, x1)
            c11.addProduct(y1, x1)
            c12.addProduct(y2, x1)
            c13.addProduct(y3, x1)
            c20.addProduct(y0, x2)
            c21.addProduct(y1, x2)
            c22.addProduct(y2, x2)
            c23.addProduct(y3, x2)
            c30.addProduct(y0, x3)
            c31.addProduct(y1, x3)
            c32.addProduct(y2, x3)
            c33.addProduct(y3, x3)
            l += 8
        }
        @inline(__always) func store(
            _ r: Int, _ s0: SIMD8<Float>, _ s1: SIMD8<Float>, _ s2: SIMD8<Float>, _ s3: SIMD8<Float>
        ) {
            guard r < height else { return }
            let row = c + (i + r) * n + j0
            row[0] = QuantGEMM.horizontalSum(s0)
            if width > 1 { row[1] = QuantGEMM.horizontalSum(s1) }
            if width > 2 { row[2] = QuantGEMM.horizontalSum(s2) }
            if width > 3 { row[3] = QuantGEMM.horizontalSum(s3) }
        }
        store(0, c00, c01, c02, c03)
        store(1, c10, c11, c12, c13)
        store(2, c20, c21, c22, c23)
        store(3, c30, c31, c32, c33)
    }

    /// tinyBLAS `gemm_bloc`: Σ by one FMA chain of 8 lanes, then `hsum`.
    @inline(__always)
    static func tinyDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ k: Int) -> Float {
        var acc = SIMD8<Float>()
        var l = 0
        while l < k {
            acc.addProduct(load(a, l), load(b, l))
            l += 8
        }
        return QuantGEMM.horizontalSum(acc)
    }

    /// `ggml_vec_dot_f16` / `ggml_vec_dot_f32` on f32 operands (`GGMLMath.fourChainDot`); the tail
    /// in Double for f16, with FMA for f32.
    @inline(__always)
    static func vecDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ k: Int, f32: Bool) -> Float {
        let (reduced, end) = GGMLMath.fourChainDot(count: k) { (load(a, $0), load(b, $0)) }
        if f32 { return (end..<k).reduce(reduced) { $0.addingProduct(a[$1], b[$1]) } }
        var sum = Double(reduced)
        for i in end..<k { sum += Double(a[i] * b[i]) }
        return Float(sum)
    }

    /// `vecDot` with the first operand f16 bytes (little-endian), widened 8 at a time with F16C.
    @inline(__always)
    static func vecDotF16(_ a: UnsafeRawPointer, _ b: UnsafePointer<Float>, _ k: Int) -> Float {
        let (reduced, end) = GGMLMath.fourChainDot(count: k) {
            (SIMD8<Float>(a.loadUnaligned(fromByteOffset: 2 * $0, as: SIMD8<Float16>.self)), load(b, $0))
        }
        var sum = Double(reduced)
        for i in end..<k {
            sum += Double(
                Half.float(UInt16(littleEndian: a.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) * b[i])
        }
        return Float(sum)
    }

    /// `ggml_vec_dot_bf16` (AVX2): four multiply-then-add chains over steps of 32, (c1 + c3) + (c2 + c4),
    /// `hsum_float_8` order, the tail in Double.
    @inline(__always)
    static func vecDotBF16(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ k: Int) -> Float {
        var c1 = SIMD8<Float>()
        var c2 = SIMD8<Float>()
        var c3 = SIMD8<Float>()
        var c4 = SIMD8<Float>()
        var i = 0
        while i + 32 <= k {
            c1 = load(a, i) * load(b, i) + c1
            c2 = load(a, i + 8) * load(b, i + 8) + c2
            c3 = load(a, i + 16) * load(b, i + 16) + c3
            c4 = load(a, i + 24) * load(b, i + 24) + c4
            i += 32
        }
        var sum = Double(QuantGEMM.horizontalSum((c1 + c3) + (c2 + c4)))
        while i < k {
            sum += Double(a[i] * b[i])
            i += 1
        }
        return Float(sum)
    }
}
