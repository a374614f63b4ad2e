/// What a JSON value is, as a tape entry records it.
public enum JSONKind: UInt8, Sendable {
    case null, `false`, `true`, integer, number, string, array, object
}
