import CNGHTTP2
import Foundation
import TestSupport

/// A raw HTTP/2 client for the malformed-input tests, a framing layer over a `TestSocket`: writes
/// exact frames (header blocks as plain HPACK literals) and reads frames back, decoding response
/// header blocks with nghttp2's HPACK inflater so its table stays in step with the server's. Reads
/// time out (30 s); a reset counts as the server closing the connection.
final class HTTP2RawClient: @unchecked Sendable {
    struct Frame {
        var type: UInt8
        var flags: UInt8
        var stream: UInt32
        var payload: [UInt8]
        /// Decoded fields of a HEADERS frame.
        var fields: [(String, String)] = []

        var isEndStream: Bool { (type == FrameType.data || type == FrameType.headers) && flags & Flag.endStream != 0 }
        /// The error code of a RST_STREAM or GOAWAY.
        var errorCode: UInt32? {
            switch type {
            case FrameType.rstStream where payload.count >= 4: HTTP2RawClient.uint32(payload, at: 0)
            case FrameType.goAway where payload.count >= 8: HTTP2RawClient.uint32(payload, at: 4)
            default: nil
            }
        }
        func field(_ name: String) -> String? { fields.first { $0.0 == name }?.1 }
    }

    enum FrameType {
        static let data: UInt8 = 0, headers: UInt8 = 1, rstStream: UInt8 = 3, settings: UInt8 = 4
        static let ping: UInt8 = 6, goAway: UInt8 = 7, windowUpdate: UInt8 = 8
    }
    enum Flag { static let endStream: UInt8 = 1, ack: UInt8 = 1, endHeaders: UInt8 = 4 }
    enum ErrorCode {
        static let noError: UInt32 = 0, protocolError: UInt32 = 1, flowControl: UInt32 = 3
        static let streamClosed: UInt32 = 5, frameSize: UInt32 = 6
    }

    let socket: TestSocket
    private var inflater: OpaquePointer?
    /// The server's first SETTINGS, as (identifier, value) pairs.
    private(set) var serverSettings: [(UInt16, UInt32)] = []

    init(port: Int) throws {
        socket = try TestSocket(port: port)
        nghttp2_hd_inflate_new(&inflater)
    }

    deinit { nghttp2_hd_inflate_del(inflater) }

    static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    static func uint32(_ bytes: [UInt8], at i: Int) -> UInt32 {
        (UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3]))
            & 0xFFFF_FFFF
    }

    static func frame(_ type: UInt8, flags: UInt8 = 0, stream: UInt32, _ payload: [UInt8] = []) -> [UInt8] {
        let n = payload.count
        return [
            UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), type, flags,
            UInt8(stream >> 24 & 0x7F), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF),
        ] + payload
    }

    static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// A header block of literal fields without indexing (RFC 7541 §6.2.2), no Huffman.
    static func headerBlock(_ fields: [(String, String)]) -> [UInt8] {
        func integer(_ value: Int, prefixBits: Int, first: UInt8) -> [UInt8] {
            let max = (1 << prefixBits) - 1
            if value < max { return [first | UInt8(value)] }
            var out = [first | UInt8(max)]
            var rest = value - max
            while rest >= 128 {
                out.append(UInt8(rest % 128 + 128))
                rest /= 128
            }
            out.append(UInt8(rest))
            return out
        }
        var out: [UInt8] = []
        for (name, value) in fields {
            out.append(0x00)
            out += integer(name.utf8.count, prefixBits: 7, first: 0) + Array(name.utf8)
            out += integer(value.utf8.count, prefixBits: 7, first: 0) + Array(value.utf8)
        }
        return out
    }

    static func request(_ method: String, _ path: String, _ extra: [(String, String)] = []) -> [(String, String)] {
        [(":method", method), (":scheme", "http"), (":authority", "127.0.0.1"), (":path", path)] + extra
    }

    func send(_ bytes: [UInt8]) throws { try socket.send(bytes) }

    func sendFrame(_ type: UInt8, flags: UInt8 = 0, stream: UInt32, _ payload: [UInt8] = []) throws {
        try send(Self.frame(type, flags: flags, stream: stream, payload))
    }

    func sendHeaders(stream: UInt32, _ fields: [(String, String)], endStream: Bool) throws {
        try sendFrame(
            FrameType.headers, flags: Flag.endHeaders | (endStream ? Flag.endStream : 0), stream: stream,
            Self.headerBlock(fields))
    }

    /// Client preface and SETTINGS; reads the server's SETTINGS and acknowledges them.
    func handshake(settings: [UInt8] = []) throws {
        try send(Self.preface + Self.frame(FrameType.settings, stream: 0, settings))
        let frames = try readUntil { $0.type == FrameType.settings && $0.flags & Flag.ack == 0 }
        let payload = frames.last!.payload
        serverSettings = stride(from: 0, to: payload.count - 5, by: 6).map {
            (UInt16(payload[$0]) << 8 | UInt16(payload[$0 + 1]), Self.uint32(payload, at: $0 + 2))
        }
        try sendFrame(FrameType.settings, flags: Flag.ack, stream: 0)
    }

    /// The next frame, or nil at EOF (or a reset connection).
    func readFrame() throws -> Frame? {
        guard try socket.fill(toAtLeast: 9) else { return nil }
        let length = Int(socket.buffered[0]) << 16 | Int(socket.buffered[1]) << 8 | Int(socket.buffered[2])
        guard let bytes = try socket.read(count: 9 + length) else { return nil }
        var frame = Frame(
            type: bytes[3], flags: bytes[4], stream: Self.uint32(bytes, at: 5) & 0x7FFF_FFFF,
            payload: Array(bytes[9...]))
        if frame.type == FrameType.headers { frame.fields = try inflate(frame.payload) }
        return frame
    }

    /// Frames up to and including the first that `stop` accepts; throws at EOF before it.
    func readUntil(_ stop: (Frame) -> Bool) throws -> [Frame] {
        var frames: [Frame] = []
        while true {
            guard let frame = try readFrame() else {
                throw TestSocket.Failure(
                    "connection closed; frames seen: \(frames.map { "type \($0.type) stream \($0.stream) code \($0.errorCode.map(String.init) ?? "-")" })"
                )
            }
            frames.append(frame)
            if stop(frame) { return frames }
        }
    }

    /// Frames until the server closes the connection.
    func readToEnd() throws -> [Frame] {
        var frames: [Frame] = []
        while let frame = try readFrame() { frames.append(frame) }
        return frames
    }

    private func inflate(_ block: [UInt8]) throws -> [(String, String)] {
        var fields: [(String, String)] = []
        var offset = 0
        while true {
            var nv = nghttp2_nv()
            var flags: Int32 = 0
            let rv = block.withUnsafeBufferPointer { input in
                nghttp2_hd_inflate_hd2(
                    inflater, &nv, &flags, input.baseAddress.map { $0 + offset }, input.count - offset, 1)
            }
            guard rv >= 0 else { throw TestSocket.Failure("HPACK: \(String(cString: nghttp2_strerror(Int32(rv))))") }
            offset += rv
            if flags & Int32(NGHTTP2_HD_INFLATE_EMIT.rawValue) != 0 {
                fields.append(
                    (
                        String(decoding: UnsafeBufferPointer(start: nv.name, count: nv.namelen), as: UTF8.self),
                        String(decoding: UnsafeBufferPointer(start: nv.value, count: nv.valuelen), as: UTF8.self)
                    ))
            }
            if flags & Int32(NGHTTP2_HD_INFLATE_FINAL.rawValue) != 0 {
                nghttp2_hd_inflate_end_headers(inflater)
                return fields
            }
            if rv == 0 { return fields }
        }
    }
}
