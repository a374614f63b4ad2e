import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where log lines go: appended to a buffer under a short lock and written out in batches, on a
/// timer (`interval`), when the buffer passes `flushBytes`, and at once for a warning or worse.
/// A request's access line costs a copy into memory, not a write(2) and a flush of its own.
public final class LogWriter: Sendable {
    /// Takes the bytes of whole lines, in order.
    public typealias Sink = @Sendable ([UInt8]) -> Void

    private let sink: Sink
    private let pending = Mutex<[UInt8]>([])
    /// Held while a batch is taken and written, so batches leave in the order they were made.
    private let writing = Mutex<Void>(())
    private let flushBytes: Int
    private let timer = Mutex<Task<Void, Never>?>(nil)

    /// - Parameter interval: how long a line may wait in the buffer; nil flushes only on size,
    ///   on a warning or worse, and on `flush()` (tests).
    public init(flushBytes: Int = 64 * 1024, interval: Duration? = .milliseconds(200), sink: @escaping Sink) {
        self.sink = sink
        self.flushBytes = flushBytes
        guard let interval else { return }
        let task = Task.detached { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self else { return }
                self.flush()
            }
        }
        timer.withLock { $0 = task }
    }

    deinit { timer.withLock { $0?.cancel() } }

    /// Standard error, written with write(2) (whole batches; a short write is continued).
    public static func standardError(interval: Duration? = .milliseconds(200)) -> LogWriter {
        LogWriter(interval: interval) { bytes in
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return // stderr is gone: nothing better to do with a log line
                    }
                    offset += written
                }
            }
        }
    }

    /// Queues one line (it must end with a newline); `urgent` writes it and what waits before it now.
    public func write(_ line: [UInt8], urgent: Bool = false) {
        let full = pending.withLock { buffer in
            buffer.append(contentsOf: line)
            return buffer.count >= flushBytes
        }
        if urgent || full { flush() }
    }

    /// Writes out everything queued.
    public func flush() {
        writing.withLock { _ in
            let batch = pending.withLock { buffer -> [UInt8] in
                defer { buffer.removeAll(keepingCapacity: true) }
                return buffer
            }
            if !batch.isEmpty { sink(batch) }
        }
    }
}
