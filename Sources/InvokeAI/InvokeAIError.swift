/// Why a call to InvokeAI failed, in terms the gateway can map to 502/503/504.
public enum InvokeAIError: Error, Sendable, CustomStringConvertible {
    /// No connection could be made (refused, unresolvable, reset before an answer).
    case cannotConnect(String)
    /// No complete answer within the timeout.
    case timedOut(String)
    /// InvokeAI answered with an error status; `detail` is its message when it sent one.
    case status(Int, detail: String)
    /// InvokeAI answered something the client could not understand.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .cannotConnect(let why): "cannot connect to InvokeAI: \(why)"
        case .timedOut(let what): "InvokeAI did not answer in time: \(what)"
        case .status(let code, let detail): "InvokeAI answered \(code): \(detail)"
        case .invalidResponse(let why): "unexpected answer from InvokeAI: \(why)"
        }
    }
}
