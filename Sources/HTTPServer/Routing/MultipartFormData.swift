import CEpoll
import HTTPCore

/// A `multipart/form-data` body (RFC 7578) split into its parts. The whole body is already in
/// memory (the request decoder bounds it), so parts are slices copied out once.
public struct MultipartFormData: Sendable {
    public struct Part: Sendable {
        /// The `name` parameter of the part's Content-Disposition.
        public var name: String
        /// The `filename` parameter, when the part is a file.
        public var filename: String?
        /// The part's Content-Type, `text/plain` when it has none (RFC 7578 §4.4).
        public var contentType: String
        public var headers: HTTPHeaders
        public var body: [UInt8]
    }

    public var parts: [Part]

    /// The first part with this name.
    public func part(_ name: String) -> Part? { parts.first { $0.name == name } }

    /// Most parts and header bytes per part accepted, so a crafted body cannot make many tiny parts.
    static let maxParts = 64
    static let maxPartHeaderBytes = 8 * 1024

    /// Parses `body` sent with `contentType` (which must carry a `boundary` parameter).
    /// Throws an `HTTPError` 400 (or 415 for another media type) naming what is wrong.
    public init(contentType: String, body: [UInt8]) throws(HTTPError) {
        let media = ParameterizedValue(parsing: contentType)
        guard media.value == "multipart/form-data" else {
            throw HTTPError(.unsupportedMediaType, "expected multipart/form-data, got \(media.value)")
        }
        guard let boundary = media.parameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 70 else {
            throw HTTPError(.badRequest, "multipart/form-data without a valid boundary parameter")
        }
        let delimiter = Array("--\(boundary)".utf8)
        let crlf: [UInt8] = [13, 10]

        // Preamble, then the first delimiter at the start or after a CRLF.
        guard var cursor = Self.find(delimiter, in: body, from: 0) else {
            throw HTTPError(.badRequest, "multipart body has no boundary line")
        }
        var parts: [Part] = []
        let closingDelimiter = [13, 10] + delimiter
        while true {
            cursor += delimiter.count
            if body.count >= cursor + 2, body[cursor] == 45, body[cursor + 1] == 45 { break } // "--": the end
            // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
            while cursor < body.count, body[cursor] == 32 || body[cursor] == 9 { cursor += 1 }
            guard body.count >= cursor + 2, body[cursor] == 13, body[cursor + 1] == 10 else {
                throw HTTPError(.badRequest, "malformed multipart boundary line")
            }
            cursor += 2
            guard let headerEnd = Self.find([13, 10, 13, 10], in: body, from: cursor - 2) else {
                throw HTTPError(.badRequest, "multipart part without a complete header section")
            }
            guard headerEnd + 2 - cursor <= Self.maxPartHeaderBytes else {
                throw HTTPError(.badRequest, "multipart part headers exceed \(Self.maxPartHeaderBytes) bytes")
            }
            let headers = try Self.parseHeaders(Array(body[cursor..<max(cursor, headerEnd)]))
            let contentStart = headerEnd + 4
            guard let contentEnd = Self.find(closingDelimiter, in: body, from: contentStart - 2) else {
                throw HTTPError(.badRequest, "multipart body is not terminated by its closing boundary")
            }
            guard let disposition = headers["Content-Disposition"] else {
                throw HTTPError(.badRequest, "multipart part without Content-Disposition")
            }
            let parsed = ParameterizedValue(parsing: disposition)
            guard parsed.value == "form-data", let name = parsed.parameters["name"] else {
                throw HTTPError(.badRequest, "multipart part is not form-data with a name")
            }
            parts.append(
                Part(
                    name: name, filename: parsed.parameters["filename"],
                    contentType: headers["Content-Type"] ?? "text/plain", headers: headers,
                    body: contentStart <= contentEnd ? Array(body[contentStart..<contentEnd]) : []))
            guard parts.count <= Self.maxParts else {
                throw HTTPError(.badRequest, "more than \(Self.maxParts) multipart parts")
            }
            cursor = contentEnd + crlf.count
        }
        self.parts = parts
    }

    private static func parseHeaders(_ bytes: [UInt8]) throws(HTTPError) -> HTTPHeaders {
        var headers = HTTPHeaders()
        guard !bytes.isEmpty else { return headers }
        // Latin-1 is lossless for any byte; names and the values used here are ASCII.
        let text = String(decoding: bytes.map { UInt16($0) }, as: UTF16.self)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw HTTPError(.badRequest, "malformed multipart part header")
            }
            headers.add(String(line[..<colon]), line[line.index(after: colon)...].trimmingHTTPWhitespace())
        }
        return headers
    }

    /// The index of the first occurrence of `needle` in `haystack` at or after `from` (memmem:
    /// linear, and bodies may be megabytes of image).
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        let start = max(0, from)
        guard !needle.isEmpty, haystack.count - start >= needle.count else { return nil }
        return haystack.withUnsafeBytes { hay in
            needle.withUnsafeBytes { pin in
                guard let hit = cepoll_memmem(hay.baseAddress! + start, hay.count - start, pin.baseAddress!, pin.count)
                else { return nil }
                return hay.baseAddress!.distance(to: UnsafeRawPointer(hit))
            }
        }
    }
}
