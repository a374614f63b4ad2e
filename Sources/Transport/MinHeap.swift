/// Values by key, smallest key first (a binary min-heap): an event loop's timers and a service's
/// jobs by deadline, ended runs by when they ended. Whoever holds one drops entries that went
/// stale as they come up.
package struct MinHeap<Key: Comparable, Value> {
    private var entries: [(key: Key, value: Value)] = []

    package init() {}

    package var count: Int { entries.count }
    package var first: (key: Key, value: Value)? { entries.first }

    package mutating func insert(_ key: Key, _ value: Value) {
        entries.append((key, value))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].key < entries[parent].key else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    package mutating func removeFirst() {
        entries.swapAt(0, entries.count - 1)
        entries.removeLast()
        siftDown(from: 0)
    }

    /// Keeps only the entries `keep` accepts (dropping stale ones in one pass).
    package mutating func keep(_ keep: ((key: Key, value: Value)) -> Bool) {
        entries.removeAll { !keep($0) }
        for index in stride(from: entries.count / 2, through: 0, by: -1) { siftDown(from: index) }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].key < entries[smallest].key { smallest = left }
            if right < entries.count, entries[right].key < entries[smallest].key { smallest = right }
            guard smallest != parent else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

extension MinHeap: Sendable where Key: Sendable, Value: Sendable {}
