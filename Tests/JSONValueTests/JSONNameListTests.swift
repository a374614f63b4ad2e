import JSONValue
import Testing

@Suite struct JSONNameListTests {
    @Test(arguments: [3, 40, 500])
    func aDocumentsStringIsFoundAmongTheNamesByItsText(count: Int) throws {
        // Few names are scanned, many go through a hash table: the answers are the same.
        let names = (0..<count).map { "field_\($0)" } + ["", "é"]
        let list = JSONNameList(names)
        let text = #"["field_2","fi\u0065ld_1","","\u00e9","field_","nope",7]"#
        let document = try JSONDocument(parsing: Array(text.utf8))
        let found = document.items(of: 0).map { list.position(ofStringAt: $0, in: document) }
        #expect(found == [2, 1, count, count + 1, nil, nil, nil])
        for (position, name) in names.enumerated() {
            var name = name
            #expect(name.withUTF8(list.position(of:)) == position)
        }
    }
}
