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
        write(level: event.level, message: event.message.description, fields: merged.sorted { $0.key < $1.key })
    }

    /// Whether `write(level:message:fields:)` says all there is: no metadata of the handler's own.
    var takesFieldsAsGiven: Bool { metadata.isEmpty && metadataProvider == nil }

    /// One line from fields already sorted by key (the access line's path: no dictionary to
    /// build, merge and sort per request).
    func write(level: Logger.Level, message: String, fields: [(key: String, value: Logger.Metadata.Value)]) {
        let line = Self.line(
            format: format, timestamp: nil, level: level, label: label, message: message, fields: fields)
        writer.write(line, urgent: level >= .warning)
    }

    /// One line, newline included. Metadata keys are sorted, so equal input gives equal lines.
    static func line(
        format: LogFormat, timestamp: String, level: Logger.Level, label: String, message: String,
        metadata: Logger.Metadata
    ) -> [UInt8] {
        line(
            format: format, timestamp: timestamp, level: level, label: label, message: message,
            fields: metadata.sorted { $0.key < $1.key })
    }

    static func line(
        format: LogFormat, timestamp: String?, level: Logger.Level, label: String, message: String,
        fields: [(key: String, value: Logger.Metadata.Value)]
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(192 + message.utf8.count)
        switch format {
        case .text:
            if let timestamp { out.append(contentsOf: timestamp.utf8) } else { appendTimestamp(to: &out) }
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: level.rawValue.utf8)
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: label.utf8)
            out.append(contentsOf: ": ".utf8)
            appendTextMessage(message, to: &out)
            for (key, value) in fields {
                out.append(UInt8(ascii: " "))
                appendTextValue(key, to: &out)
                out.append(UInt8(ascii: "="))
                if !appendNumber(value, to: &out) { appendTextValue(textValue(value), to: &out) }
            }
        case .json:
            out.append(contentsOf: #"{"ts":""#.utf8)
            if let timestamp { out.append(contentsOf: timestamp.utf8) } else { appendTimestamp(to: &out) }
            out.append(contentsOf: #"","level":""#.utf8)
            out.append(contentsOf: level.rawValue.utf8)
            out.append(contentsOf: #"","label":"#.utf8)
            JSONValue.writeString(label, to: &out)
            out.append(contentsOf: #","message":"#.utf8)
            JSONValue.writeString(message, to: &out)
            for (key, value) in fields {
                out.append(UInt8(ascii: ","))
                JSONValue.writeString(reservedKeys.contains(key) ? "meta." + key : key, to: &out)
                out.append(UInt8(ascii: ":"))
                if !appendNumber(value, to: &out) { jsonValue(value).write(to: &out) }
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

    /// Integers and `Milliseconds` written as digits straight into the line (no String made);
    /// false for any other value.
    static func appendNumber(_ value: Logger.Metadata.Value, to out: inout [UInt8]) -> Bool {
        guard case .stringConvertible(let convertible) = value else { return false }
        switch convertible {
        case let number as Int:
            appendDigits(number, to: &out)
        case let duration as Milliseconds:
            let micros = duration.microseconds
            appendDigits(micros / 1000, to: &out)
            out.append(UInt8(ascii: "."))
            appendDigits(micros % 1000, width: 3, to: &out)
        default:
            return false
        }
        return true
    }

    /// `value` in decimal, at least `width` digits (zero-padded).
    static func appendDigits(_ value: Int, width: Int = 1, to out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            appendDigits(0 &- value, width: width, to: &out)
            return
        }
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0 && count < 20
            while count < min(width, 20) {
                buffer[19 - count] = UInt8(ascii: "0")
                count += 1
            }
            out.append(contentsOf: buffer[(20 - count)...])
        }
    }

    /// Now, RFC 3339 in UTC with milliseconds: `2026-12-07T05:40:04.123Z`.
    static func timestamp() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        appendTimestamp(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func timestamp(seconds: Int, milliseconds: Int) -> String {
        var out: [UInt8] = []
        appendTimestamp(seconds: seconds, milliseconds: milliseconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendTimestamp(to out: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        appendTimestamp(seconds: Int(now.tv_sec), milliseconds: Int(now.tv_nsec) / 1_000_000, to: &out)
    }

    /// By arithmetic (days to a civil date), not gmtime_r, which takes glibc's time-zone lock.
    static func appendTimestamp(seconds: Int, milliseconds: Int, to out: inout [UInt8]) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        appendDigits(year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(day, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        appendDigits(milliseconds, width: 3, to: &out)
        out.append(UInt8(ascii: "Z"))
    }
}

/// A duration in milliseconds with three decimals (microseconds), written as a number.
struct Milliseconds: CustomStringConvertible, Sendable {
    let microseconds: Int

    init(nanoseconds: UInt64) { microseconds = Int(clamping: (nanoseconds + 500) / 1000) }

    var description: String {
        var out: [UInt8] = []
        _ = GatewayLogHandler.appendNumber(.stringConvertible(self), to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
