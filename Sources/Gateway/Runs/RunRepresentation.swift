import Foundation
import HTTPCore
import HTTPServer
import InvokeAI
import JSONValue

/// What a run is answered as, by its request's `Accept`: JSON, or its output image when the
/// client asks for an image. An image is sent only for a completed run with exactly one output
/// image; otherwise a client that accepts JSON too gets the run as JSON, and one that accepts
/// only images gets 406 (`no-single-image`) naming the run's status and the URLs of the images
/// it has, never a JSON 200 it did not ask for.
struct RunRepresentation {
    let acceptsImage: Bool
    let acceptsJSON: Bool

    init(_ request: HTTPRequest) {
        var image = false, json = false
        let ranges = request.headers.tokens("Accept")
        for range in ranges {
            let parsed = ParameterizedValue(parsing: range)
            // `q=0` means "not this one".
            if let q = parsed.parameters["q"].flatMap(Double.init), q <= 0 { continue }
            switch parsed.value {
            case "*/*": json = true
            case "application/json", "application/*": json = true
            default: if parsed.value.hasPrefix("image/") { image = true }
            }
        }
        acceptsImage = image
        acceptsJSON = json || ranges.isEmpty
    }

    /// The image answer, the 406, or nil for the run as JSON.
    func answer(_ run: Run, client: InvokeAIClient, tracker: RunTracker) async throws -> HTTPResponse? {
        guard acceptsImage else { return nil }
        let names = run.outputImageNames
        if run.status == .completed, names.count == 1 {
            let data: Data, type: String?
            do {
                (data, type) = try await client.imageData(names[0])
            } catch {
                guard error.statusCode == 404 else { throw error }
                // Deleted since (a cleanup, DELETE /v1/images): the run stays, its image does not.
                if acceptsJSON { return nil }
                throw Self.refusal(run, names: names, deleted: true)
            }
            tracker.outputFetched(names[0])
            var response = HTTPResponse(
                status: .ok,
                headers: ["Content-Type": type ?? "image/png", "Content-Location": "/v1/images/\(names[0])"],
                bytes: Array(data))
            response.headers["Vary"] = "Accept"
            return response
        }
        if acceptsJSON { return nil }
        throw Self.refusal(run, names: names)
    }

    static func refusal(_ run: Run, names: [String], deleted: Bool = false) -> HTTPError {
        let why: String
        if deleted {
            why = "its one output image, \(names[0]), is no longer in InvokeAI (deleted)"
        } else if !run.status.isTerminal {
            why = "it has not ended (\(run.status.rawValue)); wait for it (?wait=, or its events) and ask again"
        } else if run.status != .completed {
            why = "it did not complete (\(run.status.rawValue))"
        } else {
            why = "it has \(names.count) output images, not one; fetch each from /v1/images/{name}"
        }
        return HTTPError(
            .notAcceptable,
            "run \(run.id) has no single image to answer with: \(why). Accept application/json for the run itself",
            type: .noSingleImage,
            extensions: [
                "run": .string("/v1/runs/\(run.id)"), "run_status": .string(run.status.rawValue),
                "image_count": .int(names.count), "images": .array(names.map { .string("/v1/images/\($0)") }),
            ], headers: ["Vary": "Accept"])
    }

    /// `?wait=<seconds>`: a number, zero or more; anything else is the client's mistake (400).
    /// `Prefer: wait=` is a preference: one that is not a number is ignored (RFC 7240).
    static func requestedWait(_ request: HTTPRequest) throws -> Double {
        if let text = request.query("wait") {
            guard let seconds = Double(text), seconds.isFinite, seconds >= 0 else {
                throw HTTPError(
                    .badRequest, "query parameter 'wait' must be a number of seconds, 0 or more; got '\(text)'",
                    extensions: ["parameter": "wait"])
            }
            return seconds
        }
        for preference in request.headers.tokens("Prefer") where preference.hasPrefix("wait=") {
            if let seconds = Double(preference.dropFirst(5)), seconds.isFinite { return max(0, seconds) }
        }
        return 0
    }
}
