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

        /// Lane sums of weight block `block` (of `format`) with activation block `x` (32 int8); for
        /// q4_0, `offset` holds −8·Σ of the activation group of each lane (the nibbles' −8, applied once).
        @inline(__always)
        static func blockLanes(
            _ format: Precision, _ block: UnsafeRawPointer, _ x: UnsafeRawPointer, _ offset: UnsafeRawPointer
        ) -> __m256i {
            let a = x.loadUnaligned(as: __m256i.self)
            switch format {
            case .q8_0:
                // ggml's sign trick: |w| · (a · sign w) = w · a, with the unsigned operand |w| ≤ 127.
                let w = block.loadUnaligned(fromByteOffset: 2, as: __m256i.self)
                return laneDot(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w), _mm256_setzero_si256())
            case .q4_0:
                return laneDot(nibbles(block + 2), a, offset.loadUnaligned(as: __m256i.self))
            default:
                return laneDot(nibbles(block + 4), a, _mm256_setzero_si256())
            }
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
                quants.storeBytes(of: packed, toByteOffset: 32 * b, as: __m256i.self)
                scales[b] = Half.round(d)
                if let sums {
                    let total = unsafeBitCast(
                        _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)), to: SIMD8<Int32>.self)
                    sums[b] = Half.round(d * Float(total.wrappedSum()))
                }
                if let offsets {
                    let eights = laneDot(_mm256_set1_epi8(8), packed, _mm256_setzero_si256())
                    offsets.storeBytes(
                        of: _mm256_sub_epi32(_mm256_setzero_si256(), eights), toByteOffset: 32 * b, as: __m256i.self)
                }
            }
        }

        @inline(__always)
        static func blockScale(_ block: UnsafeRawPointer) -> Float {
            Float(Float16(bitPattern: UInt16(littleEndian: block.loadUnaligned(as: UInt16.self))))
        }

        @inline(__always)
        static func blockMinimum(_ block: UnsafeRawPointer) -> Float {
            Float(Float16(bitPattern: UInt16(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))))
        }

        /// C rows for weight rows `range`: decode (M = 1) one row at a time, otherwise tiles of four
        /// activation rows × two weight rows, each of the eight outputs its own accumulator in ggml's order.
        @inline(__always)
        static func integerRows(_ format: Precision, _ o: IntegerOperands, range: Range<Int>) {
            let (m, n, k) = (o.m, o.n, o.k)
            let blocks = k / 32
            let blockBytes = format.blockBytes
            let q41 = format == .q4_1
            if m == 1 {
                for j in range {
                    let row = o.w + j * o.rowBytes
                    var acc = SIMD8<Float>()
                    var minimums: Float = 0
                    for b in 0..<blocks {
                        let block = row + b * blockBytes
                        if q41 { minimums.addProduct(blockMinimum(block), o.sums[b]) }
                        let lanes = blockLanes(format, block, o.a + 32 * b, o.laneOffsets + 32 * b)
                        acc.addProduct(_mm256_cvtepi32_ps(lanes), SIMD8(repeating: blockScale(block) * o.scales[b]))
                    }
                    o.c[j] = horizontalSum(acc) + minimums
                }
                return
            }
            var j = range.lowerBound
            while j < range.upperBound {
                let width = min(2, range.upperBound - j)
                let rowA = o.w + j * o.rowBytes
                let rowB = o.w + (j + width - 1) * o.rowBytes
                var i = 0
                while i < m {
                    let height = min(4, m - i)
                    let r = (i, i + min(1, height - 1), i + min(2, height - 1), i + min(3, height - 1))
                    let xs = (o.a + r.0 * k, o.a + r.1 * k, o.a + r.2 * k, o.a + r.3 * k)
                    let ls = (
                        o.laneOffsets + 32 * r.0 * blocks, o.laneOffsets + 32 * r.1 * blocks,
                        o.laneOffsets + 32 * r.2 * blocks, o.laneOffsets + 32 * r.3 * blocks
                    )
                    let ss = (
                        o.scales + r.0 * blocks, o.scales + r.1 * blocks, o.scales + r.2 * blocks,
                        o.scales + r.3 * blocks
                    )
                    let ts = (
                        o.sums + r.0 * blocks, o.sums + r.1 * blocks, o.sums + r.2 * blocks, o.sums + r.3 * blocks
                    )
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
                        let (blockA, blockB) = (rowA + b * blockBytes, rowB + b * blockBytes)
                        let (dA, dB) = (blockScale(blockA), blockScale(blockB))
                        let offset = 32 * b
                        if q41 {
                            let s = SIMD4(ts.0[b], ts.1[b], ts.2[b], ts.3[b])
                            minA.addProduct(SIMD4(repeating: blockMinimum(blockA)), s)
                            minB.addProduct(SIMD4(repeating: blockMinimum(blockB)), s)
                        }
                        @inline(__always) func step(
                            _ x: UnsafeRawPointer, _ l: UnsafeRawPointer, _ d: Float,
                            _ accA: inout SIMD8<Float>, _ accB: inout SIMD8<Float>
                        ) {
                            let lanesA = blockLanes(format, blockA, x + offset, l + offset)
                            let lanesB = blockLanes(format, blockB, x + offset, l + offset)
                            accA.addProduct(_mm256_cvtepi32_ps(lanesA), SIMD8(repeating: dA * d))
                            accB.addProduct(_mm256_cvtepi32_ps(lanesB), SIMD8(repeating: dB * d))
                        }
                        step(xs.0, ls.0, ss.0[b], &a0, &b0)
                        if height > 1 { step(xs.1, ls.1, ss.1[b], &a1, &b1) }
                        if height > 2 { step(xs.2, ls.2, ss.2[b], &a2, &b2) }
                        if height > 3 { step(xs.3, ls.3, ss.3[b], &a3, &b3) }
                    }
                    @inline(__always) func store(_ row: Int, _ accA: SIMD8<Float>, _ accB: SIMD8<Float>, _ lane: Int) {
                        guard row < height else { return }
                        o.c[(i + row) * n + j] = horizontalSum(accA) + minA[lane]
                        if width > 1 { o.c[(i + row) * n + j + 1] = horizontalSum(accB) + minB[lane] }
                    }
                    store(0, a0, b0, 0)
                    store(1, a1, b1, 1)
                    store(2, a2, b2, 2)
                    store(3, a3, b3, 3)
                    i += height
                }
                j += width
            }
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
                                        laneOffsets: offsets.baseAddress!, c: c, m: prepared.rows, n: n,
                                        k: prepared.columns))
                                let format = prepared.format
                                Parallel.run(workers: workers) { worker in
                                    // Even shares, so that tiles of two weight rows stay whole.
                                    let pairs = (n + 1) / 2
                                    let share = Parallel.share(pairs, worker: worker, of: workers)
                                    let range = (2 * share.lowerBound)..<min(n, 2 * share.upperBound)
                                    switch format {
                                    case .q8_0: integerRows(.q8_0, operands.pointer, range: range)
                                    case .q4_0: integerRows(.q4_0, operands.pointer, range: range)
                                    default: integerRows(.q4_1, operands.pointer, range: range)
                                    }
                                }
                            }
                        }
                    }
                }
            }
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
