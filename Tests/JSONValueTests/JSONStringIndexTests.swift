import JSONValue
import Testing

@Suite struct JSONStringIndexTests {
    @Test func stringsAreFoundByTheirTextEscapedOrNot() throws {
        let document = try JSONDocument(parsing: Array(#"["ab","a\u0062","cd",1,"ab",""]"#.utf8))
        let items = document.items(of: 0)
        var index = JSONStringIndex(document, capacity: 2)
        #expect(index.valueInserting(10, forStringAt: items[0]) == 10)
        #expect(index.valueInserting(11, forStringAt: items[1]) == 10) // same text: the first keeps its value
        #expect(index.value(forStringAt: items[4]) == 10)
        #expect(index.value(forStringAt: items[2]) == nil)
        #expect(index.value(forStringAt: items[3]) == nil) // not a string
        #expect(index.set(7, forStringAt: items[3]) == false)
        index.set(12, forStringAt: items[4]) // replaces
        #expect(index.value(forStringAt: items[1]) == 12)
        index.set(0, forStringAt: items[5])
        #expect(index.value(forStringAt: items[5]) == 0)
        #expect(index.count == 2)
    }

    @Test func growsPastItsCapacityAndKeepsEveryValue() throws {
        let strings = (0..<3000).map { "node-\($0)-\(String(repeating: "x", count: $0 % 23))" }
        let document = try JSONDocument(parsing: Array(JSONValue.array(strings.map { .string($0) }).compactJSON.utf8))
        var index = JSONStringIndex(document, capacity: 4)
        for (value, position) in document.items(of: 0).enumerated() { index.set(value, forStringAt: position) }
        #expect(index.count == strings.count)
        #expect(document.items(of: 0).enumerated().allSatisfy { index.value(forStringAt: $0.element) == $0.offset })
    }

    @Test func severalMembersAreReadInOnePassWithEscapedAndRepeatedKeys() throws {
        let document = try JSONDocument(parsing: Array(#"{"a":1,"\u0062":2,"c":3,"a":4,"bb":5}"#.utf8))
        var seen: [(Int, Int?)] = []
        document.forEachMember(of: 0, named: ["a", "b"]) { key, value in seen.append((key, document.int(at: value))) }
        #expect(seen.map(\.0) == [0, 1, 0])
        #expect(seen.map(\.1) == [1, 2, 4])
    }
}
