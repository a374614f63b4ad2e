import Foundation
import JSONValue

/// Turns what a caller sent into what the graph needs, or says why it cannot.
enum InputCoercion {
    enum Outcome: Equatable {
        case value(JSONValue)
        case inlineImage(InlineImage)
        case invalid(String)
    }

    static func coerce(_ value: JSONValue, _ kind: FieldKind, _ field: FieldTemplate?, models: [InstalledModel])
        -> Outcome
    {
        switch kind {
        case .integer: return integer(value, field)
        case .float: return float(value, field)
        case .boolean:
            switch value {
            case .bool: return .value(value)
            case .string("true"): return .value(true)
            case .string("false"): return .value(false)
            default: return .invalid("must be true or false, got \(value.compactJSON)")
            }
        case .string:
            guard case .string(let text) = value else { return .invalid("must be a string, got \(value.compactJSON)") }
            if let min = field?.minLength, text.count < min {
                return .invalid("must be at least \(min) characters long")
            }
            if let max = field?.maxLength, text.count > max {
                return .invalid("must be at most \(max) characters long")
            }
            return .value(value)
        case .enumeration(let allowed):
            guard case .string(let text) = value, allowed.contains(text) else {
                return .invalid(
                    "must be one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", ")), got \(value.compactJSON)")
            }
            return .value(value)
        case .image: return image(value)
        case .board: return board(value)
        case .model: return model(value, field, models)
        case .color: return color(value)
        case .collection(let element):
            guard case .array(let items) = value else { return .invalid("must be a list, got \(value.compactJSON)") }
            if let min = field?.minItems, items.count < min { return .invalid("must have at least \(min) items") }
            if let max = field?.maxItems, items.count > max { return .invalid("must have at most \(max) items") }
            var converted: [JSONValue] = []
            for (index, item) in items.enumerated() {
                switch coerce(item, element, nil, models: models) {
                case .value(let value): converted.append(value)
                case .inlineImage:
                    return .invalid(
                        "item \(index): inline images are not accepted inside lists; upload them first (POST /v1/images)"
                    )
                case .invalid(let message): return .invalid("item \(index): \(message)")
                }
            }
            return .value(.array(converted))
        case .other:
            return .value(value)
        }
    }

    // MARK: numbers

    private static func integer(_ value: JSONValue, _ field: FieldTemplate?) -> Outcome {
        let number: Int?
        switch value {
        case .int(let v): number = v
        case .double(let v): number = v == v.rounded() && abs(v) < 9e18 ? Int(v) : nil
        case .string(let text): number = Int(text.trimmingCharacters(in: .whitespaces))
        default: number = nil
        }
        guard let number else { return .invalid("must be an integer, got \(value.compactJSON)") }
        if let problem = bounds(Double(number), field) { return .invalid(problem) }
        return .value(.int(number))
    }

    private static func float(_ value: JSONValue, _ field: FieldTemplate?) -> Outcome {
        let number: Double?
        switch value {
        case .int(let v): number = Double(v)
        case .double(let v): number = v.isFinite ? v : nil
        case .string(let text):
            number = Double(text.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? $0 : nil }
        default: number = nil
        }
        guard let number else { return .invalid("must be a number, got \(value.compactJSON)") }
        if let problem = bounds(number, field) { return .invalid(problem) }
        return .value(.double(number))
    }

    private static func bounds(_ number: Double, _ field: FieldTemplate?) -> String? {
        guard let field else { return nil }
        let show = { (v: Double) in v == v.rounded() && abs(v) < 9e15 ? String(Int(v)) : String(v) }
        if let min = field.minimum, number < min { return "must be at least \(show(min)), got \(show(number))" }
        if let max = field.maximum, number > max { return "must be at most \(show(max)), got \(show(number))" }
        if let min = field.exclusiveMinimum, number <= min {
            return "must be greater than \(show(min)), got \(show(number))"
        }
        if let max = field.exclusiveMaximum, number >= max {
            return "must be less than \(show(max)), got \(show(number))"
        }
        if let step = field.multipleOf, step > 0 {
            let ratio = number / step
            if abs(ratio - ratio.rounded()) > 1e-9 { return "must be a multiple of \(show(step)), got \(show(number))" }
        }
        return nil
    }

    // MARK: images, boards, models, colours

    private static func image(_ value: JSONValue) -> Outcome {
        if case .object = value {
            guard case .string(let name)? = value["image_name"], !name.isEmpty else {
                return .invalid("an image object needs \"image_name\"")
            }
            return .value(["image_name": .string(name)])
        }
        guard case .string(let text) = value, !text.isEmpty else {
            return .invalid(
                "must be an image name, {\"image_name\": ...}, a data: URL or base64, got \(value.compactJSON)")
        }
        if text.hasPrefix("data:") {
            guard let comma = text.firstIndex(of: ","), text[..<comma].hasSuffix(";base64") else {
                return .invalid("a data URL image must be base64 (data:image/png;base64,...)")
            }
            return inline(String(text[text.index(after: comma)...]))
        }
        // Image names are short; long base64 text is image bytes.
        if text.count >= 64,
            text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "/" || $0 == "=" || $0 == "\n" })
        {
            return inline(text)
        }
        return .value(["image_name": .string(text)])
    }

    private static func inline(_ base64: String) -> Outcome {
        guard let data = Data(base64Encoded: base64, options: .ignoreUnknownCharacters), !data.isEmpty else {
            return .invalid("the inline image is not valid base64")
        }
        let bytes = [UInt8](data)
        let type: String
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            type = "image/png"
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            type = "image/jpeg"
        } else if bytes.count > 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            type = "image/webp"
        } else {
            return .invalid("the inline image is not a PNG, JPEG or WebP")
        }
        return .inlineImage(InlineImage(bytes: bytes, contentType: type))
    }

    private static func board(_ value: JSONValue) -> Outcome {
        switch value {
        case .string("none"), .string("auto"): return .value(value)
        case .string(let id) where !id.isEmpty: return .value(["board_id": .string(id)])
        case .object:
            guard case .string(let id)? = value["board_id"], !id.isEmpty else {
                return .invalid("a board object needs \"board_id\"")
            }
            return .value(["board_id": .string(id)])
        default:
            return .invalid("must be \"none\", \"auto\", a board id or {\"board_id\": ...}, got \(value.compactJSON)")
        }
    }

    private static func model(_ value: JSONValue, _ field: FieldTemplate?, _ models: [InstalledModel]) -> Outcome {
        let chosen: InstalledModel
        switch value {
        case .string(let text):
            guard
                let found = models.first(where: { $0.key == text }) ?? models.first(where: { $0.name == text })
                    ?? models.first(where: { $0.name.lowercased() == text.lowercased() })
            else {
                let close = models.filter {
                    $0.name.lowercased().contains(text.lowercased()) || text.lowercased().contains($0.name.lowercased())
                }
                let hint = close.isEmpty ? "" : "; close: \(close.prefix(5).map(\.name).joined(separator: ", "))"
                return .invalid("no installed model named or keyed '\(text)'\(hint)")
            }
            chosen = found
        case .object:
            let given = { (name: String) in value[name]?.stringValue.map { !$0.isEmpty } ?? false }
            guard given("key") || ["name", "base", "type"].allSatisfy(given) else {
                return .invalid("a model object needs \"key\" (or \"name\", \"base\" and \"type\")")
            }
            // A key this InvokeAI does not have would fail the run ("Unknown model"): an identifier
            // made elsewhere finds the same model by name, base and type, or is refused with the
            // models it could have named.
            switch InstalledModel.match(
                value, in: models, bases: field?.modelBases ?? [], types: field?.modelTypes ?? [], allowAny: false)
            {
            case .found(let found, _): chosen = found
            case .none(let reason, _): return .invalid(reason)
            }
        default:
            return .invalid(
                "must be a model name, key or {\"key\", \"hash\", \"name\", \"base\", \"type\"}, got \(value.compactJSON)"
            )
        }
        if let bases = field?.modelBases, !bases.isEmpty, !bases.contains(chosen.base) {
            return .invalid(
                "model '\(chosen.name)' is \(chosen.base); this input takes \(bases.joined(separator: " or "))")
        }
        if let types = field?.modelTypes, !types.isEmpty, !types.contains(chosen.type) {
            return .invalid(
                "model '\(chosen.name)' is a \(chosen.type) model; this input takes \(types.joined(separator: " or "))")
        }
        return .value(chosen.identifier)
    }

    private static func color(_ value: JSONValue) -> Outcome {
        if case .string(let text) = value {
            let hex = text.hasPrefix("#") ? String(text.dropFirst()) : ""
            guard hex.count == 6 || hex.count == 8, let number = UInt64(hex, radix: 16) else {
                return .invalid("a colour string is #rrggbb or #rrggbbaa, got \"\(text)\"")
            }
            let full = hex.count == 6 ? number << 8 | 0xFF : number
            return .value([
                "r": .int(Int(full >> 24 & 0xFF)), "g": .int(Int(full >> 16 & 0xFF)), "b": .int(Int(full >> 8 & 0xFF)),
                "a": .int(Int(full & 0xFF)),
            ])
        }
        guard case .object = value else {
            return .invalid("must be {\"r\", \"g\", \"b\", \"a\"} or \"#rrggbb[aa]\", got \(value.compactJSON)")
        }
        var channels: JSONObject = [:]
        for name in ["r", "g", "b", "a"] {
            guard let channel = value[name] else {
                if name == "a" { channels["a"] = 255; continue }
                return .invalid("colour channel \"\(name)\" is missing")
            }
            guard let number = channel.intValue ?? channel.doubleValue.flatMap({ $0 == $0.rounded() ? Int($0) : nil }),
                (0...255).contains(number)
            else {
                return .invalid("colour channel \"\(name)\" must be an integer 0...255, got \(channel.compactJSON)")
            }
            channels[name] = .int(number)
        }
        return .value(.object(channels))
    }
}

/// An image given inline in a run request (data URL or base64), for the gateway to upload.
public struct InlineImage: Sendable, Equatable {
    public let bytes: [UInt8]
    public let contentType: String
}
