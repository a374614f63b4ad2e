import Foundation

/// Runs blocking client I/O on a thread of its own, off Swift's cooperative pool, so the server's
/// async handlers always have threads to run on while a test waits for them.
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try body() })
        }
    }
}
