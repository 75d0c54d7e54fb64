import Dispatch
import Synchronization
import Testing

@testable import KernelBench

/// The persistent worker pool: every worker index runs exactly once per call, calls from several
/// threads at once (the pool serves one, the others fall back to Dispatch) all complete, and a call
/// after the workers have parked still wakes them.
@Suite struct ParallelTests {
    @Test func everyWorkerRunsOncePerCallEvenWhenCallersRace() async throws {
        let calls = 2000
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for call in 0..<(calls / 4) {
                let workers = 1 + (call + caller) % 3
                // Worker w adds 1 << (8·w): each byte of the total counts one worker's runs.
                let total = Atomic<Int>(0)
                Parallel.run(workers: workers) { total.add(1 << (8 * $0), ordering: .relaxed) }
                let expected = (0..<workers).reduce(0) { $0 | 1 << (8 * $1) }
                if total.load(ordering: .relaxed) != expected { failures.add(1, ordering: .relaxed) }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        // Long enough for the pool's workers to park on their condition variable.
        try await Task.sleep(for: .milliseconds(50))
        let ran = Atomic<Int>(0)
        Parallel.run(workers: 2) { _ in ran.add(1, ordering: .relaxed) }
        #expect(ran.load(ordering: .relaxed) == 2)
    }
}
