import HTTPServer
import InvokeAI
import JSONValue

/// `/v1/boards`, `/v1/models`, `/v1/queue`: InvokeAI's own views, passed through.
enum ReadThroughRoutes {
    static func add(to router: inout AccessRouter, client: InvokeAIClient, destination: String) {
        router.add(
            .GET, "/v1/boards",
            .async { _, _ in
                .json(["boards": .array(try await client.boards())] as JSONValue)
            })
        router.add(
            .GET, "/v1/models",
            .async { request, _ in
                do {
                    let models = try await client.models(
                        base: request.filledQuery("base"), type: request.filledQuery("type"))
                    return .json(["models": .array(models)] as JSONValue)
                } catch let error as InvokeAIError where error.statusCode == 422 {
                    // InvokeAI's 422 lists the base and type values it knows: the client's filter is wrong.
                    throw UpstreamProblem.refused("InvokeAI refused the filter: \(error)", error)
                }
            })
        router.add(
            .GET, "/v1/queue",
            .async { _, _ in
                async let status = client.queueStatus()
                async let ours = client.queueCounts(destination: destination)
                return .json(
                    ["queue": try await status, "gateway": try await ours, "destination": .string(destination)]
                        as JSONValue)
            })
    }
}
