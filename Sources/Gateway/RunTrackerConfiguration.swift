import Foundation

/// How much of the run history the tracker keeps in memory, and how it retries reading
/// InvokeAI's record of an ended run.
public struct RunTrackerConfiguration: Sendable {
    /// Ended runs beyond this many leave the table, oldest first (runs not ended never do).
    public var maxRuns: Int
    /// Ended runs that ended longer ago than this leave the table.
    public var maxAge: TimeInterval
    /// Pauses between reads of an ended run's record that failed; the last one repeats.
    public var readBackRetryDelays: [Duration]

    public init(
        maxRuns: Int = 10_000, maxAge: TimeInterval = 7 * 24 * 3600,
        readBackRetryDelays: [Duration] = [.seconds(1), .seconds(2), .seconds(5), .seconds(15), .seconds(60)]
    ) {
        self.maxRuns = max(1, maxRuns)
        self.maxAge = maxAge
        self.readBackRetryDelays = readBackRetryDelays.isEmpty ? [.seconds(1)] : readBackRetryDelays
    }
}
