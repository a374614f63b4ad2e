#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nanoseconds from a monotonic clock: cheap, never jumps with wall-clock changes.
/// The one clock of the server's timers and the client's deadlines (see `Deadline`).
public enum MonotonicClock {
    @inlinable public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// `now()` in seconds.
    @inlinable public static func seconds() -> Double { Double(now()) / 1e9 }

    /// Seconds in whole nanoseconds (negative counts as zero).
    @inlinable public static func nanoseconds(seconds: Double) -> UInt64 {
        UInt64(max(0, seconds) * 1e9)
    }

    /// A duration in whole nanoseconds (negative durations count as zero).
    @inlinable public static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}
