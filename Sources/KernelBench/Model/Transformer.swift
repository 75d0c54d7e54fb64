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

    /// [layers, contextSize, kvHeads, headDim] f16, made once.
    let keys: UnsafeMutableBufferPointer<Float16>
    let values: UnsafeMutableBufferPointer<Float16>
    /// Every buffer a forward step writes, made once, so that a step allocates nothing.
    let workspace: Workspace
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
        let cacheCount = config.layers * contextSize * config.kvHeads * config.headDim
        keys = .allocate(capacity: cacheCount)
        keys.initialize(repeating: 0)
        values = .allocate(capacity: cacheCount)
        values.initialize(repeating: 0)
        workspace = Workspace(config: config, rows: min(Self.batchSize, contextSize))
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes of the KV cache.
    public var cacheBytes: Int { 2 * config.layers * contextSize * config.kvHeads * config.headDim * 2 }

    /// Empties the cache (a new sequence).
    public func reset() { position = 0 }

    /// Runs `tokens` at the next positions and returns logits: [vocabulary] for the last token, or
    /// [tokens.count, vocabulary] when `allLogits`.
    public func forward(_ tokens: [Int], allLogits: Bool = false) throws(ModelError) -> [Float] {
        var logits: [Float] = []
        try forward(tokens, allLogits: allLogits, into: &logits)
        return logits
    }

    /// `forward` into `logits`, whose contents are replaced and whose storage is reused when it is
    /// large enough.
    public func forward(_ tokens: [Int], allLogits: Bool = false, into logits: inout [Float]) throws(ModelError) {
        try tokens.withUnsafeBufferPointer { (tokens) throws(ModelError) in
            try forward(tokens, allLogits: allLogits, into: &logits)
        }
    }

    /// One decode step: `token` at the next position, its logits ([vocabulary]) into `logits`. Allocates
    /// nothing once `logits` has held a vocabulary's logits.
    public func forward(token: Int, into logits: inout [Float]) throws(ModelError) {
        try withUnsafePointer(to: token) { (token) throws(ModelError) in
            try forward(UnsafeBufferPointer(start: token, count: 1), allLogits: false, into: &logits)
        }
    }

    func forward(_ tokens: UnsafeBufferPointer<Int>, allLogits: Bool, into logits: inout [Float]) throws(ModelError) {
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
        let vocabulary = config.vocabulary
        let count = allLogits ? tokens.count * vocabulary : vocabulary
        if logits.count != count {
            logits.removeAll(keepingCapacity: true)
            logits.append(contentsOf: repeatElement(0, count: count))
        }
        var start = 0
        while start < tokens.count {
            let batch = UnsafeBufferPointer(rebasing: tokens[start..<min(tokens.count, start + Self.batchSize)])
            let last = start + batch.count == tokens.count
            let outputs: Outputs = allLogits ? .all : (last ? .last : .none)
            let first = allLogits ? start * vocabulary : 0
            let written = outputs == .none ? 0 : (allLogits ? batch.count * vocabulary : vocabulary)
            try logits.withUnsafeMutableBufferPointer { (logits) throws(ModelError) in
                try step(batch, outputs: outputs, into: logits.baseAddress! + first)
                if let bad = logits[first..<(first + written)].firstIndex(where: { !$0.isFinite }) {
                    throw ModelError(
                        file: config.file,
                        message:
                            "the model computed a non-finite logit (\(logits[bad]) for token \(bad % vocabulary)) "
                            + "at positions \(position - batch.count)..<\(position): its weights hold NaN or infinite "
                            + "values, or overflow f32; check the file (perwatt gguf info) or run it at another "
                            + "--quantization")
                }
            }
            start += batch.count
        }
    }

    enum Outputs { case none, last, all }

    /// One batch (at most `workspace.rows` tokens) through every layer; writes the logits asked for
    /// to `logits` ([vocabulary] for `.last`, [tokens, vocabulary] for `.all`).
    func step(_ tokens: UnsafeBufferPointer<Int>, outputs: Outputs, into logits: UnsafeMutablePointer<Float>)
        throws(ModelError)
    {
        let c = config
        let (t, d, hd) = (tokens.count, c.hidden, c.headDim)
        let (qWidth, kvWidth) = (c.heads * hd, c.kvHeads * hd)
        let layerCache = contextSize * kvWidth
        let w = workspace
        precondition(t <= w.rows, "a step of at most the workspace's rows")
        let (x, h, q, k, v) = (w.x, w.h, w.q, w.k, w.v)
        let (attention, projected, gate, up) = (w.attention, w.projected, w.gate, w.up)
        for (i, token) in tokens.enumerated() { weights.embedding.decode(row: token, into: x + i * d) }
        // cos/sin of every (position, frequency) of this step, shared by q and k of every layer.
        ropeAngles(tokens: t)
        for (l, layer) in weights.layers.enumerated() {
            rmsNorm(x, rows: t, width: d, weight: layer.attentionNorm, into: h)
            emit("attn_norm-\(l)", h, t * d)
            // q, k and v (and below gate and up) read the same activations: quantized once when their
            // matrices share a type.
            try matmul(layer.query, h, rows: t, into: q)
            try matmul(layer.key, h, rows: t, into: k, sameInputAsLast: true)
            try matmul(layer.value, h, rows: t, into: v, sameInputAsLast: true)
            emit("Qcur-\(l).matmul", q, t * qWidth)
            emit("Vcur-\(l)", v, t * kvWidth)
            if let bias = layer.queryBias { addRows(q, count: t * qWidth, bias) }
            if let bias = layer.keyBias { addRows(k, count: t * kvWidth, bias) }
            if let bias = layer.valueBias { addRows(v, count: t * kvWidth, bias) }
            if let norm = layer.queryNorm { rmsNorm(q, rows: t * c.heads, width: hd, weight: norm, into: q) }
            if let norm = layer.keyNorm { rmsNorm(k, rows: t * c.kvHeads, width: hd, weight: norm, into: k) }
            rope(q, tokens: t, heads: c.heads)
            rope(k, tokens: t, heads: c.kvHeads)
            emit("Qcur-\(l).rope", q, t * qWidth)
            emit("Kcur-\(l).rope", k, t * kvWidth)
            let (kCache, vCache) = (keys.baseAddress! + l * layerCache, values.baseAddress! + l * layerCache)
            let offset = position * kvWidth
            for i in 0..<(t * kvWidth) {
                kCache[offset + i] = Float16(k[i])
                vCache[offset + i] = Float16(v[i])
            }
            CacheAttention.run(
                q: q, kCache: kCache, vCache: vCache, out: attention, queries: t, firstPosition: position,
                heads: c.heads, kvHeads: c.kvHeads, headDim: hd, threads: threads)
            emit("kqv_out-\(l)", attention, t * qWidth)
            try matmul(layer.output, attention, rows: t, into: projected)
            emit("attn_out-\(l)", projected, t * d)
            for i in 0..<(t * d) { x[i] += projected[i] }
            rmsNorm(x, rows: t, width: d, weight: layer.ffnNorm, into: h)
            emit("ffn_norm-\(l)", h, t * d)
            try matmul(layer.gate, h, rows: t, into: gate)
            try matmul(layer.up, h, rows: t, into: up, sameInputAsLast: true)
            emit("ffn_gate-\(l)", gate, t * c.ffn)
            // SwiGLU: silu(g)·u, silu(g) = g / (1 + e^−g), with ggml's vectorized exp.
            GGMLMath.swiglu(gate, up, count: t * c.ffn)
            emit("ffn_swiglu-\(l)", gate, t * c.ffn)
            try matmul(layer.down, gate, rows: t, into: projected)
            emit("ffn_out-\(l)", projected, t * d)
            for i in 0..<(t * d) { x[i] += projected[i] }
            emit("l_out-\(l)", x, t * d)
        }
        position += t
        switch outputs {
        case .none: return
        case .last:
            rmsNorm(x + (t - 1) * d, rows: 1, width: d, weight: weights.outputNorm, into: h)
            try matmul(weights.output, h, rows: 1, into: logits)
        case .all:
            rmsNorm(x, rows: t, width: d, weight: weights.outputNorm, into: h)
            try matmul(weights.output, h, rows: t, into: logits)
        }
    }

    /// Hands `count` values at `p` to `trace`, when one is set (only then is the name built and the
    /// values copied).
    @inline(__always)
    func emit(_ name: @autoclosure () -> String, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        if let trace { trace(name(), Array(UnsafeBufferPointer(start: p, count: count))) }
    }

    /// `a` (rows × K) times Wᵀ into `c` (rows × N). Block formats quantize `a` into the workspace's
    /// prepared activations, or, with `sameInputAsLast` (the caller promises `a` is unchanged since
    /// the previous matmul), reuse them when they were prepared from `a` for W's type and shape.
    func matmul(
        _ w: WeightMatrix, _ a: UnsafeMutablePointer<Float>, rows: Int, into c: UnsafeMutablePointer<Float>,
        sameInputAsLast: Bool = false
    ) throws(ModelError) {
        let space = workspace
        if !w.precision.isBlockQuantized {
            space.preparedInput = nil
            GGMLFloatGEMM.run(w, a: a, m: rows, c: c, rounded: space.rounded, threads: threads)
            return
        }
        let prepared = space.prepared
        let reusable =
            sameInputAsLast && space.preparedInput == UnsafePointer(a) && prepared.format == w.precision
            && prepared.rows == rows && prepared.columns == w.columns
        if !reusable {
            do {
                try QuantGEMM.prepare(
                    into: &space.prepared, a: a, m: rows, k: w.columns, format: w.precision, quantizer: quantizer,
                    threads: threads)
            } catch {
                // The shapes were checked when the weights were loaded; this is a defect, reported, not trapped.
                throw ModelError(file: config.file, message: "a matmul could not be prepared: \(error)")
            }
            space.preparedInput = UnsafePointer(a)
        }
        QuantGEMM.run(space.prepared, weights: w, c: c, threads: threads)
    }

    /// ggml's `rms_norm` then `mul`: per row, scale = 1 / √(f32(Σx² / n) + ε) with the sum of f32
    /// squares in Double, y = (x · scale) · w. `y` may be `x`.
    func rmsNorm(
        _ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, weight: [Float], into y: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            let (xr, yr) = (x + r * width, y + r * width)
            var sum = 0.0
            for i in 0..<width { sum += Double(xr[i] * xr[i]) }
            // As ggml: the mean rounded to f32 before ε is added.
            let mean = Float(sum / Double(width))
            let scale = 1 / (mean + config.rmsEpsilon).squareRoot()
            for i in 0..<width { yr[i] = (xr[i] * scale) * weight[i] }
        }
    }

    func addRows(_ x: UnsafeMutablePointer<Float>, count: Int, _ bias: [Float]) {
        for i in 0..<count { x[i] += bias[i % bias.count] }
    }

    /// (cos θ, sin θ) into the workspace for positions position ..< position + tokens and the
    /// ropeDimensions / 2 frequencies, as ggml's `ggml_rope_cache_init`: θᵢ = p · base^(−2i/n) by
    /// repeated multiplication (divided by `rope_freqs` when the model has them), cos/sin in f32.
    func ropeAngles(tokens: Int) {
        let half = config.ropeDimensions / 2
        let thetaScale = pow(config.ropeBase, -2 / Float(config.ropeDimensions))
        let (cosines, sines) = (workspace.cosines, workspace.sines)
        for t in 0..<tokens {
            var theta = Float(position + t)
            for i in 0..<half {
                let angle = theta / (weights.ropeFrequencyFactors?[i] ?? 1)
                cosines[t * half + i] = cos(angle)
                sines[t * half + i] = sin(angle)
                theta *= thetaScale
            }
        }
    }

    /// RoPE in place on [tokens, heads, headDim] with the workspace's angles (`ropeAngles`; ggml's
    /// `rope_f32`): the first `ropeDimensions` of each head rotated as adjacent pairs or NeoX halves,
    /// the rest kept.
    func rope(_ x: UnsafeMutablePointer<Float>, tokens: Int, heads: Int) {
        let (hd, half) = (config.headDim, config.ropeDimensions / 2)
        let (cosines, sines) = (workspace.cosines, workspace.sines)
        for t in 0..<tokens {
            for h in 0..<heads {
                let base = (t * heads + h) * hd
                for i in 0..<half {
                    let (a, b) = config.ropeNeoX ? (base + i, base + i + half) : (base + 2 * i, base + 2 * i + 1)
                    let (x0, x1) = (x[a], x[b])
                    let (c, s) = (cosines[t * half + i], sines[t * half + i])
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
    /// The buffers of a forward step of up to `rows` tokens, allocated once per Transformer (llama.cpp's
    /// compute buffer): the residual stream, the normed activations, q/k/v, attention, projections, the
    /// FFN's gate and up, the f16/bf16-rounded activations of float matmuls, RoPE's angles, and the
    /// block formats' quantized activations (grown on first use, then reused).
    final class Workspace {
        let rows: Int
        /// [rows, hidden] each.
        let x, h, projected: UnsafeMutablePointer<Float>
        /// [rows, heads · headDim] each.
        let q, attention: UnsafeMutablePointer<Float>
        /// [rows, kvHeads · headDim] each.
        let k, v: UnsafeMutablePointer<Float>
        /// [rows, ffn] each.
        let gate, up: UnsafeMutablePointer<Float>
        /// [rows, largest K of any matmul].
        let rounded: UnsafeMutablePointer<Float>
        /// [rows, ropeDimensions / 2] each.
        let cosines, sines: UnsafeMutablePointer<Float>
        var prepared = QuantGEMM.Prepared()
        /// The activations `prepared` was made from, until another matmul's replace them.
        var preparedInput: UnsafePointer<Float>?
        private var buffers: [UnsafeMutablePointer<Float>] = []

        init(config c: TransformerConfig, rows: Int) {
            self.rows = rows
            var buffers: [UnsafeMutablePointer<Float>] = []
            func make(_ width: Int) -> UnsafeMutablePointer<Float> {
                let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rows * width))
                buffer.initialize(repeating: 0, count: max(1, rows * width))
                buffers.append(buffer)
                return buffer
            }
            let (qWidth, kvWidth) = (c.heads * c.headDim, c.kvHeads * c.headDim)
            (x, h, projected) = (make(c.hidden), make(c.hidden), make(c.hidden))
            (q, attention) = (make(qWidth), make(qWidth))
            (k, v) = (make(kvWidth), make(kvWidth))
            (gate, up) = (make(c.ffn), make(c.ffn))
            rounded = make(max(c.hidden, qWidth, c.ffn))
            (cosines, sines) = (make(c.ropeDimensions / 2), make(c.ropeDimensions / 2))
            self.buffers = buffers
        }

        deinit { for buffer in buffers { buffer.deallocate() } }
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
