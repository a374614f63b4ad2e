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
                type: .tooManySubscribers, headers: ["Retry-After": "5"])
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

    /// The stream of a run that has already ended: what is still held of it, then the end, and
    /// the response ends. When the hub no longer holds the terminal event (it was sent long ago,
    /// or the run ended before this process started), the run's recorded end is sent instead,
    /// with the id it had (or, never published here, the newest id: where the stream is now).
    ///
    /// EventSource reconnects after every end of a response, with the last id it saw: a resume
    /// at or after the run's end (an id of this process, and nothing of the run after it) is
    /// answered 204, which makes EventSource stop (readyState CLOSED) instead of replaying forever.
    static func replay(
        hub: EventHub, run: Run, filter: EventFilter, after: EventID?, extraHeaders: HTTPHeaders = HTTPHeaders()
    ) -> HTTPResponse {
        let held = hub.held(matching: filter)
        // An id of another process: everything held is news to the client.
        let events = held.filter { event in after.map { $0.epoch != hub.epoch || event.id > $0 } ?? true }
        let endID = run.terminalEventID.flatMap { $0.epoch == hub.epoch ? $0 : nil }
        if let after, after.epoch == hub.epoch, events.isEmpty, endID.map({ after >= $0 }) ?? true {
            var headers = HTTPHeaders()
            for (name, value) in extraHeaders { headers.add(name, value) }
            headers["Cache-Control"] = "no-store"
            return HTTPResponse(status: .noContent, headers: headers)
        }
        var bytes = ServerSentEvent.retry(milliseconds: hub.configuration.retryMilliseconds)
        for event in events { bytes += filter.previews ? (event.encodedWithPreview ?? event.encoded) : event.encoded }
        if !events.contains(where: { $0.runID == run.id && $0.isTerminal }),
            after.map({ id in endID.map { id < $0 } ?? true }) ?? true
        {
            bytes += ServerSentEvent.encode(
                event: "run.\(run.status.rawValue)", id: (endID ?? hub.lastID).description,
                data: JSONValue.object(run.terminalEventData ?? run.eventData).compactJSON)
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
