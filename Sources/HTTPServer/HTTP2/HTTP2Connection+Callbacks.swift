import CNGHTTP2
import HTTPCore

/// The nghttp2 callbacks. They are C function pointers, so they capture nothing and find their
/// connection through the session's user data (unretained: `HTTPServerLoop` keeps the
/// connection alive while its session exists).
extension HTTP2Connection {
    fileprivate static func from(_ userData: UnsafeMutableRawPointer?) -> HTTP2Connection {
        Unmanaged<HTTP2Connection>.fromOpaque(userData!).takeUnretainedValue()
    }

    private static func text(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    static let readBodyCallback: nghttp2_data_source_read_callback = {
        _, streamID, buffer, length, flags, _, userData in
        HTTP2Connection.from(userData).readBody(streamID, into: buffer!, length: length, flags: flags!)
    }

    static func installCallbacks(_ callbacks: OpaquePointer) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let hd = frame?.pointee.hd, hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
                frame!.pointee.headers.cat == NGHTTP2_HCAT_REQUEST
            else { return 0 }
            let connection = HTTP2Connection.from(userData)
            let machine = HTTP2StreamStateMachine(
                limits: connection.context.configuration.limits, now: MonotonicClock.now())
            connection.streams[hd.stream_id] = HTTP2Stream(id: hd.stream_id, machine: machine)
            return 0
        }

        nghttp2_session_callbacks_set_on_header_callback(callbacks) {
            _, frame, name, nameLength, value, valueLength, _, userData in
            guard let frame else { return 0 }
            let connection = HTTP2Connection.from(userData)
            guard let stream = connection.streams[frame.pointee.hd.stream_id] else { return 0 }
            connection.receivedField(name: name, nameLength, value: value, valueLength, on: stream)
            return 0
        }

        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) {
            session, _, streamID, data, length, userData in
            HTTP2Connection.from(userData).receivedData(streamID, data, length)
            return 0
        }

        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            HTTP2Connection.from(userData).receivedFrame(frame.pointee.hd)
            return 0
        }

        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, userData in
            guard let hd = frame?.pointee.hd else { return 0 }
            let isEnd =
                (hd.type == UInt8(NGHTTP2_DATA.rawValue) || hd.type == UInt8(NGHTTP2_HEADERS.rawValue))
                && hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            // Answered before the client finished sending: see `finalFrameSent`.
            let connection = HTTP2Connection.from(userData)
            if isEnd, let stream = connection.streams[hd.stream_id], stream.machine.finalFrameSent() {
                connection.stopUpload(stream)
            }
            return 0
        }

        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, _, userData in
            let connection = HTTP2Connection.from(userData)
            if let stream = connection.streams.removeValue(forKey: streamID) { connection.release(stream) }
            connection.lastActivity = MonotonicClock.now()
            return 0
        }

        nghttp2_session_callbacks_set_error_callback2(callbacks) { _, _, message, length, userData in
            let connection = HTTP2Connection.from(userData)
            let text =
                message.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self) } ?? "?"
            connection.context.logger.debug("h2 \(connection.peer): \(text)")
            return 0
        }
    }

    // MARK: what the callbacks record

    fileprivate func receivedField(
        name: UnsafePointer<UInt8>?, _ nameLength: Int, value: UnsafePointer<UInt8>?, _ valueLength: Int,
        on stream: HTTP2Stream
    ) {
        let kind = stream.machine.fieldReceived(size: nameLength + valueLength)
        // Over the limits (431 follows) or refused: HPACK stays in sync (nghttp2 decodes anyway),
        // nothing is stored.
        guard kind != .ignore else { return }
        let fieldName = Self.text(name, nameLength)
        let fieldValue = Self.text(value, valueLength)
        if kind == .trailer {
            stream.trailers.add(fieldName, fieldValue)
            return
        }
        switch fieldName {
        case ":method": stream.method = fieldValue
        case ":path": stream.path = fieldValue
        case ":authority": stream.authority = fieldValue
        case ":scheme", ":protocol": break
        case "cookie": stream.cookies.append(fieldValue)
        default: stream.headers.add(fieldName, fieldValue)
        }
    }

    /// Body bytes: the connection window is always given back (the bytes are off the wire),
    /// the stream window only for bytes the request body took.
    fileprivate func receivedData(_ streamID: Int32, _ data: UnsafePointer<UInt8>?, _ length: Int) {
        guard let session else { return }
        _ = nghttp2_session_consume_connection(session, length)
        guard let stream = streams[streamID] else { return }
        switch stream.machine.dataReceived(length: length, bodyCount: stream.body.count) {
        case .append:
            stream.body.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
        case .rejectBody:
            stream.body = []
        case .discard:
            break
        case .stopUpload:
            stopUpload(stream)
            return
        }
        _ = nghttp2_session_consume_stream(session, streamID, length)
    }

    fileprivate func receivedFrame(_ hd: nghttp2_frame_hd) {
        let type = hd.type
        guard type == UInt8(NGHTTP2_HEADERS.rawValue) || type == UInt8(NGHTTP2_DATA.rawValue),
            let stream = streams[hd.stream_id]
        else { return }
        let endStream = hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        if type == UInt8(NGHTTP2_HEADERS.rawValue) {
            // The header block's Content-Length, checked against the limit as it completes.
            let declared =
                stream.machine.awaitsHeaderBlock ? stream.headers["content-length"].flatMap { Int($0) } : nil
            stream.machine.headersReceived(declaredLength: declared, endStream: endStream, now: MonotonicClock.now())
        } else {
            stream.machine.dataFrameReceived(endStream: endStream, now: MonotonicClock.now())
        }
        advance(stream)
    }
}
