/// Quantized GEMM/GEMV for q8_0, q4_0 and q4_1 weights: `C[M, N] = A[M, K] · W[N, K]ᵀ` with ggml's
/// semantics (the activations quantized by the reference quantizer, to q8_0 for q8_0/q4_0 and to q8_1
/// for q4_1; integer dot products per block, scaled by both fp16 block scales; for q4_1 plus the block
/// minimum m times the activation block's fp16 sum s), so results match `GEMMReference` to f32
/// accumulation error.
///
/// How: a block's integer dot product is computed in f32, exactly (|q| ≤ 127, so each product is at
/// most 16129 and a block's sum stays below 2²⁴). Weight bytes are widened without per-lane code: 32
/// bytes (q8_0) or 16 bytes (q4_0, q4_1) are loaded as `SIMD8<Int32>`/`SIMD8<UInt32>` and bytes are pulled out
/// with shifts (arithmetic shifts sign-extend q8_0), giving four `SIMD8<Int32>` whose lanes hold the
/// block's values in a fixed permuted order. `prepare` stores each activation block's int8 values as
/// f32 in that same order, so lane i of the weights meets its own activation. Per block: 4 conversions,
/// 4 FMAs, and one FMA by the product of the two scales; horizontal sums only at the end of a row.
///
/// Builds whose target CPU has AVX2 take the integer path instead (`QuantGEMM+Integer.swift`): the
/// same exact lane sums from ggml's own instructions, so the same results, several times faster.
///
/// Layout: weights as `WeightMatrix.storage` (rows of ggml blocks), activations A row-major M×K f32.
/// Threads split N. Activation rows go four at a time per weight row, so each weight block is decoded
/// once per four rows; K is not blocked (rows of up to ~16 K values stay in L1/L2).
public enum QuantGEMM {
    /// Activations quantized to q8_0 and laid out for one weight format. Storage that
    /// `prepare(into:…)` reuses from call to call: its arrays grow to the largest shape prepared into
    /// them and never shrink, so they may be longer than `rows` needs.
    public struct Prepared: Sendable {
        public internal(set) var format: Precision
        public internal(set) var rows: Int
        public internal(set) var columns: Int
        /// rows × columns: each block's int8 values as f32, in the weight decoder's lane order.
        public internal(set) var values: [Float]
        /// rows × columns/32: each block's fp16-rounded scale.
        public internal(set) var scales: [Float]
        /// rows × columns/32: for q4_1 each block's q8_1 s = d · Σq (fp16-rounded); zeros otherwise.
        public internal(set) var sums: [Float]
        /// The integer path's activations (`integerDots`; `values` is empty then), rows in groups of
        /// `interleave` (the last one padded with zero rows), a group's blocks side by side:
        /// `quants` [groups, blocks, 4, 32] int8 in natural order, `scales` and `sums` [groups, blocks, 4],
        /// and for q4_0 `laneOffsets` [groups, blocks, 4, 8], the lane values −8·Σq[4L…4L+3].
        var quants: [Int8]
        var laneOffsets: [Int32]

        /// Nothing prepared yet: storage for `prepare(into:…)`.
        public init() {
            (format, rows, columns) = (.q8_0, 0, 0)
            (values, scales, sums, quants, laneOffsets) = ([], [], [], [], [])
        }
    }

    /// Value index held by lane `lane` of extraction `part` (0...3) for `format`.
    @inline(__always)
    static func valueIndex(format: Precision, part: Int, lane: Int) -> Int {
        switch format {
        case .q4_0, .q4_1:
            // Lanes 0-3: low nibbles of bytes 4·lane + part (values 0-15); lanes 4-7: high nibbles (values 16-31).
            lane < 4 ? 4 * lane + part : 16 + 4 * (lane - 4) + part
        default:
            // q8_0: byte 4·lane + part of the 32 value bytes.
            4 * lane + part
        }
    }

    /// Activation rows per group in the integer path's layout (`Prepared.quants`); its tiles (four
    /// accumulators per weight row, `SIMD4` scales) are written for 4.
    static let interleave = 4

    /// Quantizes A's rows with `quantizer` (q8_1 for q4_1 weights, q8_0 otherwise) and lays them out
    /// for `format`; the integer path splits the rows over `threads`.
    public static func prepare(
        a: [Float], m: Int, k: Int, format: Precision, quantizer: ActivationQuantizer = .reference, threads: Int = 1
    ) throws -> Prepared {
        guard a.count == m * k else {
            throw KernelError.shapeMismatch(what: "the activations A", expected: m * k, actual: a.count)
        }
        var prepared = Prepared()
        try a.withUnsafeBufferPointer {
            try prepare(
                into: &prepared, a: $0.baseAddress!, m: m, k: k, format: format, quantizer: quantizer,
                threads: threads)
        }
        return prepared
    }

    /// `prepare` of A (M × K at `a`) into `prepared`'s storage, which grows when it is too small and is
    /// otherwise reused: preparing allocates nothing once the storage has seen this size.
    public static func prepare(
        into prepared: inout Prepared, a: UnsafePointer<Float>, m: Int, k: Int, format: Precision,
        quantizer: ActivationQuantizer = .reference, threads: Int = 1
    ) throws {
        guard format.isBlockQuantized else {
            throw KernelError.invalidShape("QuantGEMM handles q8_0, q4_0 and q4_1 weights, not \(format.rawValue)")
        }
        guard m > 0, k > 0 else { throw KernelError.invalidShape("GEMM needs M > 0 and K > 0, got M = \(m), K = \(k)") }
        guard k % 32 == 0 else { throw KernelError.notBlockAligned(what: "K", value: k, block: 32, precision: format) }
        (prepared.format, prepared.rows, prepared.columns) = (format, m, k)
        if integerDots {
            prepareIntegers(into: &prepared, a: a, quantizer: quantizer, threads: threads)
            return
        }
        let blocks = k / 32
        grow(&prepared.values, to: m * k)
        grow(&prepared.scales, to: m * blocks)
        grow(&prepared.sums, to: m * blocks)
        prepared.values.withUnsafeMutableBufferPointer { values in
            prepared.scales.withUnsafeMutableBufferPointer { scales in
                prepared.sums.withUnsafeMutableBufferPointer { sums in
                    withUnsafeTemporaryAllocation(byteCount: BlockQ8_1.byteCount, alignment: 4) { block in
                        // q8_1 is q8_0's scale and values followed by s; q8_0's values start at byte 2.
                        let first = format == .q4_1 ? 4 : 2
                        for i in 0..<m {
                            for b in 0..<blocks {
                                let x = UnsafeBufferPointer(start: a + i * k + 32 * b, count: 32)
                                if format == .q4_1 {
                                    quantizer.q8_1(x, into: block)
                                } else {
                                    quantizer.q8_0(x, into: block)
                                }
                                scales[i * blocks + b] = Half.float(
                                    UInt16(littleEndian: block.loadUnaligned(as: UInt16.self)))
                                sums[i * blocks + b] =
                                    format == .q4_1
                                    ? Half.float(
                                        UInt16(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
                                    : 0
                                for part in 0..<4 {
                                    for lane in 0..<8 {
                                        let q = block.load(
                                            fromByteOffset: first + valueIndex(format: format, part: part, lane: lane),
                                            as: Int8.self)
                                        values[i * k + b * 32 + part * 8 + lane] = Float(q)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Makes `array` at least `count` long (zero-filled when it grows), keeping it when it is.
    static func grow<T: ExpressibleByIntegerLiteral>(_ array: inout [T], to count: Int) {
        if array.count < count { array = [T](repeating: 0, count: count) }
    }

    /// `prepare` for the integer path: rows quantized in parallel, ggml-cpu's x86 quantizer
    /// vectorized (`quantizeRowX86`), the reference one block by block. The padding rows of the last
    /// group are zeroed (their outputs are never stored, but stale values would make the work differ).
    static func prepareIntegers(
        into prepared: inout Prepared, a: UnsafePointer<Float>, quantizer: ActivationQuantizer, threads: Int
    ) {
        let (m, k, format) = (prepared.rows, prepared.columns, prepared.format)
        let blocks = k / 32
        let padded = (m + interleave - 1) / interleave * interleave
        let (withSums, withOffsets) = (format == .q4_1, format == .q4_0)
        grow(&prepared.quants, to: padded * k)
        grow(&prepared.scales, to: padded * blocks)
        grow(&prepared.sums, to: padded * blocks)
        if withOffsets { grow(&prepared.laneOffsets, to: padded * blocks * 8) }
        prepared.quants.withUnsafeMutableBytes { quants in
            prepared.scales.withUnsafeMutableBufferPointer { scales in
                prepared.sums.withUnsafeMutableBufferPointer { sums in
                    prepared.laneOffsets.withUnsafeMutableBytes { offsets in
                        let (ap, qp, sp, tp, op) = (
                            Shared(a), Shared(quants.baseAddress!), Shared(scales.baseAddress!),
                            Shared(sums.baseAddress!), Shared(withOffsets ? offsets.baseAddress : nil)
                        )
                        let workers = max(1, min(threads, m / 16))
                        Parallel.run(workers: workers) { worker in
                            for i in Parallel.share(m, worker: worker, of: workers) {
                                // Row i's first block: group i / 4, slot i % 4.
                                let first = (i / interleave) * interleave * blocks + i % interleave
                                quantizeRow(
                                    ap.pointer + i * k, blocks: blocks, quantizer: quantizer,
                                    quants: qp.pointer + 32 * first, scales: sp.pointer + first,
                                    sums: withSums ? tp.pointer + first : nil,
                                    offsets: withOffsets ? op.pointer! + 32 * first : nil)
                            }
                        }
                        for i in m..<padded {
                            let first = (i / interleave) * interleave * blocks + i % interleave
                            for b in 0..<blocks {
                                let slot = first + interleave * b
                                (qp.pointer + 32 * slot).initializeMemory(as: Int8.self, repeating: 0, count: 32)
                                (sp.pointer[slot], tp.pointer[slot]) = (0, 0)
                                if withOffsets {
                                    (op.pointer! + 32 * slot).initializeMemory(as: Int32.self, repeating: 0, count: 8)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One activation row quantized for the integer path (see `prepareIntegers`).
    static func quantizeRow(
        _ x: UnsafePointer<Float>, blocks: Int, quantizer: ActivationQuantizer, quants: UnsafeMutableRawPointer,
        scales: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>?, offsets: UnsafeMutableRawPointer?
    ) {
        #if PERWATT_REQUIRE_AVX2
            if quantizer == .ggmlX86 {
                quantizeRowX86(x, blocks: blocks, quants: quants, scales: scales, sums: sums, offsets: offsets)
                return
            }
        #endif
        withUnsafeTemporaryAllocation(byteCount: BlockQ8_1.byteCount, alignment: 4) { block in
            for b in 0..<blocks {
                let values = UnsafeBufferPointer(start: x + 32 * b, count: 32)
                quantizer.q8_1(values, into: block)
                scales[interleave * b] = Half.float(UInt16(littleEndian: block.loadUnaligned(as: UInt16.self)))
                sums?[interleave * b] = Half.float(
                    UInt16(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
                for j in 0..<32 {
                    quants.storeBytes(
                        of: block.load(fromByteOffset: 4 + j, as: Int8.self), toByteOffset: 32 * interleave * b + j,
                        as: Int8.self)
                }
                if let offsets {
                    for lane in 0..<8 {
                        var sum: Int32 = 0
                        for j in 0..<4 { sum += Int32(block.load(fromByteOffset: 4 + 4 * lane + j, as: Int8.self)) }
                        offsets.storeBytes(of: -8 * sum, toByteOffset: 32 * interleave * b + 4 * lane, as: Int32.self)
                    }
                }
            }
        }
    }

    /// Multiplies prepared activations by `weights` (q8_0, q4_0 or q4_1) into C (M × N, row-major).
    public static func run(_ prepared: Prepared, weights: WeightMatrix, c: UnsafeMutablePointer<Float>, threads: Int) {
        precondition(
            weights.precision == prepared.format && weights.columns == prepared.columns, "prepared for other weights")
        if integerDots {
            runIntegers(prepared, weights: weights, c: c, threads: threads)
            return
        }
        let n = weights.rows
        let workers = max(1, min(threads, n / 8 + 1))
        weights.storage.withUnsafeBytes { storage in
            prepared.values.withUnsafeBufferPointer { values in
                prepared.scales.withUnsafeBufferPointer { scales in
                    prepared.sums.withUnsafeBufferPointer { sums in
                        let (w, x, s, t, c) = (
                            Shared(storage.baseAddress!), Shared(values.baseAddress!), Shared(scales.baseAddress!),
                            Shared(sums.baseAddress!), Shared(c)
                        )
                        let (m, k, rowBytes, format) = (
                            prepared.rows, prepared.columns, weights.rowBytes, prepared.format
                        )
                        Parallel.run(workers: workers) { worker in
                            let range = Parallel.share(n, worker: worker, of: workers)
                            let operands = Operands(
                                w: w.pointer, rowBytes: rowBytes, x: x.pointer, scales: s.pointer, sums: t.pointer,
                                c: c.pointer, m: m, n: n, k: k)
                            switch format {
                            case .q8_0: rows(Q8_0Decoder.self, operands, range: range)
                            case .q4_0: rows(Q4_0Decoder.self, operands, range: range)
                            default: rows(Q4_1Decoder.self, operands, range: range)
                            }
                        }
                    }
                }
            }
        }
    }

    /// What one call multiplies: weights W (rows of ggml blocks), prepared activations (values, scales,
    /// sums), C; M × K activations against N × K weights.
    struct Operands {
        let w: UnsafeRawPointer
        let rowBytes: Int
        let x: UnsafePointer<Float>
        let scales: UnsafePointer<Float>
        let sums: UnsafePointer<Float>
        let c: UnsafeMutablePointer<Float>
        let m: Int
        let n: Int
        let k: Int
    }

    @inline(__always)
    static func rows<D: BlockDecoder>(_ decoder: D.Type, _ o: Operands, range: Range<Int>) {
        let (x, scales, sums, c, m, n, k) = (o.x, o.scales, o.sums, o.c, o.m, o.n, o.k)
        let blocks = k / 32
        for j in range {
            let row = o.w + j * o.rowBytes
            if m == 1 {
                c[j] = singleRow(
                    decoder, row: row, x: UnsafeRawPointer(x), scales: scales, sums: sums, blocks: blocks)
                continue
            }
            var i = 0
            while i < m {
                let height = min(4, m - i)
                // Missing activation rows repeat the last real one; their sums are not stored.
                let r1 = i + min(1, height - 1)
                let r2 = i + min(2, height - 1)
                let r3 = i + min(3, height - 1)
                let (x0, x1, x2, x3) = (
                    UnsafeRawPointer(x + i * k), UnsafeRawPointer(x + r1 * k), UnsafeRawPointer(x + r2 * k),
                    UnsafeRawPointer(x + r3 * k)
                )
                let (s0, s1, s2, s3) = (
                    scales + i * blocks, scales + r1 * blocks, scales + r2 * blocks, scales + r3 * blocks
                )
                let (t0, t1, t2, t3) = (sums + i * blocks, sums + r1 * blocks, sums + r2 * blocks, sums + r3 * blocks)
                var acc0 = SIMD8<Float>()
                var acc1 = SIMD8<Float>()
                var acc2 = SIMD8<Float>()
                var acc3 = SIMD8<Float>()
                // q4_1: Σ over blocks of the weight minimum times the activation block's sum, per row.
                var offsets = SIMD4<Float>()
                for b in 0..<blocks {
                    let (w0, w1, w2, w3, dw) = D.decode(row + b * D.blockBytes)
                    let offset = b * 128
                    // One chain per row: four rows already give the FMA units independent work, and a
                    // tree here needs more live registers than AVX2 has once q4_0's constants are counted
                    // (measured: q4_0 at M = 8 fell from 59 to 18 GFLOP/s with a tree).
                    @inline(__always) func blockDot(_ xs: UnsafeRawPointer) -> SIMD8<Float> {
                        var sum = w0 * xs.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        sum.addProduct(w1, xs.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self))
                        sum.addProduct(w2, xs.loadUnaligned(fromByteOffset: offset + 64, as: SIMD8<Float>.self))
                        sum.addProduct(w3, xs.loadUnaligned(fromByteOffset: offset + 96, as: SIMD8<Float>.self))
                        return sum
                    }
                    acc0.addProduct(blockDot(x0), SIMD8(repeating: dw * s0[b]))
                    if height > 1 { acc1.addProduct(blockDot(x1), SIMD8(repeating: dw * s1[b])) }
                    if height > 2 { acc2.addProduct(blockDot(x2), SIMD8(repeating: dw * s2[b])) }
                    if height > 3 { acc3.addProduct(blockDot(x3), SIMD8(repeating: dw * s3[b])) }
                    if D.hasMinimum {
                        offsets.addProduct(
                            SIMD4(repeating: D.minimum(row + b * D.blockBytes)), SIMD4(t0[b], t1[b], t2[b], t3[b]))
                    }
                }
                // The same sums as ggml's per-row dot products (see `singleRow`).
                c[i * n + j] = horizontalSum(acc0) + offsets[0]
                if height > 1 { c[(i + 1) * n + j] = horizontalSum(acc1) + offsets[1] }
                if height > 2 { c[(i + 2) * n + j] = horizontalSum(acc2) + offsets[2] }
                if height > 3 { c[(i + 3) * n + j] = horizontalSum(acc3) + offsets[3] }
                i += height
            }
        }
    }
}

extension QuantGEMM {
    /// Decode (M = 1): one weight row's dot product with the activation row.
    @inline(__always)
    static func singleRow<D: BlockDecoder>(
        _ decoder: D.Type, row: UnsafeRawPointer, x: UnsafeRawPointer,
        scales: UnsafePointer<Float>, sums: UnsafePointer<Float>, blocks: Int
    ) -> Float {
        // ggml's AVX2 order (ggml_vec_dot_q4_0_q8_0 and its siblings): lane i of a block holds the exact
        // integer Σ of products 4i..4i+3, one FMA chain by d_w·d_a over the blocks, `hsum_float_8`, then
        // the q4_1 minimum terms, so the result is bit for bit what llama.cpp computes on x86.
        var acc = SIMD8<Float>()
        var minimums: Float = 0
        for b in 0..<blocks {
            let block = row + b * D.blockBytes
            if D.hasMinimum { minimums.addProduct(D.minimum(block), sums[b]) }
            let (w0, w1, w2, w3, dw) = D.decode(block)
            let offset = b * 128
            var dot = w0 * x.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            dot.addProduct(w1, x.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self))
            dot.addProduct(w2, x.loadUnaligned(fromByteOffset: offset + 64, as: SIMD8<Float>.self))
            dot.addProduct(w3, x.loadUnaligned(fromByteOffset: offset + 96, as: SIMD8<Float>.self))
            acc.addProduct(dot, SIMD8(repeating: dw * scales[b]))
        }
        return horizontalSum(acc) + minimums
    }

    /// ggml's `hsum_float_8`: (x₀+x₄ + x₂+x₆) + (x₁+x₅ + x₃+x₇), in that order.
    @inline(__always)
    static func horizontalSum(_ x: SIMD8<Float>) -> Float {
        let t = x.highHalf + x.lowHalf
        return (t[0] + t[2]) + (t[1] + t[3])
    }
}

/// Decodes one ggml block into four `SIMD8<Float>` of integer values (in `QuantGEMM.valueIndex` order)
/// and the block's f32 scale.
protocol BlockDecoder {
    static var blockBytes: Int { get }
    /// Whether blocks carry a minimum m (q4_1), which meets the activation block's sum s.
    static var hasMinimum: Bool { get }
    static func decode(_ block: UnsafeRawPointer) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, Float)
    /// The block's minimum m (0 for formats without one).
    static func minimum(_ block: UnsafeRawPointer) -> Float
}

extension BlockDecoder {
    static var hasMinimum: Bool { false }
    @inline(__always) static func minimum(_ block: UnsafeRawPointer) -> Float { 0 }
}

enum Q8_0Decoder: BlockDecoder {
    static var blockBytes: Int { BlockQ8_0.byteCount }

    @inline(__always)
    static func decode(_ block: UnsafeRawPointer) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, Float) {
        let d = Float(Float16(bitPattern: UInt16(littleEndian: block.loadUnaligned(as: UInt16.self))))
        let v = block.loadUnaligned(fromByteOffset: 2, as: SIMD8<Int32>.self)
        // Byte `part` of each 32-bit lane, sign-extended by shifting it to the top and back.
        return (
            SIMD8<Float>((v &<< 24) &>> 24), SIMD8<Float>((v &<< 16) &>> 24),
            SIMD8<Float>((v &<< 8) &>> 24), SIMD8<Float>(v &>> 24), d
        )
    }
}

enum Q4_0Decoder: BlockDecoder {
    static var blockBytes: Int { BlockQ4_0.byteCount }

    @inline(__always)
    static func decode(_ block: UnsafeRawPointer) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, Float) {
        let d = Float(Float16(bitPattern: UInt16(littleEndian: block.loadUnaligned(as: UInt16.self))))
        let bytes = block.loadUnaligned(fromByteOffset: 2, as: SIMD4<UInt32>.self)
        let mask = SIMD8<UInt32>(repeating: 0x0F0F_0F0F)
        // Lanes 0-3: low nibbles (values 0-15), lanes 4-7: high nibbles (values 16-31).
        // One bit cast to Int32 lanes (nibbles are < 16, so the sign bit is clear), then shifts and masks.
        let nibbles = unsafeBitCast(SIMD8<UInt32>(lowHalf: bytes, highHalf: bytes &>> 4) & mask, to: SIMD8<Int32>.self)
        let eight = SIMD8<Int32>(repeating: 8)
        let byteMask = SIMD8<Int32>(repeating: 0xFF)
        return (
            SIMD8<Float>((nibbles & byteMask) &- eight), SIMD8<Float>(((nibbles &>> 8) & byteMask) &- eight),
            SIMD8<Float>(((nibbles &>> 16) & byteMask) &- eight), SIMD8<Float>((nibbles &>> 24) &- eight), d
        )
    }
}

enum Q4_1Decoder: BlockDecoder {
    static var blockBytes: Int { BlockQ4_1.byteCount }
    static var hasMinimum: Bool { true }

    @inline(__always)
    static func minimum(_ block: UnsafeRawPointer) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))))
    }

    @inline(__always)
    static func decode(_ block: UnsafeRawPointer) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, Float) {
        let d = Float(Float16(bitPattern: UInt16(littleEndian: block.loadUnaligned(as: UInt16.self))))
        let bytes = block.loadUnaligned(fromByteOffset: 4, as: SIMD4<UInt32>.self)
        let mask = SIMD8<UInt32>(repeating: 0x0F0F_0F0F)
        // Lanes 0-3: low nibbles (values 0-15), lanes 4-7: high nibbles (values 16-31); unsigned 0...15.
        let nibbles = SIMD8<Int32>(truncatingIfNeeded: SIMD8<UInt32>(lowHalf: bytes, highHalf: bytes &>> 4) & mask)
        let byteMask = SIMD8<Int32>(repeating: 0xFF)
        return (
            SIMD8<Float>(nibbles & byteMask), SIMD8<Float>((nibbles &>> 8) & byteMask),
            SIMD8<Float>((nibbles &>> 16) & byteMask), SIMD8<Float>(nibbles &>> 24), d
        )
    }
}
