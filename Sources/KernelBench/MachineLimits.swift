/// This machine's physical limits, measured, so every kernel result can say what fraction it reached.
public enum MachineLimits {
    /// STREAM-style triad `a[i] = b[i] + s·c[i]` on three arrays of `elements` f32 each (64 MiB each by
    /// default: far beyond any cache), split across `threads`. Bandwidth counts STREAM's 12 bytes per
    /// element (two reads, one write; the write-allocate read is not counted, as in STREAM).
    /// Returns bytes per second in the best repetition.
    public static func triadBandwidth(
        elements: Int = 1 << 24, threads: Int, minimumSeconds: Double = 0.5,
        repetitions: Int = 5
    ) -> Double {
        let a = UnsafeMutablePointer<Float>.allocate(capacity: elements)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: elements)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: elements)
        defer {
            a.deallocate()
            b.deallocate()
            c.deallocate()
        }
        let workers = max(1, threads)
        let (sa, sb, sc) = (Shared(a), Shared(b), Shared(c))
        // First touch by the workers that will use each part.
        Parallel.run(workers: workers) { worker in
            for i in Parallel.share(elements, worker: worker, of: workers) {
                sa.pointer[i] = 0
                sb.pointer[i] = 1
                sc.pointer[i] = 2
            }
        }
        let triad: @Sendable (Int) -> Void = { worker in
            let range = Parallel.share(elements, worker: worker, of: workers)
            let a = UnsafeMutableRawPointer(sa.pointer)
            let (b, c) = (UnsafeRawPointer(sb.pointer), UnsafeRawPointer(sc.pointer))
            let scalar = SIMD8<Float>(repeating: 3)
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let value =
                    b.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                    + scalar * c.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                a.storeBytes(of: value, toByteOffset: 4 * i, as: SIMD8<Float>.self)
                i += 8
            }
            let (ap, bp, cp) = (
                a.assumingMemoryBound(to: Float.self), b.assumingMemoryBound(to: Float.self),
                c.assumingMemoryBound(to: Float.self)
            )
            while i < range.upperBound {
                ap[i] = bp[i] + 3 * cp[i]
                i += 1
            }
        }
        let sample = Timer.measure(minimumSeconds: minimumSeconds, repetitions: repetitions) {
            Parallel.run(workers: workers, triad)
        }
        blackHole(a[elements / 2])
        // A limit is the best window: interference from other work only ever slows a window down.
        return Double(12 * elements) / sample.minimum
    }

    /// Peak f32 FMA throughput: per thread, 12 independent chains of `SIMD8<Float>` FMAs (enough to
    /// cover FMA latency × throughput on current x86 cores). Returns FLOP per second (an FMA is 2) in the
    /// best repetition.
    public static func peakF32FMA(threads: Int, minimumSeconds: Double = 0.3, repetitions: Int = 5) -> Double {
        let iterations = 1 << 20
        let workers = max(1, threads)
        let body: @Sendable (Int) -> Void = { worker in
            var acc = (
                SIMD8<Float>(repeating: Float(worker)), SIMD8<Float>(repeating: 1), SIMD8<Float>(repeating: 2),
                SIMD8<Float>(repeating: 3), SIMD8<Float>(repeating: 4), SIMD8<Float>(repeating: 5),
                SIMD8<Float>(repeating: 6), SIMD8<Float>(repeating: 7), SIMD8<Float>(repeating: 8),
                SIMD8<Float>(repeating: 9), SIMD8<Float>(repeating: 10), SIMD8<Float>(repeating: 11)
            )
            // Each chain is acc ← add + acc·m: a dependent FMA that converges to add / (1 − m) = 0.1,
            // so values stay normal (no denormal slowdown) and nothing can be hoisted out of the loop.
            let m = SIMD8<Float>(repeating: 0.999)
            let add = SIMD8<Float>(repeating: 1e-4)
            for _ in 0..<iterations {
                acc.0 = add.addingProduct(acc.0, m)
                acc.1 = add.addingProduct(acc.1, m)
                acc.2 = add.addingProduct(acc.2, m)
                acc.3 = add.addingProduct(acc.3, m)
                acc.4 = add.addingProduct(acc.4, m)
                acc.5 = add.addingProduct(acc.5, m)
                acc.6 = add.addingProduct(acc.6, m)
                acc.7 = add.addingProduct(acc.7, m)
                acc.8 = add.addingProduct(acc.8, m)
                acc.9 = add.addingProduct(acc.9, m)
                acc.10 = add.addingProduct(acc.10, m)
                acc.11 = add.addingProduct(acc.11, m)
            }
            blackHole(acc)
        }
        let sample = Timer.measure(minimumSeconds: minimumSeconds, repetitions: repetitions) {
            Parallel.run(workers: workers, body)
        }
        return Double(workers * iterations * 12 * 8 * 2) / sample.minimum
    }
}
