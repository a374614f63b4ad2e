/// Bounded retries with exponential backoff and jitter, for idempotent requests only.
///
/// Retried: connection errors, timeouts, 429, 502, 503, 504. Never retried: any other
/// status, and any non-idempotent request (an enqueue has its own recovery).
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included (1: no retry).
    public var maxAttempts: Int
    public var initialDelay: Double
    public var maxDelay: Double
    public var multiplier: Double

    public init(maxAttempts: Int = 3, initialDelay: Double = 0.2, maxDelay: Double = 2, multiplier: Double = 2) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialDelay = max(0, initialDelay)
        self.maxDelay = max(0, maxDelay)
        self.multiplier = max(1, multiplier)
    }

    public static let none = RetryPolicy(maxAttempts: 1)

    /// The wait before retry number `retry` (1-based): exponential, capped at `maxDelay`,
    /// then jittered into [50 %, 100 %] so clients that failed together do not return together.
    public func delay(beforeRetry retry: Int, random: Double = Double.random(in: 0...1)) -> Double {
        let exponent = Double(max(0, retry - 1))
        let base = min(maxDelay, initialDelay * pow(multiplier, exponent))
        return base * (0.5 + 0.5 * min(1, max(0, random)))
    }

    /// Whether an answer with this status is worth another attempt.
    public static func isRetryable(status: Int) -> Bool {
        status == 429 || status == 502 || status == 503 || status == 504
    }

    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var i = 0.0
        while i < exponent && result < 1e9 { result *= base; i += 1 }
        return result
    }
}
