import InvokeAI
import Testing

@Suite struct RetryPolicyTests {
    @Test func backoffGrowsIsCappedAndJittered() {
        let policy = RetryPolicy(maxAttempts: 5, initialDelay: 0.1, maxDelay: 0.5, multiplier: 2)
        #expect(policy.delay(beforeRetry: 1, random: 1) == 0.1)
        #expect(policy.delay(beforeRetry: 2, random: 1) == 0.2)
        #expect(policy.delay(beforeRetry: 3, random: 1) == 0.4)
        #expect(policy.delay(beforeRetry: 4, random: 1) == 0.5)
        #expect(policy.delay(beforeRetry: 1000, random: 1) == 0.5)
        #expect(policy.delay(beforeRetry: 2, random: 0) == 0.1)
        for _ in 0..<100 {
            let d = policy.delay(beforeRetry: 3)
            #expect(d >= 0.2 && d <= 0.4)
        }
    }

    @Test func onlyTransientStatusesAreRetryable() {
        #expect([429, 502, 503, 504].allSatisfy(RetryPolicy.isRetryable(status:)))
        #expect(![400, 401, 403, 404, 409, 422, 500, 501].contains(where: RetryPolicy.isRetryable(status:)))
        #expect(RetryPolicy(maxAttempts: 0).maxAttempts == 1)
    }
}
