import Dispatch

/// A pointer handed to worker threads. Every kernel that uses it guarantees what makes that safe:
/// the buffer outlives the parallel call, and workers write disjoint parts of it (or only read).
struct Shared<Pointer>: @unchecked Sendable {
    let pointer: Pointer
    init(_ pointer: Pointer) { self.pointer = pointer }
}

/// How the kernels split work across threads.
enum Parallel {
    /// Runs `body(worker)` for every worker in 0..<workers: on the calling thread when there is one,
    /// otherwise with Dispatch's `concurrentPerform`, returning when all have finished.
    @inline(__always)
    static func run(workers: Int, _ body: @Sendable (Int) -> Void) {
        if workers <= 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: body) }
    }

    /// Worker `worker`'s contiguous share of `count` items; shares differ in size by at most one.
    @inline(__always)
    static func share(_ count: Int, worker: Int, of workers: Int) -> Range<Int> {
        (count * worker / workers)..<(count * (worker + 1) / workers)
    }
}
