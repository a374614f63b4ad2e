/// A point on the monotonic clock by which blocking socket work must end (wall-clock jumps
/// neither shorten nor stretch it).
public struct Deadline: Sendable, Comparable {
    /// Seconds on `MonotonicClock`.
    public let instant: Double
    /// The time it was set for, to name in a timeout's message.
    public let seconds: Double

    public init(instant: Double, seconds: Double) {
        self.instant = instant
        self.seconds = seconds
    }

    public static func after(_ seconds: Double) -> Deadline {
        Deadline(instant: MonotonicClock.seconds() + max(0, seconds), seconds: seconds)
    }

    /// The instant in `MonotonicClock.now()`'s nanoseconds (what event loop timers take).
    public var nanoseconds: UInt64 { MonotonicClock.nanoseconds(seconds: instant) }

    /// Seconds left, never negative.
    public var remaining: Double { max(0, instant - MonotonicClock.seconds()) }

    public var hasPassed: Bool { MonotonicClock.seconds() >= instant }

    /// `remaining` as `poll`'s timeout: milliseconds rounded up, so a wait never ends early.
    public var pollTimeout: Int32 { Self.pollTimeout(seconds: remaining) }

    /// Seconds as `poll`'s timeout: milliseconds rounded up, never negative, at most `Int32.max`.
    public static func pollTimeout(seconds: Double) -> Int32 {
        Int32(min(max(0, seconds) * 1000, Double(Int32.max)).rounded(.up))
    }

    public static func < (a: Deadline, b: Deadline) -> Bool { a.instant < b.instant }
}
