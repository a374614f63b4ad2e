import HTTPCore

/// Why a request could not be decoded. Each case maps to the status the server answers with,
/// after which the connection is closed (the byte stream can no longer be trusted).
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Malformed syntax: 400.
        case badRequest
        /// Request line plus header fields (or trailers) over the limit: 431.
        case headersTooLarge
        /// Declared or received body over the limit: 413.
        case contentTooLarge
        /// A transfer coding other than chunked: 501.
        case notImplemented
        /// A major version other than 1: 505.
        case versionNotSupported
    }

    public let kind: Kind
    /// A short, client-safe explanation ("bare LF in header section").
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var status: HTTPStatus {
        switch kind {
        case .badRequest: .badRequest
        case .headersTooLarge: .requestHeaderFieldsTooLarge
        case .contentTooLarge: .contentTooLarge
        case .notImplemented: .notImplemented
        case .versionNotSupported: .httpVersionNotSupported
        }
    }

    public var description: String { "\(status): \(message)" }
}
