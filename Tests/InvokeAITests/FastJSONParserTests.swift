import Foundation
import InvokeAI
import JSONValue
import Testing

@Suite struct FastJSONParserTests {
    @Test func parsesEveryKind() throws {
        let value = try FastJSONParser.parse(
            #" {"a":[1,-2,3.5,-0.25e2,1E3,true,false,null],"s":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","o":{}, "e":[]} "#)
        #expect(value["a"] == [1, -2, 3.5, -25.0, 1000.0, true, false, nil])
        #expect(value["s"] == .string("x\"\\/\u{8}\u{c}\n\r\té😀"))
        #expect(value["o"] == [:] && value["e"] == [])
        #expect(try FastJSONParser.parse("9223372036854775807") == .int(Int.max))
        #expect(try FastJSONParser.parse("-9223372036854775808") == .int(Int.min))
        #expect(try FastJSONParser.parse("9223372036854775808") == .double(9223372036854775808))
    }

    @Test func agreesWithJSONDecoder() throws {
        let text =
            #"{"queue_id":"default","item_id":12,"percentage":0.6,"nested":[{"k":"v","n":null,"b":false}],"u":"\u2603 snow"}"#
        let viaDecoder = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(try FastJSONParser.parse(text) == viaDecoder)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"\u{01}\"", "\"\\x\"", "\"\\ud800\"", "\"\\udc00x\"",
        "[1] 2", "nul", "{\"a\":1,}", "\"unterminated", "1e", "+1",
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: FastJSONParser.Error.self) { try FastJSONParser.parse(text) }
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(throws: FastJSONParser.Error.self) { try FastJSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: FastJSONParser.Error.self) { try FastJSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: Never.self) { try FastJSONParser.parse(fine) }
    }

    @Test func encoderRoundTrips() throws {
        let value: JSONValue = ["b": [1, 2.5, "x\n\u{1}", nil, true], "a": ["nested": [:]]]
        let text = JSONText.encode(value)
        #expect(text == #"{"a":{"nested":{}},"b":[1,2.5,"x\n\u0001",null,true]}"#)
        #expect(try FastJSONParser.parse(text) == value)
    }
}
