import KernelBench

/// A run that would need more memory than the machine has available (exit 71).
package struct MemoryError: Error, Sendable, CustomStringConvertible {
    package var what: String
    package var neededBytes: Double
    package var availableBytes: UInt64

    package var description: String {
        "\(what) would need about \(bytesText(UInt64(min(neededBytes, 1.8e19)))) of memory, but only "
            + "\(bytesText(availableBytes)) is available (MemAvailable in /proc/meminfo); use smaller shapes "
            + "(--prompt-tokens, a smaller model) or --force to try anyway"
    }
}

/// Compares what kernel cases will allocate with the memory available, before anything is allocated.
package enum MemoryCheck {
    /// Throws for the largest case when it does not fit; `force` skips the refusal. Returns a warning
    /// when the memory available cannot be read (then nothing is checked).
    package static func check(_ kernels: [KernelCase], threads: Int, force: Bool, availableBytes: UInt64?) throws
        -> String?
    {
        guard !force,
            let largest = kernels.max(by: {
                $0.estimatedPeakBytes(threads: threads) < $1.estimatedPeakBytes(threads: threads)
            })
        else { return nil }
        guard let available = availableBytes else {
            return
                "the memory available could not be read (/proc/meminfo MemAvailable): sizes were not checked against it"
        }
        let needed = largest.estimatedPeakBytes(threads: threads)
        if needed > Double(available) {
            throw MemoryError(what: "kernel \(largest.name)", neededBytes: needed, availableBytes: available)
        }
        return nil
    }
}
