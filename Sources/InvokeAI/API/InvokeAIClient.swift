import Foundation
import HTTPCore
import JSONValue
import Synchronization
import Transport

/// The gateway's REST client for InvokeAI: typed calls (see the `+Queue`, `+Images`,
/// `+Boards`, `+Models`, `+Workflows` extensions), per-request timeouts, bounded retries of
/// idempotent requests, and multi-user authentication with one renewal on 401.
public final class InvokeAIClient: Sendable {
    public let configuration: InvokeAIClientConfiguration
    public var baseURL: URL { configuration.baseURL }
    /// Its own pool of kept-alive connections to InvokeAI, on the event loops it was given.
    let http: PooledHTTPClient
    private let token: Mutex<String?>

    /// `loops`: where its connections (REST and the event stream's WebSocket) live; the gateway
    /// passes its server's loops, others get a shared one-thread group.
    package init(configuration: InvokeAIClientConfiguration, loops: EventLoopGroup) {
        self.configuration = configuration
        http = PooledHTTPClient(loops: loops)
        if case .token(let given) = configuration.auth {
            token = Mutex(given)
        } else {
            token = Mutex(nil)
        }
    }

    public convenience init(configuration: InvokeAIClientConfiguration) {
        self.init(configuration: configuration, loops: .shared)
    }

    public convenience init(baseURL: URL, requestTimeout: TimeInterval = 10) {
        self.init(configuration: InvokeAIClientConfiguration(baseURL: baseURL, requestTimeout: requestTimeout))
    }

    /// `GET /api/v1/app/version`: InvokeAI's version string. `timeout`: the call's own bound, in
    /// seconds, retries included (a readiness probe must answer sooner than a request waits).
    public func appVersion(timeout: Double? = nil) async throws(InvokeAIError) -> String {
        let (data, _) = try await perform(.get("api/v1/app/version"), timeout: timeout)
        let body = try Self.decode(data, what: "GET /api/v1/app/version")
        guard let version = body["version"]?.stringValue else {
            throw InvokeAIError.invalidResponse("no version in /api/v1/app/version")
        }
        return version
    }

    /// `GET /openapi.json`: every route and invocation schema, including custom nodes.
    public func openAPI() async throws(InvokeAIError) -> JSONValue {
        let request = InvokeAIRequest.get("openapi.json")
        let (data, _) = try await perform(request, timeout: configuration.schemaTimeout)
        return try Self.decode(data, what: "GET /openapi.json")
    }

    // MARK: - authentication

    /// The bearer token to send, logging in first when configured with credentials and no
    /// token is held yet; nil for a single-user InvokeAI.
    public func bearerToken() async throws(InvokeAIError) -> String? {
        if let held = token.withLock({ $0 }) { return held }
        guard case .login = configuration.auth else { return nil }
        return try await renewToken()
    }

    /// Logs in again (credentials only) and returns the new token. With a fixed token or no
    /// auth there is nothing to renew: returns the fixed token or nil.
    @discardableResult
    public func renewToken() async throws(InvokeAIError) -> String? {
        guard case .login(let email, let password) = configuration.auth else { return token.withLock { $0 } }
        let body: JSONValue = ["email": .string(email), "password": .string(password)]
        let request = InvokeAIRequest(
            method: "POST", path: "api/v1/auth/login", body: Data(JSONText.data(body)),
            contentType: "application/json", idempotent: true)
        let answer: JSONValue
        do {
            let (data, _) = try await perform(request, authorize: false)
            answer = try Self.decode(data, what: "login")
        } catch {
            if let code = error.statusCode, code == 401 || code == 403 || code == 422 {
                throw .authenticationFailed(error.description)
            }
            throw error
        }
        guard let fresh = answer["token"]?.stringValue, !fresh.isEmpty else {
            throw .invalidResponse("login answer has no token")
        }
        token.withLock { $0 = fresh }
        return fresh
    }

    /// A multi-user InvokeAI slides a session's expiry on each authenticated mutating request:
    /// the answer carries a fresh token in `X-Refreshed-Token`, which replaces the one held (so
    /// a gateway that keeps submitting never has to log in again).
    func adoptRefreshedToken(from response: HTTPClientResponse) {
        if case .none = configuration.auth { return }
        guard let fresh = response.value(forHeader: "X-Refreshed-Token"), !fresh.isEmpty else { return }
        token.withLock { $0 = fresh }
    }

    // MARK: - transport

    /// Sends `request` and decodes the JSON answer.
    func json(_ request: InvokeAIRequest) async throws(InvokeAIError) -> JSONValue {
        let (data, _) = try await perform(request)
        return try Self.decode(data, what: "\(request.method) /\(request.path)")
    }

    static func decode(_ data: Data, what: String) throws(InvokeAIError) -> JSONValue {
        do { return try FastJSONParser.parse(data) } catch {
            throw .invalidResponse("\(what) did not return JSON: \(error)")
        }
    }

    func url(for request: InvokeAIRequest) throws(InvokeAIError) -> URL {
        guard
            var components = URLComponents(
                url: baseURL.appendingPathComponent(request.path), resolvingAgainstBaseURL: false)
        else {
            throw .invalidResponse("bad URL for \(request.path)")
        }
        if !request.query.isEmpty { components.queryItems = request.query }
        // URLComponents leaves "+" alone in queries; servers read it as a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        guard let url = components.url else { throw .invalidResponse("bad URL for \(request.path)") }
        return url
    }

    /// Sends with retries (idempotent requests only) and one token renewal on 401.
    /// Answers outside 2xx become `InvokeAIError.status`. The whole call, retries and their
    /// pauses included, ends within `timeout` (default `requestTimeout`): a retry is made only
    /// while time is left, and each attempt gets only what is left.
    func perform(_ request: InvokeAIRequest, authorize: Bool = true, timeout: Double? = nil) async throws(InvokeAIError)
        -> (Data, HTTPClientResponse)
    {
        guard let observer = configuration.callObserver else {
            return try await performAttempts(request, authorize: authorize, timeout: timeout)
        }
        let start = MonotonicClock.now()
        var succeeded = false
        defer {
            observer(
                InvokeAICall(
                    endpoint: InvokeAICall.endpoint(method: request.method, path: request.path),
                    seconds: Double(MonotonicClock.now() - start) / 1e9, succeeded: succeeded))
        }
        let answer = try await performAttempts(request, authorize: authorize, timeout: timeout)
        succeeded = true
        return answer
    }

    private func performAttempts(_ request: InvokeAIRequest, authorize: Bool, timeout: Double?)
        async throws(InvokeAIError) -> (Data, HTTPClientResponse)
    {
        let deadline = Deadline.after(timeout ?? configuration.requestTimeout)
        var attempt = 0
        var renewed = false
        while true {
            attempt += 1
            let outcome: Result<HTTPClientResponse, InvokeAIError>
            do {
                outcome = .success(try await attemptOnce(request, authorize: authorize, by: deadline))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let response):
                let status = response.status
                if (200..<300).contains(status) {
                    if authorize { adoptRefreshedToken(from: response) }
                    return (response.body, response)
                }
                let failure = Self.statusError(status, data: response.body)
                if status == 401, authorize, !renewed, case .login = configuration.auth {
                    renewed = true
                    attempt -= 1 // a renewal is not a retry: the request was refused unread
                    try await renewToken()
                    continue
                }
                guard request.idempotent, RetryPolicy.isRetryable(status: status),
                    attempt < configuration.retry.maxAttempts
                else {
                    throw failure
                }
                var wait = configuration.retry.delay(beforeRetry: attempt)
                if let after = response.value(forHeader: "Retry-After").flatMap(Double.init) {
                    wait = min(max(wait, after), configuration.retry.maxDelay)
                }
                guard wait < deadline.remaining else { throw failure }
                await Self.sleep(wait)
            case .failure(let error):
                guard request.idempotent, error.isTransport, attempt < configuration.retry.maxAttempts else {
                    throw error
                }
                let wait = configuration.retry.delay(beforeRetry: attempt)
                guard wait < deadline.remaining else { throw error }
                await Self.sleep(wait)
            }
        }
    }

    private func attemptOnce(_ request: InvokeAIRequest, authorize: Bool, by deadline: Deadline)
        async throws(InvokeAIError) -> HTTPClientResponse
    {
        let outgoing = try await httpRequest(for: request, authorize: authorize)
        do {
            return try await http.send(
                outgoing, connectTimeout: configuration.connectTimeout,
                by: deadline, maxBytes: configuration.maxResponseBytes)
        } catch {
            throw Self.transportError(error, request: request)
        }
    }

    /// The request as sent: InvokeAI's host and port, the path and query exactly as `url(for:)`
    /// encodes them, JSON accepted, the bearer token when there is one.
    func httpRequest(for request: InvokeAIRequest, authorize: Bool) async throws(InvokeAIError) -> HTTPClientRequest {
        let url = try url(for: request)
        let what = "\(request.method) /\(request.path)"
        guard url.scheme?.lowercased() == "http" else {
            throw .cannotConnect("\(what): only plain http:// is supported, not \(url.scheme ?? "no scheme")")
        }
        // IPv6 literals: the socket wants the address without URL brackets.
        guard let host = url.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), !host.isEmpty,
            let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        else {
            throw .invalidResponse("bad URL for \(request.path)")
        }
        var target = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { target += "?" + query }
        var headers: [(name: String, value: String)] = [
            ("Accept", "application/json"), ("User-Agent", "invokeai-gateway"),
        ]
        if let contentType = request.contentType { headers.append(("Content-Type", contentType)) }
        if authorize, let bearer = try await bearerToken() {
            headers.append(("Authorization", "Bearer \(bearer)"))
        }
        return HTTPClientRequest(
            method: request.method, host: host, port: url.port ?? 80, target: target,
            headers: headers, body: request.body)
    }

    /// A transport failure in InvokeAI's terms, named by its request: `METHOD /path: why`.
    static func transportError(_ error: HTTPClientError, request: InvokeAIRequest) -> InvokeAIError {
        let what = "\(request.method) /\(request.path)"
        switch error {
        case .cannotConnect(let why): return .cannotConnect("\(what): \(why)")
        case .timedOut(let why): return .timedOut("\(what): \(why)")
        case .connectionClosed: return .cannotConnect("\(what): \(error.description)")
        case .invalidResponse(let why): return .invalidResponse("\(what): \(why)")
        case .tooLarge(let limit): return .invalidResponse("\(what): answer over the limit of \(limit) bytes")
        case .cannotWriteFile(let why): return .invalidResponse("\(what): cannot keep download: \(why)")
        }
    }

    static func statusError(_ status: Int, data: Data) -> InvokeAIError {
        let json = try? FastJSONParser.parse(data)
        if let detail = json?["detail"] {
            return .status(status, message: InvokeAIError.message(forDetail: detail), detail: detail)
        }
        let text = String(decoding: data.prefix(500), as: UTF8.self)
        return .status(status, message: text.isEmpty ? Self.statusText(status) : text, detail: json)
    }

    /// Words for a status whose answer had no body: its reason phrase in lower case (from the
    /// one table, `HTTPStatus`), or the status class for a code the table does not name.
    static func statusText(_ status: Int) -> String {
        if let reason = HTTPStatus.knownReason(status) { return reason.lowercased() }
        switch status {
        case 100..<200: return "informational"
        case 200..<300: return "success"
        case 300..<400: return "redirected"
        case 400..<500: return "client error"
        case 500..<600: return "server error"
        default: return "status \(status)"
        }
    }

    static func sleep(_ seconds: Double) async {
        guard seconds > 0 else { return }
        try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
    }
}

/// Compact JSON text of a `JSONValue` (object keys sorted, so output is stable).
public enum JSONText {
    public static func encode(_ value: JSONValue) -> String { value.compactJSON }

    public static func data(_ value: JSONValue) -> [UInt8] { value.compactJSONBytes }
}
