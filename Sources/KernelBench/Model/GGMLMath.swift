import Foundation

/// ggml-cpu's vectorized elementwise math on x86 (AVX2 + FMA), ported operation for operation so the
/// runtime's activations are bit for bit what llama.cpp computes there.
enum GGMLMath {
    /// `ggml_v_expf` (ggml-cpu/vec.h, AVX2 + FMA): e^x by range reduction to b = x − n·ln 2 (n = round(x /
    /// ln 2), ln 2 in two parts) and a degree-5 polynomial, the exponent built from z's bits; |n| > 126 and
    /// |n| > 192 take the overflow/underflow-safe paths. Within a few ulp of e^x but not libm's expf,
    /// which is why the runtime does not use libm here.
    @inline(__always)
    static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let r = SIMD8<Float>(repeating: 0x1.8p23)
        let z = r.addingProduct(x, SIMD8(repeating: 0x1.715476p+0))
        let n = z - r
        // _mm256_fnmadd_ps(a, b, c) = c − a·b, fused.
        let reduced = x.addingProduct(-n, SIMD8(repeating: 0x1.62e4p-1))
        let b = reduced.addingProduct(-n, SIMD8(repeating: 0x1.7f7d1cp-20))
        let e = unsafeBitCast(z, to: SIMD8<UInt32>.self) &<< 23
        let k = unsafeBitCast(e &+ Float(1).bitPattern, to: SIMD8<Float>.self)
        let absN = unsafeBitCast(unsafeBitCast(n, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
        let large = absN .> SIMD8(repeating: 126)
        let u = b * b
        let high = SIMD8<Float>(repeating: 0x1.573e2ep-5).addingProduct(SIMD8(repeating: 0x1.0e4020p-7), b)
        let low = SIMD8<Float>(repeating: 0x1.fffdb6p-2).addingProduct(SIMD8(repeating: 0x1.555e66p-3), b)
        let j = (SIMD8<Float>(repeating: 0x1.ffffecp-1) * b).addingProduct(low.addingProduct(high, u), u)
        let regular = k.addingProduct(k, j)
        guard any(large) else { return regular }
        let g = SIMD8<UInt32>(repeating: 0).replacing(with: 0x8200_0000, where: n .<= SIMD8(repeating: 0))
        let s1 = unsafeBitCast(g &+ 0x7F00_0000, to: SIMD8<Float>.self)
        let s2 = unsafeBitCast(e &- g, to: SIMD8<Float>.self)
        let huge = absN .> SIMD8(repeating: 192)
        let scaled = s2.addingProduct(s2, j) * s1
        return regular.replacing(with: scaled, where: large).replacing(with: s1 * s1, where: huge)
    }

    /// `ggml_v_silu`: x / (1 + e^(0 − x)) with `exp` above.
    @inline(__always)
    static func silu(_ x: SIMD8<Float>) -> SIMD8<Float> {
        x / (1 + exp(SIMD8<Float>() - x))
    }

    /// `ggml_vec_swiglu_f32`: y = silu(x) · g in place over `n` values, eight at a time, the tail with
    /// libm's expf as ggml does.
    static func swiglu(_ x: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, count n: Int) {
        let (xp, gp) = (UnsafeMutableRawPointer(x), UnsafeRawPointer(g))
        var i = 0
        while i + 8 <= n {
            let value = silu(xp.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
            xp.storeBytes(
                of: value * gp.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self), toByteOffset: 4 * i,
                as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            x[i] = x[i] / (1 + Foundation.exp(-x[i])) * g[i]
            i += 1
        }
    }

    /// The vectorized part of `ggml_vec_dot_f16` and `ggml_vec_dot_f32` (AVX): four 8-lane FMA chains
    /// over steps of 32 (`operands(i)` gives the eight pairs from index i), reduced as
    /// `GGML_F32x8_REDUCE` does (0+2, 1+3, then 0+1; lanes i + i+4; then (0+1) + (2+3)). Returns the
    /// sum and the index where the steps ended; the caller adds the tail as its ggml function does.
    @inline(__always)
    static func fourChainDot(count k: Int, _ operands: (Int) -> (SIMD8<Float>, SIMD8<Float>)) -> (sum: Float, end: Int)
    {
        var s0 = SIMD8<Float>()
        var s1 = SIMD8<Float>()
        var s2 = SIMD8<Float>()
        var s3 = SIMD8<Float>()
        var i = 0
        while i + 32 <= k {
            let (a0, b0) = operands(i)
            let (a1, b1) = operands(i + 8)
            let (a2, b2) = operands(i + 16)
            let (a3, b3) = operands(i + 24)
            s0.addProduct(a0, b0)
            s1.addProduct(a1, b1)
            s2.addProduct(a2, b2)
            s3.addProduct(a3, b3)
            i += 32
        }
        let x = (s0 + s2) + (s1 + s3)
        let t = x.lowHalf + x.highHalf
        return ((t[0] + t[1]) + (t[2] + t[3]), i)
    }
}
