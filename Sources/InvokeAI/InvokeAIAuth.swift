/// How the client proves who it is to a multi-user InvokeAI (`multiuser: true`).
public enum InvokeAIAuth: Sendable, Equatable {
    /// Single-user InvokeAI: no credentials.
    case none
    /// A bearer token given in configuration. It cannot be renewed: a 401 is final.
    case token(String)
    /// E-mail and password for `POST /api/v1/auth/login`. The client logs in on first use and
    /// once more on a 401 before failing.
    case login(email: String, password: String)
}
