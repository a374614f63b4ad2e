import HTTPCore

/// A kind of problem an RFC 9457 document names in its `type`: a URI reference relative to the
/// server (`/problems/<slug>`), so a client resolves it against the URL it asked and finds the
/// type's page on the same server, whatever name or port it is reached under. Each kind has one
/// stable title. The HTTP layer's own kinds (one per status it answers) are here; the
/// application adds its own (see `Gateway`'s `ProblemType.all`).
public struct ProblemType: Sendable, Hashable {
    /// The last segment of the type's URI: lowercase words joined by `-`; never changes.
    public let slug: String
    /// The summary every problem of this kind carries as `title`.
    public let title: String
    /// The statuses a problem of this kind can have.
    public let statuses: [Int]
    /// What it means and what a client can do about it (the type's page and the README say it).
    public let summary: String

    public init(_ slug: String, title: String, statuses: [Int], summary: String) {
        self.slug = slug
        self.title = title
        self.statuses = statuses
        self.summary = summary
    }

    /// The `type` member: relative to the server that answered.
    public var uri: String { Self.prefix + slug }
    public static let prefix = "/problems/"
}

extension ProblemType {
    public static let badRequest = ProblemType(
        "bad-request", title: "Bad request", statuses: [400],
        summary:
            "The request is malformed (HTTP syntax, a query parameter, a header or the body's syntax); `detail` names what."
    )
    public static let unauthorized = ProblemType(
        "unauthorized", title: "Unauthorized", statuses: [401],
        summary: "No API key, or one that is not in force: send `Authorization: Bearer <key>` (or `X-API-Key`).")
    public static let forbidden = ProblemType(
        "forbidden", title: "Forbidden", statuses: [403], summary: "The request is not allowed.")
    public static let notFound = ProblemType(
        "not-found", title: "Not found", statuses: [404],
        summary: "No such resource (or it belongs to another tenant: ids do not tell that they exist).")
    public static let methodNotAllowed = ProblemType(
        "method-not-allowed", title: "Method not allowed", statuses: [405],
        summary: "The resource exists but not with this method; `Allow` lists the methods it has.")
    public static let notAcceptable = ProblemType(
        "not-acceptable", title: "Not acceptable", statuses: [406],
        summary: "No representation the request's `Accept` allows can be sent.")
    public static let requestTimeout = ProblemType(
        "request-timeout", title: "Request timeout", statuses: [408],
        summary: "The request's header section or body did not arrive in time; the connection is closed.")
    public static let conflict = ProblemType(
        "conflict", title: "Conflict", statuses: [409],
        summary: "The resource's state does not allow the request now; `detail` says why.")
    public static let preconditionFailed = ProblemType(
        "precondition-failed", title: "Precondition failed", statuses: [412],
        summary: "A condition of the request (`If-Match`, ...) does not hold.")
    public static let contentTooLarge = ProblemType(
        "content-too-large", title: "Content too large", statuses: [413],
        summary: "The request body is over the server's limit; the connection is closed.")
    public static let unsupportedMediaType = ProblemType(
        "unsupported-media-type", title: "Unsupported media type", statuses: [415],
        summary: "The body's `Content-Type` is not one this operation reads.")
    public static let misdirectedRequest = ProblemType(
        "misdirected-request", title: "Misdirected request", statuses: [421],
        summary: "The request's `Host` is not a name this server answers to.")
    public static let invalidRequest = ProblemType(
        "invalid-request", title: "Invalid request", statuses: [422],
        summary: "The request is well formed but a value in it is not acceptable; `detail` names it.")
    public static let tooManyRequests = ProblemType(
        "too-many-requests", title: "Too many requests", statuses: [429],
        summary: "Over a limit; retry after `Retry-After` seconds.")
    public static let headersTooLarge = ProblemType(
        "request-header-fields-too-large", title: "Request header fields too large", statuses: [431],
        summary: "The request's header section is over the server's limit; the connection is closed.")
    public static let internalError = ProblemType(
        "internal-error", title: "Internal error", statuses: [500],
        summary: "A defect in the server; `detail` carries its text. Please report it.")
    public static let notImplemented = ProblemType(
        "not-implemented", title: "Not implemented", statuses: [501],
        summary: "The server does not support this request (e.g. CONNECT).")
    public static let serviceUnavailable = ProblemType(
        "service-unavailable", title: "Service unavailable", statuses: [503],
        summary: "The server cannot answer this now; retry after `Retry-After` seconds.")
    public static let versionNotSupported = ProblemType(
        "http-version-not-supported", title: "HTTP version not supported", statuses: [505],
        summary: "The request's HTTP version is not 1.0, 1.1 or 2.")
    public static let otherStatus = ProblemType(
        "http-error", title: "HTTP error", statuses: [],
        summary: "A status no other type covers; `status` and `detail` say what happened.")

    /// The HTTP layer's kinds, one per status it answers with.
    public static let http: [ProblemType] = [
        .badRequest, .unauthorized, .forbidden, .notFound, .methodNotAllowed, .notAcceptable, .requestTimeout,
        .conflict, .preconditionFailed, .contentTooLarge, .unsupportedMediaType, .misdirectedRequest,
        .invalidRequest, .tooManyRequests, .headersTooLarge, .internalError, .notImplemented,
        .serviceUnavailable, .versionNotSupported, .otherStatus,
    ]

    /// The kind a problem with this status has when its thrower names none.
    public static func of(_ status: HTTPStatus) -> ProblemType {
        http.first { $0.statuses.contains(status.code) } ?? .otherStatus
    }
}
