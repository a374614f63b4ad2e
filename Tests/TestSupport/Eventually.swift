import Testing

public struct ConditionNotMet: Error, CustomStringConvertible {
    let within: Duration
    public var description: String { "condition still false after \(within)" }
}

/// Waits until `condition` holds, polling; throws when it still does not after `within`.
/// For facts that become true asynchronously (a timer fired, a handler ran): the test states
/// what must happen, not how fast, so a loaded machine cannot make it flaky.
public func eventually(within: Duration = .seconds(10), _ condition: @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + within
    while !condition() {
        guard ContinuousClock.now < deadline else { throw ConditionNotMet(within: within) }
        try await Task.sleep(for: .milliseconds(10))
    }
}
