import JSONValue
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// How log lines look: `text` (one readable line, metadata as key=value) or `json` (one object
/// per line: `ts`, `level`, `label`, `message`, then each metadata key at the top level).
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}

/// The gateway's swift-log handler: one line per message in `format`, handed to a `LogWriter`.
/// A warning or worse is written at once; lower levels wait for the writer's next batch.
public struct GatewayLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: LogFormat
    let writer: LogWriter

    /// Keys a JSON line uses itself: metadata with one of these names is written as `meta.<name>`.
    static let reservedKeys: Set<String> = ["ts", "level", "label", "message"]

    public init(label: String, format: LogFormat, level: Logger.Level = .info, writer: LogWriter) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.writer = writer
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        let line = Self.line(
            format: format, timestamp: Self.timestamp(), level: event.level, label: label,
            message: event.message.description, metadata: merged)
        writer.write(line, urgent: event.level >= .warning)
    }

    /// One line, newline included. Metadata keys are sorted, so equal input gives equal lines.
    static func line(
        format: LogFormat, timestamp: String, level: Logger.Level, label: String, message: String,
        metadata: Logger.Metadata
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + message.utf8.count)
        let keys = metadata.keys.sorted()
        switch format {
        case .text:
            out.append(contentsOf: timestamp.utf8)
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: level.rawValue.utf8)
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: label.utf8)
            out.append(contentsOf: ": ".utf8)
            appendTextMessage(message, to: &out)
            for key in keys {
                out.append(UInt8(ascii: " "))
                appendTextValue(key, to: &out)
                out.append(UInt8(ascii: "="))
                appendTextValue(textValue(metadata[key]!), to: &out)
            }
        case .json:
            out.append(contentsOf: #"{"ts":""#.utf8)
            out.append(contentsOf: timestamp.utf8)
            out.append(contentsOf: #"","level":""#.utf8)
            out.append(contentsOf: level.rawValue.utf8)
            out.append(contentsOf: #"","label":"#.utf8)
            JSONValue.writeString(label, to: &out)
            out.append(contentsOf: #","message":"#.utf8)
            JSONValue.writeString(message, to: &out)
            for key in keys {
                out.append(UInt8(ascii: ","))
                JSONValue.writeString(reservedKeys.contains(key) ? "meta." + key : key, to: &out)
                out.append(UInt8(ascii: ":"))
                jsonValue(metadata[key]!).write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// Numbers and booleans logged as such (`"\(count)"` interpolations stay strings).
    static func jsonValue(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as Int: return .int(number)
            case let number as Double: return number.isFinite ? .double(number) : .string("\(number)")
            case let flag as Bool: return .bool(flag)
            default: return .string(convertible.description)
            }
        case .array(let values): return .array(values.map(jsonValue))
        case .dictionary(let values): return .object(JSONObject(values.mapValues(jsonValue)))
        }
    }

    static func textValue(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        case .array, .dictionary: return String(decoding: jsonValue(value).compactJSONBytes, as: UTF8.self)
        }
    }

    /// The message as is, with line breaks and other control characters escaped: one line.
    static func appendTextMessage(_ text: String, to out: inout [UInt8]) {
        for byte in text.utf8 {
            if byte < 0x20 || byte == 0x7F { appendEscaped(byte, to: &out) } else { out.append(byte) }
        }
    }

    /// Bare when it is a plain token, else quoted with `"` `\` and control characters escaped.
    static func appendTextValue(_ text: String, to out: inout [UInt8]) {
        let plain =
            !text.isEmpty
            && text.utf8.allSatisfy { $0 > 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "=") }
        if plain {
            out.append(contentsOf: text.utf8)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case ..<0x20, 0x7F: appendEscaped(byte, to: &out)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendEscaped(_ byte: UInt8, to out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
        case UInt8(ascii: "\r"): out.append(contentsOf: #"\r"#.utf8)
        case UInt8(ascii: "\t"): out.append(contentsOf: #"\t"#.utf8)
        default:
            let hex = Array("0123456789abcdef".utf8)
            out.append(contentsOf: #"\x"#.utf8)
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        }
    }

    /// Now, RFC 3339 in UTC with milliseconds: `2026-12-07T05:40:04.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return timestamp(seconds: Int(now.tv_sec), milliseconds: Int(now.tv_nsec) / 1_000_000)
    }

    static func timestamp(seconds: Int, milliseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var out: [UInt8] = []
        out.reserveCapacity(24)
        func digits(_ value: Int32, _ count: Int) {
            var divisor: Int32 = 1
            for _ in 1..<count { divisor *= 10 }
            var value = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor))
                value %= divisor
                divisor /= 10
            }
        }
        digits(parts.tm_year + 1900, 4)
        out.append(UInt8(ascii: "-"))
        digits(parts.tm_mon + 1, 2)
        out.append(UInt8(ascii: "-"))
        digits(parts.tm_mday, 2)
        out.append(UInt8(ascii: "T"))
        digits(parts.tm_hour, 2)
        out.append(UInt8(ascii: ":"))
        digits(parts.tm_min, 2)
        out.append(UInt8(ascii: ":"))
        digits(parts.tm_sec, 2)
        out.append(UInt8(ascii: "."))
        digits(Int32(milliseconds), 3)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }
}
