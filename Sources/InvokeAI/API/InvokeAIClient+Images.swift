import Foundation
import HTTPCore
import JSONValue

extension InvokeAIClient {
    /// `POST /api/v1/images/upload?image_category=user&is_intermediate=false[&board_id=][&session_id=]`
    /// (multipart, field `file`). Not retried: a second upload would make a second image.
    /// `sessionId` is kept in the image's record as given (the gateway marks its uploads' owner).
    public func uploadImage(
        _ data: Data, fileName: String, contentType: String = "image/png", boardId: String? = nil,
        isIntermediate: Bool = false, sessionId: String? = nil
    ) async throws(InvokeAIError) -> InvokeAIImage {
        let boundary = "invokeai-gateway-\(UUID().uuidString)"
        let safeName = fileName.replacingOccurrences(of: "\"", with: "_").replacingOccurrences(of: "\r", with: "")
            .replacingOccurrences(of: "\n", with: "")
        var body = Data()
        body.append(
            Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(safeName)\"\r\n".utf8))
        body.append(Data("Content-Type: \(contentType)\r\n\r\n".utf8))
        body.append(data)
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        var query = [
            URLQueryItem(name: "image_category", value: "user"),
            URLQueryItem(name: "is_intermediate", value: isIntermediate ? "true" : "false"),
        ]
        if let boardId { query.append(URLQueryItem(name: "board_id", value: boardId)) }
        if let sessionId { query.append(URLQueryItem(name: "session_id", value: sessionId)) }
        let request = InvokeAIRequest(
            method: "POST", path: "api/v1/images/upload", query: query, body: body,
            contentType: "multipart/form-data; boundary=\(boundary)", idempotent: false)
        let answer = try await json(request)
        guard let image = InvokeAIImage(answer) else { throw .invalidResponse("upload answer has no image_name") }
        return image
    }

    /// `GET /api/v1/images/i/{name}`: the image record.
    public func image(_ name: String) async throws(InvokeAIError) -> InvokeAIImage {
        let answer = try await json(.get("api/v1/images/i/\(Self.pathSegment(name))"))
        guard let image = InvokeAIImage(answer) else { throw .invalidResponse("image record without image_name") }
        return image
    }

    /// `POST /api/v1/images/images_by_names`: the records of these images, in order; names
    /// InvokeAI does not have are left out. Read-only, so retried like a GET.
    public func images(named names: [String]) async throws(InvokeAIError) -> [InvokeAIImage] {
        if names.isEmpty { return [] }
        let body: JSONValue = ["image_names": .array(names.map(JSONValue.string))]
        let request = InvokeAIRequest(
            method: "POST", path: "api/v1/images/images_by_names", body: Data(JSONText.data(body)),
            contentType: "application/json", idempotent: true)
        guard let list = try await json(request).arrayValue else {
            throw .invalidResponse("expected a list of image records")
        }
        return list.compactMap(InvokeAIImage.init)
    }

    /// `GET /api/v1/images/i/{name}/metadata`: the generation metadata (null when none).
    public func imageMetadata(_ name: String) async throws(InvokeAIError) -> JSONValue {
        try await json(.get("api/v1/images/i/\(Self.pathSegment(name))/metadata"))
    }

    /// The image's bytes in memory (bounded by `maxResponseBytes`). For large images prefer
    /// `downloadImage(_:size:)`, which streams to a file.
    public func imageData(_ name: String, size: InvokeAIImageSize = .full) async throws(InvokeAIError) -> (
        data: Data, contentType: String?
    ) {
        let (data, response) = try await perform(.get("api/v1/images/i/\(Self.pathSegment(name))/\(size.rawValue)"))
        return (data, response.value(forHeader: "Content-Type"))
    }

    /// Streams the image to a temporary file as it arrives (it is never whole in memory),
    /// bounded by `downloadTimeout` (in total, retries included) and `maxDownloadBytes`. The
    /// caller owns the file and must remove it.
    public func downloadImage(_ name: String, size: InvokeAIImageSize = .full) async throws(InvokeAIError) -> (
        file: URL, contentType: String?, length: Int64
    ) {
        let request = InvokeAIRequest.get("api/v1/images/i/\(Self.pathSegment(name))/\(size.rawValue)")
        let deadline = Deadline.after(configuration.downloadTimeout)
        var renewed = false
        var attempt = 0
        while true {
            attempt += 1
            let outgoing = try await httpRequest(for: request, authorize: true)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("invokeai-\(UUID().uuidString)")
            let response: HTTPClientResponse
            do {
                response = try await http.download(
                    outgoing, to: file.path, connectTimeout: configuration.connectTimeout,
                    by: deadline, maxBytes: configuration.maxDownloadBytes)
            } catch {
                let failure = Self.transportError(error, request: request)
                let wait = configuration.retry.delay(beforeRetry: attempt)
                if failure.isTransport, attempt < configuration.retry.maxAttempts, wait < deadline.remaining {
                    await Self.sleep(wait)
                    continue
                }
                throw failure
            }
            if (200..<300).contains(response.status) {
                let length =
                    (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value ?? -1
                return (file, response.value(forHeader: "Content-Type"), length)
            }
            // An error answer: its start says why (InvokeAI's `detail`); the file is not kept.
            let body =
                (try? FileHandle(forReadingFrom: file)).flatMap { handle in
                    defer { try? handle.close() }
                    return try? handle.read(upToCount: 64 << 10)
                } ?? Data()
            try? FileManager.default.removeItem(at: file)
            if response.status == 401, !renewed, case .login = configuration.auth {
                renewed = true
                attempt -= 1
                try await renewToken()
                continue
            }
            let wait = configuration.retry.delay(beforeRetry: attempt)
            if RetryPolicy.isRetryable(status: response.status), attempt < configuration.retry.maxAttempts,
                wait < deadline.remaining
            {
                await Self.sleep(wait)
                continue
            }
            throw Self.statusError(response.status, data: body)
        }
    }

    /// `DELETE /api/v1/images/i/{name}`. Deleting twice is harmless, so it is retried.
    public func deleteImage(_ name: String) async throws(InvokeAIError) {
        _ = try await perform(
            InvokeAIRequest(method: "DELETE", path: "api/v1/images/i/\(Self.pathSegment(name))", idempotent: true))
    }

    /// `GET /api/v1/images/names?board_id=`: image names on a board (`"none"`: uncategorized).
    public func imageNames(boardId: String) async throws(InvokeAIError) -> [String] {
        let answer = try await json(
            .get("api/v1/images/names", query: [URLQueryItem(name: "board_id", value: boardId)]))
        guard let names = answer["image_names"]?.arrayValue ?? answer.arrayValue else {
            throw .invalidResponse("no image_names")
        }
        return names.compactMap(\.stringValue)
    }
}
