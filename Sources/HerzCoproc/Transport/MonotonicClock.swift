import CHerzSys

/// CLOCK_MONOTONIC in nanoseconds: the clock of every `deadlineNanos` (the same on both sides of
/// one machine). Stateless and thread-safe.
public enum MonotonicClock {
    @inline(__always) public static func nanos() -> UInt64 { herz_monotonic_nanos() }
}
