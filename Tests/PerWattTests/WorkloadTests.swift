import Foundation
import KernelBench
import Testing

@testable import PerWattCLI
@testable import PerWattCore

@Suite struct WorkloadTests {
    @Test func denseLayerKernelsHaveTheModelsShapes() throws {
        let workload = try Workload(model: tinyModel, precision: .q8_0, promptTokens: 4, outputTokens: 2)
        let names = workload.parts.map {
            "\($0.phase.rawValue) \($0.role) \($0.kernel.name) ×\(workload.callsPerPass($0))"
        }
        #expect(
            names == [
                "prefill qkv gemm.q8_0.4x64x32 ×2",
                "prefill attention attention.prefill.f32.t4.l4.h2.kv1.d16 ×2",
                "prefill attn_output gemm.q8_0.4x32x32 ×2",
                "prefill ffn_gate_up gemm.q8_0.4x128x32 ×2",
                "prefill ffn_down gemm.q8_0.4x32x64 ×2",
                "prefill lm_head gemv.q8_0.1x100x32 ×1",
                "decode qkv gemv.q8_0.1x64x32 ×2",
                "decode attention attention.decode.f32.t1.l5.h2.kv1.d16 ×2",
                "decode attn_output gemv.q8_0.1x32x32 ×2",
                "decode ffn_gate_up gemv.q8_0.1x128x32 ×2",
                "decode ffn_down gemv.q8_0.1x32x64 ×2",
                "decode lm_head gemv.q8_0.1x100x32 ×1",
            ])
        #expect(workload.decodeContext == 5)
        // Prefill FLOPs by hand: per layer 2·4·(64 + 32 + 128)·32 + 2·4·32·64 matmul FLOPs, attention
        // 4·16 per attended pair × 2 heads × (1+2+3+4) pairs; × 2 layers; the head 2·100·32.
        let matmuls: Double = 2 * 4 * (64 + 32 + 128) * 32 + 2 * 4 * 32 * 64
        let attention: Double = 4 * 16 * 2 * 10
        let perLayer = matmuls + attention
        let head: Double = 2 * 100 * 32
        #expect(workload.flops(.prefill) == 2 * perLayer + head)
    }

    @Test func projectionMultipliesTheMeasuredLayerByTheLayerCount() throws {
        let workload = try Workload(model: tinyModel, precision: .f32, promptTokens: 4, outputTokens: 2)
        // Each role costs a distinct amount: per layer qkv 1, attention 2, out 3, gate/up 4, down 5; head 100.
        let costs = ["qkv": 1.0, "attention": 2, "attn_output": 3, "ffn_gate_up": 4, "ffn_down": 5, "lm_head": 100]
        let byKernel = Dictionary(workload.parts.map { ($0.kernel, costs[$0.role]!) }, uniquingKeysWith: { a, _ in a })
        let cost = try #require(WorkloadCost.project(workload) { byKernel[$0] })
        #expect(cost.prefill == 2 * 15 + 100 && cost.decode == 2 * 15 + 100)
        #expect(WorkloadCost.project(workload) { $0.operationName == "attention.decode" ? nil : 1 } == nil)
    }

    @Test func mixtureOfExpertsRunsTheRouterAndTheActiveExperts() throws {
        var moe = tinyModel
        moe.experts = 8
        moe.activeExperts = 2
        let workload = try Workload(model: moe, precision: .q4_0, promptTokens: 12, outputTokens: 0)
        let parts = Dictionary(
            workload.parts.map { ("\($0.phase.rawValue) \($0.role)", $0) }, uniquingKeysWith: { a, _ in a })
        // Prefill: 12 tokens × 2 experts spread over 8: 3 tokens per expert, all 8 run.
        #expect(
            parts["prefill expert_gate_up"]?.kernel.name == "gemm.q4_0.3x128x32"
                && parts["prefill expert_gate_up"]?.calls == 8)
        #expect(parts["prefill router"]?.kernel.name == "gemm.f32.12x8x32")
        // Decode: one token, its 2 experts.
        #expect(
            parts["decode expert_down"]?.kernel.name == "gemv.q4_0.1x32x64" && parts["decode expert_down"]?.calls == 2)
        // 2 layers × (attention + 8 experts × 3·32·64 + router 32·8 + norms) + embeddings 100·32 + final norm.
        #expect(
            moe.parameters == 2 * (32 * 32 + 2 * 32 * 16 + 32 * 32 + 8 * 3 * 32 * 64 + 32 * 8 + 2 * 32) + 100 * 32 + 32)
        #expect(moe.activeParameters == moe.parameters - 2 * 6 * 3 * 32 * 64 - 100 * 32)
    }
}
