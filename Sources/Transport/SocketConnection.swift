import CEpoll
import HTTPCore

#if canImport(Glibc)
import Glibc
#endif

/// The byte-moving half of one non-blocking TCP connection on an event loop, shared by every
/// protocol (the server's HTTP/1.1 and HTTP/2 connections, the upstream HTTP and WebSocket
/// clients): the output buffer and its flushing, the epoll interest, write progress for the
/// write timeout, the half-close for lingering, and the close. The protocol object that owns
/// it is the loop's handler for the descriptor and decides what to read and when.
///
/// Loop thread only, like everything registered with a loop.
///
/// Its mutable state is exempt from runtime exclusivity checks (`@exclusivity(unchecked)`):
/// `appendOutput` lends the buffer `inout` to a closure and some properties are read from other
/// modules, which would otherwise turn every access on the hot path into a runtime check
/// (hundreds of instructions per HTTP response). Nothing can overlap: the object is confined to
/// its loop's thread (asserted in debug builds) and no method calls back into it.
package final class SocketConnection {
    package let fd: Int32
    package unowned let loop: EventLoop
    @exclusivity(unchecked) package private(set) var isClosed = false
    /// When a write last moved bytes (monotonic nanoseconds): a stalled reader is noticed by it.
    @exclusivity(unchecked) package private(set) var lastWriteProgress: UInt64 = 0

    @exclusivity(unchecked) private var output: [UInt8] = []
    @exclusivity(unchecked) private var outputOffset = 0
    @exclusivity(unchecked) private var interest: UInt32 = 0
    @exclusivity(unchecked) private var registered = false

    package init(fd: Int32, loop: EventLoop) {
        self.fd = fd
        self.loop = loop
        // Output queued before the first write counts as stalled from here, not from boot.
        lastWriteProgress = MonotonicClock.now()
    }

    deinit {
        // Owners close explicitly; this only guards against a leaked descriptor.
        if !isClosed { Glibc.close(fd) }
    }

    /// Registers the descriptor with the loop, `handler` receiving its readiness events.
    package func register(_ handler: EventLoopHandler, events: UInt32) throws {
        loop.assertInLoop()
        interest = events
        try loop.register(fd: fd, events: events, handler: handler)
        registered = true
    }

    /// Stops watching the descriptor, which stays open (an idle client connection waiting in
    /// its pool); `register` watches it again.
    package func deregister() {
        loop.assertInLoop()
        if registered { loop.deregister(fd: fd) }
        registered = false
    }

    /// Forgets the descriptor without closing it (it changes owner, e.g. HTTP/1.1 to HTTP/2).
    package func release() {
        loop.assertInLoop()
        if registered { loop.deregister(fd: fd) }
        registered = false
        isClosed = true
        output = []
    }

    // MARK: reading

    package func read(into buffer: UnsafeMutableRawBufferPointer) -> Socket.IOResult {
        Socket.read(fd, into: buffer)
    }

    /// Reads and throws away what the peer sends (lingering after our side is done), up to
    /// `maxReads` reads; false once the peer has closed or the socket failed.
    package func discardInput(into buffer: UnsafeMutableRawBufferPointer, maxReads: Int = 16) -> Bool {
        for _ in 0..<maxReads {
            switch Socket.read(fd, into: buffer) {
            case .bytes: continue
            case .wouldBlock: return true
            case .endOfFile, .failed: return false
            }
        }
        return true
    }

    // MARK: writing

    package var pendingOutputCount: Int { output.count - outputOffset }
    package var hasPendingOutput: Bool { outputOffset < output.count }

    /// Queues bytes after what is already queued; `flush` sends them. Concrete types rather than
    /// a generic sequence: an unspecialized generic append across modules copies byte by byte.
    package func enqueue(_ bytes: [UInt8]) {
        output.append(contentsOf: bytes)
    }

    package func enqueue(_ bytes: ArraySlice<UInt8>) {
        output.append(contentsOf: bytes)
    }

    package func enqueue(_ bytes: UnsafeRawBufferPointer) {
        output.append(contentsOf: bytes)
    }

    /// Lets an encoder append straight to the output buffer (no intermediate copy). `body` must
    /// not use this connection (the buffer is lent to it).
    package func appendOutput<R>(_ body: (inout [UInt8]) throws -> R) rethrows -> R {
        try body(&output)
    }

    /// The queued bytes not yet sent (they move to a new owner with the descriptor).
    package var unsentOutput: [UInt8] { Array(output[outputOffset...]) }

    package enum FlushResult: Equatable {
        /// Everything queued is out.
        case drained
        /// The socket's buffer is full: the rest goes when it is writable (`CEPOLL_OUT` is on).
        case pending
        /// The peer is gone (reset, broken pipe); the owner closes.
        case failed
    }

    /// Sends as much of the queue as the socket takes now.
    package func flush() -> FlushResult {
        loop.assertInLoop()
        while outputOffset < output.count {
            let result = output.withUnsafeBytes {
                Socket.write(fd, UnsafeRawBufferPointer(rebasing: $0[outputOffset...]))
            }
            switch result {
            case .bytes(let count):
                outputOffset += count
                lastWriteProgress = MonotonicClock.now()
            case .wouldBlock, .endOfFile:
                return .pending
            case .failed:
                return .failed
            }
        }
        // Everything is out: release big buffers.
        if output.capacity > 1 << 20 { output = [] } else { output.removeAll(keepingCapacity: true) }
        outputOffset = 0
        return .drained
    }

    /// Whether queued output has waited longer than `timeout` without any byte leaving. `now`
    /// may be older than the last progress (read before a write in the same tick): not stalled.
    package func writeStalled(now: UInt64, timeout: Duration) -> Bool {
        hasPendingOutput && now > lastWriteProgress && now - lastWriteProgress > MonotonicClock.nanoseconds(timeout)
    }

    // MARK: interest, half-close, close

    /// Asks for `events`, plus writability while output is queued. Only a change reaches epoll.
    package func setInterest(_ events: UInt32) {
        guard registered, !isClosed else { return }
        let wanted = events | (hasPendingOutput ? CEPOLL_OUT : 0)
        if wanted != interest {
            interest = wanted
            loop.modify(fd: fd, events: wanted)
        }
    }

    /// Whether the last interest set includes writability.
    package var wantsWritable: Bool { interest & CEPOLL_OUT != 0 }

    /// Shuts our sending side (the peer reads end-of-file) while reading goes on.
    package func shutdownOutput() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// Deregisters and closes the descriptor; queued output is dropped. Idempotent.
    package func close() {
        guard !isClosed else { return }
        loop.assertInLoop()
        isClosed = true
        if registered { loop.deregister(fd: fd) }
        registered = false
        Glibc.close(fd)
        output = []
    }
}
