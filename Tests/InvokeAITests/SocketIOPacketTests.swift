import InvokeAI
import JSONValue
import Testing

@Suite struct SocketIOPacketTests {
    @Test func engineIOPackets() throws {
        let open = try EngineIOPacket.parse(
            #"0{"sid":"abc","upgrades":[],"pingTimeout":20000,"pingInterval":25000,"maxPayload":1000000}"#)
        #expect(
            open == .open(EngineIOHandshake(sid: "abc", pingInterval: 25000, pingTimeout: 20000, maxPayload: 1_000_000))
        )
        #expect(try EngineIOPacket.parse("2") == .ping(""))
        #expect(try EngineIOPacket.parse("3probe") == .pong("probe"))
        #expect(try EngineIOPacket.parse("1") == .close)
        #expect(try EngineIOPacket.parse("6") == .noop)
        #expect(try EngineIOPacket.parse(#"42["a",1]"#) == .message(#"2["a",1]"#))
        #expect(EngineIOPacket.pong("").encoded == "3")
        #expect(EngineIOPacket.message("40").encoded == "440")
        #expect(throws: EngineIOPacket.ParseError.empty) { try EngineIOPacket.parse("") }
        #expect(throws: EngineIOPacket.ParseError.unknownType("9")) { try EngineIOPacket.parse("9x") }
        #expect(throws: EngineIOPacket.ParseError.self) { try EngineIOPacket.parse("0{not json") }
        #expect(throws: EngineIOPacket.ParseError.self) { try EngineIOPacket.parse(#"0{"sid":"a"}"#) }
    }

    @Test func socketIOConnectWithAuthAndAnswers() throws {
        #expect(SocketIOPacket(kind: .connect).encoded == "0")
        #expect(SocketIOPacket(kind: .connect, data: ["token": "t"]).encoded == #"0{"token":"t"}"#)
        let connected = try SocketIOPacket.parse(#"0{"sid":"xyz"}"#)
        #expect(connected.kind == .connect && connected.data?["sid"] == "xyz")
        let refused = try SocketIOPacket.parse(#"4{"message":"Connection rejected by server"}"#)
        #expect(refused.kind == .connectError && refused.data?["message"] == "Connection rejected by server")
        #expect(try SocketIOPacket.parse("1").kind == .disconnect)
    }

    @Test func eventsWithAckIDsAndNamespaces() throws {
        let subscribe = SocketIOPacket.event("subscribe_queue", [["queue_id": "default"]], ackID: 12)
        #expect(subscribe.encoded == #"212["subscribe_queue",{"queue_id":"default"}]"#)
        #expect(try SocketIOPacket.parse(subscribe.encoded) == subscribe)
        let ack = try SocketIOPacket.parse("312[]")
        #expect(ack.kind == .ack && ack.ackID == 12 && ack.data == [])
        let namespaced = try SocketIOPacket.parse(#"2/admin,7["x",{"a":1}]"#)
        #expect(namespaced.namespace == "/admin" && namespaced.ackID == 7)
        #expect(namespaced.eventNameAndPayload?.name == "x")
        #expect(namespaced.encoded == #"2/admin,7["x",{"a":1}]"#)
    }

    @Test func malformedPacketsAreErrorsNotCrashes() {
        #expect(throws: SocketIOPacket.ParseError.empty) { try SocketIOPacket.parse("") }
        #expect(throws: SocketIOPacket.ParseError.self) { try SocketIOPacket.parse("9") }
        #expect(throws: SocketIOPacket.ParseError.self) { try SocketIOPacket.parse("2[") }
        #expect(throws: SocketIOPacket.ParseError.self) { try SocketIOPacket.parse(#"2{"not":"an array"}"#) }
        #expect(throws: SocketIOPacket.ParseError.self) { try SocketIOPacket.parse("2[1,2]") }
        #expect(throws: SocketIOPacket.ParseError.badAckID) { try SocketIOPacket.parse("299999999999999999999999[]") }
        #expect(throws: SocketIOPacket.ParseError.binaryNotSupported) {
            try SocketIOPacket.parse(#"51-["x",{"_placeholder":true,"num":0}]"#)
        }
    }
}
