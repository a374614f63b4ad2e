/// Every bad input of a run request, collected at once.
public struct InputErrors: Error, Sendable {
    public let errors: [InputError]
    public init(_ errors: [InputError]) { self.errors = errors }
}
