import JSONValue
import Testing

@Suite struct JSONObjectTests {
    @Test func keepsOrderAndFindsMembersSmallOrLarge() {
        for size in [3, 12, 13, 40] {
            var object = JSONObject()
            for i in 0..<size { object["k\(i)"] = .int(i) }
            #expect(object.count == size)
            #expect(object.keys.map { $0 } == (0..<size).map { "k\($0)" })
            for i in 0..<size { #expect(object["k\(i)"] == .int(i)) }
            object["k1"] = "changed"
            #expect(object["k1"] == "changed" && object.count == size)
            object["k0"] = nil
            #expect(object["k0"] == nil && object.count == size - 1)
            #expect(object["k2"] == .int(2) && object.keys.first == "k1")
            #expect(object.removeValue(forKey: "k2") == .int(2))
            #expect(object["k2"] == nil && object.count == size - 2)
            if size > 3 { #expect(object["k\(size - 1)"] == .int(size - 1)) }
        }
    }

    @Test func repeatedKeysKeepTheLastValueAtTheFirstPlace() {
        let small = JSONObject([(key: "a", value: 1), (key: "b", value: 2), (key: "a", value: 3)])
        #expect(small.count == 2 && small["a"] == 3 && small.keys.map { $0 } == ["a", "b"])
        let large = JSONObject((0..<30).map { (key: "k\($0 % 20)", value: JSONValue.int($0)) })
        #expect(large.count == 20 && large["k5"] == 25 && large["k19"] == 19 && large.keys.first == "k0")
    }

    @Test func equalityAndHashingIgnoreOrder() {
        let a: JSONObject = ["x": 1, "y": [true, nil]]
        let b: JSONObject = ["y": [true, nil], "x": 1]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != ["x": 1, "y": [true]])
        #expect(a != ["x": 1])
        #expect(Set([JSONValue.object(a), .object(b)]).count == 1)
    }

    @Test func writesSortedCompactTextWithEscapes() throws {
        let value: JSONValue = ["b": ["t\"\\\n\r\t\u{1}\u{1F}é\u{2028}\u{2029}😀", 2.5, 3.0, -7], "a": [:]]
        let text = value.compactJSON
        #expect(text == #"{"a":{},"b":["t\"\\\n\r\t\u0001\u001fé\u2028\u2029😀",2.5,3.0,-7]}"#)
        #expect(try FastJSONParser.parse(text) == value)
        // Keys come out sorted whether they were added in order or not.
        #expect(JSONValue.object(["a": 1, "b": ["y": 2, "x": 3]]).compactJSON == #"{"a":1,"b":{"x":3,"y":2}}"#)
    }
}
