/// URL-safe workflow names: lowercase ASCII letters, digits and single dashes, at most 64 bytes.
public enum WorkflowSlug {
    public static let maxLength = 64

    /// `Text to Image - SD1.5` → `text-to-image-sd1-5`. Empty when nothing usable is left.
    public static func make(from text: String) -> String {
        var out = ""
        var pendingDash = false
        for scalar in text.lowercased().unicodeScalars {
            let isAllowed = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
            if isAllowed {
                if pendingDash, !out.isEmpty { out.append("-") }
                pendingDash = false
                out.unicodeScalars.append(scalar)
                if out.utf8.count >= maxLength { break }
            } else {
                pendingDash = true
            }
        }
        return out
    }

    /// Whether `name` is already a valid slug (what uploads through the API must use).
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && make(from: name) == name
    }

    /// Gives every item a distinct slug: the first keeps the plain slug, later ones with the same
    /// slug get `-2`, `-3`... in the order given (callers sort by something stable, e.g. creation
    /// time then id, so the same library always yields the same names). `taken` are names already
    /// used by another source, which wins.
    public static func assign<Item>(_ items: [Item], title: (Item) -> String, taken: Set<String>) -> [(
        name: String, item: Item
    )] {
        var used = taken
        var result: [(name: String, item: Item)] = []
        for item in items {
            var base = make(from: title(item))
            if base.isEmpty { base = "workflow" }
            var name = base
            var counter = 2
            while used.contains(name) {
                let suffix = "-\(counter)"
                name = String(base.prefix(maxLength - suffix.utf8.count)) + suffix
                counter += 1
            }
            used.insert(name)
            result.append((name: name, item: item))
        }
        return result
    }
}
