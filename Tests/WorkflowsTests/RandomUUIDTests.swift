import Testing

@testable import Workflows

@Suite struct RandomUUIDTests {
    @Test func graphIDsAreVersion4UUIDsInLowerCaseAndDiffer() {
        let ids = (0..<200).map { _ in RandomUUID.string() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let utf8 = Array(id.utf8)
            #expect(utf8.count == 36)
            #expect([8, 13, 18, 23].allSatisfy { utf8[$0] == UInt8(ascii: "-") })
            #expect(
                utf8.enumerated().allSatisfy {
                    [8, 13, 18, 23].contains($0.offset) || "0123456789abcdef".utf8.contains($0.element)
                })
            #expect(utf8[14] == UInt8(ascii: "4")) // version
            #expect("89ab".utf8.contains(utf8[19])) // variant
        }
    }
}
