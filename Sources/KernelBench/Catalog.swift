/// The kernels perwatt measures: named cases with their work (FLOPs, bytes), a runner, and a
/// verification against the reference that always precedes timing.
public struct KernelCase: Sendable, Hashable {
    /// Which implementation: perwatt's fast kernels, or OpenBLAS as the f32 anchor.
    public enum Implementation: String, Sendable, Hashable, Codable {
        case perwatt
        case openblas
    }

    public var implementation: Implementation
    public var precision: Precision
    public var m: Int
    public var n: Int
    public var k: Int

    public init(_ implementation: Implementation = .perwatt, _ precision: Precision, m: Int, n: Int, k: Int) {
        self.implementation = implementation
        self.precision = precision
        self.m = m
        self.n = n
        self.k = k
    }

    /// Stable name, e.g. `gemm.q4_0.1x4096x14336` or `openblas.sgemm.f32.512x512x512`.
    public var name: String {
        let operation = m == 1 ? "gemv" : "gemm"
        let prefix = implementation == .openblas ? "openblas.s\(operation)" : operation
        return "\(prefix).\(precision.rawValue).\(m)x\(n)x\(k)"
    }

    /// 2·M·N·K.
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    /// Fewest bytes moved: the encoded weights, the f32 activations and the f32 output, once each.
    public var bytes: Double {
        let weightBytes = (try? precision.rowBytes(columns: k)).map { Double($0 * n) } ?? Double(4 * n * k)
        return weightBytes + Double(4 * m * k) + Double(4 * m * n)
    }

    /// Bytes of weights alone (what decode streams).
    public var weightBytes: Double { (try? precision.rowBytes(columns: k)).map { Double($0 * n) } ?? 0 }
}

/// A case set up with its inputs: run it, verify it.
public final class PreparedKernel: @unchecked Sendable {
    // Mutated only by `run` and `verify`, which callers do not call concurrently.
    public let kernel: KernelCase
    let weights: WeightMatrix
    let prepared: WeightKernels.Prepared
    let activations: [Float]
    let threads: Int
    var output: [Float]

    init(kernel: KernelCase, weights: WeightMatrix, activations: [Float], threads: Int) throws {
        self.kernel = kernel
        self.weights = weights
        self.activations = activations
        self.threads = threads
        self.prepared = try WeightKernels.prepare(a: activations, m: kernel.m, k: kernel.k, precision: kernel.precision)
        self.output = [Float](repeating: .nan, count: kernel.m * kernel.n)
    }

    /// One call of the kernel.
    public func run() {
        output.withUnsafeMutableBufferPointer { c in
            switch kernel.implementation {
            case .perwatt:
                WeightKernels.run(prepared, weights: weights, c: c.baseAddress!, threads: threads)
            case .openblas:
                activations.withUnsafeBufferPointer { a in
                    weights.storage.withUnsafeBytes { w in
                        let wp = w.baseAddress!.assumingMemoryBound(to: Float.self)
                        if kernel.m == 1 {
                            OpenBLAS.sgemv(w: wp, x: a.baseAddress!, y: c.baseAddress!, n: kernel.n, k: kernel.k)
                        } else {
                            OpenBLAS.sgemm(a: a.baseAddress!, w: wp, c: c.baseAddress!, m: kernel.m, n: kernel.n, k: kernel.k)
                        }
                    }
                }
            }
        }
    }

    /// Runs once on a poisoned output and compares with the reference: all of C when it is small,
    /// otherwise the first 64 columns of every row (the reference is O(MNK) in Double).
    public func verify() throws -> Verification {
        output = [Float](repeating: .nan, count: kernel.m * kernel.n)
        run()
        let columns = min(kernel.n, 64)
        let subset = columns == kernel.n ? weights : try WeightMatrix(rowsOf: weights, count: columns)
        let reference = try GEMMReference.run(a: activations, m: kernel.m, weights: subset)
        var selected = [Float]()
        selected.reserveCapacity(kernel.m * columns)
        for i in 0..<kernel.m { selected += output[(i * kernel.n)..<(i * kernel.n + columns)] }
        return selected.withUnsafeBufferPointer {
            Verification.compare($0, reference: reference, tolerance: .gemm(kernel.precision, k: kernel.k))
        }
    }
}

public enum KernelCatalog {
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
        return cases
    }

    /// Cases for given shapes: each precision (K rounded up to a whole block for q8_0/q4_0), plus
    /// OpenBLAS beside every f32 case.
    public static func shapes(_ shapes: [(m: Int, n: Int, k: Int)], precisions: [Precision] = Precision.allCases) -> [KernelCase] {
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

    /// Odd sizes for `--verify-only`: partial tiles, vector tails, K blocks, thread splits.
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
        return cases
    }

    /// Builds a case's inputs (deterministic pseudo-random values, fixed seed).
    public static func prepare(_ kernel: KernelCase, threads: Int) throws -> PreparedKernel {
        let activations = pseudoRandom(count: kernel.m * kernel.k, seed: UInt64(kernel.m * 7919 + kernel.k))
        let values = pseudoRandom(count: kernel.n * kernel.k, seed: UInt64(kernel.n * 104_729 + kernel.k))
        let weights = try WeightMatrix(values, rows: kernel.n, columns: kernel.k, precision: kernel.precision)
        return try PreparedKernel(kernel: kernel, weights: weights, activations: activations, threads: threads)
    }

    /// Uniform values in [−1, 1) from a 64-bit LCG: deterministic across runs and machines.
    public static func pseudoRandom(count: Int, seed: UInt64) -> [Float] {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
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
        self.init(precision: other.precision, rows: count, columns: other.columns, rowBytes: other.rowBytes,
                  storage: Array(other.storage[0..<(count * other.rowBytes)]))
    }
}
