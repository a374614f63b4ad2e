import JSONValue

extension InvokeAIEvent {
    /// Decodes one Socket.IO event (name and first argument). Never throws.
    public static func decode(name: String, payload: JSONValue) -> InvokeAIEvent {
        decodeKnown(name: name, payload: payload) ?? .unknown(name: name, payload: payload)
    }

    /// Decodes the text of an Engine.IO message packet's Socket.IO event (`2[name, data]` after
    /// the Engine.IO `4`); nil when it is not an event packet.
    public static func decode(socketIOText text: String) -> InvokeAIEvent? {
        guard let packet = try? SocketIOPacket.parse(text), let (name, payload) = packet.eventNameAndPayload else {
            return nil
        }
        return decode(name: name, payload: payload)
    }

    private static func decodeKnown(name: String, payload p: JSONValue) -> InvokeAIEvent? {
        switch name {
        case "queue_item_status_changed":
            guard let item = QueueItemRef(p), let raw = p["status"]?.stringValue,
                let status = QueueItemStatus(rawValue: raw)
            else { return nil }
            var failure: InvocationFailure?
            if p["error_type"]?.stringValue != nil || p["error_message"]?.stringValue != nil {
                failure = InvocationFailure(
                    errorType: p["error_type"]?.stringValue ?? "", errorMessage: p["error_message"]?.stringValue ?? "",
                    errorTraceback: p["error_traceback"]?.stringValue)
            }
            return .queueItemStatusChanged(
                QueueItemStatusChange(
                    item: item, status: status, statusSequence: p["status_sequence"]?.intValue, failure: failure,
                    createdAt: p["created_at"]?.stringValue, startedAt: p["started_at"]?.stringValue,
                    completedAt: p["completed_at"]?.stringValue, batchStatus: p["batch_status"]))
        case "invocation_started":
            return InvocationInfo(p).map { .invocationStarted($0) }
        case "invocation_progress":
            guard let info = InvocationInfo(p), let message = p["message"]?.stringValue else { return nil }
            // (JSONValue is nil-literal-expressible: spell out Optional.none, or nil becomes .null.)
            let image: JSONValue? = p["image"].flatMap { $0.isNull ? Optional<JSONValue>.none : $0 }
            return .invocationProgress(
                info, InvocationProgress(message: message, percentage: p["percentage"]?.doubleValue, image: image))
        case "invocation_complete":
            guard let info = InvocationInfo(p), let result = p["result"] else { return nil }
            return .invocationComplete(info, result: result)
        case "invocation_error":
            guard let info = InvocationInfo(p), let type = p["error_type"]?.stringValue,
                let message = p["error_message"]?.stringValue
            else { return nil }
            return .invocationError(
                info,
                InvocationFailure(
                    errorType: type, errorMessage: message, errorTraceback: p["error_traceback"]?.stringValue))
        case "batch_enqueued":
            guard let queueId = p["queue_id"]?.stringValue, let batchId = p["batch_id"]?.stringValue,
                let enqueued = p["enqueued"]?.intValue
            else { return nil }
            return .batchEnqueued(
                BatchEnqueued(
                    queueId: queueId, batchId: batchId, enqueued: enqueued,
                    requested: p["requested"]?.intValue ?? enqueued, priority: p["priority"]?.intValue ?? 0,
                    origin: p["origin"]?.stringValue, userId: p["user_id"]?.stringValue))
        case "queue_items_canceled":
            guard let queueId = p["queue_id"]?.stringValue, let ids = p["canceled_item_ids"]?.arrayValue else {
                return nil
            }
            let itemIds = ids.compactMap(\.intValue)
            guard itemIds.count == ids.count else { return nil }
            return .queueItemsCanceled(queueId: queueId, itemIds: itemIds)
        case "queue_cleared":
            return p["queue_id"]?.stringValue.map { .queueCleared(queueId: $0) }
        default:
            return nil
        }
    }
}
