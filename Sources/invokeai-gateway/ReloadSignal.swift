import Dispatch
import Foundation
import Logging

/// SIGHUP: read the keys file again now.
enum ReloadSignal {
    static func install(logger: Logger, _ reload: @escaping @Sendable () -> Void) -> DispatchSourceSignal {
        // Dispatch takes the signal only once the default action (exit) is off.
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "reload"))
        source.setEventHandler {
            logger.info("SIGHUP: reading the keys file again")
            reload()
        }
        source.resume()
        return source
    }
}
