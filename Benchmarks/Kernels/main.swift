// Side-by-side kernel benchmark: each fast kernel is verified against its reference first, then
// timed in the same run as its anchor, and the ratio printed.
//
//   swift run -c release perwatt-bench-kernels [--threads N] [--min-time S] [--repetitions R] [--quick] [--no-rotate]
import Foundation
import KernelBench

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let index = args.firstIndex(of: name), index + 1 < args.count else { return nil }
    return args[index + 1]
}
let threads = Int(option("--threads") ?? "") ?? ProcessInfo.processInfo.activeProcessorCount
let minTime = Double(option("--min-time") ?? "") ?? 0.5
let repetitions = Int(option("--repetitions") ?? "") ?? 5
let quick = CommandLine.arguments.contains("--quick")
let smallM = Int(option("--small-m") ?? "") ?? F32Kernels.smallMThreshold
OpenBLAS.setThreads(threads)

func random(_ count: Int, seed: UInt64) -> [Float] { KernelCatalog.pseudoRandom(count: count, seed: seed) }

print("threads \(threads), min time \(minTime) s, \(repetitions) repetitions; GFLOP/s from median time")
let peak = MachineLimits.peakF32FMA(threads: threads, minimumSeconds: minTime, repetitions: repetitions)
let bandwidth = MachineLimits.triadBandwidth(threads: threads, minimumSeconds: minTime, repetitions: repetitions)
print(
    String(
        format: "machine limits (measured now): f32 FMA peak %.1f GFLOP/s, triad bandwidth %.1f GB/s", peak / 1e9,
        bandwidth / 1e9))
print("")
print(
    "kernel        shape (M×N×K)          ours GFLOP/s   OpenBLAS GFLOP/s   ratio   % peak   weights GB/s (% triad)   check"
)
let shapes: [(Int, Int, Int)] =
    quick
    ? [(512, 512, 512), (1, 4096, 4096), (64, 4096, 4096)]
    : [
        (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048), (4096, 4096, 4096),
        (32, 4096, 4096), (128, 4096, 4096), (512, 4096, 4096), (512, 4096, 14336), (512, 14336, 4096),
        (1, 4096, 4096), (1, 4096, 14336), (1, 14336, 4096),
    ]
/// Weight copies cycled through so the working set exceeds the last-level cache: decode is measured
/// streaming from DRAM, as it does in a model, not from a cache that would hold one matrix.
/// `--no-rotate` reuses one weight matrix, as ggml's `test-backend-ops perf` does (for comparisons with it).
let rotationBytes = CommandLine.arguments.contains("--no-rotate") ? 0 : 256 << 20

for (m, n, k) in shapes {
    let a = random(m * k, seed: 1)
    let w = random(n * k, seed: 2)
    let copies = max(1, rotationBytes / (4 * n * k))
    let weightSets: [UnsafeMutablePointer<Float>] = (0..<copies).map { _ in
        let copy = UnsafeMutablePointer<Float>.allocate(capacity: n * k)
        copy.initialize(from: w, count: n * k)
        return copy
    }
    defer { for copy in weightSets { copy.deallocate() } }
    var ours = [Float](repeating: .nan, count: m * n)
    var theirs = [Float](repeating: .nan, count: m * n)
    let isGEMV = m == 1
    var next = 0
    func weights() -> UnsafePointer<Float> {
        next = (next + 1) % copies
        return UnsafePointer(weightSets[next])
    }
    a.withUnsafeBufferPointer { a in
        ours.withUnsafeMutableBufferPointer { ours in
            theirs.withUnsafeMutableBufferPointer { theirs in
                let (ap, op, tp) = (a.baseAddress!, ours.baseAddress!, theirs.baseAddress!)
                let oursBody: () -> Void =
                    isGEMV
                    ? { SGEMV.run(w: weights(), x: ap, y: op, n: n, k: k, threads: threads) }
                    : m <= smallM
                        ? { SGEMMSmallM.run(a: ap, w: weights(), c: op, m: m, n: n, k: k, threads: threads) }
                        : { SGEMM.run(a: ap, w: weights(), c: op, m: m, n: n, k: k, threads: threads) }
                let theirsBody: () -> Void =
                    isGEMV
                    ? { OpenBLAS.sgemv(w: weights(), x: ap, y: tp, n: n, k: k) }
                    : { OpenBLAS.sgemm(a: ap, w: weights(), c: tp, m: m, n: n, k: k) }
                oursBody()
                theirsBody()
                let check = Verification.freivalds(a: Array(a), w: w, c: Array(ours), m: m, n: n, k: k)
                let ok = check < 1e-5
                guard ok else {
                    print(
                        String(
                            format:
                                "%-12@  %5d×%5d×%5d   FAILED verification (Freivalds relative error %.2e): not timed",
                            isGEMV ? "sgemv" : "sgemm", m, n, k, check))
                    return
                }
                let flops = 2.0 * Double(m) * Double(n) * Double(k)
                // Interleaved repetitions, and a pause after each OpenBLAS window: its worker threads
                // busy-wait ~0.1 s after a call, which on a 2-core machine steals a core from whatever runs next.
                var oursTimes: [Double] = []
                var theirsTimes: [Double] = []
                for _ in 0..<repetitions {
                    Thread.sleep(forTimeInterval: 0.25)
                    oursTimes += Timer.measure(minimumSeconds: minTime, repetitions: 1, oursBody).secondsPerCall
                    theirsTimes += Timer.measure(minimumSeconds: minTime, repetitions: 1, theirsBody).secondsPerCall
                }
                let o = TimingSample(secondsPerCall: oursTimes, callsPerRepetition: 0)
                let t = TimingSample(secondsPerCall: theirsTimes, callsPerRepetition: 0)
                blackHole(ours)
                let weightRate = Double(4 * n * k) / o.median
                print(
                    String(
                        format:
                            "%-12@  %5d×%5d×%5d   %12.1f   %16.1f   %5.2f   %5.1f%%   %8.1f (%5.1f%%)         ok (%.1e)",
                        isGEMV ? "sgemv" : m <= smallM ? "sgemm.smallM" : "sgemm.packed", m, n, k,
                        flops / o.median / 1e9, flops / t.median / 1e9, t.median / o.median,
                        100 * flops / o.median / peak,
                        weightRate / 1e9, 100 * weightRate / bandwidth, check))
            }
        }
    }
}

// f16, bf16 and ggml q8_0 / q4_0 weights, decode and a small batch. Anchor: our own f32 kernel on
// the same shape (llama.cpp's kernels are measured beside the project, not from here).
print("")
print("kernel        shape (M×N×K)          GFLOP/s   vs f32 same shape   weights GB/s (% triad)   check")
for precision in [Precision.f16, .bf16, .q8_0, .q4_0] {
    for (m, n, k) in (quick ? [(1, 4096, 4096)] : [(1, 4096, 14336), (8, 4096, 14336), (512, 4096, 14336)]) {
        let a = random(m * k, seed: 3)
        let values = random(n * k, seed: 4)
        guard let weights = try? WeightMatrix(values, rows: n, columns: k, precision: precision),
            let prepared = try? WeightKernels.prepare(a: a, m: m, k: k, precision: precision)
        else {
            print("\(precision.rawValue): could not build the weights")
            continue
        }
        let copies = max(1, rotationBytes / weights.storage.count)
        let distinct = (0..<copies).map { _ in WeightMatrix(copying: weights) }
        var c = [Float](repeating: .nan, count: m * n)
        c.withUnsafeMutableBufferPointer {
            WeightKernels.run(prepared, weights: distinct[0], c: $0.baseAddress!, threads: threads)
        }
        // Verify the first 64 outputs of every row against the reference (the full reference is O(MNK) in Double).
        let reference = try? GEMMReference.run(
            a: a, m: m, weights: WeightMatrix(Array(values[0..<(64 * k)]), rows: 64, columns: k, precision: precision))
        var worst = 0.0
        if let reference {
            for i in 0..<m {
                for j in 0..<64 {
                    let allowed = Tolerance.gemm(precision, k: k).relative * reference.magnitudes[i * 64 + j] + 1e-30
                    let error = abs(Double(c[i * n + j]) - reference.values[i * 64 + j])
                    worst = max(worst, error.isFinite ? error / allowed : .infinity)
                }
            }
        }
        guard reference != nil, worst <= 1 else {
            print("\(precision.rawValue)  \(m)×\(n)×\(k)  FAILED verification (worst \(worst) of tolerance): not timed")
            continue
        }
        var next = 0
        let ours = c.withUnsafeMutableBufferPointer { buffer -> TimingSample in
            let pointer = buffer.baseAddress!
            return Timer.measure(minimumSeconds: minTime, repetitions: repetitions) {
                next = (next + 1) % copies
                WeightKernels.run(prepared, weights: distinct[next], c: pointer, threads: threads)
            }
        }
        // f32 anchor on the same shape, rotated the same way.
        let f32Copies = max(1, rotationBytes / (4 * n * k))
        let f32Sets: [[Float]] = (0..<f32Copies).map { _ in values.map { $0 } }
        var out = [Float](repeating: 0, count: m * n)
        var nextF = 0
        let anchor = a.withUnsafeBufferPointer { ap in
            out.withUnsafeMutableBufferPointer { op in
                Timer.measure(minimumSeconds: minTime, repetitions: repetitions) {
                    nextF = (nextF + 1) % f32Copies
                    f32Sets[nextF].withUnsafeBufferPointer { wp in
                        F32Kernels.gemm(
                            a: ap.baseAddress!, w: wp.baseAddress!, c: op.baseAddress!, m: m, n: n, k: k,
                            threads: threads)
                    }
                }
            }
        }
        let flops = 2.0 * Double(m * n * k)
        let rate = Double(weights.storage.count) / ours.median
        print(
            String(
                format: "%-12@  %5d×%5d×%5d   %7.1f   %17.2f×   %8.1f (%5.1f%%)         ok (%.2f of tol)",
                "\(precision.rawValue)", m, n, k, flops / ours.median / 1e9, anchor.median / ours.median,
                rate / 1e9, 100 * rate / bandwidth, worst))
    }
}

// Attention (f32): causal prefill with 32 heads, d = 128; decode (one query) against a KV cache with
// grouped heads (32 query heads, 8 KV heads). FLOPs count only the attended (causal) pairs. Each case
// is verified first on its own inputs (the heads of the first and last KV head against the Double
// reference); a failing kernel is not timed. PyTorch SDPA on the same shapes: Benchmarks/sdpa_compare.py.
print("")
print("attention     shape                               GFLOP/s   KV bytes GB/s (% triad)   check")
let attentionCases: [(Int, Int, Int, Int)] =
    quick
    ? [(512, 512, 32, 32), (1, 2048, 32, 8)]
    : [(512, 512, 32, 32), (2048, 2048, 32, 32), (1, 512, 32, 8), (1, 2048, 32, 8), (1, 4096, 32, 8)]
for (t, l, h, hkv) in attentionCases {
    let kernel = KernelCase(attention: try! AttentionShape(queries: t, keys: l, heads: h, kvHeads: hkv, headDim: 128))
    let prepared = try! KernelCatalog.prepare(kernel, threads: threads)
    let verification = try! prepared.verify()
    guard verification.passed else {
        print("\(kernel.name): FAILED verification (\(verification)): not timed")
        continue
    }
    let sample = Timer.measure(minimumSeconds: minTime, repetitions: repetitions) { prepared.run() }
    let kvRate = kernel.weightBytes / sample.median
    print(
        String(
            format: "%-12@  T=%4d L=%4d H=%2d Hkv=%2d d=128      %7.1f   %8.1f (%5.1f%%)         ok (%.2f of tol)",
            (t == l ? "prefill" : "decode").padding(toLength: 12, withPad: " ", startingAt: 0), t, l, h, hkv,
            kernel.flops / sample.median / 1e9, kvRate / 1e9,
            100 * kvRate / bandwidth, verification.worstRatio))
}
