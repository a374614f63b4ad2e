import ArgumentParser
import Foundation
import Gateway

/// `invokeai-gateway keys add|list|revoke`: the keys file `serve --keys-file` reads. A running
/// gateway sees a change within about a second (or at once on SIGHUP).
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Add, list and revoke API keys in a keys file.",
        subcommands: [Add.self, List.self, Revoke.self]
    )

    struct FileOption: ParsableArguments {
        @Option(help: "The keys file (created with mode 0600 when missing). (env GATEWAY_KEYS_FILE)")
        var keysFile: String = Environment.string("GATEWAY_KEYS_FILE", "")

        func validate() throws {
            if keysFile.isEmpty { throw ValidationError("give --keys-file FILE (or GATEWAY_KEYS_FILE)") }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new key; it is printed once and only its SHA-256 is stored.")

        @OptionGroup var file: FileOption

        @Option(help: "A name for people (unique among the keys in force).")
        var name: String

        @Option(help: "Comma-separated: read, run, admin (admin includes the others).")
        var scopes: String

        @Option(help: "Keys with the same tenant share their runs and images; default: the key's own id.")
        var tenant: String?

        @Option(help: "Requests per second this key may make (beyond: 429 with Retry-After); default: no limit.")
        var requestsPerSecond: Double?

        @Option(help: "Runs of the key's tenant not ended beyond which submissions get 429; default: no limit.")
        var maxConcurrentRuns: Int?

        func run() throws {
            let scopeSet: Set<Scope>
            switch Scope.parseList(scopes) {
            case .success(let parsed): scopeSet = parsed
            case .failure(let error): throw ValidationError(error.description)
            }
            var keys = try KeysFile.readOrEmpty(path: file.keysFile)
            let (record, key) = try keys.add(
                name: name, scopes: scopeSet, tenant: tenant, requestsPerSecond: requestsPerSecond,
                maxConcurrentRuns: maxConcurrentRuns)
            try keys.write(path: file.keysFile)
            print(
                """
                id:      \(record.id)
                name:    \(record.name)
                scopes:  \(record.scopes.map(\.rawValue).joined(separator: ","))
                tenant:  \(record.tenant)
                limits:  \(Self.limits(record))
                key:     \(key)
                The key is shown only now: \(file.keysFile) keeps its SHA-256 alone.
                """)
        }

        static func limits(_ record: APIKeyRecord) -> String {
            let parts =
                (record.requestsPerSecond.map { ["\($0) req/s"] } ?? [])
                + (record.maxConcurrentRuns.map { ["\($0) runs"] } ?? [])
            return parts.isEmpty ? "none" : parts.joined(separator: ", ")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the keys (never the keys themselves; a hash prefix to tell them apart).")

        @OptionGroup var file: FileOption

        func run() throws {
            let keys = try KeysFile.read(path: file.keysFile).keys
            let rows =
                [["ID", "NAME", "SCOPES", "TENANT", "LIMITS", "CREATED", "STATE", "SHA256"]]
                + keys.map { key in
                    [
                        key.id, key.name, key.scopes.map(\.rawValue).joined(separator: ","), key.tenant,
                        Add.limits(key),
                        ISO8601DateFormatter().string(from: key.created), key.revoked ? "revoked" : "active",
                        String(key.sha256.prefix(8)) + "...",
                    ]
                }
            let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                print(
                    row.enumerated().map { column, text in
                        column == row.count - 1
                            ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    }.joined(separator: "  "))
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key by id or name; a running gateway refuses it within about a second.")

        @OptionGroup var file: FileOption

        @Argument(help: "The key's id, or its name when one key in force has it.")
        var key: String

        func run() throws {
            var keys = try KeysFile.read(path: file.keysFile)
            let record = try keys.revoke(key)
            try keys.write(path: file.keysFile)
            print("revoked \(record.id) (\(record.name))")
        }
    }
}
