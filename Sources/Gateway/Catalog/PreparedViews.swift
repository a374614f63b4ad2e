import HTTPServer
import Synchronization

/// Answers encoded once and served as bytes: the workflow list and each workflow's description
/// change only when the catalog changes (its generation) or the installed models are read again
/// (their stamp), so they are encoded once per such change, not per request. Holds one
/// generation at a time: a newer one replaces everything held.
final class PreparedViews: Sendable {
    struct Key: Hashable {
        var name: String?
        var generation: Int
        var modelStamp: Double
    }

    private let held = Mutex<(generation: Int, responses: [Key: HTTPResponse])>((-1, [:]))

    /// The response for `key`, made by `make` when not held yet.
    func response(for key: Key, make: () -> HTTPResponse) -> HTTPResponse {
        if let response = held.withLock({ $0.generation == key.generation ? $0.responses[key] : nil }) {
            return response
        }
        let response = make()
        held.withLock { held in
            if key.generation > held.generation { held = (key.generation, [:]) }
            if key.generation == held.generation { held.responses[key] = response }
        }
        return response
    }
}
