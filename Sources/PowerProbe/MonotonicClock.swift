/// The clock every reading is dated with: `CLOCK_MONOTONIC`, immune to wall-clock changes.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point. The corresponding C function is `clock_gettime`.
    public static func nanoseconds() -> UInt64 { Syscalls.monotonicNanoseconds() }
}
