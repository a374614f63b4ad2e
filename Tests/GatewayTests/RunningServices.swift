@testable import Gateway

/// Runs the services' loops for the length of `body`, as the server does while it serves, then
/// cancels them and waits for them to stop.
func whileRunning<T: Sendable>(
    _ services: any GatewayService..., body: () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
        for service in services { group.addTask { await service.run() } }
        defer { group.cancelAll() }
        return try await body()
    }
}
