import Dispatch
import Foundation
import Synchronization

/// A pointer handed to worker threads. Every kernel that uses it guarantees what makes that safe:
/// the buffer outlives the parallel call, and workers write disjoint parts of it (or only read).
struct Shared<Pointer>: @unchecked Sendable {
    let pointer: Pointer
    init(_ pointer: Pointer) { self.pointer = pointer }
}

/// How the kernels split work across threads.
enum Parallel {
    /// Runs `body(worker)` for every worker in 0..<workers, returning when all have finished: on the
    /// calling thread when there is one; otherwise on the persistent `WorkerPool` (worker 0 on the
    /// calling thread), or with Dispatch's `concurrentPerform` when the pool is busy with another
    /// caller or too small.
    @inline(__always)
    static func run(workers: Int, _ body: @Sendable (Int) -> Void) {
        if workers <= 1 {
            body(0)
        } else if !WorkerPool.shared.run(workers: workers, body) {
            DispatchQueue.concurrentPerform(iterations: workers, execute: body)
        }
    }

    /// Worker `worker`'s contiguous share of `count` items; shares differ in size by at most one.
    @inline(__always)
    static func share(_ count: Int, worker: Int, of workers: Int) -> Range<Int> {
        (count * worker / workers)..<(count * (worker + 1) / workers)
    }
}

/// Threads that stay alive between parallel calls, so that a call costs a few atomic operations
/// instead of waking Dispatch's workers (measured on the 2-core VM: a 135M-parameter model's decode,
/// ~210 matmuls per token, ran slower on 2 threads than on 1 with `concurrentPerform`).
///
/// A call bumps `generation`; workers spin on it for about 50 µs after their last job, then park on
/// a condition variable (so an idle pool draws no power), and the caller wakes parked ones. Each
/// worker runs its share and counts `remaining` down; the caller runs share 0 and spins until it is 0.
/// One caller at a time: `run` returns false when another call holds the pool.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(threads: max(0, ProcessInfo.processInfo.activeProcessorCount - 1))

    private let size: Int
    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    /// Written by the caller before `generation` is bumped, read by workers after they see it.
    private nonisolated(unsafe) var job: (@Sendable (Int) -> Void)?
    private nonisolated(unsafe) var jobWorkers = 0
    private let lock = NSCondition()
    private let spinLimit = 20_000

    init(threads: Int) {
        size = threads
        for index in 0..<threads {
            let thread = Thread { [unowned self] in self.loop(worker: index + 1) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func loop(worker: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins > spinLimit {
                    lock.lock()
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen { lock.wait() }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    lock.unlock()
                }
            }
            seen = generation.load(ordering: .acquiring)
            if worker < jobWorkers, let job { job(worker) }
            remaining.subtract(1, ordering: .releasing)
        }
    }

    /// Runs `body` for workers 0..<workers if the pool is free and large enough; false otherwise.
    func run(workers: Int, _ body: @Sendable (Int) -> Void) -> Bool {
        guard workers <= size + 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        withoutActuallyEscaping(body) { body in
            job = body
            jobWorkers = workers
            remaining.store(size, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                lock.lock()
                lock.broadcast()
                lock.unlock()
            }
            body(0)
            while remaining.load(ordering: .acquiring) > 0 {}
            job = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }
}
