import HTTPCore
import Testing

@Suite struct HTTPHeadersTests {
    @Test func lookupIgnoresCaseAndKeepsOrderAndRepeats() {
        var headers: HTTPHeaders = ["Content-Type": "text/plain", "X-Twice": "a"]
        headers.add("x-twice", "b")
        #expect(headers["content-type"] == "text/plain")
        #expect(headers["X-TWICE"] == "a")
        #expect(headers.values("X-Twice") == ["a", "b"])
        #expect(headers.combinedValue("x-twice") == "a, b")
        #expect(headers.combinedValue("Missing") == nil)
        #expect(headers.map(\.name) == ["Content-Type", "X-Twice", "x-twice"])
    }

    @Test func settingReplacesEveryValue() {
        var headers = HTTPHeaders([("A", "1"), ("a", "2"), ("B", "3")])
        headers["A"] = "4"
        #expect(headers.values("a") == ["4"])
        headers["B"] = nil
        #expect(!headers.contains("b"))
        #expect(headers.count == 1)
    }

    @Test func tokensAreTrimmedLowercasedListElements() {
        let headers = HTTPHeaders([("Connection", " keep-alive, Upgrade ,"), ("connection", "\tClose")])
        #expect(headers.tokens("Connection") == ["keep-alive", "upgrade", "close"])
    }

    @Test func caseInsensitiveEqualsIsASCIIOnly() {
        #expect("Content-Length".caseInsensitiveEquals("content-length"))
        #expect(!"Content-Length".caseInsensitiveEquals("content-lengt"))
        #expect(!"é".caseInsensitiveEquals("É"))
        #expect(" \t a b \t".trimmingHTTPWhitespace() == "a b")
    }
}
