import Testing

@testable import InvokeAI

/// The words for an InvokeAI error answer without a body come from the one status table.
@Suite struct StatusTextTests {
    @Test func knownCodesUseTheReasonPhraseInLowerCase() {
        #expect(InvokeAIClient.statusText(500) == "internal server error")
        #expect(InvokeAIClient.statusText(404) == "not found")
        #expect(InvokeAIClient.statusText(503) == "service unavailable")
    }

    @Test func otherCodesNameTheirClass() {
        #expect(InvokeAIClient.statusText(418) == "client error")
        #expect(InvokeAIClient.statusText(599) == "server error")
        #expect(InvokeAIClient.statusText(399) == "redirected")
        #expect(InvokeAIClient.statusText(700) == "status 700")
    }
}
