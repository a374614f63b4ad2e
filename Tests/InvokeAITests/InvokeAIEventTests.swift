import InvokeAI
import JSONValue
import Testing

@Suite struct InvokeAIEventTests {
    static let base =
        #""queue_id":"default","item_id":7,"batch_id":"b1","origin":"gw","destination":"run-1","user_id":"system","session_id":"s1""#
    static let invocation =
        #""invocation":{"id":"prep-1","type":"gateway_test_slow","steps":3},"invocation_source_id":"slow""#

    private func decode(_ text: String) throws -> InvokeAIEvent {
        try #require(InvokeAIEvent.decode(socketIOText: text))
    }

    @Test func progress() throws {
        let event = try decode(
            #"2["invocation_progress",{\#(Self.base),\#(Self.invocation),"message":"step 1/3","percentage":0.3333,"image":null,"device":"cpu","timestamp":1}]"#
        )
        guard case .invocationProgress(let info, let progress) = event else { Issue.record("got \(event)"); return }
        #expect(
            info.item
                == QueueItemRef(
                    queueId: "default", itemId: 7, batchId: "b1", sessionId: "s1", origin: "gw", destination: "run-1",
                    userId: "system"))
        #expect(
            info.sourceNodeId == "slow" && info.invocationId == "prep-1" && info.invocationType == "gateway_test_slow")
        #expect(progress == InvocationProgress(message: "step 1/3", percentage: 0.3333, image: nil))
        #expect(event.itemId == 7 && event.name == "invocation_progress")
    }

    @Test func startedCompleteError() throws {
        #expect(
            try decode(#"2["invocation_started",{\#(Self.base),\#(Self.invocation)}]"#)
                == .invocationStarted(
                    InvocationInfo(
                        item: QueueItemRef(
                            queueId: "default", itemId: 7, batchId: "b1", sessionId: "s1", origin: "gw",
                            destination: "run-1", userId: "system"),
                        sourceNodeId: "slow", invocationId: "prep-1", invocationType: "gateway_test_slow")))
        guard
            case .invocationComplete(_, let result) = try decode(
                #"2["invocation_complete",{\#(Self.base),\#(Self.invocation),"result":{"type":"integer_output","value":3}}]"#
            )
        else {
            Issue.record("not complete"); return
        }
        #expect(result == ["type": "integer_output", "value": 3])
        guard
            case .invocationError(_, let failure) = try decode(
                #"2["invocation_error",{\#(Self.base),\#(Self.invocation),"error_type":"GatewayTestError","error_message":"boom","error_traceback":"tb"}]"#
            )
        else {
            Issue.record("not error"); return
        }
        #expect(failure == InvocationFailure(errorType: "GatewayTestError", errorMessage: "boom", errorTraceback: "tb"))
    }

    @Test func statusChanged() throws {
        let event = try decode(
            #"2["queue_item_status_changed",{\#(Self.base),"status":"failed","status_sequence":4,"error_type":"E","error_message":"m","error_traceback":null,"created_at":"c","updated_at":"u","started_at":"s","completed_at":"d","batch_status":{"completed":0},"queue_status":{}}]"#
        )
        guard case .queueItemStatusChanged(let change) = event else { Issue.record("got \(event)"); return }
        #expect(change.status == .failed && change.status.isTerminal && change.statusSequence == 4)
        #expect(change.failure == InvocationFailure(errorType: "E", errorMessage: "m"))
        #expect(change.startedAt == "s" && change.completedAt == "d")
        #expect(!QueueItemStatus.inProgress.isTerminal && !QueueItemStatus.pending.isTerminal)
    }

    @Test func queueEvents() throws {
        #expect(
            try decode(
                #"2["batch_enqueued",{"queue_id":"default","batch_id":"b","enqueued":2,"requested":2,"priority":0,"origin":"gw","user_id":"system"}]"#
            )
                == .batchEnqueued(
                    BatchEnqueued(
                        queueId: "default", batchId: "b", enqueued: 2, requested: 2, priority: 0, origin: "gw",
                        userId: "system")))
        #expect(
            try decode(
                #"2["queue_items_canceled",{"queue_id":"default","canceled_item_ids":[1,2],"user_ids":["system"],"canceled_item_ids_by_user":{}}]"#
            )
                == .queueItemsCanceled(queueId: "default", itemIds: [1, 2]))
        #expect(
            try decode(#"2["queue_cleared",{"queue_id":"default","user_id":null}]"#)
                == .queueCleared(queueId: "default"))
    }

    @Test func unknownAndMalformedEventsKeepTheirJSON() throws {
        #expect(
            try decode(#"2["model_load_started",{"config":{}}]"#)
                == .unknown(name: "model_load_started", payload: ["config": [:]]))
        // A known name with the wrong shape is not an error either.
        #expect(
            try decode(#"2["invocation_progress",{"item_id":"seven"}]"#)
                == .unknown(name: "invocation_progress", payload: ["item_id": "seven"]))
        #expect(
            try decode(#"2["queue_item_status_changed",{\#(Self.base),"status":"exploded"}]"#).name
                == "queue_item_status_changed")
        #expect(InvokeAIEvent.decode(socketIOText: "3[]") == nil)
        #expect(InvokeAIEvent.decode(socketIOText: "2[") == nil)
    }
}
