import JSONValue

/// Why a call to InvokeAI failed, in terms the gateway can map to 502/503/504 (or, for
/// `status` with a pydantic error list, to the offending inputs).
public enum InvokeAIError: Error, Sendable, CustomStringConvertible {
    /// No connection could be made (refused, unresolvable, reset before an answer).
    case cannotConnect(String)
    /// No complete answer within the timeout.
    case timedOut(String)
    /// InvokeAI answered with an error status. `message` is readable text; `detail` is InvokeAI's
    /// `detail` exactly as sent (a string, or FastAPI/pydantic's list of `{loc, msg, type, ...}`).
    case status(Int, message: String, detail: JSONValue?)
    /// InvokeAI answered something the client could not understand.
    case invalidResponse(String)
    /// Multi-user InvokeAI refused the configured credentials.
    case authenticationFailed(String)
    /// An enqueue failed in a way that InvokeAI may still have committed it, and InvokeAI could
    /// not be asked afterwards: whether batch `batchId` exists is unknown.
    case ambiguousEnqueue(batchId: String, cause: String)

    /// The status code when InvokeAI answered with an error.
    public var statusCode: Int? {
        if case .status(let code, _, _) = self { code } else { nil }
    }

    /// InvokeAI's `detail` as sent, when it answered with an error status.
    public var detail: JSONValue? {
        if case .status(_, _, let detail) = self { detail } else { nil }
    }

    /// pydantic's validation errors (422), whole, when InvokeAI sent a list.
    public var validationErrors: [JSONValue]? {
        if case .status(_, _, let detail?) = self { detail.arrayValue } else { nil }
    }

    /// Connection errors and timeouts: InvokeAI may or may not have acted on the request.
    public var isTransport: Bool {
        switch self {
        case .cannotConnect, .timedOut, .ambiguousEnqueue: true
        default: false
        }
    }

    /// A failure after which a write may still have happened upstream: transport errors and the
    /// statuses a proxy or a crashing handler answers after the work was done (500 included:
    /// InvokeAI's enqueue commits before it builds its answer).
    public var mayHaveCommitted: Bool {
        isTransport || [500, 502, 503, 504].contains(statusCode ?? 0)
    }

    public var description: String {
        switch self {
        case .cannotConnect(let why): "cannot connect to InvokeAI: \(why)"
        case .timedOut(let what): "InvokeAI did not answer in time: \(what)"
        case .status(let code, let message, _): "InvokeAI answered \(code): \(message)"
        case .invalidResponse(let why): "unexpected answer from InvokeAI: \(why)"
        case .authenticationFailed(let why): "InvokeAI refused the credentials: \(why)"
        case .ambiguousEnqueue(let batchId, let cause):
            "\(cause); InvokeAI could not be asked whether it enqueued batch \(batchId)"
        }
    }

    /// Readable text for a FastAPI `detail`: the string itself, or `loc: msg` lines of a pydantic list.
    static func message(forDetail detail: JSONValue) -> String {
        if let text = detail.stringValue { return text }
        if let list = detail.arrayValue {
            return list.prefix(20).map { item -> String in
                let loc =
                    item["loc"]?.arrayValue?.map { $0.stringValue ?? $0.intValue.map(String.init) ?? "?" }.joined(
                        separator: ".") ?? "?"
                return "\(loc): \(item["msg"]?.stringValue ?? JSONText.encode(item))"
            }.joined(separator: "; ")
        }
        return JSONText.encode(detail)
    }
}
