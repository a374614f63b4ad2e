#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point on the monotonic clock by which blocking socket work must end (wall-clock jumps
/// neither shorten nor stretch it).
struct Deadline: Sendable, Comparable {
    /// Seconds on `CLOCK_MONOTONIC`.
    let instant: Double
    /// The time it was set for, to name in a timeout's message.
    let seconds: Double

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func after(_ seconds: Double) -> Deadline {
        Deadline(instant: now() + max(0, seconds), seconds: seconds)
    }

    /// Seconds left, never negative.
    var remaining: Double { max(0, instant - Self.now()) }

    var hasPassed: Bool { Self.now() >= instant }

    /// `remaining` as `poll`'s timeout: milliseconds rounded up, so a wait never ends early.
    var pollTimeout: Int32 {
        Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up))
    }

    static func < (a: Deadline, b: Deadline) -> Bool { a.instant < b.instant }
}
