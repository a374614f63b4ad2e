/// One member of a `JSONObject`.
public struct JSONMember: Sendable {
    public var key: String
    public var value: JSONValue
}
