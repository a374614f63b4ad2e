/// The `id:` of a server-sent event: `<epoch>-<sequence>`. The epoch is fixed for one run of the
/// gateway process (its start time in milliseconds), the sequence grows by one per event, so a
/// client can tell "later in this process" from "from before a restart".
public struct EventID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let epoch: UInt64
    public let sequence: UInt64

    public init(epoch: UInt64, sequence: UInt64) {
        self.epoch = epoch
        self.sequence = sequence
    }

    /// Parses `<epoch>-<sequence>`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let epoch = UInt64(parts[0]), let sequence = UInt64(parts[1]) else { return nil }
        self.init(epoch: epoch, sequence: sequence)
    }

    public var description: String { "\(epoch)-\(sequence)" }

    public static func < (a: EventID, b: EventID) -> Bool {
        (a.epoch, a.sequence) < (b.epoch, b.sequence)
    }
}
