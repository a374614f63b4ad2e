/// Which rendition of an image to download.
public enum InvokeAIImageSize: String, Sendable {
    case full
    case thumbnail
}
