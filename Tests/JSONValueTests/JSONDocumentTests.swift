import JSONValue
import Testing

@Suite struct JSONDocumentTests {
    @Test func readsValuesInPlaceAndBuildsThemOnRequest() throws {
        let text = #" {"name":"n\u00e9","n":[1,-2.5,true,null],"o":{"k":"v"} , "big":123456789012345678901234} "#
        let document = try JSONDocument(parsing: Array(text.utf8))
        let root = document.root
        #expect(root.kind == .object)
        #expect(root["name"]?.stringValue == "né")
        #expect(root["name"]?.isString("né") == true)
        #expect(root["name"]?.isString("ne") == false)
        #expect(root["n"]?.items.map(\.kind) == [.integer, .number, .true, .null])
        #expect(root["n"]?.items.first?.intValue == 1)
        #expect(root["o"]?.members.map(\.key) == ["k"])
        #expect(root["missing"] == nil)
        #expect(root["big"]?.value == .double(123456789012345678901234))
        #expect(
            root.value == [
                "name": "né", "n": [1, -2.5, true, nil], "o": ["k": "v"], "big": .double(123456789012345678901234),
            ])
    }

    @Test func rawTextIsTheDocumentsOwnIncludingEscapesAndSpacing() throws {
        let text = #"{"a": { "x" : [1, 2] }, "s": "q\"\n"}"#
        let root = try JSONDocument(parsing: Array(text.utf8)).root
        #expect(String(decoding: root["a"]!.raw, as: UTF8.self) == #"{ "x" : [1, 2] }"#)
        #expect(String(decoding: root["s"]!.raw, as: UTF8.self) == #""q\"\n""#)
        #expect(root["s"]?.stringValue == "q\"\n")
        #expect(root["s"]?.isString("q\"\n") == true)
    }

    @Test func aTextOfManySmallValuesGrowsTheTapePastItsFirstGuess() throws {
        // The tape starts at one entry per eight bytes; "[0,1,...]" needs one per two to four.
        let count = 20_000
        let text = "[" + (0..<count).map { String($0 % 10) }.joined(separator: ",") + ",{\"k\":[true,null]}]"
        let document = try JSONDocument(parsing: Array(text.utf8))
        let items = document.items(of: 0)
        #expect(items.count == count + 1)
        #expect(items.prefix(12).map { document.int(at: $0) } == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
        #expect(document.value(at: items[count]) == ["k": [true, nil]])
        #expect(document.root.value.arrayValue?.count == count + 1)
    }

    @Test func nestingIsAllowedUpToTheLimitAndRefusedPastIt() throws {
        let limit = FastJSONParser.maxDepth
        func nested(_ depth: Int) -> [UInt8] {
            Array(
                (String(repeating: "[{\"a\":", count: depth / 2) + "1" + String(repeating: "}]", count: depth / 2)).utf8
            )
        }
        let document = try JSONDocument(parsing: nested(limit))
        #expect(document.count(at: 0) == 1)
        #expect(throws: FastJSONParser.Error.self) { try JSONDocument(parsing: nested(limit + 2)) }
    }

    @Test func theLastOfARepeatedKeyWinsEverywhere() throws {
        let document = try JSONDocument(parsing: Array(#"{"a":1,"b":2,"a":3}"#.utf8))
        #expect(document.root["a"]?.intValue == 3)
        #expect(document.root.value == ["a": 3, "b": 2])
        #expect(document.root.value.objectValue?.count == 2)
        // Escaped keys are the same keys.
        let escaped = try JSONDocument(parsing: Array(#"{"b":1,"\u0062":2}"#.utf8))
        #expect(escaped.root["b"]?.intValue == 2 && escaped.root.value == ["b": 2])
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\u{01}\"", "\"\\ud800\"", "\"a\\qb\"", "[1] 2", "{\"a\":1,}",
    ])
    func refusesWhatTheTreeParserRefuses(text: String) {
        #expect(throws: FastJSONParser.Error.self) { try JSONDocument(parsing: Array(text.utf8)) }
    }

    @Test func longStringsAreScannedEightBytesAtATimeWithoutMissingAnything() throws {
        // A quote, a backslash, a control byte or a non-ASCII byte at every offset of a long run.
        for offset in 0..<24 {
            let plain = String(repeating: "abcdefgh", count: 4)
            let prefix = String(plain.prefix(offset)), suffix = String(plain.dropFirst(offset))
            #expect(
                try JSONDocument(parsing: Array("\"\(prefix)\\\"\(suffix)\"".utf8)).root.stringValue == prefix + "\""
                    + suffix)
            #expect(
                try JSONDocument(parsing: Array("\"\(prefix)é\(suffix)\"".utf8)).root.stringValue == prefix + "é"
                    + suffix)
            #expect(throws: FastJSONParser.Error.self) {
                try JSONDocument(parsing: Array("\"\(prefix)\u{1}\(suffix)\"".utf8))
            }
            #expect(throws: FastJSONParser.Error.self) { try JSONDocument(parsing: Array("\"\(prefix)\(suffix)".utf8)) }
            #expect(throws: FastJSONParser.Error.self) {
                try JSONDocument(parsing: Array("\"\(prefix)".utf8) + [0xFF] + Array("\(suffix)\"".utf8))
            }
        }
    }
}
