import Dispatch
import Foundation
import Gateway
import Logging

/// SIGHUP: read again now what can change under a running gateway without a restart:
/// - the keys file (`--keys-file`; also looked at every second): a broken file keeps the keys in force;
/// - the workflows folder (`--workflows`; also listed at most once a second on request): new and
///   changed files are read, removed ones dropped, a file that does not parse is skipped and logged.
/// Everything else is read once at the start and needs a restart: the listening address and
/// port, InvokeAI's URL and account, limits, timeouts, CORS and allowed hosts, the log level, and
/// the environment file itself. A reload that fails logs why and keeps what was in force; it
/// never ends the process.
enum ReloadSignal {
    static func install(gateway: GatewayServer, logger: Logger) -> DispatchSourceSignal {
        // Dispatch takes the signal only once the default action (exit) is off.
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "reload"))
        source.setEventHandler {
            logger.notice("SIGHUP: reading the keys file and the workflows folder again")
            Task { await reload(gateway, logger: logger) }
        }
        source.resume()
        return source
    }

    static func reload(_ gateway: GatewayServer, logger: Logger) async {
        if let keyRing = gateway.access.keyRing {
            keyRing.reload()
            logger.notice("SIGHUP: keys file read: \(keyRing.keys.count) key(s) in force")
        }
        guard let directory = gateway.catalog.directory else { return }
        let folder = await gateway.catalog.reloadFolder()
        if folder.checkedAgainstInvokeAI {
            logger.notice("SIGHUP: workflows folder \(directory) read: \(folder.workflows) workflow file(s)")
        } else {
            logger.notice(
                "SIGHUP: workflows folder \(directory) read: \(folder.workflows) workflow file(s), described with the saved schemas (InvokeAI cannot be asked now)"
            )
        }
    }
}
