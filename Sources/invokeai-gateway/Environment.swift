import Foundation
import Synchronization

/// Option defaults that an environment variable may override (each option's help names it). An
/// empty variable counts as unset. A value that cannot be read is not replaced by the default:
/// it is recorded, and `ServeCommand.validate` refuses to start (exit 64) naming each one.
enum Environment {
    /// Unreadable values by variable name (the defaults are evaluated more than once by
    /// ArgumentParser, so by name, not appended).
    private static let recorded = Mutex<[String: String]>([:])

    /// Every unreadable value seen so far, one message each, in variable-name order.
    static var problems: [String] {
        recorded.withLock { $0.sorted { $0.key < $1.key }.map(\.value) }
    }

    static func string(_ name: String, _ fallback: String) -> String {
        optionalString(name) ?? fallback
    }

    static func optionalString(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    static func int(_ name: String, _ fallback: Int) -> Int {
        parsed(name, fallback, "an integer") { Int($0) }
    }

    static func double(_ name: String, _ fallback: Double) -> Double {
        // Double("nan") and Double("inf") parse; no option means either.
        parsed(name, fallback, "a number") { Double($0).flatMap { $0.isFinite ? $0 : nil } }
    }

    /// A switch: "1" on, "0" off; anything else is refused rather than guessed at.
    static func flag(_ name: String) -> Bool {
        parsed(name, false, "1 or 0") { ["1": true, "0": false][$0] }
    }

    /// A comma-separated list; empty when unset.
    static func list(_ name: String) -> [String] {
        (ProcessInfo.processInfo.environment[name] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private static func parsed<Value>(
        _ name: String, _ fallback: Value, _ expected: String, _ parse: (String) -> Value?
    ) -> Value {
        guard let text = optionalString(name) else { return fallback }
        if let value = parse(text.trimmingCharacters(in: .whitespaces)) { return value }
        recorded.withLock { $0[name] = "environment variable \(name) must be \(expected), got '\(text)'" }
        return fallback
    }
}
