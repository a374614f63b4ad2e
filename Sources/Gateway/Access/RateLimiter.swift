import HTTPCore
import Synchronization

/// Per-key token buckets for the keys file's `requests_per_second`: a bucket holds up to one
/// second's worth of requests (at least one) and refills continuously. Memory is one bucket per
/// key that has a limit and was used.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: UInt64
    }

    private let buckets = Mutex<[String: Bucket]>([:])
    private let now: @Sendable () -> UInt64

    init(now: @escaping @Sendable () -> UInt64 = MonotonicClock.now) { self.now = now }

    /// Takes one request from the key's bucket: nil when allowed, else the seconds until the
    /// next one is.
    func take(key: String, perSecond rate: Double) -> Double? {
        let time = now()
        let capacity = max(1, rate)
        return buckets.withLock { all in
            var bucket = all[key] ?? Bucket(tokens: capacity, updated: time)
            let elapsed = Double(time &- bucket.updated) / 1e9
            bucket.tokens = min(capacity, bucket.tokens + elapsed * rate)
            bucket.updated = time
            defer { all[key] = bucket }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate }
            bucket.tokens -= 1
            return nil
        }
    }
}
