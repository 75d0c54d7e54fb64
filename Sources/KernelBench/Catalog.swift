/// The kernels perwatt measures: named cases with their work (FLOPs, bytes), a runner, and a
/// verification against the reference that always precedes timing.
public struct KernelCase: Sendable, Hashable {
    /// Which implementation: perwatt's fast kernels, or OpenBLAS as the f32 anchor.
    public enum Implementation: String, Sendable, Hashable, Codable {
        case perwatt
        case openblas
    }

    /// What the case computes.
    public enum Operation: Sendable, Hashable {
        /// `C[M,N] = A[M,K] · W[N,K]ᵀ`: A f32 activations, W weights at the case's precision, C f32.
        case matmul(m: Int, n: Int, k: Int)
        /// `softmax(Q·Kᵀ/√d + causal mask)·V` in f32 (`AttentionShape`).
        case attention(AttentionShape)
    }

    public var implementation: Implementation
    public var precision: Precision
    public var operation: Operation

    public init(_ implementation: Implementation = .perwatt, _ precision: Precision, m: Int, n: Int, k: Int) {
        self.implementation = implementation
        self.precision = precision
        self.operation = .matmul(m: m, n: n, k: k)
    }

    /// An f32 attention case (perwatt's kernel; OpenBLAS has no attention).
    public init(attention shape: AttentionShape) {
        self.implementation = .perwatt
        self.precision = .f32
        self.operation = .attention(shape)
    }

    /// The matmul's (M, N, K), nil for attention.
    public var matmulShape: (m: Int, n: Int, k: Int)? {
        if case .matmul(let m, let n, let k) = operation { return (m, n, k) }
        return nil
    }

    /// The attention shape, nil for a matmul.
    public var attentionShape: AttentionShape? {
        if case .attention(let shape) = operation { return shape }
        return nil
    }

    /// `gemv` (M = 1), `gemm`, `attention.prefill` (T = L) or `attention.decode` (T < L).
    public var operationName: String {
        switch operation {
        case .matmul(let m, _, _): m == 1 ? "gemv" : "gemm"
        case .attention(let shape): shape.queries == shape.keys ? "attention.prefill" : "attention.decode"
        }
    }

    /// Stable name, e.g. `gemm.q4_0.1x4096x14336`, `openblas.sgemm.f32.512x512x512` or
    /// `attention.decode.f32.t1.l4096.h32.kv8.d128`.
    public var name: String {
        switch operation {
        case .matmul(let m, let n, let k):
            let prefix = implementation == .openblas ? "openblas.s\(operationName)" : operationName
            return "\(prefix).\(precision.rawValue).\(m)x\(n)x\(k)"
        case .attention(let s):
            return
                "\(operationName).\(precision.rawValue).t\(s.queries).l\(s.keys).h\(s.heads).kv\(s.kvHeads).d\(s.headDim)"
                + (s.causal ? "" : ".full")
        }
    }

    /// Matmul: 2·M·N·K. Attention: 4·d per attended (query, key) pair, the causal half only.
    public var flops: Double {
        switch operation {
        case .matmul(let m, let n, let k): 2 * Double(m) * Double(n) * Double(k)
        case .attention(let shape): shape.flops
        }
    }

    /// Fewest bytes moved. Matmul: the encoded weights, the f32 activations and the f32 output, once
    /// each. Attention: Q, K, V and the output in f32, once each.
    public var bytes: Double {
        switch operation {
        case .matmul(let m, let n, let k):
            return weightBytes + Double(4 * m * k) + Double(4 * m * n)
        case .attention(let s):
            return Double(4 * s.headDim * (2 * s.queries * s.heads + 2 * s.keys * s.kvHeads))
        }
    }

    /// Estimated peak bytes of preparing, verifying and timing the case with `threads` workers: the
    /// inputs (and the f32 values they are encoded from), the prepared activations, the output twice
    /// (verification writes a fresh one), the reference's Double results and per-thread scratch.
    /// Computed in floating point, so no size can overflow; callers compare it with the memory
    /// available before they allocate anything.
    public func estimatedPeakBytes(threads: Int) -> Double {
        let workers = Double(max(threads, 1))
        switch operation {
        case .matmul(let m, let n, let k):
            let (m, n, k) = (Double(m), Double(n), Double(k))
            let rowBytes = weightBytes / max(n, 1)
            let verifiedColumns = min(n, 64)
            let inputs = 4 * m * k + 4 * n * k + n * rowBytes + 4 * m * k
            let outputs = 2 * 4 * m * n
            let verification = m * verifiedColumns * (16 + 4) + verifiedColumns * rowBytes
            return inputs + outputs + verification + workers * 4 * (64 * k + 64 * 64)
        case .attention(let s):
            let (t, l, h, hkv, d) = (
                Double(s.queries), Double(s.keys), Double(s.heads), Double(s.kvHeads), Double(s.headDim)
            )
            let group = h / max(hkv, 1)
            let inputs = 2 * 4 * t * h * d + 3 * 4 * l * hkv * d
            let outputs = 2 * 4 * t * h * d
            let checkedHeads = min(hkv, 2)
            let verification =
                checkedHeads * (2 * 4 * t * group * d + 2 * 4 * l * d + 16 * t * group * d + 8 * l) + 20 * checkedHeads
                * t * group * d
            return inputs + outputs + verification + workers * 4 * (2 * l * d + 64 * (d + 64))
        }
    }

    /// Bytes that a memory-bound call must stream: the encoded weights of a matmul, the K and V cache
    /// of an attention call.
    public var weightBytes: Double {
        switch operation {
        case .matmul(_, let n, let k):
            return (try? precision.rowBytes(columns: k)).map { Double($0 * n) } ?? Double(4 * n * k)
        case .attention(let s):
            return Double(2 * 4 * s.keys * s.kvHeads * s.headDim)
        }
    }
}

/// A case set up with its inputs: run it, verify it.
public protocol PreparedKernel: AnyObject, Sendable {
    var kernel: KernelCase { get }
    /// One call of the kernel.
    func run()
    /// Runs once on a poisoned output and compares with the reference.
    func verify() throws -> Verification
}

/// A matmul case with its weights encoded and activations prepared.
final class PreparedMatmul: PreparedKernel, @unchecked Sendable {
    // Mutated only by `run` and `verify`, which callers do not call concurrently.
    let kernel: KernelCase
    let (m, n, k): (Int, Int, Int)
    let weights: WeightMatrix
    let prepared: WeightKernels.Prepared
    let activations: [Float]
    let threads: Int
    var output: [Float]

    init(kernel: KernelCase, m: Int, n: Int, k: Int, weights: WeightMatrix, activations: [Float], threads: Int) throws {
        self.kernel = kernel
        (self.m, self.n, self.k) = (m, n, k)
        self.weights = weights
        self.activations = activations
        self.threads = threads
        self.prepared = try WeightKernels.prepare(a: activations, m: m, k: k, precision: kernel.precision)
        self.output = [Float](repeating: .nan, count: m * n)
    }

    func run() {
        output.withUnsafeMutableBufferPointer { c in
            switch kernel.implementation {
            case .perwatt:
                WeightKernels.run(prepared, weights: weights, c: c.baseAddress!, threads: threads)
            case .openblas:
                activations.withUnsafeBufferPointer { a in
                    weights.storage.withUnsafeBytes { w in
                        let wp = w.baseAddress!.assumingMemoryBound(to: Float.self)
                        if m == 1 {
                            OpenBLAS.sgemv(w: wp, x: a.baseAddress!, y: c.baseAddress!, n: n, k: k)
                        } else {
                            OpenBLAS.sgemm(a: a.baseAddress!, w: wp, c: c.baseAddress!, m: m, n: n, k: k)
                        }
                    }
                }
            }
        }
    }

    /// All of C when it is small, otherwise the first 64 columns of every row (the reference is
    /// O(MNK) in Double).
    func verify() throws -> Verification {
        output = [Float](repeating: .nan, count: m * n)
        run()
        let columns = min(n, 64)
        let subset = columns == n ? weights : try WeightMatrix(rowsOf: weights, count: columns)
        let reference = try GEMMReference.run(a: activations, m: m, weights: subset)
        var selected = [Float]()
        selected.reserveCapacity(m * columns)
        for i in 0..<m { selected += output[(i * n)..<(i * n + columns)] }
        return selected.withUnsafeBufferPointer {
            Verification.compare($0, reference: reference, tolerance: .gemm(kernel.precision, k: k))
        }
    }
}

/// An f32 attention case with its Q, K and V.
final class PreparedAttention: PreparedKernel, @unchecked Sendable {
    // Mutated only by `run` and `verify`, which callers do not call concurrently.
    let kernel: KernelCase
    let shape: AttentionShape
    let q: [Float], k: [Float], v: [Float]
    let threads: Int
    var output: [Float]

    init(kernel: KernelCase, shape: AttentionShape, threads: Int) {
        self.kernel = kernel
        self.shape = shape
        self.threads = threads
        let (t, l, d) = (shape.queries, shape.keys, shape.headDim)
        // Queries and keys scaled to ±2 so that the softmax is peaked enough to test the rescaling.
        self.q = KernelCatalog.pseudoRandom(count: t * shape.heads * d, seed: UInt64(t * 31 + d)).map { $0 * 2 }
        self.k = KernelCatalog.pseudoRandom(count: l * shape.kvHeads * d, seed: UInt64(l * 17 + d)).map { $0 * 2 }
        self.v = KernelCatalog.pseudoRandom(count: l * shape.kvHeads * d, seed: UInt64(l * 13 + shape.heads))
        self.output = [Float](repeating: .nan, count: q.count)
    }

    func run() {
        q.withUnsafeBufferPointer { q in
            k.withUnsafeBufferPointer { k in
                v.withUnsafeBufferPointer { v in
                    output.withUnsafeMutableBufferPointer { o in
                        AttentionKernel.run(
                            q: q.baseAddress!, k: k.baseAddress!, v: v.baseAddress!, out: o.baseAddress!,
                            shape: shape, threads: threads)
                    }
                }
            }
        }
    }

    /// Runs the full call, then checks the heads of the first and the last KV head against the
    /// Double reference computed on those heads alone (the whole reference is O(T·L·H·d)).
    func verify() throws -> Verification {
        output = [Float](repeating: .nan, count: q.count)
        run()
        return try check(output)
    }

    /// Compares `output` ([T, H, d]) with the reference on the heads of the first and last KV head.
    func check(_ output: [Float]) throws -> Verification {
        let (t, l, d, h, hkv) = (shape.queries, shape.keys, shape.headDim, shape.heads, shape.kvHeads)
        let group = h / hkv
        let sub = try AttentionShape(queries: t, keys: l, heads: group, kvHeads: 1, headDim: d, causal: shape.causal)
        var actual: [Float] = []
        var values: [Double] = []
        var magnitudes: [Double] = []
        for kvHead in Set([0, hkv - 1]).sorted() {
            var subQ = [Float]()
            var subK = [Float]()
            var subV = [Float]()
            var subOut = [Float]()
            for position in 0..<t {
                let base = (position * h + kvHead * group) * d
                subQ += q[base..<(base + group * d)]
                subOut += output[base..<(base + group * d)]
            }
            for position in 0..<l {
                let base = (position * hkv + kvHead) * d
                subK += k[base..<(base + d)]
                subV += v[base..<(base + d)]
            }
            let reference = try AttentionReference.result(q: subQ, k: subK, v: subV, shape: sub)
            actual += subOut
            values += reference.values
            magnitudes += reference.magnitudes
        }
        return actual.withUnsafeBufferPointer {
            Verification.compare(
                $0, reference: ReferenceResult(values: values, magnitudes: magnitudes),
                tolerance: .attention(keys: l))
        }
    }
}

public enum KernelCatalog {
    /// Attention shapes of the standard set: causal prefill of 512 tokens with 32 heads of d = 128
    /// (no GQA), and a decode step against a 4096-long KV cache with 32 query and 8 KV heads
    /// (Llama 3 8B's layout).
    public static func standardAttention() -> [AttentionShape] {
        [
            try! AttentionShape(queries: 512, keys: 512, heads: 32, kvHeads: 32, headDim: 128),
            try! AttentionShape(queries: 1, keys: 4096, heads: 32, kvHeads: 8, headDim: 128),
        ]
    }

    /// Cases timed by `perwatt kernels` (and, with more shapes, by perwatt-bench-kernels).
    public static func standard() -> [KernelCase] {
        var cases: [KernelCase] = []
        for (m, n, k) in [(512, 512, 512), (32, 4096, 4096), (512, 4096, 4096), (1, 4096, 4096)] {
            cases.append(KernelCase(.perwatt, .f32, m: m, n: n, k: k))
            cases.append(KernelCase(.openblas, .f32, m: m, n: n, k: k))
        }
        for precision in [Precision.f16, .bf16, .q8_0, .q4_0] {
            for m in [1, 8] { cases.append(KernelCase(.perwatt, precision, m: m, n: 4096, k: 4096)) }
        }
        cases += standardAttention().map { KernelCase(attention: $0) }
        return cases
    }

    /// Cases for given shapes: each precision (K rounded up to a whole block for q8_0/q4_0), plus
    /// OpenBLAS beside every f32 case.
    public static func shapes(_ shapes: [(m: Int, n: Int, k: Int)], precisions: [Precision] = Precision.allCases)
        -> [KernelCase]
    {
        var cases: [KernelCase] = []
        for shape in shapes {
            for precision in precisions {
                let k = precision.blockValues > 1 ? (shape.k + 31) / 32 * 32 : shape.k
                cases.append(KernelCase(.perwatt, precision, m: shape.m, n: shape.n, k: k))
                if precision == .f32 { cases.append(KernelCase(.openblas, .f32, m: shape.m, n: shape.n, k: k)) }
            }
        }
        return cases
    }

    /// Odd sizes for `--verify-only`: partial tiles, vector tails, K blocks, thread splits; attention
    /// with odd lengths and head sizes, GQA groups that do and do not fill a tile, and no mask.
    public static func verification() -> [KernelCase] {
        var cases: [KernelCase] = []
        let tails = [(1, 7, 33), (3, 17, 67), (7, 33, 129), (17, 31, 255), (65, 67, 513), (130, 45, 1023)]
        for (m, n, k) in tails {
            cases.append(KernelCase(.perwatt, .f32, m: m, n: n, k: k))
            cases.append(KernelCase(.openblas, .f32, m: m, n: n, k: k))
            for precision in [Precision.f16, .bf16] { cases.append(KernelCase(.perwatt, precision, m: m, n: n, k: k)) }
            for precision in [Precision.q8_0, .q4_0] {
                cases.append(KernelCase(.perwatt, precision, m: m, n: n, k: (k + 31) / 32 * 32))
            }
        }
        let attention: [(t: Int, l: Int, h: Int, hkv: Int, d: Int, causal: Bool)] = [
            (1, 1, 1, 1, 1, true), (7, 7, 3, 1, 5, true), (33, 33, 4, 2, 67, true), (17, 17, 2, 2, 128, false),
            (1, 129, 32, 8, 128, true), (3, 67, 6, 2, 33, true), (1, 255, 5, 5, 64, true), (67, 67, 8, 4, 127, true),
        ]
        for a in attention {
            cases.append(
                KernelCase(
                    attention: try! AttentionShape(
                        queries: a.t, keys: a.l, heads: a.h, kvHeads: a.hkv,
                        headDim: a.d, causal: a.causal)))
        }
        return cases
    }

    /// Builds a case's inputs (deterministic pseudo-random values, fixed seed).
    public static func prepare(_ kernel: KernelCase, threads: Int) throws -> any PreparedKernel {
        switch kernel.operation {
        case .matmul(let m, let n, let k):
            let activations = pseudoRandom(count: m * k, seed: UInt64(m * 7919 + k))
            let values = pseudoRandom(count: n * k, seed: UInt64(n * 104_729 + k))
            let weights = try WeightMatrix(values, rows: n, columns: k, precision: kernel.precision)
            return try PreparedMatmul(
                kernel: kernel, m: m, n: n, k: k, weights: weights, activations: activations, threads: threads)
        case .attention(let shape):
            guard kernel.precision == .f32, kernel.implementation == .perwatt else {
                throw KernelError.invalidShape("attention runs in f32 with perwatt's kernel only; got \(kernel.name)")
            }
            return PreparedAttention(kernel: kernel, shape: shape, threads: threads)
        }
    }

    /// Uniform values in [−1, 1) from a 64-bit LCG: deterministic across runs and machines.
    public static func pseudoRandom(count: Int, seed: UInt64) -> [Float] {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
        }
    }
}

extension WeightMatrix {
    /// The first `count` rows of `other`, same precision.
    public init(rowsOf other: WeightMatrix, count: Int) throws {
        guard count > 0, count <= other.rows else {
            throw KernelError.invalidShape("cannot take \(count) rows of a \(other.rows)-row matrix")
        }
        self.init(
            precision: other.precision, rows: count, columns: other.columns, rowBytes: other.rowBytes,
            storage: Array(other.storage[0..<(count * other.rowBytes)]))
    }
}
