import HTTPCore
import HTTPServer
import JSONValue

/// Turns an `EventHub` subscription into a `text/event-stream` response: `retry:` advice first,
/// an `event: gap` when the asked-for id is no longer held, then the events; comments as
/// heartbeats; a final `event: overflow` for a subscriber that fell too far behind.
enum EventStreamResponse {
    /// `endAfter`: a run id whose terminal event ends the stream (per-run streams), which also
    /// start with what is held of that run when no id is given.
    static func make(
        hub: EventHub, filter: EventFilter, after: EventID?, endAfter run: String? = nil,
        extraHeaders: HTTPHeaders = HTTPHeaders()
    ) throws -> HTTPResponse {
        let subscription: EventSubscription
        let resume: EventHub.Resume
        do {
            (subscription, resume) = try hub.subscribe(filter, after: after, replayHeld: run != nil)
        } catch {
            throw HTTPError(
                .serviceUnavailable,
                "too many event subscribers (limit \(hub.configuration.maxSubscribers)); retry later",
                headers: ["Retry-After": "5"])
        }
        let previews = filter.previews
        return .stream(headers: headers(extraHeaders)) { writer in
            writer.onClose { hub.unsubscribe(subscription) }
            var opening = ServerSentEvent.retry(milliseconds: hub.configuration.retryMilliseconds)
            if case .gap(let requested, let firstHeld) = resume {
                let data: JSONValue = [
                    "requested": requested.map { .string($0.description) } ?? .null,
                    "first_held": firstHeld.map { .string($0.description) } ?? .null,
                    "message":
                        "events after the requested id are no longer held (too old, or from before a gateway restart); the replay starts at first_held",
                ]
                opening += ServerSentEvent.encode(event: "gap", id: nil, data: data.compactJSON)
            }
            guard await writer.write(opening) else { return }
            subscription.attach(writer)
            streaming: while true {
                switch await subscription.next() {
                case .events(let events):
                    var bytes: [UInt8] = []
                    var ended = false
                    for event in events {
                        bytes += previews ? (event.encodedWithPreview ?? event.encoded) : event.encoded
                        if let run, event.runID == run, event.isTerminal { ended = true; break }
                    }
                    guard await writer.write(bytes), !ended else { break streaming }
                    subscription.finishedWriting()
                case .heartbeat:
                    guard await writer.write(ServerSentEvent.comment("heartbeat")) else { break streaming }
                case .overflow(let dropped):
                    let data: JSONValue = [
                        "dropped": .int(dropped),
                        "message":
                            "this client fell too far behind and is disconnected; reconnect with Last-Event-ID to resume",
                    ]
                    writer.offer(
                        ServerSentEvent.encode(event: "overflow", id: nil, data: data.compactJSON), pastTheMark: true)
                    break streaming
                case .closed:
                    break streaming
                }
            }
            hub.unsubscribe(subscription)
        }
    }

    /// The stream of a run that has already ended: what is still held of it, then the end. When
    /// the hub no longer holds the terminal event (it was sent before a gateway restart, or
    /// long ago), the run's recorded terminal event ends the stream instead, without an id (it
    /// is not part of this process's sequence).
    static func replay(
        hub: EventHub, run: Run, filter: EventFilter, after: EventID?, extraHeaders: HTTPHeaders = HTTPHeaders()
    ) -> HTTPResponse {
        let held = hub.held(matching: filter)
        let events = held.filter { event in after.map { event.id > $0 } ?? true }
        var bytes = ServerSentEvent.retry(milliseconds: hub.configuration.retryMilliseconds)
        for event in events { bytes += filter.previews ? (event.encodedWithPreview ?? event.encoded) : event.encoded }
        if !held.contains(where: { $0.runID == run.id && $0.isTerminal }), let data = run.terminalEventData {
            bytes += ServerSentEvent.encode(
                event: "run.\(run.status.rawValue)", id: nil, data: JSONValue.object(data).compactJSON)
        }
        return HTTPResponse(status: .ok, headers: headers(extraHeaders), bytes: bytes)
    }

    private static func headers(_ extra: HTTPHeaders) -> HTTPHeaders {
        var headers: HTTPHeaders = [
            "Content-Type": ServerSentEvent.contentType,
            "Cache-Control": "no-store",
            // Proxies that buffer (nginx) would hold events back.
            "X-Accel-Buffering": "no",
        ]
        for (name, value) in extra { headers.add(name, value) }
        return headers
    }
}
