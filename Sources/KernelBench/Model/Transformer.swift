import Foundation

/// A llama-family transformer with a KV cache for one sequence, run on KernelBench's kernels with the
/// arithmetic of llama.cpp's CPU backend.
///
/// One forward step takes T new tokens at positions `position ..< position + T` (prefill: the prompt,
/// in batches of at most `batchSize` as llama.cpp's n_ubatch; decode: T = 1):
/// ```
/// x = embedding rows (dequantized, ggml's get_rows)
/// per layer:  h = rms_norm(x)·w          q, k, v = h·Wqᵀ, h·Wkᵀ, h·Wvᵀ   (+ biases: qwen2)
///             q, k = per-head rms_norm (qwen3); RoPE (adjacent pairs, or NeoX for qwen2/qwen3)
///             K/V cache[position + t] = f16(k), f16(v)
///             x += attention(q, cache)·Woᵀ
///             h = rms_norm(x)·w_ffn      x += (silu(h·Wgateᵀ) ⊙ h·Wupᵀ)·Wdownᵀ
/// logits = rms_norm(x)·w_out · Woutputᵀ   (the last position, or every position)
/// ```
/// Every matmul runs at the weight's own precision, activations converted as ggml does for that type
/// (f16/bf16 rounding; q8_0 for q8_0/q4_0 and q8_1 for q4_1, with ggml-cpu's x86 quantizer,
/// `ActivationQuantizer.ggmlX86`), in ggml's summation order: `QuantGEMM` for the block formats (at
/// every batch size, `ggmlOrder`), `GGMLFloatGEMM` for f32/f16/bf16 (vec_dot for decode, tinyBLAS's
/// order for prefill).
/// Attention is `CacheAttention` (ggml's CPU flash attention arithmetic over an f16 cache).
public final class Transformer {
    public let config: TransformerConfig
    public let weights: TransformerWeights
    /// Positions the KV cache holds.
    public let contextSize: Int
    /// Tokens in the cache: the next token goes at this position.
    public private(set) var position = 0
    /// Largest number of tokens per forward step (llama.cpp's default n_ubatch).
    public static let batchSize = 512
    public var threads: Int

    /// Sees named intermediate tensors of each step (llama.cpp's graph names), for debugging agreement.
    var trace: ((String, [Float]) -> Void)?

    /// Per layer, [contextSize, kvHeads, headDim] f16.
    var keys: [[Float16]]
    var values: [[Float16]]
    /// How activations are quantized for block formats (ggml-cpu's x86 quantizer by default, as llama.cpp runs here).
    public var quantizer = ActivationQuantizer.ggmlX86

    /// - Parameters:
    ///   - contextSize: positions to keep (prompt plus generated tokens), at most the model's context.
    public init(config: TransformerConfig, weights: TransformerWeights, contextSize: Int, threads: Int) {
        precondition(contextSize > 0, "a context of at least one position")
        self.config = config
        self.weights = weights
        self.contextSize = contextSize
        self.threads = max(1, threads)
        let cacheCount = contextSize * config.kvHeads * config.headDim
        keys = Array(repeating: [Float16](repeating: 0, count: cacheCount), count: config.layers)
        values = keys
    }

    /// Bytes of the KV cache.
    public var cacheBytes: Int { 2 * config.layers * contextSize * config.kvHeads * config.headDim * 2 }

    /// Empties the cache (a new sequence).
    public func reset() { position = 0 }

    /// Runs `tokens` at the next positions and returns logits: [vocabulary] for the last token, or
    /// [tokens.count, vocabulary] when `allLogits`.
    public func forward(_ tokens: [Int], allLogits: Bool = false) throws(ModelError) -> [Float] {
        guard !tokens.isEmpty else {
            throw ModelError(file: config.file, message: "a forward step needs at least one token")
        }
        guard position + tokens.count <= contextSize else {
            throw ModelError(
                file: config.file,
                message: "\(position + tokens.count) tokens do not fit the context of \(contextSize): "
                    + "shorten the prompt or lower --max-tokens")
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= config.vocabulary }) {
            throw ModelError(
                file: config.file, message: "token id \(bad) is outside the vocabulary (0..<\(config.vocabulary))")
        }
        var logits: [Float] = []
        var start = 0
        while start < tokens.count {
            let batch = Array(tokens[start..<min(tokens.count, start + Self.batchSize)])
            let last = start + batch.count == tokens.count
            let result = try step(batch, outputs: allLogits ? .all : (last ? .last : .none))
            if let bad = result.firstIndex(where: { !$0.isFinite }) {
                throw ModelError(
                    file: config.file,
                    message:
                        "the model computed a non-finite logit (\(result[bad]) for token \(bad % config.vocabulary)) "
                        + "at positions \(position - batch.count)..<\(position): its weights hold NaN or infinite values, "
                        + "or overflow f32; check the file (perwatt gguf info) or run it at another --quantization")
            }
            logits += result
            start += batch.count
        }
        return logits
    }

    enum Outputs { case none, last, all }

    /// One batch through every layer; returns the logits asked for.
    func step(_ tokens: [Int], outputs: Outputs) throws(ModelError) -> [Float] {
        let c = config
        let (t, d, hd) = (tokens.count, c.hidden, c.headDim)
        let (qWidth, kvWidth) = (c.heads * hd, c.kvHeads * hd)
        var x = [Float](repeating: 0, count: t * d)
        x.withUnsafeMutableBufferPointer { x in
            for (i, token) in tokens.enumerated() { weights.embedding.decode(row: token, into: x.baseAddress! + i * d) }
        }
        var attention = [Float](repeating: 0, count: t * qWidth)
        // cos/sin of every (position, frequency) of this step, shared by q and k of every layer.
        let ropeTable = ropeAngles(tokens: t)
        for (l, layer) in weights.layers.enumerated() {
            let h = rmsNorm(x, rows: t, width: d, weight: layer.attentionNorm)
            trace?("attn_norm-\(l)", h)
            // q, k and v (and below gate and up) read the same activations: quantized once when their
            // matrices share a type.
            var shared: Quantized?
            var q = try matmul(layer.query, h, rows: t, reusing: &shared)
            var k = try matmul(layer.key, h, rows: t, reusing: &shared)
            var v = try matmul(layer.value, h, rows: t, reusing: &shared)
            trace?("Qcur-\(l).matmul", q)
            trace?("Vcur-\(l)", v)
            if let bias = layer.queryBias { addRows(&q, bias) }
            if let bias = layer.keyBias { addRows(&k, bias) }
            if let bias = layer.valueBias { addRows(&v, bias) }
            if let norm = layer.queryNorm { q = rmsNorm(q, rows: t * c.heads, width: hd, weight: norm) }
            if let norm = layer.keyNorm { k = rmsNorm(k, rows: t * c.kvHeads, width: hd, weight: norm) }
            rope(&q, heads: c.heads, table: ropeTable)
            rope(&k, heads: c.kvHeads, table: ropeTable)
            trace?("Qcur-\(l).rope", q)
            trace?("Kcur-\(l).rope", k)
            let offset = position * kvWidth
            for i in 0..<(t * kvWidth) {
                keys[l][offset + i] = Float16(k[i])
                values[l][offset + i] = Float16(v[i])
            }
            keys[l].withUnsafeBufferPointer { kc in
                values[l].withUnsafeBufferPointer { vc in
                    q.withUnsafeBufferPointer { qp in
                        attention.withUnsafeMutableBufferPointer { out in
                            CacheAttention.run(
                                q: qp.baseAddress!, kCache: kc.baseAddress!, vCache: vc.baseAddress!,
                                out: out.baseAddress!, queries: t, firstPosition: position, heads: c.heads,
                                kvHeads: c.kvHeads, headDim: hd, threads: threads)
                        }
                    }
                }
            }
            trace?("kqv_out-\(l)", attention)
            let projected = try matmul(layer.output, attention, rows: t)
            trace?("attn_out-\(l)", projected)
            for i in x.indices { x[i] += projected[i] }
            let f = rmsNorm(x, rows: t, width: d, weight: layer.ffnNorm)
            trace?("ffn_norm-\(l)", f)
            shared = nil
            var gate = try matmul(layer.gate, f, rows: t, reusing: &shared)
            let up = try matmul(layer.up, f, rows: t, reusing: &shared)
            trace?("ffn_gate-\(l)", gate)
            // SwiGLU: silu(g)·u, silu(g) = g / (1 + e^−g), with ggml's vectorized exp.
            GGMLMath.swiglu(&gate, up)
            trace?("ffn_swiglu-\(l)", gate)
            let down = try matmul(layer.down, gate, rows: t)
            trace?("ffn_out-\(l)", down)
            for i in x.indices { x[i] += down[i] }
            trace?("l_out-\(l)", x)
        }
        position += t
        switch outputs {
        case .none: return []
        case .last:
            let last = Array(x[((t - 1) * d)..<(t * d)])
            return try matmul(weights.output, rmsNorm(last, rows: 1, width: d, weight: weights.outputNorm), rows: 1)
        case .all:
            return try matmul(weights.output, rmsNorm(x, rows: t, width: d, weight: weights.outputNorm), rows: t)
        }
    }

    /// Activations quantized for one block format, kept for the next matmul of the same input.
    typealias Quantized = (precision: Precision, prepared: WeightKernels.Prepared)

    /// `a` (rows × K) times Wᵀ: rows × N.
    func matmul(_ w: WeightMatrix, _ a: [Float], rows: Int) throws(ModelError) -> [Float] {
        var none: Quantized?
        return try matmul(w, a, rows: rows, reusing: &none)
    }

    /// `matmul`, with block formats' activations taken from `shared` when it holds them quantized for
    /// W's type (the caller passes the same `a`), and left there otherwise.
    func matmul(_ w: WeightMatrix, _ a: [Float], rows: Int, reusing shared: inout Quantized?) throws(ModelError)
        -> [Float]
    {
        var c = [Float](repeating: 0, count: rows * w.rows)
        if !w.precision.isBlockQuantized {
            c.withUnsafeMutableBufferPointer {
                GGMLFloatGEMM.run(w, a: a, m: rows, c: $0.baseAddress!, threads: threads)
            }
            return c
        }
        let prepared: WeightKernels.Prepared
        if let shared, shared.precision == w.precision {
            prepared = shared.prepared
        } else {
            do {
                prepared = try WeightKernels.prepare(
                    a: a, m: rows, k: w.columns, precision: w.precision, quantizer: quantizer, ggmlOrder: true,
                    threads: threads)
            } catch {
                // The shapes were checked when the weights were loaded; this is a defect, reported, not trapped.
                throw ModelError(file: config.file, message: "a matmul could not be prepared: \(error)")
            }
            shared = (w.precision, prepared)
        }
        c.withUnsafeMutableBufferPointer {
            WeightKernels.run(prepared, weights: w, c: $0.baseAddress!, threads: threads)
        }
        return c
    }

    /// ggml's `rms_norm` then `mul`: per row, scale = 1 / √(f32(Σx² / n) + ε) with the sum of f32
    /// squares in Double, y = (x · scale) · w.
    func rmsNorm(_ x: [Float], rows: Int, width: Int, weight: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: rows * width)
        for r in 0..<rows {
            var sum = 0.0
            for i in 0..<width {
                let value = x[r * width + i]
                sum += Double(value * value)
            }
            // As ggml: the mean rounded to f32 before ε is added.
            let mean = Float(sum / Double(width))
            let scale = 1 / (mean + config.rmsEpsilon).squareRoot()
            for i in 0..<width { y[r * width + i] = (x[r * width + i] * scale) * weight[i] }
        }
        return y
    }

    func addRows(_ x: inout [Float], _ bias: [Float]) {
        for i in x.indices { x[i] += bias[i % bias.count] }
    }

    /// (cos θ, sin θ) for positions position ..< position + tokens and the ropeDimensions / 2
    /// frequencies, as ggml's `ggml_rope_cache_init`: θᵢ = p · base^(−2i/n) by repeated multiplication
    /// (divided by `rope_freqs` when the model has them), cos/sin in f32.
    func ropeAngles(tokens: Int) -> (cosines: [Float], sines: [Float]) {
        let half = config.ropeDimensions / 2
        let thetaScale = pow(config.ropeBase, -2 / Float(config.ropeDimensions))
        var cosines = [Float](repeating: 0, count: tokens * half)
        var sines = cosines
        for t in 0..<tokens {
            var theta = Float(position + t)
            for i in 0..<half {
                let angle = theta / (weights.ropeFrequencyFactors?[i] ?? 1)
                cosines[t * half + i] = cos(angle)
                sines[t * half + i] = sin(angle)
                theta *= thetaScale
            }
        }
        return (cosines, sines)
    }

    /// RoPE in place on [tokens, heads, headDim] with `table` from `ropeAngles` (ggml's `rope_f32`): the
    /// first `ropeDimensions` of each head rotated as adjacent pairs or NeoX halves, the rest kept.
    func rope(_ x: inout [Float], heads: Int, table: (cosines: [Float], sines: [Float])) {
        let (hd, half) = (config.headDim, config.ropeDimensions / 2)
        let tokens = table.cosines.count / half
        for t in 0..<tokens {
            for h in 0..<heads {
                let base = (t * heads + h) * hd
                for i in 0..<half {
                    let (a, b) = config.ropeNeoX ? (base + i, base + i + half) : (base + 2 * i, base + 2 * i + 1)
                    let (x0, x1) = (x[a], x[b])
                    let (c, s) = (table.cosines[t * half + i], table.sines[t * half + i])
                    // As ggml's rotate_pairs compiles with FMA contraction: fma(x0, cos, −x1·sin) and
                    // fma(x0, sin, x1·cos).
                    x[a] = (-(x1 * s)).addingProduct(x0, c)
                    x[b] = (x1 * c).addingProduct(x0, s)
                }
            }
        }
    }
}

extension Transformer {
    /// The id of the largest logit, the first on a tie (llama.cpp's greedy sampler).
    public static func argmax(_ logits: ArraySlice<Float>) -> Int {
        var best = logits.startIndex
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return best - logits.startIndex
    }
}
