import KernelBench

/// The kernels of one model at one quantization: the prefill of a prompt and one decode step, each
/// as real-shaped calls of one layer (repeated `layers` times) plus the LM head.
///
/// Per layer: the fused QKV projection, attention (f32, causal), the output projection, then the
/// MLP (gate and up fused, then down; or up then down for a plain MLP) or, for MoE, the router
/// (f32) and the active experts. Prefill computes logits for the last position only, as llama.cpp
/// does. A prefill expert sees ⌈P·active/experts⌉ tokens, and ⌈…⌉ rounding aside, min(experts,
/// P·active) experts run: the expected routing when tokens spread evenly. Matrix K dimensions are
/// rounded up to whole 32-value blocks for q8_0/q4_0.
package struct Workload: Sendable {
    package enum Phase: String, Codable, Sendable { case prefill, decode }

    /// One kernel call and how often it runs per pass of its phase.
    package struct Part: Sendable {
        package var phase: Phase
        package var role: String
        package var kernel: KernelCase
        /// Calls per layer (or per pass, for the head).
        package var calls: Int
        /// True for per-layer parts (× layers), false for the head.
        package var perLayer: Bool
    }

    package var model: ModelSpec
    package var precision: Precision
    package var promptTokens: Int
    package var outputTokens: Int
    package var parts: [Part]

    /// Context length at which the decode step is measured: the prompt plus half the output, the
    /// average context over the generated tokens.
    package var decodeContext: Int { promptTokens + outputTokens / 2 }

    package init(model: ModelSpec, precision: Precision, promptTokens: Int, outputTokens: Int) throws {
        self.model = model
        self.precision = precision
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        parts = []
        let context = promptTokens + outputTokens / 2
        for (phase, m, keys) in [(Phase.prefill, promptTokens, promptTokens), (.decode, 1, context)] {
            parts += try Workload.layerParts(model, precision, phase: phase, m: m, keys: keys)
            parts.append(
                Part(
                    phase: phase, role: "lm_head",
                    kernel: Workload.matmul(precision, m: 1, n: model.vocabularySize, k: model.hiddenSize),
                    calls: 1, perLayer: false))
        }
    }

    private static func matmul(_ precision: Precision, m: Int, n: Int, k: Int) -> KernelCase {
        KernelCase(.perwatt, precision, m: m, n: n, k: precision.blockValues > 1 ? (k + 31) / 32 * 32 : k)
    }

    private static func layerParts(_ model: ModelSpec, _ precision: Precision, phase: Phase, m: Int, keys: Int) throws
        -> [Part]
    {
        let h = model.hiddenSize
        var parts = [
            Part(
                phase: phase, role: "qkv", kernel: matmul(precision, m: m, n: model.qDim + 2 * model.kvDim, k: h),
                calls: 1, perLayer: true),
            Part(
                phase: phase, role: "attention",
                kernel: KernelCase(
                    attention: try AttentionShape(
                        queries: m, keys: keys, heads: model.heads, kvHeads: model.kvHeads,
                        headDim: model.headDim)),
                calls: 1, perLayer: true),
            Part(
                phase: phase, role: "attn_output", kernel: matmul(precision, m: m, n: h, k: model.qDim), calls: 1,
                perLayer: true),
        ]
        let upRows = (model.ffnKind == .gated ? 2 : 1) * model.ffnSize
        if let experts = model.experts, let active = model.activeExperts, experts > 1 {
            let tokensPerExpert = (m * active + experts - 1) / experts
            let expertsRun = min(experts, m * active)
            parts.append(
                Part(
                    phase: phase, role: "router", kernel: KernelCase(.perwatt, .f32, m: m, n: experts, k: h), calls: 1,
                    perLayer: true))
            parts.append(
                Part(
                    phase: phase, role: "expert_gate_up",
                    kernel: matmul(precision, m: tokensPerExpert, n: upRows, k: h),
                    calls: expertsRun, perLayer: true))
            parts.append(
                Part(
                    phase: phase, role: "expert_down",
                    kernel: matmul(precision, m: tokensPerExpert, n: h, k: model.ffnSize),
                    calls: expertsRun, perLayer: true))
        } else {
            parts.append(
                Part(
                    phase: phase, role: model.ffnKind == .gated ? "ffn_gate_up" : "ffn_up",
                    kernel: matmul(precision, m: m, n: upRows, k: h), calls: 1, perLayer: true))
            parts.append(
                Part(
                    phase: phase, role: "ffn_down", kernel: matmul(precision, m: m, n: h, k: model.ffnSize), calls: 1,
                    perLayer: true))
        }
        return parts
    }

    /// Calls of `part` per pass of its phase over the whole model.
    package func callsPerPass(_ part: Part) -> Int { part.calls * (part.perLayer ? model.layers : 1) }

    /// FLOPs of one pass of `phase` (whole model).
    package func flops(_ phase: Phase) -> Double {
        parts.filter { $0.phase == phase }.reduce(0) { $0 + Double(callsPerPass($1)) * $1.kernel.flops }
    }
}

/// Measured cost of a workload, projected from its measured kernels.
package struct WorkloadCost: Sendable {
    /// Seconds (or joules) of one prefill pass over `promptTokens` and of one decode step.
    package var prefill: Double
    package var decode: Double

    /// Σ calls × per-call figure over the parts of each phase; nil when a part has no figure.
    package static func project(_ workload: Workload, perCall: (KernelCase) -> Double?) -> WorkloadCost? {
        var totals: [Workload.Phase: Double] = [.prefill: 0, .decode: 0]
        for part in workload.parts {
            guard let value = perCall(part.kernel) else { return nil }
            totals[part.phase, default: 0] += Double(workload.callsPerPass(part)) * value
        }
        return WorkloadCost(prefill: totals[.prefill]!, decode: totals[.decode]!)
    }
}
