// QuantGEMM's integer path: block dot products in int8 × int8 → int32 with the x86 instructions ggml
// itself uses, through the toolchain's own Clang intrinsics module (no library, nothing outside Swift's
// toolchain). Compiled only when the target CPU has AVX2 (the `PERWATT_REQUIRE_AVX2` condition that
// Package.swift sets); elsewhere QuantGEMM keeps its f32 path, which gives the same sums.
//
// Why the results equal the f32 path's and ggml's bit for bit: per block, lane L of ggml's AVX2 dot
// (`mul_sum_i8_pairs_float`) is the exact integer Σ of products 4L…4L+3, converted to f32; then one
// FMA by d_w·d_a into an 8-lane accumulator, block after block, and `hsum_float_8` at the end. Every
// route to the exact lane sums (vpmaddubsw + vpmaddwd, or AVX-512 VNNI's vpdpbusd, which sums the
// same four products into the same lane) gives the same integers, so the same floats follow.
#if PERWATT_REQUIRE_AVX2
    import _Builtin_intrinsics.intel

    extension QuantGEMM {
        /// Whether this build multiplies blocks in integers (`prepare` then stores int8 activations).
        static let integerDots = true

        /// The exact integer lane sums acc + Σ_{i<4} u[4L+i]·s[4L+i] of unsigned bytes u and signed bytes
        /// s (|pair sums| < 2¹⁵, which holds for every use here: |u| ≤ 127 or u ≤ 15).
        ///
        /// The corresponding instructions are `vpdpbusd` (AVX-512 VNNI) or `vpmaddubsw` + `vpmaddwd`.
        @inline(__always)
        static func laneDot(_ u: __m256i, _ s: __m256i, _ acc: __m256i) -> __m256i {
            #if PERWATT_REQUIRE_AVX512_VNNI && PERWATT_REQUIRE_AVX512VL
                return _mm256_mask_dpbusd_epi32(acc, 0xFF, u, s)
            #else
                return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)))
            #endif
        }

        /// The 32 values of a 4-bit block as bytes, value i in byte i (ggml's `bytes_from_nibbles_32`).
        @inline(__always)
        static func nibbles(_ p: UnsafeRawPointer) -> __m256i {
            let low = p.loadUnaligned(as: __m128i.self)
            let both = _mm256_set_m128i(_mm_srli_epi16(low, 4), low)
            return _mm256_and_si256(both, _mm256_set1_epi8(0x0F))
        }

        /// A weight block's integer dot products with activation blocks, in ggml's lanes.
        struct IntegerOperands {
            let w: UnsafeRawPointer
            let rowBytes: Int
            let a: UnsafeRawPointer
            let scales: UnsafePointer<Float>
            let sums: UnsafePointer<Float>
            let laneOffsets: UnsafeRawPointer
            let c: UnsafeMutablePointer<Float>
            let m: Int
            let n: Int
            let k: Int
        }

        /// ggml-cpu's x86 `quantize_row_q8_0` / `quantize_row_q8_1` (AVX2 branch, ggml-cpu/arch/x86/quants.c),
        /// instruction for instruction where it matters: d = max|x| / 127 (stored fp16, kept here as its
        /// f32 value), q = `vcvtps2dq`(x · (127 / max|x|)) (round half to even), narrowed with signed
        /// saturation; q8_1's s = fp16(d · Σq). `offsets`, when given, receives per block the lane
        /// values −8·Σ q[4L…4L+3] that q4_0's nibbles need (ggml subtracts 8 from each nibble instead).
        ///
        /// - Parameters:
        ///   - x: `32 · blocks` values.
        ///   - quants: `32 · blocks` bytes; scales, sums: `blocks` values; offsets: `32 · blocks` bytes.
        @inline(__always)
        static func quantizeRowX86(
            _ x: UnsafePointer<Float>, blocks: Int, quants: UnsafeMutableRawPointer,
            scales: UnsafeMutablePointer<Float>,
            sums: UnsafeMutablePointer<Float>?, offsets: UnsafeMutableRawPointer?
        ) {
            let magnitude = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
            let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)
            for b in 0..<blocks {
                let p = UnsafeRawPointer(x + 32 * b)
                let v0 = p.loadUnaligned(as: SIMD8<Float>.self)
                let v1 = p.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                let v2 = p.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self)
                let v3 = p.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
                @inline(__always) func abs(_ v: SIMD8<Float>) -> SIMD8<Float> {
                    unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & magnitude, to: SIMD8<Float>.self)
                }
                let amax = _mm256_max_ps(_mm256_max_ps(abs(v0), abs(v1)), _mm256_max_ps(abs(v2), abs(v3))).max()
                let d = amax / 127
                let id: Float = amax != 0 ? 127 / amax : 0
                let scale = SIMD8<Float>(repeating: id)
                let i0 = _mm256_cvtps_epi32(v0 * scale)
                let i1 = _mm256_cvtps_epi32(v1 * scale)
                let i2 = _mm256_cvtps_epi32(v2 * scale)
                let i3 = _mm256_cvtps_epi32(v3 * scale)
                let packed = _mm256_permutevar8x32_epi32(
                    _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3)), order)
                quants.storeBytes(of: packed, toByteOffset: 32 * interleave * b, as: __m256i.self)
                scales[interleave * b] = Half.round(d)
                if let sums {
                    let total = unsafeBitCast(
                        _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)), to: SIMD8<Int32>.self)
                    sums[interleave * b] = Half.round(d * Float(total.wrappedSum()))
                }
                if let offsets {
                    let eights = laneDot(_mm256_set1_epi8(8), packed, _mm256_setzero_si256())
                    offsets.storeBytes(
                        of: _mm256_sub_epi32(_mm256_setzero_si256(), eights), toByteOffset: 32 * interleave * b,
                        as: __m256i.self)
                }
            }
        }

        @inline(__always)
        static func blockScale(_ block: UnsafeRawPointer) -> Float {
            Float(Float16(bitPattern: UInt16(littleEndian: block.loadUnaligned(as: UInt16.self))))
        }

        /// C columns for weight rows `range`: decode (M = 1) one weight row at a time; otherwise every
        /// activation group (four rows, the last one padded) against two weight rows at a time, each
        /// output its own accumulator in ggml's order. Ranges hold whole pairs except at N's end.
        @inline(__always)
        static func integerRows<B: IntegerBlock>(_ format: B.Type, _ o: IntegerOperands, range: Range<Int>) {
            if o.m == 1 {
                for j in range { o.c[j] = integerRow(B.self, o, o.w + j * o.rowBytes) }
                return
            }
            let groups = (o.m + interleave - 1) / interleave
            var j = range.lowerBound
            while j < range.upperBound {
                let width = min(2, range.upperBound - j)
                let rowA = o.w + j * o.rowBytes
                let rowB = o.w + (j + width - 1) * o.rowBytes
                for g in 0..<groups {
                    integerTile4(B.self, o, rowA, rowB, group: g, j: j, width: width)
                }
                j += width
            }
        }

        /// Decode: one weight row's dot product with the single activation row (ggml's `vec_dot`).
        @inline(__always)
        static func integerRow<B: IntegerBlock>(_ format: B.Type, _ o: IntegerOperands, _ row: UnsafeRawPointer)
            -> Float
        {
            var acc = SIMD8<Float>()
            var minimum: Float = 0
            for b in 0..<(o.k / 32) {
                let block = row + b * B.blockBytes
                if B.hasMinimum { minimum.addProduct(B.minimum(block), o.sums[interleave * b]) }
                let a = (o.a + 32 * interleave * b).loadUnaligned(as: __m256i.self)
                let (u, w) = B.weights(block)
                let lanes = B.lanes(u, w, a, o.laneOffsets + 32 * interleave * b)
                acc.addProduct(
                    _mm256_cvtepi32_ps(lanes), SIMD8(repeating: B.scale(block) * o.scales[interleave * b]))
            }
            return horizontalSum(acc) + minimum
        }

        /// C[4g..<4g+4, j] and C[4g..<4g+4, j + 1] (the rows below M and the columns below `width`)
        /// from activation group g: each weight block decoded once for the group's four rows, whose
        /// blocks lie side by side (one pointer, one load of four scales).
        @inline(__always)
        static func integerTile4<B: IntegerBlock>(
            _ format: B.Type, _ o: IntegerOperands, _ rowA: UnsafeRawPointer, _ rowB: UnsafeRawPointer, group g: Int,
            j: Int, width: Int
        ) {
            let blocks = o.k / 32
            let x = o.a + 32 * interleave * blocks * g
            let offsets = o.laneOffsets + 32 * interleave * blocks * g
            let (scales, sums) = (o.scales + interleave * blocks * g, o.sums + interleave * blocks * g)
            var a0 = SIMD8<Float>()
            var a1 = SIMD8<Float>()
            var a2 = SIMD8<Float>()
            var a3 = SIMD8<Float>()
            var b0 = SIMD8<Float>()
            var b1 = SIMD8<Float>()
            var b2 = SIMD8<Float>()
            var b3 = SIMD8<Float>()
            var minA = SIMD4<Float>()
            var minB = SIMD4<Float>()
            for b in 0..<blocks {
                let (blockA, blockB) = (rowA + b * B.blockBytes, rowB + b * B.blockBytes)
                if B.hasMinimum {
                    let s = UnsafeRawPointer(sums + interleave * b).loadUnaligned(as: SIMD4<Float>.self)
                    minA.addProduct(SIMD4(repeating: B.minimum(blockA)), s)
                    minB.addProduct(SIMD4(repeating: B.minimum(blockB)), s)
                }
                let (uA, wA) = B.weights(blockA)
                let (uB, wB) = B.weights(blockB)
                let d = UnsafeRawPointer(scales + interleave * b).loadUnaligned(as: SIMD4<Float>.self)
                let (dA, dB) = (SIMD4(repeating: B.scale(blockA)) * d, SIMD4(repeating: B.scale(blockB)) * d)
                let (xb, ob) = (x + 32 * interleave * b, offsets + 32 * interleave * b)
                @inline(__always) func step(_ r: Int, _ accA: inout SIMD8<Float>, _ accB: inout SIMD8<Float>) {
                    let a = (xb + 32 * r).loadUnaligned(as: __m256i.self)
                    accA.addProduct(_mm256_cvtepi32_ps(B.lanes(uA, wA, a, ob + 32 * r)), SIMD8(repeating: dA[r]))
                    accB.addProduct(_mm256_cvtepi32_ps(B.lanes(uB, wB, a, ob + 32 * r)), SIMD8(repeating: dB[r]))
                }
                step(0, &a0, &b0)
                step(1, &a1, &b1)
                step(2, &a2, &b2)
                step(3, &a3, &b3)
            }
            let height = min(interleave, o.m - interleave * g)
            let c = o.c + interleave * g * o.n + j
            @inline(__always) func store(_ r: Int, _ accA: SIMD8<Float>, _ accB: SIMD8<Float>) {
                guard r < height else { return }
                c[r * o.n] = horizontalSum(accA) + minA[r]
                if width > 1 { c[r * o.n + 1] = horizontalSum(accB) + minB[r] }
            }
            store(0, a0, b0)
            store(1, a1, b1)
            store(2, a2, b2)
            store(3, a3, b3)
        }

        static func runIntegers(
            _ prepared: Prepared, weights: WeightMatrix, c: UnsafeMutablePointer<Float>, threads: Int
        ) {
            let n = weights.rows
            let workers = max(1, min(threads, n / 8 + 1))
            weights.storage.withUnsafeBytes { storage in
                prepared.quants.withUnsafeBytes { quants in
                    prepared.scales.withUnsafeBufferPointer { scales in
                        prepared.sums.withUnsafeBufferPointer { sums in
                            prepared.laneOffsets.withUnsafeBytes { offsets in
                                let operands = Shared(
                                    IntegerOperands(
                                        w: storage.baseAddress!, rowBytes: weights.rowBytes, a: quants.baseAddress!,
                                        scales: scales.baseAddress!, sums: sums.baseAddress!,
                                        // Only q4_0 has lane offsets; other formats never read them.
                                        laneOffsets: offsets.baseAddress ?? UnsafeRawPointer(quants.baseAddress!),
                                        c: c, m: prepared.rows, n: n,
                                        k: prepared.columns))
                                let format = prepared.format
                                Parallel.run(workers: workers) { worker in
                                    // Even shares, so that tiles of two weight rows stay whole.
                                    let pairs = (n + 1) / 2
                                    let share = Parallel.share(pairs, worker: worker, of: workers)
                                    let range = (2 * share.lowerBound)..<min(n, 2 * share.upperBound)
                                    switch format {
                                    case .q8_0: integerRows(IntegerQ8_0.self, operands.pointer, range: range)
                                    case .q4_0: integerRows(IntegerQ4_0.self, operands.pointer, range: range)
                                    default: integerRows(IntegerQ4_1.self, operands.pointer, range: range)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    /// A weight block format for the integer path: its unsigned operand (and what the activation's sign
    /// is taken from), and the lane sums with one activation block.
    protocol IntegerBlock {
        static var blockBytes: Int { get }
        static var hasMinimum: Bool { get }
        /// (u, w): the unsigned bytes that meet the activations, and the signed weights (q8_0's sign trick).
        static func weights(_ block: UnsafeRawPointer) -> (__m256i, __m256i)
        /// Lane sums of the block (decoded by `weights`) with activation bytes `a`; `offset` points at
        /// the activation block's q4_0 lane offsets.
        static func lanes(_ u: __m256i, _ w: __m256i, _ a: __m256i, _ offset: UnsafeRawPointer) -> __m256i
    }

    extension IntegerBlock {
        static var hasMinimum: Bool { false }

        @inline(__always)
        static func scale(_ block: UnsafeRawPointer) -> Float { QuantGEMM.blockScale(block) }

        @inline(__always)
        static func minimum(_ block: UnsafeRawPointer) -> Float { Q4_1Decoder.minimum(block) }
    }

    enum IntegerQ8_0: IntegerBlock {
        static var blockBytes: Int { BlockQ8_0.byteCount }

        @inline(__always)
        static func weights(_ block: UnsafeRawPointer) -> (__m256i, __m256i) {
            let w = block.loadUnaligned(fromByteOffset: 2, as: __m256i.self)
            return (_mm256_sign_epi8(w, w), w)
        }

        /// ggml's sign trick: |w| · (a · sign w) = w · a, with the unsigned operand |w| ≤ 127.
        @inline(__always)
        static func lanes(_ u: __m256i, _ w: __m256i, _ a: __m256i, _ offset: UnsafeRawPointer) -> __m256i {
            QuantGEMM.laneDot(u, _mm256_sign_epi8(a, w), _mm256_setzero_si256())
        }
    }

    enum IntegerQ4_0: IntegerBlock {
        static var blockBytes: Int { BlockQ4_0.byteCount }

        @inline(__always)
        static func weights(_ block: UnsafeRawPointer) -> (__m256i, __m256i) {
            let u = QuantGEMM.nibbles(block + 2)
            return (u, u)
        }

        /// Σ nibble · a − 8 · Σ a per lane: ggml's Σ (nibble − 8) · a.
        @inline(__always)
        static func lanes(_ u: __m256i, _ w: __m256i, _ a: __m256i, _ offset: UnsafeRawPointer) -> __m256i {
            QuantGEMM.laneDot(u, a, offset.loadUnaligned(as: __m256i.self))
        }
    }

    enum IntegerQ4_1: IntegerBlock {
        static var blockBytes: Int { BlockQ4_1.byteCount }
        static var hasMinimum: Bool { true }

        @inline(__always)
        static func weights(_ block: UnsafeRawPointer) -> (__m256i, __m256i) {
            let u = QuantGEMM.nibbles(block + 4)
            return (u, u)
        }

        @inline(__always)
        static func lanes(_ u: __m256i, _ w: __m256i, _ a: __m256i, _ offset: UnsafeRawPointer) -> __m256i {
            QuantGEMM.laneDot(u, a, _mm256_setzero_si256())
        }
    }
#else
    extension QuantGEMM {
        /// Whether this build multiplies blocks in integers: not without AVX2 (the f32 path gives the same sums).
        static let integerDots = false

        static func runIntegers(
            _ prepared: Prepared, weights: WeightMatrix, c: UnsafeMutablePointer<Float>, threads: Int
        ) {
            preconditionFailure("integer block dot products need an AVX2 build")
        }
    }
#endif
