/// Allowed error of a fast kernel against its reference, relative to the magnitude Σ|term| of each
/// output (so cancellation does not make a correct kernel look wrong): |x − ref| ≤ absolute + relative·Σ|term|.
public struct Tolerance: Sendable, Hashable {
    public var relative: Double
    public var absolute: Double

    public init(relative: Double, absolute: Double = 1e-30) {
        self.relative = relative
        self.absolute = absolute
    }

    /// f32 accumulation of K terms in any order or blocking: 8 · 2⁻²⁴ · √K of the magnitude, and at
    /// least 2 ulp-sized steps. f16 and bf16 products are exact in f32, and q8_0/q4_0 block sums are
    /// exact integers, so every precision only adds f32 accumulation error once inputs are converted
    /// the reference's way.
    public static func accumulation(terms k: Int) -> Tolerance {
        Tolerance(relative: 8 * Double(Float.ulpOfOne / 2) * max(Double(k).squareRoot(), 2))
    }

    /// Named tolerances per precision for a dot product of `k` terms.
    public static func gemm(_ precision: Precision, k: Int) -> Tolerance {
        switch precision {
        case .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1: accumulation(terms: k)
        }
    }

    /// Attention outputs are weighted averages of V after an f32 softmax; exp and the running rescale
    /// add a few ulp per key.
    public static func attention(keys: Int) -> Tolerance {
        Tolerance(relative: 16 * Double(Float.ulpOfOne / 2) * max(Double(keys).squareRoot(), 2))
    }
}

/// How a fast kernel's output compares with its reference.
public struct Verification: Sendable, Hashable, CustomStringConvertible {
    public var count: Int
    public var maxAbsoluteError: Double
    public var rmsError: Double
    /// Largest error as a fraction of what the tolerance allows at that element (≤ 1 passes).
    public var worstRatio: Double
    /// Index of the worst element.
    public var worstIndex: Int
    public var passed: Bool { worstRatio <= 1 }

    /// Compares `actual` with `reference`; a NaN or an unwritten element fails.
    public static func compare(_ actual: UnsafeBufferPointer<Float>, reference: ReferenceResult, tolerance: Tolerance)
        -> Verification
    {
        var maxError = 0.0
        var sumSquares = 0.0
        var worst = 0.0
        var worstIndex = 0
        for index in 0..<min(actual.count, reference.values.count) {
            let value = Double(actual[index])
            let error = value.isFinite ? abs(value - reference.values[index]) : .infinity
            let allowed = tolerance.absolute + tolerance.relative * reference.magnitudes[index]
            let ratio = error / allowed
            maxError = max(maxError, error)
            sumSquares += error.isFinite ? error * error : .infinity
            if ratio > worst || ratio.isNaN {
                worst = ratio.isNaN ? .infinity : ratio
                worstIndex = index
            }
        }
        if actual.count != reference.values.count { worst = .infinity }
        return Verification(
            count: reference.values.count, maxAbsoluteError: maxError,
            rmsError: (sumSquares / Double(max(reference.values.count, 1))).squareRoot(),
            worstRatio: worst, worstIndex: worstIndex)
    }

    public var description: String {
        "\(passed ? "ok" : "MISMATCH"): max error \(maxAbsoluteError), RMS \(rmsError), worst \(worstRatio) of the tolerance at element \(worstIndex)"
    }
}

extension Verification {
    /// Freivalds' check of a large `C[M, N] = A[M, K] · W[N, K]ᵀ` in O(MK + NK + MN) instead of O(MNK):
    /// compares C·r with A·(Wᵀ·r) for a pseudo-random vector r, in Double. Returns the worst row's
    /// |C·r − A·(Wᵀ·r)| relative to Σ|A·(Wᵀ·r)| terms; infinity if C holds a NaN or infinity.
    public static func freivalds(a: [Float], w: [Float], c: [Float], m: Int, n: Int, k: Int, seed: UInt64 = 7) -> Double
    {
        let r = KernelCatalog.pseudoRandom(count: n, seed: seed).map(Double.init)
        var wr = [Double](repeating: 0, count: k)
        for j in 0..<n { for p in 0..<k { wr[p] += Double(w[j * k + p]) * r[j] } }
        var worst = 0.0
        for i in 0..<m {
            var left = 0.0
            var right = 0.0
            var scale = 0.0
            for j in 0..<n { left += Double(c[i * n + j]) * r[j] }
            for p in 0..<k {
                right += Double(a[i * k + p]) * wr[p]
                scale += abs(Double(a[i * k + p]) * wr[p])
            }
            worst = max(worst, left.isFinite ? abs(left - right) / max(scale, 1e-30) : .infinity)
        }
        return worst
    }
}
