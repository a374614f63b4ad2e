import Foundation
import HTTPCore
import HTTPServer
import InvokeAI
import JSONValue

/// `/v1/images`: upload to InvokeAI, download through the gateway, delete. A caller without
/// admin reaches only its own images: its runs' outputs and inputs, and what it uploaded here
/// (tagged in InvokeAI's record, `UploadTag`); any other image is not found (404). Nobody
/// deletes through the gateway an image it did not make or receive (`checkAccess`).
enum ImageRoutes {
    static let acceptedTypes: Set<String> = ["image/png", "image/jpeg", "image/webp"]

    static func add(to router: inout AccessRouter, client: InvokeAIClient, tracker: RunTracker) {
        let destination = tracker.destination
        router.add(
            .POST, "/v1/images",
            .async { request, caller in
                let (bytes, contentType, fileName) = try imagePart(of: request)
                // No board, an empty one or `none`: the image goes to InvokeAI's uncategorized images.
                let board = request.filledQuery("board").flatMap { $0 == "none" ? nil : $0 }
                do {
                    let image = try await client.uploadImage(
                        Data(bytes), fileName: fileName, contentType: contentType, boardId: board,
                        sessionId: UploadTag.text(tenant: caller.tenant, destination: destination))
                    return .json(json(image), status: .created)
                } catch let error as InvokeAIError where error.statusCode == 404 && board != nil {
                    // InvokeAI answers 404 for a board it does not have: the client named it, so it is the client's to fix.
                    throw UpstreamProblem.refused("no board \(board!) in InvokeAI (GET /v1/boards lists them)", error)
                }
            })
        for (suffix, size) in [("", InvokeAIImageSize.full), ("/thumbnail", .thumbnail)] {
            router.add(
                .GET, "/v1/images/{name}\(suffix)",
                .async { request, caller in
                    let name = request.pathParameters["name"] ?? ""
                    // An image never changes once made (it can only be deleted): its name is its ETag.
                    let etag = "\"\(name)\(suffix.isEmpty ? "" : "-thumb")\""
                    let caching = "private, max-age=31536000, immutable"
                    if let match = request.headers["If-None-Match"], StaticFiles.matches(match, etag: etag) {
                        return HTTPResponse(status: .notModified, headers: ["ETag": etag, "Cache-Control": caching])
                    }
                    try await checkAccess(name, caller, deleting: false, client: client, tracker: tracker)
                    let download: (file: URL, contentType: String?, length: Int64)
                    do {
                        download = try await client.downloadImage(name, size: size)
                    } catch let error as InvokeAIError where error.statusCode == 404 {
                        throw HTTPError(.notFound, "no image \(name) in InvokeAI")
                    }
                    let headers: HTTPHeaders = [
                        "Content-Type": download.contentType ?? "application/octet-stream",
                        "Content-Length": String(download.length),
                        "ETag": etag,
                        "Cache-Control": caching,
                    ]
                    // Outputs of a run that asked for `"cleanup": "outputs"` go once fetched in full.
                    return fileResponse(download.file, headers: headers) {
                        if size == .full { tracker.outputFetched(name) }
                    }
                })
        }
        router.add(
            .DELETE, "/v1/images/{name}",
            .async { request, caller in
                let name = request.pathParameters["name"] ?? ""
                try await checkAccess(name, caller, deleting: true, client: client, tracker: tracker)
                do {
                    try await client.deleteImage(name)
                } catch let error as InvokeAIError where error.statusCode == 404 {
                    throw HTTPError(.notFound, "no image \(name) in InvokeAI")
                }
                return HTTPResponse(status: .noContent)
            })
    }

    /// Reads: an admin reaches every image; any other caller only its own (its runs' outputs
    /// and inputs, its uploads), the rest is 404 as for an image that does not exist.
    /// Deletes: only the gateway's own images, for every caller: the GUI user's images, and
    /// those of runs older than the run window, are not the gateway's to delete (an admin is
    /// told so with 403; others see 404).
    static func checkAccess(
        _ name: String, _ caller: Caller, deleting: Bool, client: InvokeAIClient, tracker: RunTracker
    ) async throws {
        if caller.isAdmin, !deleting { return }
        let owner = caller.isAdmin ? nil : caller.tenant
        if tracker.hasImage(name, owner: owner, deleting: deleting) { return }
        let record: InvokeAIImage
        do {
            record = try await client.image(name)
        } catch {
            if error.statusCode == 404 { throw HTTPError(.notFound, "no image \(name) in InvokeAI") }
            throw error
        }
        if UploadTag.matches(record.sessionId, tenant: owner, destination: tracker.destination) { return }
        guard caller.isAdmin else { throw HTTPError(.notFound, "no image \(name) in InvokeAI") }
        throw HTTPError(
            .forbidden,
            "image \(name) is not this gateway's to delete: it is neither an output or input of one of its runs "
                + "in the run window nor uploaded through POST /v1/images; delete it in InvokeAI")
    }

    /// The image of an upload: a raw body with an image Content-Type, or the first file part
    /// (or the part named `file`) of a multipart/form-data body.
    static func imagePart(of request: HTTPRequest) throws -> (bytes: [UInt8], contentType: String, fileName: String) {
        let contentType = ParameterizedValue(parsing: request.headers["Content-Type"] ?? "").value
        if contentType == "multipart/form-data" {
            let form = try MultipartFormData(contentType: request.headers["Content-Type"] ?? "", body: request.body)
            guard let part = form.part("file") ?? form.parts.first(where: { $0.filename != nil }) else {
                throw HTTPError(.badRequest, "multipart upload without a file part (name it \"file\")")
            }
            let partType = ParameterizedValue(parsing: part.contentType).value
            guard acceptedTypes.contains(partType) else {
                throw HTTPError(
                    .unsupportedMediaType,
                    "the file part is \(partType); accepted: \(acceptedTypes.sorted().joined(separator: ", "))")
            }
            return (part.body, partType, part.filename ?? "upload")
        }
        guard acceptedTypes.contains(contentType) else {
            throw HTTPError(
                .unsupportedMediaType,
                "send an image (\(acceptedTypes.sorted().joined(separator: ", "))) or multipart/form-data, not '\(contentType)'"
            )
        }
        guard !request.body.isEmpty else { throw HTTPError(.badRequest, "empty image body") }
        return (request.body, contentType, "upload")
    }

    static func json(_ image: InvokeAIImage) -> JSONValue {
        [
            "name": .string(image.name),
            "width": image.width.map { .int($0) } ?? .null,
            "height": image.height.map { .int($0) } ?? .null,
            "board_id": image.boardId.map { .string($0) } ?? .null,
            "url": .string("/v1/images/\(image.name)"),
            "thumbnail_url": .string("/v1/images/\(image.name)/thumbnail"),
        ]
    }

    /// Streams a downloaded file to the client in 64 KiB pieces, then removes it; `sent` runs
    /// once the whole file went out. A file that cannot be read ends the body short of its
    /// Content-Length (the client sees it cut off), and `sent` does not run.
    static func fileResponse(_ file: URL, headers: HTTPHeaders, sent: @escaping @Sendable () async -> Void = {})
        -> HTTPResponse
    {
        .stream(headers: headers) { writer in
            // A temporary download: one left behind is only litter in the temporary folder.
            defer { try? FileManager.default.removeItem(at: file) }
            do {
                let handle = try FileHandle(forReadingFrom: file)
                // Read only: closing has nothing to report.
                defer { try? handle.close() }
                while let chunk = try handle.read(upToCount: 64 * 1024), !chunk.isEmpty {
                    guard await writer.write(Array(chunk)) else { return }
                }
            } catch {
                return
            }
            await sent()
        }
    }
}
