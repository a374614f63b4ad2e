/// What `HTTPServerLoop` needs of an accepted connection, whichever protocol it speaks
/// (`HTTPConnection` for HTTP/1.x, `HTTP2Connection` once a connection switched to h2c).
protocol HTTPServerConnection: AnyObject {
    var fd: Int32 { get }
    func checkTimeouts(now: UInt64)
    func beginShutdown()
    func closeNow()
}
