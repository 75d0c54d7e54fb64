import CBLAS

/// Fast f32 GEMM, BLIS-style: `C[M, N] = A[M, K] · W[N, K]ᵀ`.
///
/// Layout: A is row-major M×K (activations), W is row-major N×K (weights as in GGUF), C is row-major M×N.
///
/// Structure (BLIS, "Anatomy of High-Performance Many-Threaded Matrix Multiplication"):
/// - threads split N into contiguous ranges of whole micro-panels, each thread packing its own panels;
/// - loop over N in `nc` blocks, K in `kc` blocks (W's kc×nc block packed into NR-wide micro-panels),
///   M in `mc` blocks (A's mc×kc block packed into MR-tall micro-panels);
/// - the microkernel computes an MR×NR = 6×16 tile of C in 12 `SIMD8<Float>` accumulators with FMAs
///   (12 + 2 loads of W + 1 broadcast of A = 15 of the 16 AVX2 registers);
/// - C is prefetched for writing at the start of each tile (its rows are N apart and it does not fit
///   in L2, so the final stores would otherwise stall on L3 or DRAM).
/// kc = 512, mc = 96 were chosen by a sweep on the development VM (256/72, 256/144, 384/144, 512/48,
/// 512/96, 768/96): all within noise of each other except 256/144 and 384/144, which were slower.
/// Assumptions: packed panels are zero-padded to MR and NR, so edge tiles run the same microkernel
/// and only the store is clipped (through a scratch tile). K = 0 is not a GEMM (rejected by the caller).
public enum SGEMM {
    static let mr = 6
    static let nr = 16
    static let kc = 512
    static let mc = 96
    static let nc = 3072

    /// Multiplies; `threads` ≥ 1 workers share N.
    @inline(never)
    public static func run(
        a: UnsafePointer<Float>, w: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, threads: Int
    ) {
        run(a: a, weights: F32Rows(base: w, k: k), c: c, m: m, n: n, k: k, threads: threads)
    }

    /// Multiplies with weights decoded to f32 while they are packed (f16, bf16, q8_0, q4_0 rows):
    /// the decoding costs O(N·K) per call against O(M·N·K) arithmetic, so it pays off at large M.
    @inline(never)
    public static func run(
        a: UnsafePointer<Float>, weights: WeightMatrix, c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, threads: Int
    ) {
        weights.storage.withUnsafeBytes { storage in
            let source = DecodedRows(
                base: storage.baseAddress!, rowBytes: weights.rowBytes, precision: weights.precision)
            run(a: a, weights: source, c: c, m: m, n: n, k: weights.columns, threads: threads)
        }
    }

    static func run<Source: WeightRows>(
        a: UnsafePointer<Float>, weights: Source, c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, threads: Int
    ) {
        let panels = (n + nr - 1) / nr
        let workers = max(1, min(threads, panels))
        let (a, c) = (Shared(a), Shared(c))
        // Each worker writes a disjoint range of C's columns (whole micro-panels).
        Parallel.run(workers: workers) { worker in
            let share = Parallel.share(panels, worker: worker, of: workers)
            let columns = (share.lowerBound * nr)..<min(n, share.upperBound * nr)
            guard !columns.isEmpty else { return }
            block(a: a.pointer, weights: weights, c: c.pointer, m: m, n: n, k: k, columns: columns)
        }
    }

    /// One worker's share: columns `columns` of C.
    static func block<Source: WeightRows>(
        a: UnsafePointer<Float>, weights: Source, c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, columns: Range<Int>
    ) {
        let packedA = UnsafeMutablePointer<Float>.allocate(capacity: mc * kc)
        let packedB = UnsafeMutablePointer<Float>.allocate(capacity: kc * ((min(nc, columns.count) + nr - 1) / nr * nr))
        defer {
            packedA.deallocate()
            packedB.deallocate()
        }
        for jc in stride(from: columns.lowerBound, to: columns.upperBound, by: nc) {
            let nb = min(nc, columns.upperBound - jc)
            for pc in stride(from: 0, to: k, by: kc) {
                let kb = min(kc, k - pc)
                weights.pack(rows: jc..<(jc + nb), depth: pc..<(pc + kb), into: packedB)
                for ic in stride(from: 0, to: m, by: mc) {
                    let mb = min(mc, m - ic)
                    packA(a, k: k, rows: ic..<(ic + mb), depth: pc..<(pc + kb), into: packedA)
                    for jr in stride(from: 0, to: nb, by: nr) {
                        for ir in stride(from: 0, to: mb, by: mr) {
                            microkernel(
                                kb, packedA + ir * kb, packedB + jr * kb, c + (ic + ir) * n + jc + jr, ldc: n,
                                accumulate: pc > 0, rows: min(mr, mb - ir), columns: min(nr, nb - jr))
                        }
                    }
                }
            }
        }
    }

    /// Packs W[rows, depth] as NR-wide micro-panels: for each panel, for each k, NR values W[j, k]
    /// (zero past the last row).
    @inline(__always)
    static func packW(
        _ w: UnsafePointer<Float>, k: Int, rows: Range<Int>, depth: Range<Int>, into out: UnsafeMutablePointer<Float>
    ) {
        let kb = depth.count
        var panel = out
        for j0 in stride(from: rows.lowerBound, to: rows.upperBound, by: nr) {
            let width = min(nr, rows.upperBound - j0)
            if width == nr {
                // Four rows at a time, eight k at a time: read 4 × SIMD8 along k, write them transposed.
                for jj in stride(from: 0, to: nr, by: 4) {
                    let r0 = w + (j0 + jj) * k + depth.lowerBound
                    let r1 = r0 + k
                    let r2 = r1 + k
                    let r3 = r2 + k
                    for p in 0..<kb {
                        let slot = panel + p * nr + jj
                        slot[0] = r0[p]
                        slot[1] = r1[p]
                        slot[2] = r2[p]
                        slot[3] = r3[p]
                    }
                }
            } else {
                for jj in 0..<nr {
                    let row = w + (j0 + min(jj, width - 1)) * k + depth.lowerBound
                    for p in 0..<kb { panel[p * nr + jj] = jj < width ? row[p] : 0 }
                }
            }
            panel += nr * kb
        }
    }

    /// Packs A[rows, depth] as MR-tall micro-panels: for each panel, for each k, MR values A[i, k]
    /// (zero past the last row).
    @inline(__always)
    static func packA(
        _ a: UnsafePointer<Float>, k: Int, rows: Range<Int>, depth: Range<Int>, into out: UnsafeMutablePointer<Float>
    ) {
        let kb = depth.count
        var panelStart = 0
        for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
            let height = min(mr, rows.upperBound - i0)
            let panel = out + panelStart * kb
            for ii in 0..<mr {
                if ii < height {
                    let row = a + (i0 + ii) * k + depth.lowerBound
                    for p in 0..<kb { panel[p * mr + ii] = row[p] }
                } else {
                    for p in 0..<kb { panel[p * mr + ii] = 0 }
                }
            }
            panelStart += mr
        }
    }

    /// C[6, 16] (+)= Ap[kb, 6]ᵀ · Bp[kb, 16], clipped to `rows` × `columns` on the store.
    @inline(__always)
    static func microkernel(
        _ kb: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        ldc: Int, accumulate: Bool, rows: Int, columns: Int
    ) {
        // C's rows are far apart (stride N) and C does not fit in L2: without a hint, the stores at the
        // end stall on 12 cache lines from L3 or DRAM, as long as the tile's arithmetic. Ask for them now.
        for i in 0..<rows {
            perwatt_prefetch_write(c + i * ldc)
            perwatt_prefetch_write(c + i * ldc + 15)
        }
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
        var a = ap
        var b = UnsafeRawPointer(bp)
        for _ in 0..<kb {
            let b0 = b.loadUnaligned(as: SIMD8<Float>.self)
            let b1 = b.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            var x = SIMD8<Float>(repeating: a[0])
            c00.addProduct(x, b0)
            c01.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a[1])
            c10.addProduct(x, b0)
            c11.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a[2])
            c20.addProduct(x, b0)
            c21.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a[3])
            c30.addProduct(x, b0)
            c31.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a[4])
            c40.addProduct(x, b0)
            c41.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a[5])
            c50.addProduct(x, b0)
            c51.addProduct(x, b1)
            a += 6
            b += 64
        }
        if rows == mr && columns == nr {
            store(c, ldc, 0, c00, c01, accumulate)
            store(c, ldc, 1, c10, c11, accumulate)
            store(c, ldc, 2, c20, c21, accumulate)
            store(c, ldc, 3, c30, c31, accumulate)
            store(c, ldc, 4, c40, c41, accumulate)
            store(c, ldc, 5, c50, c51, accumulate)
        } else {
            // Edge tile: spill to a scratch tile, then copy the valid part.
            withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 2 * mr) { scratch in
                scratch[0] = c00
                scratch[1] = c01
                scratch[2] = c10
                scratch[3] = c11
                scratch[4] = c20
                scratch[5] = c21
                scratch[6] = c30
                scratch[7] = c31
                scratch[8] = c40
                scratch[9] = c41
                scratch[10] = c50
                scratch[11] = c51
                let values = UnsafeRawPointer(scratch.baseAddress!).assumingMemoryBound(to: Float.self)
                for i in 0..<rows {
                    for j in 0..<columns {
                        let value = values[i * nr + j]
                        c[i * ldc + j] = accumulate ? c[i * ldc + j] + value : value
                    }
                }
            }
        }
    }

    @inline(__always)
    static func store(
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ i: Int, _ left: SIMD8<Float>, _ right: SIMD8<Float>,
        _ accumulate: Bool
    ) {
        let row = UnsafeMutableRawPointer(c + i * ldc)
        var (left, right) = (left, right)
        if accumulate {
            left += row.loadUnaligned(as: SIMD8<Float>.self)
            right += row.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        }
        row.storeBytes(of: left, as: SIMD8<Float>.self)
        row.storeBytes(of: right, toByteOffset: 32, as: SIMD8<Float>.self)
    }
}

/// Where packing reads W's rows from: f32 as stored, or decoded from another precision.
protocol WeightRows: Sendable {
    /// Packs W[rows, depth] as 16-wide micro-panels (see `SGEMM.packW`).
    func pack(rows: Range<Int>, depth: Range<Int>, into out: UnsafeMutablePointer<Float>)
}

struct F32Rows: WeightRows, @unchecked Sendable {
    // Read-only pointer to the caller's weights, valid for the call.
    let base: UnsafePointer<Float>
    let k: Int

    @inline(__always)
    func pack(rows: Range<Int>, depth: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        SGEMM.packW(base, k: k, rows: rows, depth: depth, into: out)
    }
}

/// Rows of f16, bf16, q8_0, q4_0 or q4_1 weights, decoded to f32 as ggml's dequantizers do (exactly for
/// q8_0/q4_0, whose values d·q have at most 19 significant bits; q4_1's d·q + m rounds once, as in ggml) into a row buffer, then scattered into the panel.
struct DecodedRows: WeightRows, @unchecked Sendable {
    // Read-only pointer to the weight bytes, valid for the call.
    let base: UnsafeRawPointer
    let rowBytes: Int
    let precision: Precision

    func pack(rows: Range<Int>, depth: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let kb = depth.count
        // Block formats decode whole blocks: widen the range to block boundaries.
        let block = precision.blockValues
        let first = depth.lowerBound / block * block
        let last = (depth.upperBound + block - 1) / block * block
        withUnsafeTemporaryAllocation(of: Float.self, capacity: last - first) { row in
            var panel = out
            for j0 in stride(from: rows.lowerBound, to: rows.upperBound, by: SGEMM.nr) {
                let width = min(SGEMM.nr, rows.upperBound - j0)
                for jj in 0..<SGEMM.nr {
                    if jj < width {
                        decode(row: j0 + jj, values: first..<last, into: row.baseAddress!)
                        let offset = depth.lowerBound - first
                        for p in 0..<kb { panel[p * SGEMM.nr + jj] = row[offset + p] }
                    } else {
                        for p in 0..<kb { panel[p * SGEMM.nr + jj] = 0 }
                    }
                }
                panel += SGEMM.nr * kb
            }
        }
    }

    @inline(__always)
    func decode(row: Int, values: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let bytes = base + row * rowBytes
        switch precision {
        case .f32:
            for p in values {
                out[p - values.lowerBound] = Float(
                    bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * p, as: UInt32.self)))
            }
        case .f16:
            var p = values.lowerBound
            while p + 8 <= values.upperBound {
                UnsafeMutableRawPointer(out + p - values.lowerBound)
                    .storeBytes(
                        of: SIMD8<Float>(bytes.loadUnaligned(fromByteOffset: 2 * p, as: SIMD8<Float16>.self)),
                        as: SIMD8<Float>.self)
                p += 8
            }
            while p < values.upperBound {
                out[p - values.lowerBound] = Half.float(
                    UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * p, as: UInt16.self)))
                p += 1
            }
        case .bf16:
            for p in values {
                out[p - values.lowerBound] = BFloat16.float(
                    UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * p, as: UInt16.self)))
            }
        case .q8_0:
            let slice = UnsafeRawBufferPointer(
                start: bytes + values.lowerBound / 32 * BlockQ8_0.byteCount,
                count: values.count / 32 * BlockQ8_0.byteCount)
            QuantizeReference.dequantizeQ8_0(slice, into: UnsafeMutableBufferPointer(start: out, count: values.count))
        case .q4_0:
            let slice = UnsafeRawBufferPointer(
                start: bytes + values.lowerBound / 32 * BlockQ4_0.byteCount,
                count: values.count / 32 * BlockQ4_0.byteCount)
            QuantizeReference.dequantizeQ4_0(slice, into: UnsafeMutableBufferPointer(start: out, count: values.count))
        case .q4_1:
            let slice = UnsafeRawBufferPointer(
                start: bytes + values.lowerBound / 32 * BlockQ4_1.byteCount,
                count: values.count / 32 * BlockQ4_1.byteCount)
            QuantizeReference.dequantizeQ4_1(slice, into: UnsafeMutableBufferPointer(start: out, count: values.count))
        }
    }
}
