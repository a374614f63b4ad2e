/// The JSON is not a workflow at all (problems inside one become warnings instead).
public struct WorkflowParseError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
