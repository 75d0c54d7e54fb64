import Foundation

/// Shape of a multi-head attention call with grouped KV heads (GQA).
///
/// Q is [T, H, d] (T query positions, H heads), K and V are [L, Hkv, d], the output is [T, H, d],
/// all row-major f32. Query t sits at absolute position L − T + t: prefill has T = L, decode T = 1.
/// Head h reads KV head h / (H / Hkv).
public struct AttentionShape: Sendable, Hashable {
    public var queries: Int
    public var keys: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var causal: Bool

    public init(queries: Int, keys: Int, heads: Int, kvHeads: Int, headDim: Int, causal: Bool = true) throws {
        guard queries > 0, keys > 0, heads > 0, kvHeads > 0, headDim > 0 else {
            throw KernelError.invalidShape(
                "attention needs positive T, L, H, Hkv and d; got T=\(queries) L=\(keys) H=\(heads) Hkv=\(kvHeads) d=\(headDim)"
            )
        }
        guard heads % kvHeads == 0 else {
            throw KernelError.invalidShape("H = \(heads) heads must be a multiple of Hkv = \(kvHeads) KV heads")
        }
        guard queries <= keys else {
            throw KernelError.invalidShape(
                "T = \(queries) queries cannot exceed L = \(keys) keys (the queries are the last T positions)")
        }
        self.queries = queries
        self.keys = keys
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.causal = causal
    }

    /// Keys query t attends to: all of them, or up to its own position when causal.
    public func visibleKeys(query t: Int) -> Int { causal ? keys - queries + t + 1 : keys }

    /// (query, key) pairs actually computed, over all heads: the causal half only, when causal.
    public var attendedPairs: Int { heads * (0..<queries).reduce(0) { $0 + visibleKeys(query: $1) } }

    /// 4·d FLOPs per attended pair (2·d for q·k, 2·d for p·v); softmax not counted.
    public var flops: Double { 4 * Double(headDim) * Double(attendedPairs) }
}

/// `softmax(Q·Kᵀ / √d + causal mask) · V` in two passes (scores and their maximum, then normalised
/// weights), accumulated in Double.
public enum AttentionReference {
    public static func run(q: [Float], k: [Float], v: [Float], shape: AttentionShape) throws -> [Double] {
        try result(q: q, k: k, v: v, shape: shape).values
    }

    /// The outputs and, for each, the magnitude Σ weight·|v| that scales a fast kernel's tolerance.
    public static func result(q: [Float], k: [Float], v: [Float], shape: AttentionShape) throws -> ReferenceResult {
        let (t, l, h, hkv, d) = (shape.queries, shape.keys, shape.heads, shape.kvHeads, shape.headDim)
        guard q.count == t * h * d else {
            throw KernelError.shapeMismatch(what: "Q", expected: t * h * d, actual: q.count)
        }
        guard k.count == l * hkv * d else {
            throw KernelError.shapeMismatch(what: "K", expected: l * hkv * d, actual: k.count)
        }
        guard v.count == l * hkv * d else {
            throw KernelError.shapeMismatch(what: "V", expected: l * hkv * d, actual: v.count)
        }
        let scale = 1 / Double(d).squareRoot()
        let group = h / hkv
        var out = [Double](repeating: 0, count: t * h * d)
        var magnitudes = [Double](repeating: 0, count: t * h * d)
        var scores = [Double](repeating: 0, count: l)
        for query in 0..<t {
            let visible = shape.visibleKeys(query: query)
            for head in 0..<h {
                let kvHead = head / group
                let qBase = (query * h + head) * d
                var maximum = -Double.infinity
                for key in 0..<visible {
                    let kBase = (key * hkv + kvHead) * d
                    var dot = 0.0
                    for i in 0..<d { dot += Double(q[qBase + i]) * Double(k[kBase + i]) }
                    scores[key] = dot * scale
                    maximum = max(maximum, scores[key])
                }
                var total = 0.0
                for key in 0..<visible {
                    scores[key] = exp(scores[key] - maximum)
                    total += scores[key]
                }
                for key in 0..<visible {
                    let weight = scores[key] / total
                    let vBase = (key * hkv + kvHead) * d
                    for i in 0..<d {
                        out[qBase + i] += weight * Double(v[vBase + i])
                        magnitudes[qBase + i] += weight * abs(Double(v[vBase + i]))
                    }
                }
            }
        }
        return ReferenceResult(values: out, magnitudes: magnitudes)
    }
}
