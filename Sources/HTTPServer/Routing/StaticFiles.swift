import HTTPCore
import Synchronization
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// Serves files below one folder for GET and HEAD, with content types, a strong ETag
/// (size, modification time, inode) answering If-None-Match with 304 (and, without it,
/// If-Modified-Since against Last-Modified, as RFC 9110 §13.2.2 orders them), and no way out of the
/// folder: `..` and `.` segments (also percent-encoded), NUL bytes and symbolic links that
/// resolve outside the folder all answer 404. Small files are cached in memory with their headers
/// and revalidated with one stat() per request.
public final class StaticFiles: Sendable {
    /// The folder, fully resolved (symbolic links followed), without a trailing slash.
    public let root: String
    private let cache = Mutex<[String: CachedFile]>([:])
    private static let maxCachedFileBytes = 1 << 20
    private static let maxCacheEntries = 512

    private struct CachedFile: Sendable {
        let identity: FileIdentity
        let etag: String
        let headers: HTTPHeaders
        /// Nil for files too large to keep in memory: they are read per request.
        let bytes: [UInt8]?
    }

    private struct FileIdentity: Equatable, Sendable {
        let size: Int
        let modifiedNanoseconds: Int
        let inode: UInt64
        let device: UInt64

        init(_ info: stat) {
            size = Int(info.st_size)
            modifiedNanoseconds = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
            inode = UInt64(info.st_ino)
            device = UInt64(info.st_dev)
        }
    }

    /// Fails when the folder does not exist.
    public init(root: String) throws {
        guard let resolved = realpath(root, nil) else { throw SocketError("realpath(\(root))") }
        defer { free(resolved) }
        self.root = String(cString: resolved)
    }

    /// A route handler that serves this folder.
    public var handler: RouteHandler { .sync { [self] request in try self.respond(to: request) } }

    public func respond(to request: HTTPRequest) throws -> HTTPResponse {
        guard request.method == .GET || request.method == .HEAD else {
            throw HTTPError(.methodNotAllowed, "static files answer GET and HEAD only", headers: ["Allow": "GET, HEAD"])
        }
        let path = request.path
        let notFound = HTTPError(.notFound, "no file at \(path)")
        guard let relative = Self.safeRelativePath(path) else { throw notFound }
        var candidate = relative.isEmpty ? root : root + "/" + relative
        var info = stat()
        guard stat(candidate, &info) == 0 else { throw notFound }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            // A folder is served by its index.html, and only under its slash-ended URL so that
            // relative links in the page resolve inside the folder.
            guard path.hasSuffix("/") else {
                let location = path + "/" + (request.head.query.map { "?" + $0 } ?? "")
                return HTTPResponse(status: HTTPStatus(301), headers: ["Location": location])
            }
            candidate += "/index.html"
            guard stat(candidate, &info) == 0 else { throw notFound }
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw notFound }
        let identity = FileIdentity(info)
        // A cached entry for the same file (same inode, size and time) was already checked to be
        // inside the root and carries its headers: one stat() per request is all it costs.
        let file: CachedFile
        if let cached = cache.withLock({ $0[candidate] }), cached.identity == identity {
            file = cached
        } else {
            guard isInsideRoot(candidate) else { throw notFound }
            file = try load(candidate, identity: identity)
        }
        if let ifNoneMatch = request.headers["If-None-Match"] {
            if Self.matches(ifNoneMatch, etag: file.etag) {
                return HTTPResponse(status: .notModified, headers: file.headers)
            }
        } else if let text = request.headers["If-Modified-Since"], let since = HTTPDate.parse(text),
            identity.modifiedNanoseconds / 1_000_000_000 <= since
        {
            return HTTPResponse(status: .notModified, headers: file.headers)
        }
        if request.method == .HEAD {
            // The connection sends no body for HEAD but announces this length.
            var headers = file.headers
            headers["Content-Length"] = String(identity.size)
            return HTTPResponse(status: .ok, headers: headers, body: .stream { _ in })
        }
        let bytes = try file.bytes ?? Self.readFile(candidate, expectedSize: identity.size)
        return HTTPResponse(status: .ok, headers: file.headers, bytes: bytes)
    }

    /// Builds the headers of a file and, when it is small, keeps it with its bytes.
    private func load(_ path: String, identity: FileIdentity) throws -> CachedFile {
        let etag =
            "\"\(String(identity.size, radix: 16))-\(String(identity.modifiedNanoseconds, radix: 16))-\(String(identity.inode, radix: 16))\""
        let headers: HTTPHeaders = [
            "Content-Type": MediaType.forPath(path),
            "ETag": etag,
            "Last-Modified": HTTPDate.format(secondsSince1970: identity.modifiedNanoseconds / 1_000_000_000),
            // Always revalidate: the gateway is local and files change with upgrades.
            "Cache-Control": "no-cache",
        ]
        guard identity.size <= Self.maxCachedFileBytes else {
            return CachedFile(identity: identity, etag: etag, headers: headers, bytes: nil)
        }
        let file = CachedFile(
            identity: identity, etag: etag, headers: headers,
            bytes: try Self.readFile(path, expectedSize: identity.size))
        cache.withLock { entries in
            if entries.count >= Self.maxCacheEntries { entries.removeAll() }
            entries[path] = file
        }
        return file
    }

    /// The request path as a path relative to the root, or nil when it tries to leave it or is
    /// not decodable. Each segment is decoded on its own, so `%2F` cannot make new segments.
    static func safeRelativePath(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return nil }
        var parts: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let segment = PercentEncoding.decode(String(raw)),
                segment != ".", segment != "..",
                // Byte checks: String.contains(String) would go through Foundation's search.
                !segment.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == 0 || $0 == UInt8(ascii: "\\") })
            else { return nil }
            parts.append(segment)
        }
        return parts.joined(separator: "/")
    }

    /// True when the file's real path (links resolved) is below the root.
    private func isInsideRoot(_ path: String) -> Bool {
        guard let resolved = realpath(path, nil) else { return false }
        defer { free(resolved) }
        return String(cString: resolved).hasPrefix(root + "/")
    }

    /// If-None-Match is a list of entity tags or `*`; weak comparison, as RFC 9110 §13.1.2 says.
    public static func matches(_ header: String, etag: String) -> Bool {
        let bare = etag.hasPrefix("W/") ? String(etag.dropFirst(2)) : etag
        return header.split(separator: ",").contains { item in
            let tag = item.trimmingHTTPWhitespace()
            return tag == "*" || tag == bare || tag == "W/" + bare
        }
    }

    private static func readFile(_ path: String, expectedSize: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HTTPError(.notFound, "file vanished") }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: expectedSize)
        var filled = 0
        while filled < expectedSize {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, expectedSize - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            filled += n
        }
        return Array(bytes.prefix(filled))
    }
}
