import Testing

@testable import Gateway

@Suite struct SubscriberListTests {
    private func subscription() -> EventSubscription { EventSubscription(filter: EventFilter(), limit: 4, replay: []) }

    @Test func keepsSubscriptionOrderThroughRemovalsAndCompaction() {
        var list = SubscriberList()
        let all = (0..<200).map { _ in subscription() }
        for s in all { list.insert(s) }
        list.insert(all[0]) // twice: still once
        #expect(list.count == 200)
        // Remove three in four: holes outnumber subscribers, so the list compacts on the way.
        var kept: [EventSubscription] = []
        for (i, s) in all.enumerated() {
            if i % 4 == 0 { kept.append(s) } else { list.remove(s) }
        }
        list.remove(all[1]) // already gone: nothing happens
        #expect(list.count == 50)
        #expect(list.all.map(ObjectIdentifier.init) == kept.map(ObjectIdentifier.init))
        var walked: [ObjectIdentifier] = []
        list.forEach { walked.append(ObjectIdentifier($0)) }
        #expect(walked == kept.map(ObjectIdentifier.init))
        // Removal after compaction still finds each one.
        for s in kept.prefix(10) { list.remove(s) }
        #expect(list.all.map(ObjectIdentifier.init) == kept.dropFirst(10).map(ObjectIdentifier.init))
        let late = subscription()
        list.insert(late)
        #expect(list.all.last.map(ObjectIdentifier.init) == ObjectIdentifier(late))
        list.removeAll()
        #expect(list.count == 0 && list.all.isEmpty)
    }
}
