import Testing

@testable import HTTPServer

@Suite("multipart/form-data")
struct MultipartFormDataTests {
    private func body(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func splitsPartsWithNamesFilenamesAndTypes() throws {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x2D, 0x2D]
        var bytes = body(
            "preamble to ignore\r\n--XyZ\r\nContent-Disposition: form-data; name=\"board\"\r\n\r\nmy-board\r\n"
                + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        bytes += png
        bytes += body("\r\n--XyZ--\r\nepilogue")
        let form = try MultipartFormData(contentType: "multipart/form-data; boundary=XyZ", body: bytes)
        #expect(form.parts.count == 2)
        #expect(form.part("board")?.body == Array("my-board".utf8))
        #expect(form.part("board")?.contentType == "text/plain")
        let file = try #require(form.part("file"))
        #expect(file.filename == "a \"b\".png")
        #expect(file.contentType == "image/png")
        #expect(file.body == png)
    }

    @Test func quotedBoundaryAndEmptyPart() throws {
        let bytes = body("--a b\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n--a b--")
        let form = try MultipartFormData(contentType: "Multipart/Form-Data; boundary=\"a b\"", body: bytes)
        #expect(form.parts.count == 1)
        #expect(form.part("x")?.body == [])
    }

    @Test func refusesWhatIsNotWellFormed() {
        let cases: [(String, String, Int)] = [
            ("application/json", "{}", 415),
            ("multipart/form-data", "--x\r\n", 400), // no boundary parameter
            ("multipart/form-data; boundary=x", "no delimiter at all", 400),
            (
                "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=a\r\n\r\nunterminated",
                400
            ),
            // No disposition.
            ("multipart/form-data; boundary=x", "--x\r\nContent-Type: text/plain\r\n\r\nv\r\n--x--", 400),
            (
                "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--x--",
                400
            ),
            ("multipart/form-data; boundary=x", "--xjunk\r\n", 400),
            ("multipart/form-data; boundary=x", "--x\r\nbroken header line\r\n\r\nv\r\n--x--", 400),
        ]
        for (type, text, status) in cases {
            do {
                _ = try MultipartFormData(contentType: type, body: body(text))
                Issue.record("accepted: \(type) \(text)")
            } catch {
                #expect(error.status.code == status, "\(text)")
            }
        }
    }

    @Test func boundsThePartCount() {
        var text = ""
        for i in 0...MultipartFormData.maxParts {
            text += "--x\r\nContent-Disposition: form-data; name=p\(i)\r\n\r\nv\r\n"
        }
        text += "--x--"
        #expect(throws: HTTPError.self) {
            try MultipartFormData(contentType: "multipart/form-data; boundary=x", body: body(text))
        }
    }

    @Test func parameterizedValues() {
        let value = ParameterizedValue(parsing: "Form-Data; NAME=\"a;b\"; filename=plain.png; name=second")
        #expect(value.value == "form-data")
        #expect(value.parameters["name"] == "a;b")
        #expect(value.parameters["filename"] == "plain.png")
        #expect(ParameterizedValue(parsing: "text/plain").parameters.isEmpty)
    }
}
