import Dispatch
import Foundation
import Logging

/// Waits for SIGINT or SIGTERM.
enum ShutdownSignal {
    /// The signal sources must outlive `wait`'s scope; written once, before any signal can arrive.
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func wait(logger: Logger) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let queue = DispatchQueue(label: "signals")
            let resumed = ResumeOnce(continuation)
            for signalNumber in [SIGINT, SIGTERM] {
                // Dispatch takes the signal only once the default action is off.
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
                source.setEventHandler {
                    logger.info("signal \(signalNumber): shutting down")
                    resumed.resume()
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}
